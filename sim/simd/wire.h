// The xehil-simd wire protocol: how a client process (the LD_PRELOAD
// interposer, `xehil sim-run`, tests) talks to the daemon that owns a shared
// sim::Device. Plain C++17 and the C library only, because it is linked into
// libxehil_preload.so, which is loaded into arbitrary programs.
//
// Transport: a Unix SOCK_SEQPACKET socket; one message is one datagram (at
// most kMaxMessageBytes), so framing is the kernel's. Every connection starts
// with a Hello naming its role:
//  - kRoleDrmFile: the connection *is* one open DRM file. Its lifetime is the
//    file's lifetime: when the last descriptor of the socket closes (close,
//    exit, SIGKILL) the daemon releases the file (removal records, VMs, BOs
//    and exec queues go). dup() of the socket therefore behaves like dup() of
//    a DRM fd.
//  - kRolePipes: the process's notification-pipe registry. Write ends are
//    passed with SCM_RIGHTS (kRegisterPipe); the daemon answers with a pipe
//    id that stands in for the descriptor in DRM_IOCTL_XE_WATCH_QUEUE's `fd`
//    field and in kPipeIoctl.
//  - kRoleControl: serialized xehil.sim.ControlRequest / ControlReply
//    protobufs (proto/simd.proto) for pressure, faults and statistics.
//
// Ioctls: the client sends the argument struct's bytes plus, for each user
// pointer inside it, a buffer descriptor (offset of the pointer field, size,
// in/out). The daemon gives each buffer its own memory, patches the pointer
// field, runs the ioctl, and returns the argument bytes and the out buffers.
// The client then copies them back, restoring its own pointer values.
//
//   std::vector<uint8_t> datagram = EncodeIoctl(seq, request);
//   // ... send(), recv() ...
//   Message reply;
//   std::string why;
//   if (!Decode(bytes, size, &reply, &why)) { /* malformed: why */ }
#ifndef XEHIL_SIM_SIMD_WIRE_H_
#define XEHIL_SIM_SIMD_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xehil::simd {

inline constexpr uint32_t kMagic = 0x44534858;  // "XHSD" little-endian
inline constexpr uint16_t kVersion = 1;
// Bounded so that a malformed length can never make the daemon allocate
// without limit; also the socket's datagram ceiling we configure.
inline constexpr size_t kMaxMessageBytes = 256 * 1024;
// Upper bound on buffers per ioctl (VERSION has three, others at most one).
inline constexpr uint32_t kMaxBuffers = 4;
// Environment variable naming the daemon's socket for the interposer.
inline constexpr char kSocketEnv[] = "XEHIL_SIMD_SOCKET";

enum class Role : uint32_t {
  kDrmFile = 1,
  kPipes = 2,
  kControl = 3,
};

enum class MessageType : uint16_t {
  kHello = 1,          // client -> daemon: Hello
  kHelloReply = 2,     // daemon -> client: HelloReply
  kIoctl = 3,          // client -> daemon (kDrmFile): IoctlRequest
  kIoctlReply = 4,     // daemon -> client: IoctlReply
  kRegisterPipe = 5,   // client -> daemon (kPipes), SCM_RIGHTS: write end
  kPipeIoctl = 6,      // client -> daemon (kPipes): PipeIoctl
  kReleasePipe = 7,    // client -> daemon (kPipes): pipe id; no reply
  kResult = 8,         // daemon -> client: Result (register, pipe ioctl)
  kControl = 9,        // client -> daemon (kControl): ControlRequest bytes
  kControlReply = 10,  // daemon -> client: ControlReply bytes
  kError = 11,         // daemon -> client: protocol violation, then closes
};

// Every message starts with this header (native endianness: both ends are
// on one machine).
struct Header {
  uint32_t magic;
  uint16_t version;
  uint16_t type;  // MessageType
  uint32_t seq;   // echoed in the reply
  uint32_t reserved;
};
static_assert(sizeof(Header) == 16, "wire header is 16 bytes");

