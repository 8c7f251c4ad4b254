// Ioctls through the daemon's socket give what an in-process SimBackend
// gives, user pointers included; pointers the client did not ship are never
// followed.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/sim_backend.h"
#include "sim/sim_test_util.h"
#include "sim/simd/simd_test_util.h"

namespace xehil::simd {
namespace {

using namespace ::xehil::sim::testing;   // NOLINT(build/namespaces)
using namespace ::xehil::simd::testing;  // NOLINT(build/namespaces)
using ::testing::ElementsAre;

class ServerIoctl : public ServerTest {};

std::vector<uint8_t> Query(KernelBackend& backend, uint32_t query, int* rc) {
  drm_xe_device_query q{};
  q.query = query;
  *rc = backend.Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &q);
  if (*rc != 0) return {};
  std::vector<uint8_t> data(q.size);
  q.data = reinterpret_cast<uintptr_t>(data.data());
  *rc = backend.Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &q);
  return data;
}

// One run of every supported ioctl, good and bad, as "what: rc fields".
std::vector<std::string> Exercise(KernelBackend& b) {
  std::vector<std::string> log;
  auto note = [&](const std::string& what, int rc, const std::string& more) {
    log.push_back(absl::StrCat(what, ": ", rc, " ", more));
  };
  char name[4] = {};
  char desc[64] = {};
  drm_version version{};
  version.name = name;
  version.name_len = sizeof(name);
  version.desc = desc;
  version.desc_len = sizeof(desc);
  int rc = b.Ioctl(DRM_IOCTL_VERSION, &version);
  note("VERSION", rc,
       absl::StrCat(std::string(name, strnlen(name, sizeof(name))), " ",
                    version.name_len, " ", version.date_len, " ",
                    version.desc_len, " ", desc));

  for (uint32_t query : std::vector<uint32_t>{DRM_XE_DEVICE_QUERY_MEM_REGIONS,
                                              DRM_XE_DEVICE_QUERY_ENGINES, 7}) {
    std::vector<uint8_t> data = Query(b, query, &rc);
    note(absl::StrCat("QUERY ", query), rc,
         std::string(data.begin(), data.end()));
  }
  drm_xe_device_query wrong_size{};
  wrong_size.query = DRM_XE_DEVICE_QUERY_ENGINES;
  wrong_size.size = 3;
  uint8_t small[3];
  wrong_size.data = reinterpret_cast<uintptr_t>(small);
  note("QUERY size 3", b.Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &wrong_size), "");

  uint32_t vm = 0, bad_vm = 0, lr = 0;
  note("VM_CREATE restartable", VmCreate(b, kRestartable, &vm),
       absl::StrCat(vm));
  note("VM_CREATE bad flags", VmCreate(b, 1u << 9, &bad_vm), "");
  note("VM_CREATE lr", VmCreate(b, kLr, &lr), absl::StrCat(lr));
  uint32_t bo = 0, bo2 = 0;
  note("GEM_CREATE", GemCreate(b, 64 * sim::kKiB, kVram, &bo),
       absl::StrCat(bo));
  note("GEM_CREATE 2", GemCreate(b, 64 * sim::kKiB, kVram, &bo2),
       absl::StrCat(bo2));
  note("GEM_CREATE huge", GemCreate(b, 64 * sim::kGiB, kVram, &bo2), "");
  note("BIND one", BindBo(b, vm, bo, 0, 1 * sim::kMiB, 64 * sim::kKiB), "");

  drm_xe_vm_bind_op ops[2] = {};
  for (int i = 0; i < 2; ++i) {
    ops[i].obj = 2;  // bo2's handle
    ops[i].obj_offset = i * 32 * sim::kKiB;
    ops[i].addr = (4 + i) * sim::kMiB;
    ops[i].range = 32 * sim::kKiB;
    ops[i].op = DRM_XE_VM_BIND_OP_MAP;
  }
  drm_xe_vm_bind vector{};
  vector.vm_id = lr;
  vector.num_binds = 2;
  vector.vector_of_binds = reinterpret_cast<uintptr_t>(ops);
  note(
      "BIND vector", b.Ioctl(DRM_IOCTL_XE_VM_BIND, &vector),
      absl::StrCat(vector.vector_of_binds == reinterpret_cast<uintptr_t>(ops)));
  ops[1].pad = 1;
  note("BIND vector bad op", b.Ioctl(DRM_IOCTL_XE_VM_BIND, &vector), "");
  vector.vector_of_binds = 0;
  note("BIND vector null", b.Ioctl(DRM_IOCTL_XE_VM_BIND, &vector), "");

  uint32_t queue = 0;
  note("EXEC_QUEUE_CREATE", ExecQueueCreate(b, vm, &queue),
       absl::StrCat(queue));
  drm_xe_engine_class_instance copy_engine{};
  copy_engine.engine_class = DRM_XE_ENGINE_CLASS_COPY;
  note("EXEC_QUEUE_CREATE unknown engine",
       ExecQueueCreate(b, vm, &queue, copy_engine), "");
  drm_xe_exec_queue_create null_instances{};
  null_instances.width = 1;
  null_instances.num_placements = 1;
  null_instances.vm_id = vm;
  note("EXEC_QUEUE_CREATE null",
       b.Ioctl(DRM_IOCTL_XE_EXEC_QUEUE_CREATE, &null_instances), "");
  note("VM_DESTROY busy", VmDestroy(b, vm), "");
  note("EXEC_QUEUE_DESTROY", ExecQueueDestroy(b, 1), "");
  note("VM_RESTART not paused", Restart(b, vm), "");
  note("GEM_CLOSE", GemClose(b, bo), "");
  note("VM_DESTROY", VmDestroy(b, vm), "");
  note("VM_DESTROY again", VmDestroy(b, vm), "");
  drm_xe_vm_create unknown{};
  note("UNKNOWN", b.Ioctl(_IOWR('d', 0x7f, drm_xe_vm_create), &unknown), "");
  return log;
}

