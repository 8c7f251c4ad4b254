#include "sim/simd/wire.h"

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::simd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Message MustDecode(const std::vector<uint8_t>& bytes) {
  Message message;
  std::string why;
  EXPECT_TRUE(Decode(bytes.data(), bytes.size(), &message, &why)) << why;
  return message;
}

std::string Reject(const std::vector<uint8_t>& bytes) {
  Message message;
  std::string why;
  EXPECT_FALSE(Decode(bytes.data(), bytes.size(), &message, &why));
  EXPECT_FALSE(why.empty());
  return why;
}

IoctlRequest SampleIoctl() {
  IoctlRequest request;
  request.request = 0xc0286440;
  request.arg.assign(40, 0);
  for (size_t i = 0; i < request.arg.size(); ++i) request.arg[i] = i;
  Buffer in;
  in.field_offset = 16;
  in.flags = kBufferIn | kBufferOut;
  in.bytes = {1, 2, 3, 4, 5};
  Buffer out;
  out.field_offset = 24;
  out.flags = kBufferOut;
  out.bytes.assign(100, 0);
  request.buffers = {in, out};
  return request;
}

TEST(Wire, HelloRoundTrips) {
  Hello hello{Role::kPipes, 4242, "restart_on_enomem"};
  Message m = MustDecode(EncodeHello(7, hello));
  EXPECT_EQ(m.header.magic, kMagic);
  EXPECT_EQ(m.header.version, kVersion);
  EXPECT_EQ(m.header.type, static_cast<uint16_t>(MessageType::kHello));
  EXPECT_EQ(m.header.seq, 7u);
  EXPECT_EQ(m.hello.role, Role::kPipes);
  EXPECT_EQ(m.hello.pid, 4242u);
  EXPECT_EQ(m.hello.program, "restart_on_enomem");

  Message reply = MustDecode(EncodeHelloReply(8, {99, "simulated dg2"}));
  EXPECT_EQ(reply.hello_reply.file_id, 99u);
  EXPECT_EQ(reply.hello_reply.description, "simulated dg2");
}

TEST(Wire, IoctlRoundTripsWithInAndOutBuffers) {
  const IoctlRequest request = SampleIoctl();
  Message m = MustDecode(EncodeIoctl(3, request));
  EXPECT_EQ(m.ioctl.request, request.request);
  EXPECT_EQ(m.ioctl.arg, request.arg);
  ASSERT_EQ(m.ioctl.buffers.size(), 2u);
  EXPECT_EQ(m.ioctl.buffers[0].field_offset, 16u);
  EXPECT_EQ(m.ioctl.buffers[0].flags, kBufferIn | kBufferOut);
  EXPECT_THAT(m.ioctl.buffers[0].bytes, ElementsAre(1, 2, 3, 4, 5));
  // Out-only buffers travel as a size and arrive zeroed.
  EXPECT_EQ(m.ioctl.buffers[1].bytes, std::vector<uint8_t>(100, 0));

  IoctlReply reply;
  reply.result = -12;
  reply.arg = request.arg;
  reply.out = {{9, 9}, {}};
  Message r = MustDecode(EncodeIoctlReply(3, reply));
  EXPECT_EQ(r.ioctl_reply.result, -12);
  EXPECT_EQ(r.ioctl_reply.arg, request.arg);
  ASSERT_EQ(r.ioctl_reply.out.size(), 2u);
  EXPECT_THAT(r.ioctl_reply.out[0], ElementsAre(9, 9));
  EXPECT_TRUE(r.ioctl_reply.out[1].empty());
}

