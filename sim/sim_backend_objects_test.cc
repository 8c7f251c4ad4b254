// Ioctl decoding and validation of SimBackend: device queries, BOs, VMs,
// bindings and exec queues, with the driver's exact errnos.
#include <cerrno>
#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/device.h"
#include "sim/sim_backend.h"
#include "sim/sim_test_util.h"

namespace xehil::sim {
namespace {

using namespace ::xehil::sim::testing;  // NOLINT(google-build-using-namespace)

class SimObjects : public ::testing::Test {
 protected:
  std::shared_ptr<Device> device_ = *Device::Create("dg2-16g");
  std::unique_ptr<SimBackend> file_ = device_->Open();
};

// ---- GEM_CREATE / GEM_CLOSE
// ---------------------------------------------------

TEST_F(SimObjects, GemCreateFieldValidationIsEinval) {
  auto create = [&](auto mutate) {
    drm_xe_gem_create arg{};
    arg.size = 64 * kKiB;
    arg.placement = kVram;
    arg.cpu_caching = DRM_XE_GEM_CPU_CACHING_WC;
    mutate(arg);
    return file_->Ioctl(DRM_IOCTL_XE_GEM_CREATE, &arg);
  };
  EXPECT_EQ(create([](drm_xe_gem_create&) {}), 0);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.size = 0; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.size = 4096; }), -EINVAL)
      << "dg2 VRAM has 64 KiB pages";
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.placement = 0; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.placement = 1u << 2; }),
            -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.flags = 1u << 3; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.pad[1] = 1; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.reserved[0] = 1; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.extensions = 1; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.handle = 5; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.cpu_caching = 0; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.cpu_caching = 3; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) {
              a.cpu_caching = DRM_XE_GEM_CPU_CACHING_WB;  // VRAM needs WC
            }),
            -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) {
              a.placement = kSysmem;
              a.size = 4096;
              a.cpu_caching = DRM_XE_GEM_CPU_CACHING_WB;
            }),
            0);
  EXPECT_EQ(create([](drm_xe_gem_create& a) {
              a.placement = kSysmem;
              a.flags = DRM_XE_GEM_CREATE_FLAG_NEEDS_VISIBLE_VRAM;
            }),
            -EINVAL);
}

TEST_F(SimObjects, GemCreateForUnknownVmIsEnoent) {
  uint32_t bo = 0;
  EXPECT_EQ(GemCreate(*file_, 64 * kKiB, kVram, &bo, /*vm_id=*/3), -ENOENT);
}

TEST_F(SimObjects, GemHandlesStartAtOneAndReuseTheLowestFree) {
  uint32_t a = 0, b = 0, c = 0;
  ASSERT_EQ(GemCreate(*file_, 64 * kKiB, kVram, &a), 0);
  ASSERT_EQ(GemCreate(*file_, 64 * kKiB, kVram, &b), 0);
  EXPECT_EQ(a, 1u);
  EXPECT_EQ(b, 2u);
  ASSERT_EQ(GemClose(*file_, a), 0);
  ASSERT_EQ(GemCreate(*file_, 64 * kKiB, kVram, &c), 0);
  EXPECT_EQ(c, 1u);
}

TEST_F(SimObjects, GemCloseOfUnknownHandleOrWithPadIsEinval) {
  uint32_t bo = 0;
  ASSERT_EQ(GemCreate(*file_, 64 * kKiB, kVram, &bo), 0);
  drm_gem_close arg{};
  arg.handle = bo;
  arg.pad = 1;
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_GEM_CLOSE, &arg), -EINVAL);
  EXPECT_EQ(GemClose(*file_, 42), -EINVAL);
  EXPECT_EQ(GemClose(*file_, bo), 0);
  EXPECT_EQ(GemClose(*file_, bo), -EINVAL);
  EXPECT_EQ(device_->Regions()[1].used, 0u);
}

TEST_F(SimObjects, HandlesAreScopedToTheirFile) {
  std::unique_ptr<SimBackend> other = device_->Open();
  uint32_t bo = 0;
  ASSERT_EQ(GemCreate(*file_, 64 * kKiB, kVram, &bo), 0);
  EXPECT_EQ(GemClose(*other, bo), -EINVAL);
}

// ---- VM_CREATE / VM_DESTROY -------------------------------------------------