TEST_F(ServerIoctl, EveryIoctlMatchesAnInProcessFile) {
  std::shared_ptr<sim::Device> local = sim::Device::Create(TinyProfile());
  std::unique_ptr<sim::SimBackend> in_process = local->Open();
  std::unique_ptr<RemoteBackend> remote = OpenRemote();
  const std::vector<std::string> expected = Exercise(*in_process);
  EXPECT_EQ(Exercise(*remote), expected);
  // Sanity: the run did reach the interesting results.
  EXPECT_THAT(expected,
              ::testing::Contains(::testing::StartsWith("BIND vector: 0 1")));
  EXPECT_THAT(expected, ::testing::Contains("BIND vector null: -14 "));
  EXPECT_THAT(expected, ::testing::Contains("UNKNOWN: -25 "));
  // Both devices counted the same calls.
  EXPECT_EQ(server_->device()->counters().ioctls, local->counters().ioctls);
}

TEST_F(ServerIoctl, ArgumentOfTheWrongSizeIsEinval) {
  Client file = Connect(Role::kDrmFile);
  drm_xe_vm_create create{};
  IoctlRequest request = MakeIoctl(DRM_IOCTL_XE_VM_CREATE, create);
  request.arg.resize(16);
  absl::StatusOr<IoctlReply> reply = file.Ioctl(request);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->result, -EINVAL);
  EXPECT_EQ(server_->device()->counters().Ioctls("VM_CREATE", -EINVAL), 1u);
  EXPECT_EQ(server_->device()->ListVms(file.file_id())->size(), 0u);
}

TEST_F(ServerIoctl, PointersWithoutAShippedBufferAreNeverFollowed) {
  Client file = Connect(Role::kDrmFile);
  // A pointer into the client's address space, not the daemon's.
  constexpr uint64_t kForeign = 0x7f0000001000;
  drm_xe_device_query q{};
  q.query = DRM_XE_DEVICE_QUERY_ENGINES;
  absl::StatusOr<IoctlReply> sized =
      file.Ioctl(MakeIoctl(DRM_IOCTL_XE_DEVICE_QUERY, q));
  ASSERT_TRUE(sized.ok());
  q.size = ReplyArg<drm_xe_device_query>(*sized).size;
  ASSERT_GT(q.size, 0u);
  q.data = kForeign;

  absl::StatusOr<IoctlReply> none =
      file.Ioctl(MakeIoctl(DRM_IOCTL_XE_DEVICE_QUERY, q));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->result, -EFAULT);
  EXPECT_EQ(ReplyArg<drm_xe_device_query>(*none).data, kForeign)
      << "the client's pointer comes back unchanged";

  Buffer small{offsetof(drm_xe_device_query, data), kBufferOut, {}};
  small.bytes.assign(q.size - 1, 0);
  absl::StatusOr<IoctlReply> short_buffer =
      file.Ioctl(MakeIoctl(DRM_IOCTL_XE_DEVICE_QUERY, q, {small}));
  ASSERT_TRUE(short_buffer.ok());
  EXPECT_EQ(short_buffer->result, -EFAULT);

  Buffer enough = small;
  enough.bytes.assign(q.size, 0);
  absl::StatusOr<IoctlReply> good =
      file.Ioctl(MakeIoctl(DRM_IOCTL_XE_DEVICE_QUERY, q, {enough}));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->result, 0);
  ASSERT_EQ(good->out.size(), 1u);
  drm_xe_query_engines head{};
  std::memcpy(&head, good->out[0].data(), sizeof(head));
  EXPECT_EQ(head.num_engines, 1u);
  EXPECT_EQ(ReplyArg<drm_xe_device_query>(*good).data, kForeign);

  drm_xe_exec_queue_create queue{};
  queue.width = 1;
  queue.num_placements = 1;
  queue.instances = kForeign;
  absl::StatusOr<IoctlReply> no_instances =
      file.Ioctl(MakeIoctl(DRM_IOCTL_XE_EXEC_QUEUE_CREATE, queue));
  ASSERT_TRUE(no_instances.ok());
  EXPECT_EQ(no_instances->result, -EFAULT);

  drm_xe_vm_bind bind{};
  bind.vm_id = 1;
  bind.num_binds = 1000;
  bind.vector_of_binds = kForeign;
  Buffer few{offsetof(drm_xe_vm_bind, vector_of_binds), kBufferIn, {}};
  few.bytes.assign(2 * sizeof(drm_xe_vm_bind_op), 0);
  absl::StatusOr<IoctlReply> short_vector =
      file.Ioctl(MakeIoctl(DRM_IOCTL_XE_VM_BIND, bind, {few}));
  ASSERT_TRUE(short_vector.ok());
  EXPECT_EQ(short_vector->result, -EFAULT);

  drm_version version{};
  version.name_len = 100;
  version.name = reinterpret_cast<char*>(kForeign);
  absl::StatusOr<IoctlReply> unshipped_name =
      file.Ioctl(MakeIoctl(DRM_IOCTL_VERSION, version));
  ASSERT_TRUE(unshipped_name.ok());
  EXPECT_EQ(unshipped_name->result, 0);
  EXPECT_EQ(ReplyArg<drm_version>(*unshipped_name).name_len, 2u);
}

