// Conformance cases for VM_CREATE/VM_DESTROY, VM_BIND and
// EXEC_QUEUE_CREATE/DESTROY: success and the exact errnos of uapi.md.
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/backend/conformance/conformance.h"

namespace xehil::conformance {
namespace {

// ---- VM_CREATE / VM_DESTROY ----

TEST_P(BackendConformance, VmCreateFlagValidationIsEinval) {
  uint32_t vm = 0;
  EXPECT_EQ(VmCreate(file(), 1u << 5, &vm), -EINVAL) << "unknown flag";
  EXPECT_EQ(VmCreate(file(), DRM_XE_VM_CREATE_FLAG_FAULT_MODE, &vm), -EINVAL)
      << "FAULT_MODE needs LR_MODE";
  EXPECT_EQ(VmCreate(file(), DRM_XE_VM_CREATE_FLAG_RESTARTABLE, &vm), -EINVAL)
      << "RESTARTABLE needs LR_MODE";
  EXPECT_EQ(
      VmCreate(file(), kRestartable | DRM_XE_VM_CREATE_FLAG_FAULT_MODE, &vm),
      -EINVAL)
      << "RESTARTABLE is not for FAULT_MODE";
  drm_xe_vm_create arg{};
  arg.flags = kLr;
  arg.extensions = 1;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_VM_CREATE, &arg), -EINVAL);
  arg.extensions = 0;
  arg.reserved[1] = 1;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_VM_CREATE, &arg), -EINVAL);
}

TEST_P(BackendConformance, VmCreateGivesDistinctIdsForEveryValidMode) {
  std::vector<uint32_t> ids;
  for (uint32_t flags : {0u, kLr, kRestartable,
                         kRestartable | DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE}) {
    uint32_t vm = 0;
    ASSERT_EQ(VmCreate(file(), flags, &vm), 0) << "flags " << flags;
    EXPECT_NE(vm, 0u);
    for (uint32_t id : ids) EXPECT_NE(id, vm);
    ids.push_back(vm);
  }
  for (uint32_t id : ids) EXPECT_EQ(VmDestroy(file(), id), 0);
}

TEST_P(BackendConformance, VmDestroyValidation) {
  uint32_t vm = 0, queue = 0;
  ASSERT_EQ(VmCreate(file(), kLr, &vm), 0);
  drm_xe_vm_destroy arg{};
  arg.vm_id = vm;
  arg.pad = 1;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_VM_DESTROY, &arg), -EINVAL);
  arg.pad = 0;
  arg.reserved[0] = 1;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_VM_DESTROY, &arg), -EINVAL);
  ASSERT_EQ(ExecQueueCreate(file(), vm, AnEngine(), &queue), 0);
  EXPECT_EQ(VmDestroy(file(), vm), -EBUSY) << "an exec queue is attached";
  ASSERT_EQ(ExecQueueDestroy(file(), queue), 0);
  EXPECT_EQ(VmDestroy(file(), vm), 0);
  EXPECT_EQ(VmDestroy(file(), vm), -ENOENT) << "destroyed twice";
}

// ---- VM_BIND ----

TEST_P(BackendConformance, BindValidation) {
  uint32_t vm = 0, bo = 0, gone = 0;
  ASSERT_EQ(VmCreate(file(), kLr, &vm), 0);
  ASSERT_EQ(VmCreate(file(), kLr, &gone), 0);
  ASSERT_EQ(VmDestroy(file(), gone), 0);
  ASSERT_EQ(GemCreate(file(), 1 * kMiB, SysmemPlacement(), &bo), 0);
  EXPECT_EQ(BindBo(file(), gone, bo, 0, 1 * kMiB, 64 * kKiB), -ENOENT);
  EXPECT_EQ(BindBo(file(), vm, 0x7ffffff0, 0, 1 * kMiB, 64 * kKiB), -ENOENT);
  EXPECT_EQ(BindBo(file(), vm, bo, 0, 1 * kMiB, 2 * kMiB), -EINVAL)
      << "range past the end of the BO";
  EXPECT_EQ(BindBo(file(), vm, bo, 0, 1 * kMiB, 0), -EINVAL);
  EXPECT_EQ(BindBo(file(), vm, bo, 0, 1 * kMiB + 1, 4096), -EINVAL);
  auto bind = [&](auto mutate) {
    drm_xe_vm_bind arg{};
    arg.vm_id = vm;
    arg.num_binds = 1;
    arg.bind.obj = bo;
    arg.bind.addr = 1 * kMiB;
    arg.bind.range = 64 * kKiB;
    mutate(arg);
    return file().Ioctl(DRM_IOCTL_XE_VM_BIND, &arg);
  };
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.pad = 1; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.reserved[1] = 1; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.bind.reserved[1] = 1; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.bind.op = 7; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.bind.flags = 1u << 30; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.num_binds = 0; }), -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) {
              a.bind.op = DRM_XE_VM_BIND_OP_UNMAP;  // must name no BO
            }),
            -EINVAL);
  EXPECT_EQ(bind([](drm_xe_vm_bind& a) { a.exec_queue_id = 0x7ffffff0; }),
            -ENOENT);
  EXPECT_EQ(bind([](drm_xe_vm_bind&) {}), 0);
  EXPECT_EQ(Unbind(file(), vm, 1 * kMiB, 64 * kKiB), 0);
}