TEST_F(SimObjects, VmCreateFlagValidationIsEinval) {
  uint32_t vm = 0;
  EXPECT_EQ(VmCreate(*file_, 1u << 5, &vm), -EINVAL);
  EXPECT_EQ(VmCreate(*file_, DRM_XE_VM_CREATE_FLAG_FAULT_MODE, &vm), -EINVAL);
  EXPECT_EQ(VmCreate(*file_, DRM_XE_VM_CREATE_FLAG_RESTARTABLE, &vm), -EINVAL);
  EXPECT_EQ(
      VmCreate(*file_, kRestartable | DRM_XE_VM_CREATE_FLAG_FAULT_MODE, &vm),
      -EINVAL);
  EXPECT_EQ(VmCreate(*file_, kLr | DRM_XE_VM_CREATE_FLAG_FAULT_MODE, &vm),
            -EINVAL)
      << "dg2 has no page-fault support";
  drm_xe_vm_create arg{};
  arg.extensions = 1;
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_VM_CREATE, &arg), -EINVAL);
  arg = {};
  arg.reserved[1] = 1;
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_VM_CREATE, &arg), -EINVAL);
  EXPECT_EQ(
      VmCreate(*file_, kRestartable | DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE, &vm),
      0);
}

TEST(SimVmCreate, FaultModeIsAcceptedWhereTheDeviceSupportsIt) {
  std::shared_ptr<Device> device = *Device::Create("bmg-12g");
  std::unique_ptr<SimBackend> file = device->Open();
  uint32_t vm = 0;
  EXPECT_EQ(VmCreate(*file, kLr | DRM_XE_VM_CREATE_FLAG_FAULT_MODE, &vm), 0);
}

TEST_F(SimObjects, VmIdsArePerFileAndStartAtOne) {
  std::unique_ptr<SimBackend> other = device_->Open();
  uint32_t a = 0, b = 0, c = 0;
  ASSERT_EQ(VmCreate(*file_, 0, &a), 0);
  ASSERT_EQ(VmCreate(*file_, kLr, &b), 0);
  ASSERT_EQ(VmCreate(*other, 0, &c), 0);
  EXPECT_EQ(a, 1u);
  EXPECT_EQ(b, 2u);
  EXPECT_EQ(c, 1u);
  EXPECT_EQ(VmDestroy(*other, 2), -ENOENT);
}

TEST_F(SimObjects, ListVmsShowsEveryVmOfTheFileOnly) {
  uint32_t lr = 0, restartable = 0;
  ASSERT_EQ(VmCreate(*file_, kLr, &lr), 0);
  ASSERT_EQ(VmCreate(*file_, kRestartable, &restartable), 0);
  std::unique_ptr<SimBackend> other = device_->Open();
  uint32_t elsewhere = 0;
  ASSERT_EQ(VmCreate(*other, 0, &elsewhere), 0);

  auto vms = device_->ListVms(file_->file_id());
  ASSERT_TRUE(vms.ok()) << vms.status();
  ASSERT_EQ(vms->size(), 2u);
  EXPECT_EQ(vms->at(lr).flags, kLr);
  EXPECT_EQ(vms->at(restartable).flags, kRestartable);
  EXPECT_EQ(vms->at(restartable).state, VmState::kHealthy);

  const FileId gone = other->file_id();
  other.reset();
  EXPECT_EQ(device_->ListVms(gone).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SimObjects, VmDestroyValidation) {
  uint32_t vm = 0, queue = 0;
  ASSERT_EQ(VmCreate(*file_, kLr, &vm), 0);
  drm_xe_vm_destroy arg{};
  arg.vm_id = vm;
  arg.pad = 1;
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_VM_DESTROY, &arg), -EINVAL);
  arg.pad = 0;
  arg.reserved[0] = 1;
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_VM_DESTROY, &arg), -EINVAL);
  EXPECT_EQ(VmDestroy(*file_, 9), -ENOENT);
  ASSERT_EQ(ExecQueueCreate(*file_, vm, &queue), 0);
  EXPECT_EQ(VmDestroy(*file_, vm), -EBUSY);
  ASSERT_EQ(ExecQueueDestroy(*file_, queue), 0);
  EXPECT_EQ(VmDestroy(*file_, vm), 0);
  EXPECT_EQ(VmDestroy(*file_, vm), -ENOENT);
}

// ---- VM_BIND
// ------------------------------------------------------------------