TEST_F(ServerIoctl, OutBuffersComeBackInRequestOrder) {
  Client file = Connect(Role::kDrmFile);
  drm_version version{};
  version.name_len = 2;
  version.desc_len = 5;
  version.name = reinterpret_cast<char*>(0x1000);
  version.desc = reinterpret_cast<char*>(0x2000);
  Buffer desc{offsetof(drm_version, desc), kBufferOut, std::vector<uint8_t>(5)};
  Buffer name{offsetof(drm_version, name), kBufferOut, std::vector<uint8_t>(2)};
  absl::StatusOr<IoctlReply> reply =
      file.Ioctl(MakeIoctl(DRM_IOCTL_VERSION, version, {desc, name}));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->result, 0);
  ASSERT_EQ(reply->out.size(), 2u);
  EXPECT_EQ(std::string(reply->out[0].begin(), reply->out[0].end()), "Intel");
  EXPECT_THAT(reply->out[1], ElementsAre('x', 'e'));
}

TEST_F(ServerIoctl, VersionStringsFitACappedBuffer) {
  // Clients cap string buffers (the strings are short): the daemon copies
  // what fits and still reports the full lengths.
  Client file = Connect(Role::kDrmFile);
  drm_version version{};
  version.name_len = 1 << 20;
  version.name = reinterpret_cast<char*>(0x1000);
  Buffer name{offsetof(drm_version, name), kBufferOut,
              std::vector<uint8_t>(4096)};
  absl::StatusOr<IoctlReply> reply =
      file.Ioctl(MakeIoctl(DRM_IOCTL_VERSION, version, {name}));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->result, 0);
  EXPECT_EQ(ReplyArg<drm_version>(*reply).name_len, 2u);
  EXPECT_EQ(ReplyArg<drm_version>(*reply).name,
            reinterpret_cast<char*>(0x1000));
  ASSERT_EQ(reply->out.size(), 1u);
  EXPECT_EQ(reply->out[0][0], 'x');
  EXPECT_EQ(reply->out[0][1], 'e');
  EXPECT_EQ(reply->out[0][2], 0);
}

TEST_F(ServerIoctl, TwoConnectionsAreTwoFiles) {
  std::unique_ptr<RemoteBackend> a = OpenRemote("first");
  std::unique_ptr<RemoteBackend> b = OpenRemote("second");
  EXPECT_NE(a->file_id(), b->file_id());
  uint32_t vm_a = 0, vm_b = 0;
  ASSERT_EQ(VmCreate(*a, kRestartable, &vm_a), 0);
  ASSERT_EQ(VmCreate(*b, kRestartable, &vm_b), 0);
  EXPECT_EQ(vm_a, 1u);
  EXPECT_EQ(vm_b, 1u) << "VM ids are per file";
  EXPECT_EQ(VmDestroy(*a, vm_a), 0);
  EXPECT_EQ(VmDestroy(*a, vm_a), -ENOENT);
  EXPECT_TRUE(server_->device()->GetVm(b->file_id(), vm_b).ok());

  sim::DeviceStatus status = Status();
  ASSERT_EQ(status.files_size(), 2);
  EXPECT_EQ(status.files(0).file_id(), a->file_id());
  EXPECT_EQ(status.files(0).program(), "first");
  EXPECT_EQ(status.files(0).pid(), static_cast<uint32_t>(::getpid()));
  EXPECT_EQ(status.files(0).vms_size(), 0);
  EXPECT_EQ(status.files(1).program(), "second");
  ASSERT_EQ(status.files(1).vms_size(), 1);
  EXPECT_EQ(status.files(1).vms(0).state(), sim::Vm::HEALTHY);
  EXPECT_EQ(status.files(1).vms(0).flags(), kRestartable);
}

}  // namespace
}  // namespace xehil::simd