TEST_P(BackendConformance, BindVectorAppliesEveryOperation) {
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmCreate(file(), kLr, &vm), 0);
  ASSERT_EQ(GemCreate(file(), 1 * kMiB, SysmemPlacement(), &bo), 0);
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
  ASSERT_EQ(file().Ioctl(DRM_IOCTL_XE_VM_BIND, &arg), 0);
  // The mappings hold the BO: closing the handle does not unmap it.
  ASSERT_EQ(GemClose(file(), bo), 0);
  EXPECT_EQ(Unbind(file(), vm, 4 * kMiB, 512 * kKiB), 0);
  EXPECT_EQ(Unbind(file(), vm, 5 * kMiB, 512 * kKiB), 0);
  arg.vector_of_binds = 0;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_VM_BIND, &arg), -EFAULT);
}

TEST_P(BackendConformance, VmPrivateBoCannotBeBoundIntoAnotherVm) {
  uint32_t vm_a = 0, vm_b = 0, bo = 0;
  ASSERT_EQ(VmCreate(file(), kLr, &vm_a), 0);
  ASSERT_EQ(VmCreate(file(), kLr, &vm_b), 0);
  ASSERT_EQ(GemCreate(file(), 64 * kKiB, SysmemPlacement(), &bo, vm_a), 0);
  EXPECT_EQ(BindBo(file(), vm_b, bo, 0, 1 * kMiB, 64 * kKiB), -EINVAL);
  EXPECT_EQ(BindBo(file(), vm_a, bo, 0, 1 * kMiB, 64 * kKiB), 0);
}

// ---- EXEC_QUEUE_CREATE / DESTROY ----

TEST_P(BackendConformance, ExecQueueCreateValidation) {
  uint32_t vm = 0, gone = 0, queue = 0;
  ASSERT_EQ(VmCreate(file(), kLr, &vm), 0);
  ASSERT_EQ(VmCreate(file(), kLr, &gone), 0);
  ASSERT_EQ(VmDestroy(file(), gone), 0);
  drm_xe_engine_class_instance engine = AnEngine();
  EXPECT_EQ(ExecQueueCreate(file(), gone, engine, &queue), -ENOENT);
  drm_xe_engine_class_instance bad = engine;
  bad.engine_instance = 200;
  EXPECT_EQ(ExecQueueCreate(file(), vm, bad, &queue), -EINVAL);
  bad = engine;
  bad.gt_id = 200;
  EXPECT_EQ(ExecQueueCreate(file(), vm, bad, &queue), -EINVAL);
  auto create = [&](auto mutate) {
    drm_xe_exec_queue_create arg{};
    arg.width = 1;
    arg.num_placements = 1;
    arg.vm_id = vm;
    arg.instances = reinterpret_cast<uintptr_t>(&engine);
    mutate(arg);
    const int rc = file().Ioctl(DRM_IOCTL_XE_EXEC_QUEUE_CREATE, &arg);
    if (rc == 0) {
      EXPECT_EQ(ExecQueueDestroy(file(), arg.exec_queue_id), 0);
    }
    return rc;
  };
  EXPECT_EQ(create([](drm_xe_exec_queue_create& a) { a.num_placements = 0; }),
            -EINVAL);
  EXPECT_EQ(create([](drm_xe_exec_queue_create& a) { a.flags = 1u << 30; }),
            -EINVAL);
  EXPECT_EQ(create([](drm_xe_exec_queue_create& a) { a.reserved[0] = 1; }),
            -EINVAL);
  EXPECT_EQ(create([](drm_xe_exec_queue_create& a) { a.instances = 0; }),
            -EFAULT);
  EXPECT_EQ(create([](drm_xe_exec_queue_create&) {}), 0);
}

TEST_P(BackendConformance, ExecQueueDestroyValidation) {
  uint32_t vm = 0, queue = 0;
  ASSERT_EQ(VmCreate(file(), kLr, &vm), 0);
  ASSERT_EQ(ExecQueueCreate(file(), vm, AnEngine(), &queue), 0);
  EXPECT_NE(queue, 0u);
  drm_xe_exec_queue_destroy arg{};
  arg.exec_queue_id = queue;
  arg.pad = 1;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_EXEC_QUEUE_DESTROY, &arg), -EINVAL);
  arg.pad = 0;
  arg.reserved[0] = 1;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_EXEC_QUEUE_DESTROY, &arg), -EINVAL);
  EXPECT_EQ(ExecQueueDestroy(file(), queue), 0);
  EXPECT_EQ(ExecQueueDestroy(file(), queue), -ENOENT) << "destroyed twice";
}

}  // namespace
}  // namespace xehil::conformance