TEST_F(SimObjects, BindValidation) {
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmCreate(*file_, kLr, &vm), 0);
  ASSERT_EQ(GemCreate(*file_, 1 * kMiB, kVram, &bo), 0);
  EXPECT_EQ(BindBo(*file_, 9, bo, 0, 1 * kMiB, 64 * kKiB), -ENOENT);
  EXPECT_EQ(BindBo(*file_, vm, 9, 0, 1 * kMiB, 64 * kKiB), -ENOENT);
  EXPECT_EQ(BindBo(*file_, vm, bo, 0, 1 * kMiB, 2 * kMiB), -EINVAL)
      << "range past the end of the BO";
  EXPECT_EQ(BindBo(*file_, vm, bo, 0, 1 * kMiB, 0), -EINVAL);
  EXPECT_EQ(BindBo(*file_, vm, bo, 0, 1 * kMiB + 1, 4096), -EINVAL);
  auto bind = [&](auto mutate) {
    drm_xe_vm_bind arg{};
    arg.vm_id = vm;
    arg.num_binds = 1;
    arg.bind.obj = bo;
    arg.bind.addr = 1 * kMiB;
    arg.bind.range = 64 * kKiB;
    mutate(arg);
    return file_->Ioctl(DRM_IOCTL_XE_VM_BIND, &arg);
  };
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.pad = 1; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.pad2 = 1; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.reserved[1] = 1; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.extensions = 1; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.bind.pad = 1; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.bind.reserved[2] = 1; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.bind.op = 7; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.bind.flags = 1u << 9; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.num_binds = 0; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) {
              a.bind.op = DRM_XE_VM_BIND_OP_UNMAP;  // names no BO
            }),
            -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.exec_queue_id = 4; }), -ENOENT);
  EXPECT_EQ(bind([](drm_xe_vm_bind&) {}), 0);
}

TEST_F(SimObjects, BindVectorAppliesEveryOperation) {
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmCreate(*file_, kLr, &vm), 0);
  ASSERT_EQ(GemCreate(*file_, 1 * kMiB, kVram, &bo), 0);
  drm_xe_vm_bind_op ops[2] = {};
  for (int i = 0; i < 2; ++i) {
    ops[i].obj = bo;
    ops[i].obj_offset = i * 512 * kKiB;
    ops[i].range = 512 * kKiB;
    ops[i].addr = (4 + i) * kMiB;
    ops[i].op = DRM_XE_VM_BIND_OP_MAP;
  }
  drm_xe_vm_bind arg{};
  arg.vm_id = vm;
  arg.num_binds = 2;
  arg.vector_of_binds = reinterpret_cast<uintptr_t>(ops);
  ASSERT_EQ(file_->Ioctl(DRM_IOCTL_XE_VM_BIND, &arg), 0);
  // Both mappings hold the BO: closing the handle keeps its memory.
  ASSERT_EQ(GemClose(*file_, bo), 0);
  EXPECT_EQ(device_->Regions()[1].used, 1 * kMiB);
  ASSERT_EQ(Unbind(*file_, vm, 4 * kMiB, 512 * kKiB), 0);
  EXPECT_EQ(device_->Regions()[1].used, 1 * kMiB);
  ASSERT_EQ(Unbind(*file_, vm, 5 * kMiB, 256 * kKiB), 0);  // partial
  EXPECT_EQ(device_->Regions()[1].used, 1 * kMiB);
  ASSERT_EQ(Unbind(*file_, vm, 5 * kMiB + 256 * kKiB, 256 * kKiB), 0);
  EXPECT_EQ(device_->Regions()[1].used, 0u);

  arg.vector_of_binds = 0;
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_VM_BIND, &arg), -EFAULT);
}

TEST_F(SimObjects, DestroyingAVmReleasesBosOnlyItMapped) {
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmWithBo(*file_, kLr, 1 * kMiB, kVram, &vm, &bo), 0);
  ASSERT_EQ(GemClose(*file_, bo), 0);
  EXPECT_EQ(device_->Regions()[1].used, 1 * kMiB);
  ASSERT_EQ(VmDestroy(*file_, vm), 0);
  EXPECT_EQ(device_->Regions()[1].used, 0u);
}

TEST_F(SimObjects, PrivateBoCannotBeBoundIntoAnotherVm) {
  uint32_t vm_a = 0, vm_b = 0, bo = 0;
  ASSERT_EQ(VmCreate(*file_, kLr, &vm_a), 0);
  ASSERT_EQ(VmCreate(*file_, kLr, &vm_b), 0);
  ASSERT_EQ(GemCreate(*file_, 64 * kKiB, kVram, &bo, vm_a), 0);
  EXPECT_EQ(BindBo(*file_, vm_b, bo, 0, 1 * kMiB, 64 * kKiB), -EINVAL);
  EXPECT_EQ(BindBo(*file_, vm_a, bo, 0, 1 * kMiB, 64 * kKiB), 0);
}