TEST(Wire, PipeMessagesRoundTrip) {
  EXPECT_EQ(MustDecode(EncodeRegisterPipe(1)).header.type,
            static_cast<uint16_t>(MessageType::kRegisterPipe));
  PipeIoctl ioctl{5, 0x5760, 32, {1, 2, 3}};
  Message m = MustDecode(EncodePipeIoctl(2, ioctl));
  EXPECT_EQ(m.pipe_ioctl.pipe_id, 5u);
  EXPECT_EQ(m.pipe_ioctl.request, 0x5760u);
  EXPECT_EQ(m.pipe_ioctl.value, 32u);
  EXPECT_THAT(m.pipe_ioctl.filter, ElementsAre(1, 2, 3));
  EXPECT_EQ(MustDecode(EncodeReleasePipe(3, 77)).pipe_id, 77u);
  Message result = MustDecode(EncodeResult(4, {-16, 12345}));
  EXPECT_EQ(result.result.result, -16);
  EXPECT_EQ(result.result.value, 12345u);
}

TEST(Wire, ControlAndErrorRoundTrip) {
  const std::string payload("\x08\x01\x00\xff", 4);
  Message c = MustDecode(EncodeControl(5, MessageType::kControl, payload));
  EXPECT_EQ(std::string(c.payload.begin(), c.payload.end()), payload);
  Message r = MustDecode(EncodeControl(5, MessageType::kControlReply, ""));
  EXPECT_EQ(r.header.type, static_cast<uint16_t>(MessageType::kControlReply));
  EXPECT_TRUE(r.payload.empty());
  Message e = MustDecode(EncodeError(6, {-71, "bad magic"}));
  EXPECT_EQ(e.error.error, -71);
  EXPECT_EQ(e.error.message, "bad magic");
}

TEST(Wire, EncodedSizeOkChecksTheCeiling) {
  std::vector<uint8_t> small(kMaxMessageBytes);
  std::vector<uint8_t> big(kMaxMessageBytes + 1);
  EXPECT_TRUE(EncodedSizeOk(small));
  EXPECT_FALSE(EncodedSizeOk(big));
}

TEST(Wire, RejectsShortBadMagicBadVersionAndUnknownType) {
  EXPECT_THAT(Reject({}), HasSubstr("shorter than its header"));
  std::vector<uint8_t> hello = EncodeHello(1, {});
  EXPECT_THAT(Reject({hello.begin(), hello.begin() + 15}),
              HasSubstr("shorter than its header"));

  std::vector<uint8_t> bad = hello;
  bad[0] ^= 0xff;
  EXPECT_THAT(Reject(bad), HasSubstr("magic"));

  bad = hello;
  Header header;
  std::memcpy(&header, bad.data(), sizeof(header));
  header.version = 2;
  std::memcpy(bad.data(), &header, sizeof(header));
  EXPECT_THAT(Reject(bad), HasSubstr("version"));

  for (uint16_t type : {0, 12, 0xffff}) {
    bad = hello;
    header.version = kVersion;
    header.type = type;
    std::memcpy(bad.data(), &header, sizeof(header));
    EXPECT_THAT(Reject(bad), HasSubstr("unknown message type"));
  }
}

TEST(Wire, RejectsTruncatedBodiesAndTrailingBytes) {
  std::vector<uint8_t> hello = EncodeHello(1, {Role::kDrmFile, 1, "prog"});
  EXPECT_THAT(Reject({hello.begin(), hello.end() - 1}), HasSubstr("overruns"));
  hello.push_back(0);
  EXPECT_THAT(Reject(hello), HasSubstr("trailing"));
  // A string length far beyond the datagram.
  std::vector<uint8_t> lying = EncodeHello(1, {Role::kDrmFile, 1, ""});
  const uint32_t huge = 0xfffffff0u;
  std::memcpy(lying.data() + sizeof(Header) + 8, &huge, sizeof(huge));
  EXPECT_THAT(Reject(lying), HasSubstr("overruns"));
}

TEST(Wire, RejectsOversizedDatagrams) {
  std::vector<uint8_t> message = EncodeControl(
      1, MessageType::kControl, std::string(kMaxMessageBytes, 'x'));
  EXPECT_FALSE(EncodedSizeOk(message));
  EXPECT_THAT(Reject(message), HasSubstr("larger than the protocol"));
}

// Byte offsets inside an encoded kIoctl (see EncodeIoctl).
constexpr size_t kCountAt = sizeof(Header) + 12;
size_t BufferAt(const IoctlRequest& request) {
  return sizeof(Header) + 16 + request.arg.size();
}

