#include "sim/preload/ioctl_marshal.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/uapi/xe_uapi.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::preload {
namespace {

using ::testing::ElementsAre;

template <typename T>
uint64_t Addr(T* p) {
  return reinterpret_cast<uint64_t>(p);
}

template <typename T>
std::vector<uint8_t> Bytes(const T& value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  return std::vector<uint8_t>(p, p + sizeof(T));
}

template <typename T>
T FromBytes(const std::vector<uint8_t>& bytes) {
  T value{};
  EXPECT_EQ(bytes.size(), sizeof(T));
  std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

TEST(IsSimulatedIoctl, KnowsTheSimulatorsRequestsOnly) {
  EXPECT_TRUE(IsSimulatedIoctl(DRM_IOCTL_VERSION));
  EXPECT_TRUE(IsSimulatedIoctl(DRM_IOCTL_GEM_CLOSE));
  EXPECT_TRUE(IsSimulatedIoctl(DRM_IOCTL_XE_VM_RESTART));
  EXPECT_TRUE(IsSimulatedIoctl(DRM_IOCTL_XE_WATCH_QUEUE));
  EXPECT_FALSE(IsSimulatedIoctl(DRM_IOCTL_GET_CAP));
  // Same number, different size: a different request.
  EXPECT_FALSE(IsSimulatedIoctl(DRM_IOW(DRM_COMMAND_BASE + DRM_XE_VM_RESTART,
                                        struct drm_xe_watch_queue)));
}

TEST(BuildIoctl, UnknownRequestIsEnotty) {
  DirectUserMemory memory;
  drm_get_cap cap{};
  simd::IoctlRequest wire;
  IoctlPlan plan;
  EXPECT_EQ(BuildIoctl(DRM_IOCTL_GET_CAP, Addr(&cap), memory, &wire, &plan),
            -ENOTTY);
}

TEST(BuildIoctl, NullArgumentIsEfault) {
  DirectUserMemory memory;
  simd::IoctlRequest wire;
  IoctlPlan plan;
  EXPECT_EQ(BuildIoctl(DRM_IOCTL_XE_VM_CREATE, 0, memory, &wire, &plan),
            -EFAULT);
}

TEST(DeviceQuery, SizeQueryCarriesNoBufferAndCopiesTheSizeBack) {
  DirectUserMemory memory;
  drm_xe_device_query query{};
  query.query = DRM_XE_DEVICE_QUERY_ENGINES;
  simd::IoctlRequest wire;
  IoctlPlan plan;
  ASSERT_EQ(
      BuildIoctl(DRM_IOCTL_XE_DEVICE_QUERY, Addr(&query), memory, &wire, &plan),
      0);
  EXPECT_EQ(wire.request, DRM_IOCTL_XE_DEVICE_QUERY);
  EXPECT_EQ(wire.arg, Bytes(query));
  EXPECT_TRUE(wire.buffers.empty());

  drm_xe_device_query after = query;
  after.size = 72;
  simd::IoctlReply reply;
  reply.arg = Bytes(after);
  ASSERT_EQ(ApplyIoctlReply(plan, reply, Addr(&query), memory), 0);
  EXPECT_EQ(query.size, 72u);
  EXPECT_EQ(query.data, 0u);
}

TEST(DeviceQuery, DataCallSendsAnOutBufferAndRestoresThePointer) {
  DirectUserMemory memory;
  std::vector<uint8_t> data(40, 0xee);
  drm_xe_device_query query{};
  query.query = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  query.size = 40;
  query.data = Addr(data.data());
  simd::IoctlRequest wire;
  IoctlPlan plan;
  ASSERT_EQ(
      BuildIoctl(DRM_IOCTL_XE_DEVICE_QUERY, Addr(&query), memory, &wire, &plan),
      0);
  ASSERT_EQ(wire.buffers.size(), 1u);
  EXPECT_EQ(wire.buffers[0].field_offset, offsetof(drm_xe_device_query, data));
  EXPECT_EQ(wire.buffers[0].flags, simd::kBufferOut);
  EXPECT_EQ(wire.buffers[0].bytes.size(), 40u);
  // The daemon never sees our address.
  EXPECT_EQ(FromBytes<drm_xe_device_query>(wire.arg).data, 0u);

  drm_xe_device_query after = FromBytes<drm_xe_device_query>(wire.arg);
  after.data = 0x7777000;  // the daemon's own buffer address
  simd::IoctlReply reply;
  reply.arg = Bytes(after);
  reply.out.push_back(std::vector<uint8_t>(40, 0x11));
  ASSERT_EQ(ApplyIoctlReply(plan, reply, Addr(&query), memory), 0);
  EXPECT_EQ(query.data, Addr(data.data()));
  EXPECT_EQ(data, std::vector<uint8_t>(40, 0x11));
}

TEST(DeviceQuery, FailedCallLeavesTheBufferButCopiesTheArgument) {
  DirectUserMemory memory;
  std::vector<uint8_t> data(16, 0xee);
  drm_xe_device_query query{};
  query.size = 16;
  query.data = Addr(data.data());
  simd::IoctlRequest wire;
  IoctlPlan plan;
  ASSERT_EQ(
      BuildIoctl(DRM_IOCTL_XE_DEVICE_QUERY, Addr(&query), memory, &wire, &plan),
      0);
  simd::IoctlReply reply;
  reply.result = -EINVAL;
  reply.arg = wire.arg;
  reply.out.push_back(std::vector<uint8_t>(16, 0));
  EXPECT_EQ(ApplyIoctlReply(plan, reply, Addr(&query), memory), -EINVAL);
  EXPECT_EQ(data, std::vector<uint8_t>(16, 0xee));
  EXPECT_EQ(query.data, Addr(data.data()));
}

TEST(DeviceQuery, SizeBeyondOneMessageIsEinval) {
  DirectUserMemory memory;
  drm_xe_device_query query{};
  query.size = simd::kMaxMessageBytes;
  query.data = 0x1000;
  simd::IoctlRequest wire;
  IoctlPlan plan;
  EXPECT_EQ(
      BuildIoctl(DRM_IOCTL_XE_DEVICE_QUERY, Addr(&query), memory, &wire, &plan),
      -EINVAL);
}

TEST(Version, StringsAreCappedByTheReturnedLength) {
  DirectUserMemory memory;
  char name[8], date[4], desc[64];
  std::memset(name, '#', sizeof(name));
  std::memset(date, '#', sizeof(date));
  std::memset(desc, '#', sizeof(desc));
  drm_version version{};
  version.name = name;
  version.name_len = sizeof(name);
  version.date = date;
  version.date_len = sizeof(date);
  version.desc = nullptr;  // not asked for
  version.desc_len = 0;
  simd::IoctlRequest wire;
  IoctlPlan plan;
  ASSERT_EQ(BuildIoctl(DRM_IOCTL_VERSION, Addr(&version), memory, &wire, &plan),
            0);
  ASSERT_EQ(wire.buffers.size(), 2u);
  EXPECT_EQ(wire.buffers[0].field_offset, offsetof(drm_version, name));
  EXPECT_EQ(wire.buffers[0].bytes.size(), sizeof(name));
  EXPECT_EQ(wire.buffers[1].field_offset, offsetof(drm_version, date));
  EXPECT_EQ(wire.buffers[1].bytes.size(), sizeof(date));

  // The kernel copies min(buffer, string) and reports the full lengths.
  drm_version after = FromBytes<drm_version>(wire.arg);
  after.version_major = 1;
  after.name_len = 2;
  after.date_len = 8;
  after.desc_len = 35;
  simd::IoctlReply reply;
  reply.arg = Bytes(after);
  std::vector<uint8_t> name_out(sizeof(name), 0), date_out(sizeof(date), 0);
  std::memcpy(name_out.data(), "xe", 2);
  std::memcpy(date_out.data(), "2020", 4);
  reply.out = {name_out, date_out};
  ASSERT_EQ(ApplyIoctlReply(plan, reply, Addr(&version), memory), 0);
  EXPECT_EQ(version.version_major, 1);
  EXPECT_EQ(version.name, name);
  EXPECT_EQ(version.date, date);
  EXPECT_EQ(version.desc, nullptr);
  EXPECT_EQ(version.name_len, 2u);
  EXPECT_EQ(version.desc_len, 35u);
  EXPECT_EQ(std::string(name, sizeof(name)), "xe######");
  EXPECT_EQ(std::string(date, sizeof(date)), "2020");
}

TEST(Version, HugeLengthIsCappedOnTheWire) {
  DirectUserMemory memory;
  std::vector<char> name(kMaxVersionString * 2, '#');
  drm_version version{};
  version.name = name.data();
  version.name_len = name.size();
  simd::IoctlRequest wire;
  IoctlPlan plan;
  ASSERT_EQ(BuildIoctl(DRM_IOCTL_VERSION, Addr(&version), memory, &wire, &plan),
            0);
  ASSERT_EQ(wire.buffers.size(), 1u);
  EXPECT_EQ(wire.buffers[0].bytes.size(), kMaxVersionString);
  // The daemon sizes the string buffer by the length field: they agree.
  EXPECT_EQ(FromBytes<drm_version>(wire.arg).name_len, kMaxVersionString);
}

TEST(Version, LengthOnlyCallSendsNoBuffers) {
  DirectUserMemory memory;
  drm_version version{};
  simd::IoctlRequest wire;
  IoctlPlan plan;
  ASSERT_EQ(BuildIoctl(DRM_IOCTL_VERSION, Addr(&version), memory, &wire, &plan),
            0);
  EXPECT_TRUE(wire.buffers.empty());
}

TEST(ExecQueueCreate, InstancesGoInAndThePointerComesBack) {
  DirectUserMemory memory;
  drm_xe_engine_class_instance engines[2] = {{0, 0, 0, 0}, {1, 0, 0, 0}};
  drm_xe_exec_queue_create create{};
  create.width = 1;
  create.num_placements = 2;
  create.vm_id = 3;
  create.instances = Addr(engines);
  simd::IoctlRequest wire;
  IoctlPlan plan;
  ASSERT_EQ(BuildIoctl(DRM_IOCTL_XE_EXEC_QUEUE_CREATE, Addr(&create), memory,
                       &wire, &plan),
            0);
  ASSERT_EQ(wire.buffers.size(), 1u);
  EXPECT_EQ(wire.buffers[0].flags, simd::kBufferIn);
  EXPECT_EQ(wire.buffers[0].bytes,
            std::vector<uint8_t>(reinterpret_cast<uint8_t*>(engines),
                                 reinterpret_cast<uint8_t*>(engines + 2)));

  drm_xe_exec_queue_create after =
      FromBytes<drm_xe_exec_queue_create>(wire.arg);
  after.exec_queue_id = 9;
  after.instances = 0x5000;
  simd::IoctlReply reply;
  reply.arg = Bytes(after);
  ASSERT_EQ(ApplyIoctlReply(plan, reply, Addr(&create), memory), 0);
  EXPECT_EQ(create.exec_queue_id, 9u);
  EXPECT_EQ(create.instances, Addr(engines));
}

TEST(VmBind, VectorOfBindsGoesInAndNothingComesBack) {
  DirectUserMemory memory;
  drm_xe_vm_bind_op ops[3] = {};
  for (int i = 0; i < 3; ++i) ops[i].addr = 0x100000u * (i + 1);
  drm_xe_vm_bind bind{};
  bind.vm_id = 1;
  bind.num_binds = 3;
  bind.vector_of_binds = Addr(ops);
  simd::IoctlRequest wire;
  IoctlPlan plan;
  ASSERT_EQ(BuildIoctl(DRM_IOCTL_XE_VM_BIND, Addr(&bind), memory, &wire, &plan),
            0);
  ASSERT_EQ(wire.buffers.size(), 1u);
  EXPECT_EQ(wire.buffers[0].field_offset,
            offsetof(drm_xe_vm_bind, vector_of_binds));
  EXPECT_EQ(wire.buffers[0].bytes.size(), sizeof(ops));
  EXPECT_EQ(FromBytes<drm_xe_vm_bind>(wire.arg).vector_of_binds, 0u);

  // VM_BIND is _IOW: the kernel copies nothing back.
  simd::IoctlReply reply;
  reply.arg = std::vector<uint8_t>(sizeof(bind), 0xff);
  ASSERT_EQ(ApplyIoctlReply(plan, reply, Addr(&bind), memory), 0);
  EXPECT_EQ(bind.vm_id, 1u);
  EXPECT_EQ(bind.vector_of_binds, Addr(ops));
}

TEST(VmBind, SingleBindTravelsInline) {
  DirectUserMemory memory;
  drm_xe_vm_bind bind{};
  bind.num_binds = 1;
  bind.bind.addr = 0x200000;
  bind.bind.range = 0x1000;
  bind.bind.obj = 5;
  simd::IoctlRequest wire;
  IoctlPlan plan;
  ASSERT_EQ(BuildIoctl(DRM_IOCTL_XE_VM_BIND, Addr(&bind), memory, &wire, &plan),
            0);
  EXPECT_TRUE(wire.buffers.empty());
  EXPECT_EQ(wire.arg, Bytes(bind));
}

TEST(ApplyIoctlReply, MismatchedReplyIsEio) {
  DirectUserMemory memory;
  std::vector<uint8_t> data(8);
  drm_xe_device_query query{};
  query.size = 8;
  query.data = Addr(data.data());
  simd::IoctlRequest wire;
  IoctlPlan plan;
  ASSERT_EQ(
      BuildIoctl(DRM_IOCTL_XE_DEVICE_QUERY, Addr(&query), memory, &wire, &plan),
      0);
  simd::IoctlReply reply;
  reply.arg = wire.arg;
  EXPECT_EQ(ApplyIoctlReply(plan, reply, Addr(&query), memory), -EIO)
      << "missing out buffer";
  reply.out.push_back(std::vector<uint8_t>(9));
  EXPECT_EQ(ApplyIoctlReply(plan, reply, Addr(&query), memory), -EIO)
      << "out buffer larger than asked";
  reply.out[0].resize(8);
  reply.arg.pop_back();
  EXPECT_EQ(ApplyIoctlReply(plan, reply, Addr(&query), memory), -EIO)
      << "short argument";
}

TEST(ApplyIoctlReply, ErrorsOfIowRequestsComeBackUnchanged) {
  DirectUserMemory memory;
  drm_xe_vm_restart restart{};
  restart.vm_id = 4;
  simd::IoctlRequest wire;
  IoctlPlan plan;
  ASSERT_EQ(
      BuildIoctl(DRM_IOCTL_XE_VM_RESTART, Addr(&restart), memory, &wire, &plan),
      0);
  EXPECT_EQ(wire.arg, Bytes(restart));
  simd::IoctlReply reply;
  reply.result = -EALREADY;
  reply.arg = wire.arg;
  EXPECT_EQ(ApplyIoctlReply(plan, reply, Addr(&restart), memory), -EALREADY);
}

TEST(CheckedUserMemory, CopiesValidMemoryAndFaultsOnBadAddresses) {
  CheckedUserMemory memory;
  uint64_t source = 0x1122334455667788, target = 0;
  ASSERT_TRUE(memory.Read(&target, Addr(&source), sizeof(target)));
  EXPECT_EQ(target, source);
  uint64_t value = 42;
  ASSERT_TRUE(memory.Write(Addr(&target), &value, sizeof(value)));
  EXPECT_EQ(target, 42u);
  EXPECT_FALSE(memory.Read(&target, 0, sizeof(target)));
  // Only where process_vm_readv is allowed can a wild pointer be caught.
  iovec local{&target, sizeof(target)}, remote{&source, sizeof(source)};
  if (::process_vm_readv(::getpid(), &local, 1, &remote, 1, 0) < 0) {
    GTEST_SKIP() << "process_vm_readv not allowed here: " << errno;
  }
  EXPECT_FALSE(memory.Read(&target, 8, sizeof(target)));
  EXPECT_FALSE(memory.Write(8, &value, sizeof(value)));
}

}  // namespace
}  // namespace xehil::preload