struct Hello {
  Role role = Role::kDrmFile;
  uint32_t pid = 0;
  std::string program;  // for the daemon's logs and statistics
};

struct HelloReply {
  uint64_t file_id = 0;     // kDrmFile: the daemon's sim::FileId
  std::string description;  // the simulated device, one line
};

enum BufferFlags : uint32_t {
  kBufferIn = 1u << 0,   // client memory is sent to the daemon
  kBufferOut = 1u << 1,  // daemon memory is returned to the client
};

// One user pointer inside an ioctl argument.
struct Buffer {
  uint32_t field_offset = 0;   // where the u64 pointer sits in the argument
  uint32_t flags = 0;          // BufferFlags
  std::vector<uint8_t> bytes;  // in: contents; out-only: sized, zeroed
};

struct IoctlRequest {
  uint64_t request = 0;      // the ioctl number as the program passed it
  std::vector<uint8_t> arg;  // _IOC_SIZE(request) bytes
  std::vector<Buffer> buffers;
};

struct IoctlReply {
  int32_t result = 0;                     // 0 or -errno
  std::vector<uint8_t> arg;               // the argument after the ioctl
  std::vector<std::vector<uint8_t>> out;  // one per kBufferOut buffer, in order
};

struct PipeIoctl {
  uint64_t pipe_id = 0;
  uint64_t request = 0;         // IOC_WATCH_QUEUE_SET_SIZE or _SET_FILTER
  uint64_t value = 0;           // SET_SIZE: notes
  std::vector<uint8_t> filter;  // SET_FILTER: header + entries; empty: NULL
};

struct Result {
  int32_t result = 0;  // 0 or -errno
  uint64_t value = 0;  // kRegisterPipe: the pipe id
};

struct Error {
  int32_t error = 0;  // -errno describing the violation (e.g. -EPROTO)
  std::string message;
};

// A decoded message of any type: `header` plus the one body its type names.
struct Message {
  Header header{};
  Hello hello;
  HelloReply hello_reply;
  IoctlRequest ioctl;
  IoctlReply ioctl_reply;
  PipeIoctl pipe_ioctl;
  Result result;
  Error error;
  uint64_t pipe_id = 0;          // kReleasePipe
  std::vector<uint8_t> payload;  // kControl / kControlReply (protobuf bytes)
};

// Encoders return the whole datagram. They never fail; the caller checks
// the size against kMaxMessageBytes (EncodedSizeOk).
std::vector<uint8_t> EncodeHello(uint32_t seq, const Hello& hello);
std::vector<uint8_t> EncodeHelloReply(uint32_t seq, const HelloReply& reply);
std::vector<uint8_t> EncodeIoctl(uint32_t seq, const IoctlRequest& request);
std::vector<uint8_t> EncodeIoctlReply(uint32_t seq, const IoctlReply& reply);
std::vector<uint8_t> EncodeRegisterPipe(uint32_t seq);
std::vector<uint8_t> EncodePipeIoctl(uint32_t seq, const PipeIoctl& request);
std::vector<uint8_t> EncodeReleasePipe(uint32_t seq, uint64_t pipe_id);
std::vector<uint8_t> EncodeResult(uint32_t seq, const Result& result);
std::vector<uint8_t> EncodeControl(uint32_t seq, MessageType type,
                                   const std::string& payload);
std::vector<uint8_t> EncodeError(uint32_t seq, const Error& error);

bool EncodedSizeOk(const std::vector<uint8_t>& message);

// Decodes one datagram. Returns false, with a reason in `*why`, for anything
// malformed: short or oversized input, bad magic or version, unknown type,
// lengths that overrun the datagram, more than kMaxBuffers buffers, buffer
// field offsets that do not leave room for a u64 inside the argument,
// trailing bytes. Never reads outside `data`.
bool Decode(const uint8_t* data, size_t size, Message* out, std::string* why);

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_WIRE_H_