TEST(Wire, RejectsMalformedIoctlBuffers) {
  const IoctlRequest request = SampleIoctl();
  const std::vector<uint8_t> good = EncodeIoctl(1, request);
  auto patch32 = [&](size_t at, uint32_t value) {
    std::vector<uint8_t> bytes = good;
    std::memcpy(bytes.data() + at, &value, sizeof(value));
    return bytes;
  };
  EXPECT_THAT(Reject(patch32(kCountAt, kMaxBuffers + 1)),
              HasSubstr("too many buffers"));
  const size_t first = BufferAt(request);
  // field_offset 33 leaves no room for the u64 in a 40-byte argument.
  EXPECT_THAT(Reject(patch32(first, 33)), HasSubstr("outside the argument"));
  EXPECT_THAT(Reject(patch32(first, 0xffffffffu)),
              HasSubstr("outside the argument"));
  EXPECT_THAT(Reject(patch32(first + 4, 0)), HasSubstr("flags"));
  EXPECT_THAT(Reject(patch32(first + 4, 4)), HasSubstr("flags"));
  // The out-only buffer (second) claims more than a message can carry.
  const size_t second = first + 16 + request.buffers[0].bytes.size();
  EXPECT_THAT(Reject(patch32(second + 8, kMaxMessageBytes + 1)),
              HasSubstr("larger than a message"));
  // An in-buffer size beyond the datagram.
  EXPECT_THAT(Reject(patch32(first + 8, 1000)), HasSubstr("overruns"));
  // Argument length beyond the datagram.
  EXPECT_FALSE(Reject(patch32(sizeof(Header) + 8, 100000)).empty());
}

TEST(Wire, RejectsTooManyReplyBuffers) {
  IoctlReply reply;
  reply.out.assign(kMaxBuffers + 1, {});
  EXPECT_THAT(Reject(EncodeIoctlReply(1, reply)), HasSubstr("too many"));
}

// Every prefix of every message kind, and random byte flips, decode or fail
// cleanly (asan/ubsan catch any read outside the buffer).
TEST(Wire, TruncationsAndRandomBytesNeverCrash) {
  std::vector<std::vector<uint8_t>> samples = {
      EncodeHello(1, {Role::kControl, 2, "x"}),
      EncodeHelloReply(1, {3, "y"}),
      EncodeIoctl(1, SampleIoctl()),
      EncodeIoctlReply(1, {0, {1, 2, 3}, {{4}, {5, 6}}}),
      EncodeRegisterPipe(1),
      EncodePipeIoctl(1, {1, 2, 3, {4, 5}}),
      EncodeReleasePipe(1, 9),
      EncodeResult(1, {0, 1}),
      EncodeControl(1, MessageType::kControl, "abc"),
      EncodeError(1, {-1, "z"}),
  };
  int decoded = 0;
  for (const std::vector<uint8_t>& sample : samples) {
    for (size_t n = 0; n < sample.size(); ++n) {
      // Exactly sized heap copies so that asan sees any overread.
      std::vector<uint8_t> prefix(sample.begin(), sample.begin() + n);
      Message m;
      std::string why;
      EXPECT_FALSE(Decode(prefix.data(), prefix.size(), &m, &why))
          << "prefix " << n << " of a " << sample.size() << "-byte message";
    }
  }
  std::mt19937 rng(12345);
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> bytes = samples[rng() % samples.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      // Leave magic and version intact half of the time to reach the bodies.
      const size_t low = (round % 2 == 0) ? 6 : 0;
      bytes[low + rng() % (bytes.size() - low)] = static_cast<uint8_t>(rng());
    }
    if (rng() % 3 == 0) bytes.resize(rng() % (bytes.size() + 1));
    Message m;
    std::string why;
    if (Decode(bytes.data(), bytes.size(), &m, &why)) ++decoded;
  }
  // Sanity: the loop was not rejecting everything for one trivial reason.
  EXPECT_GT(decoded, 0);
}

}  // namespace
}  // namespace xehil::simd
