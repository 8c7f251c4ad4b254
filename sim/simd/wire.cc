#include "sim/simd/wire.h"

#include <cstring>
#include <utility>

namespace xehil::simd {
namespace {

// Appends fixed-size values and length-prefixed blobs in native byte order.
class Writer {
 public:
  Writer(MessageType type, uint32_t seq) {
    Header header{kMagic, kVersion, static_cast<uint16_t>(type), seq, 0};
    Raw(&header, sizeof(header));
  }
  template <typename T>
  Writer& Put(T value) {
    return Raw(&value, sizeof(value));
  }
  Writer& Raw(const void* data, size_t size) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    out_.insert(out_.end(), bytes, bytes + size);
    return *this;
  }
  Writer& Blob(const void* data, size_t size) {
    Put(static_cast<uint32_t>(size));
    return Raw(data, size);
  }
  Writer& Str(const std::string& text) {
    return Blob(text.data(), text.size());
  }
  std::vector<uint8_t> Take() { return std::move(out_); }

 private:
  std::vector<uint8_t> out_;
};

// Reads what Writer wrote; every read is bounds-checked and a failed read
// leaves the reader failed, so decoders check once at the end.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  template <typename T>
  T Get() {
    T value{};
    Raw(&value, sizeof(value));
    return value;
  }
  bool Raw(void* out, size_t size) {
    if (!ok_ || size > size_ - pos_) return Fail();
    if (size != 0) std::memcpy(out, data_ + pos_, size);
    pos_ += size;
    return true;
  }
  std::vector<uint8_t> Bytes(size_t size) {
    std::vector<uint8_t> out;
    if (!ok_ || size > size_ - pos_) {
      Fail();
      return out;
    }
    out.assign(data_ + pos_, data_ + pos_ + size);
    pos_ += size;
    return out;
  }
  std::vector<uint8_t> Blob() { return Bytes(Get<uint32_t>()); }
  std::string Str() {
    std::vector<uint8_t> bytes = Blob();
    return std::string(bytes.begin(), bytes.end());
  }
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == size_; }

 private:
  bool Fail() {
    ok_ = false;
    return false;
  }
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  bool ok_ = true;
};

bool DecodeIoctl(Reader& in, IoctlRequest* out, std::string* why) {
  out->request = in.Get<uint64_t>();
  const uint32_t arg_size = in.Get<uint32_t>();
  const uint32_t count = in.Get<uint32_t>();
  if (count > kMaxBuffers) {
    *why = "too many buffers";
    return false;
  }
  out->arg = in.Bytes(arg_size);
  out->buffers.clear();
  for (uint32_t i = 0; i < count && in.ok(); ++i) {
    Buffer buffer;
    buffer.field_offset = in.Get<uint32_t>();
    buffer.flags = in.Get<uint32_t>();
    const uint32_t size = in.Get<uint32_t>();
    in.Get<uint32_t>();  // reserved
    if (!in.ok()) break;
    if (buffer.flags == 0 || (buffer.flags & ~(kBufferIn | kBufferOut)) != 0) {
      *why = "bad buffer flags";
      return false;
    }
    if (static_cast<uint64_t>(buffer.field_offset) + sizeof(uint64_t) >
        out->arg.size()) {
      *why = "buffer pointer field outside the argument";
      return false;
    }
    if (size > kMaxMessageBytes) {
      *why = "buffer larger than a message";
      return false;
    }
    if (buffer.flags & kBufferIn) {
      buffer.bytes = in.Bytes(size);
    } else {
      buffer.bytes.assign(size, 0);
    }
    out->buffers.push_back(std::move(buffer));
  }
  return true;
}

bool DecodeBody(MessageType type, Reader& in, Message* out, std::string* why) {
  switch (type) {
    case MessageType::kHello:
      out->hello.role = static_cast<Role>(in.Get<uint32_t>());
      out->hello.pid = in.Get<uint32_t>();
      out->hello.program = in.Str();
      return true;
    case MessageType::kHelloReply:
      out->hello_reply.file_id = in.Get<uint64_t>();
      out->hello_reply.description = in.Str();
      return true;
    case MessageType::kIoctl:
      return DecodeIoctl(in, &out->ioctl, why);
    case MessageType::kIoctlReply: {
      out->ioctl_reply.result = in.Get<int32_t>();
      out->ioctl_reply.arg = in.Blob();
      const uint32_t count = in.Get<uint32_t>();
      if (count > kMaxBuffers) {
        *why = "too many buffers";
        return false;
      }
      out->ioctl_reply.out.clear();
      for (uint32_t i = 0; i < count && in.ok(); ++i) {
        out->ioctl_reply.out.push_back(in.Blob());
      }
      return true;
    }
    case MessageType::kRegisterPipe:
      return true;
    case MessageType::kPipeIoctl:
      out->pipe_ioctl.pipe_id = in.Get<uint64_t>();
      out->pipe_ioctl.request = in.Get<uint64_t>();
      out->pipe_ioctl.value = in.Get<uint64_t>();
      out->pipe_ioctl.filter = in.Blob();
      return true;
    case MessageType::kReleasePipe:
      out->pipe_id = in.Get<uint64_t>();
      return true;
    case MessageType::kResult:
      out->result.result = in.Get<int32_t>();
      in.Get<uint32_t>();  // reserved
      out->result.value = in.Get<uint64_t>();
      return true;
    case MessageType::kControl:
    case MessageType::kControlReply:
      out->payload = in.Blob();
      return true;
    case MessageType::kError:
      out->error.error = in.Get<int32_t>();
      out->error.message = in.Str();
      return true;
  }
  *why = "unknown message type";
  return false;
}

}  // namespace