TEST_F(SimObjects, DestroyingAVmOrphansEveryBoPrivateToItAfterOthersClosed) {
  uint32_t vm_a = 0, vm_b = 0, first = 0, second = 0, third = 0, other = 0;
  ASSERT_EQ(VmCreate(*file_, kLr, &vm_a), 0);
  ASSERT_EQ(VmCreate(*file_, kLr, &vm_b), 0);
  ASSERT_EQ(GemCreate(*file_, 64 * kKiB, kVram, &first, vm_a), 0);
  ASSERT_EQ(GemCreate(*file_, 64 * kKiB, kVram, &second, vm_a), 0);
  ASSERT_EQ(GemCreate(*file_, 64 * kKiB, kVram, &third, vm_a), 0);
  ASSERT_EQ(GemCreate(*file_, 64 * kKiB, kVram, &other, vm_b), 0);
  ASSERT_EQ(GemClose(*file_, first), 0);  // the last one takes its place
  ASSERT_EQ(VmDestroy(*file_, vm_a), 0);
  uint32_t reused = 0;
  ASSERT_EQ(VmCreate(*file_, kLr, &reused), 0);
  ASSERT_EQ(reused, vm_a);
  // Private to a VM that is gone, not to the new VM with the same id.
  EXPECT_EQ(BindBo(*file_, reused, second, 0, 1 * kMiB, 64 * kKiB), -EINVAL);
  EXPECT_EQ(BindBo(*file_, reused, third, 0, 2 * kMiB, 64 * kKiB), -EINVAL);
  EXPECT_EQ(BindBo(*file_, vm_b, other, 0, 1 * kMiB, 64 * kKiB), 0);
  EXPECT_EQ(GemClose(*file_, second), 0);
  EXPECT_EQ(GemClose(*file_, third), 0);
  EXPECT_EQ(device_->Regions()[1].used, 64 * kKiB);
}

// ---- EXEC_QUEUE_CREATE / DESTROY ------------------------------------------

TEST_F(SimObjects, ExecQueueCreateValidation) {
  uint32_t vm = 0, queue = 0;
  ASSERT_EQ(VmCreate(*file_, kLr, &vm), 0);
  EXPECT_EQ(ExecQueueCreate(*file_, 9, &queue), -ENOENT);
  EXPECT_EQ(ExecQueueCreate(*file_, vm, &queue,
                            {DRM_XE_ENGINE_CLASS_COMPUTE, 9, 0, 0}),
            -EINVAL);
  EXPECT_EQ(ExecQueueCreate(*file_, vm, &queue,
                            {DRM_XE_ENGINE_CLASS_RENDER, 0, 0, 1}),
            -EINVAL);
  drm_xe_engine_class_instance engine{DRM_XE_ENGINE_CLASS_COMPUTE, 1, 0, 0};
  auto create = [&](auto mutate) {
    drm_xe_exec_queue_create arg{};
    arg.width = 1;
    arg.num_placements = 1;
    arg.vm_id = vm;
    arg.instances = reinterpret_cast<uintptr_t>(&engine);
    mutate(arg);
    return file_->Ioctl(DRM_IOCTL_XE_EXEC_QUEUE_CREATE, &arg);
  };
  EXPECT_EQ(create([](drm_xe_exec_queue_create& a) { a.width = 2; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_exec_queue_create& a) { a.num_placements = 0; }),
            -EINVAL);
  EXPECT_EQ(create([](drm_xe_exec_queue_create& a) { a.flags = 1; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_exec_queue_create& a) { a.extensions = 1; }),
            -EINVAL);
  EXPECT_EQ(create([](drm_xe_exec_queue_create& a) { a.reserved[0] = 1; }),
            -EINVAL);
  EXPECT_EQ(create([](drm_xe_exec_queue_create& a) { a.instances = 0; }),
            -EFAULT);
  EXPECT_EQ(create([](drm_xe_exec_queue_create&) {}), 0);
  ASSERT_EQ(ExecQueueCreate(*file_, vm, &queue), 0);
  EXPECT_EQ(queue, 2u);
}

TEST_F(SimObjects, ExecQueueDestroyValidation) {
  uint32_t vm = 0, queue = 0;
  ASSERT_EQ(VmCreate(*file_, kLr, &vm), 0);
  ASSERT_EQ(ExecQueueCreate(*file_, vm, &queue), 0);
  drm_xe_exec_queue_destroy arg{};
  arg.exec_queue_id = queue;
  arg.pad = 1;
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_EXEC_QUEUE_DESTROY, &arg), -EINVAL);
  EXPECT_EQ(ExecQueueDestroy(*file_, 7), -ENOENT);
  EXPECT_EQ(ExecQueueDestroy(*file_, queue), 0);
  EXPECT_EQ(ExecQueueDestroy(*file_, queue), -ENOENT);
}

}  // namespace
}  // namespace xehil::sim