std::vector<uint8_t> EncodeHello(uint32_t seq, const Hello& hello) {
  return Writer(MessageType::kHello, seq)
      .Put(static_cast<uint32_t>(hello.role))
      .Put(hello.pid)
      .Str(hello.program)
      .Take();
}

std::vector<uint8_t> EncodeHelloReply(uint32_t seq, const HelloReply& reply) {
  return Writer(MessageType::kHelloReply, seq)
      .Put(reply.file_id)
      .Str(reply.description)
      .Take();
}

std::vector<uint8_t> EncodeIoctl(uint32_t seq, const IoctlRequest& request) {
  Writer out(MessageType::kIoctl, seq);
  out.Put(request.request)
      .Put(static_cast<uint32_t>(request.arg.size()))
      .Put(static_cast<uint32_t>(request.buffers.size()))
      .Raw(request.arg.data(), request.arg.size());
  for (const Buffer& buffer : request.buffers) {
    out.Put(buffer.field_offset)
        .Put(buffer.flags)
        .Put(static_cast<uint32_t>(buffer.bytes.size()))
        .Put(uint32_t{0});
    if (buffer.flags & kBufferIn) {
      out.Raw(buffer.bytes.data(), buffer.bytes.size());
    }
  }
  return out.Take();
}

std::vector<uint8_t> EncodeIoctlReply(uint32_t seq, const IoctlReply& reply) {
  Writer out(MessageType::kIoctlReply, seq);
  out.Put(reply.result)
      .Blob(reply.arg.data(), reply.arg.size())
      .Put(static_cast<uint32_t>(reply.out.size()));
  for (const std::vector<uint8_t>& bytes : reply.out) {
    out.Blob(bytes.data(), bytes.size());
  }
  return out.Take();
}

std::vector<uint8_t> EncodeRegisterPipe(uint32_t seq) {
  return Writer(MessageType::kRegisterPipe, seq).Take();
}

std::vector<uint8_t> EncodePipeIoctl(uint32_t seq, const PipeIoctl& request) {
  return Writer(MessageType::kPipeIoctl, seq)
      .Put(request.pipe_id)
      .Put(request.request)
      .Put(request.value)
      .Blob(request.filter.data(), request.filter.size())
      .Take();
}

std::vector<uint8_t> EncodeReleasePipe(uint32_t seq, uint64_t pipe_id) {
  return Writer(MessageType::kReleasePipe, seq).Put(pipe_id).Take();
}

std::vector<uint8_t> EncodeResult(uint32_t seq, const Result& result) {
  return Writer(MessageType::kResult, seq)
      .Put(result.result)
      .Put(uint32_t{0})
      .Put(result.value)
      .Take();
}

std::vector<uint8_t> EncodeControl(uint32_t seq, MessageType type,
                                   const std::string& payload) {
  return Writer(type, seq).Str(payload).Take();
}

std::vector<uint8_t> EncodeError(uint32_t seq, const Error& error) {
  return Writer(MessageType::kError, seq)
      .Put(error.error)
      .Str(error.message)
      .Take();
}

bool EncodedSizeOk(const std::vector<uint8_t>& message) {
  return message.size() <= kMaxMessageBytes;
}

bool Decode(const uint8_t* data, size_t size, Message* out, std::string* why) {
  if (size > kMaxMessageBytes) {
    *why = "message larger than the protocol allows";
    return false;
  }
  Reader in(data, size);
  if (!in.Raw(&out->header, sizeof(out->header))) {
    *why = "message shorter than its header";
    return false;
  }
  if (out->header.magic != kMagic) {
    *why = "bad magic";
    return false;
  }
  if (out->header.version != kVersion) {
    *why =
        "unsupported protocol version " + std::to_string(out->header.version);
    return false;
  }
  const auto type = static_cast<MessageType>(out->header.type);
  if (out->header.type < static_cast<uint16_t>(MessageType::kHello) ||
      out->header.type > static_cast<uint16_t>(MessageType::kError)) {
    *why = "unknown message type " + std::to_string(out->header.type);
    return false;
  }
  if (!DecodeBody(type, in, out, why)) return false;
  if (!in.ok()) {
    *why = "message body overruns the datagram";
    return false;
  }
  if (!in.at_end()) {
    *why = "trailing bytes after the message body";
    return false;
  }
  return true;
}

}  // namespace xehil::simd
