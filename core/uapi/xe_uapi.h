/*
 * The subset of the Intel Xe DRM ABI that xehil uses, including the proposed
 * VM-error notification interface (DRM_IOCTL_XE_WATCH_QUEUE, VM_ERR records)
 * and DRM_IOCTL_XE_VM_RESTART. Written for this project from the documented
 * layouts; every struct's size and field offsets are pinned below so that a
 * drift from the kernel ABI fails the build. Compiles as C11 and C++17.
 *
 * DRM core definitions (DRM_IOW, drm_gem_close, DRM_IOCTL_VERSION) come from
 * libdrm's drm.h, as they do for the kernel's own driver headers.
 */
#ifndef XEHIL_CORE_UAPI_XE_UAPI_H_
#define XEHIL_CORE_UAPI_XE_UAPI_H_

#include <stddef.h>

#include "core/uapi/watch_uapi.h"
#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* Ioctl numbers, relative to DRM_COMMAND_BASE. */
#define DRM_XE_DEVICE_QUERY 0x00
#define DRM_XE_GEM_CREATE 0x01
#define DRM_XE_VM_CREATE 0x03
#define DRM_XE_VM_DESTROY 0x04
#define DRM_XE_VM_BIND 0x05
#define DRM_XE_EXEC_QUEUE_CREATE 0x06
#define DRM_XE_EXEC_QUEUE_DESTROY 0x07
#define DRM_XE_VM_RESTART 0x10  /* proposed */
#define DRM_XE_WATCH_QUEUE 0x11 /* proposed */

/* ---- Device query ------------------------------------------------------ */
struct drm_xe_device_query {
  __u64 extensions;
  __u32 query;
  __u32 size; /* in/out: 0 asks the kernel for the size it needs */
  __u64 data; /* user pointer to `size` bytes */
  __u64 reserved[2];
};

#define DRM_XE_DEVICE_QUERY_ENGINES 0
#define DRM_XE_DEVICE_QUERY_MEM_REGIONS 1

enum drm_xe_engine_class {
  DRM_XE_ENGINE_CLASS_RENDER = 0,
  DRM_XE_ENGINE_CLASS_COPY = 1,
  DRM_XE_ENGINE_CLASS_VIDEO_DECODE = 2,
  DRM_XE_ENGINE_CLASS_VIDEO_ENHANCE = 3,
  DRM_XE_ENGINE_CLASS_COMPUTE = 4,
  DRM_XE_ENGINE_CLASS_VM_BIND = 5,
};

struct drm_xe_engine_class_instance {
  __u16 engine_class;
  __u16 engine_instance;
  __u16 gt_id;
  __u16 pad;
};

struct drm_xe_engine {
  struct drm_xe_engine_class_instance instance;
  __u64 reserved[3];
};

struct drm_xe_query_engines {
  __u32 num_engines;
  __u32 pad;
  struct drm_xe_engine engines[];
};

enum drm_xe_memory_class {
  DRM_XE_MEM_REGION_CLASS_SYSMEM = 0,
  DRM_XE_MEM_REGION_CLASS_VRAM = 1,
};

struct drm_xe_mem_region {
  __u16 mem_class;
  __u16 instance; /* bit number in drm_xe_gem_create.placement */
  __u32 min_page_size;
  __u64 total_size;
  __u64 used;
  __u64 cpu_visible_size;
  __u64 cpu_visible_used;
  __u64 reserved[6];
};

struct drm_xe_query_mem_regions {
  __u32 num_mem_regions;
  __u32 pad;
  struct drm_xe_mem_region mem_regions[];
};

/* ---- Buffer objects ------------------------------------------------------ */
#define DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING (1 << 0)
#define DRM_XE_GEM_CREATE_FLAG_SCANOUT (1 << 1)
#define DRM_XE_GEM_CREATE_FLAG_NEEDS_VISIBLE_VRAM (1 << 2)

#define DRM_XE_GEM_CPU_CACHING_WB 1
#define DRM_XE_GEM_CPU_CACHING_WC 2

struct drm_xe_gem_create {
  __u64 extensions;
  __u64 size;
  __u32 placement; /* bitmask of drm_xe_mem_region.instance */
  __u32 flags;
  __u32 vm_id;  /* non-zero: private to that VM */
  __u32 handle; /* out */
  __u16 cpu_caching;
  __u16 pad[3];
  __u64 reserved[2];
};

/* ---- VMs ----------------------------------------------------------------- */
#define DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE (1 << 0)
#define DRM_XE_VM_CREATE_FLAG_LR_MODE (1 << 1)
#define DRM_XE_VM_CREATE_FLAG_FAULT_MODE (1 << 2)
#define DRM_XE_VM_CREATE_FLAG_NO_VM_OVERCOMMIT (1 << 3)
/* Proposed: a failed preempt rebind pauses the VM and posts VM_ERR instead of
 * killing it. Needs LR_MODE; not valid with FAULT_MODE. */
#define DRM_XE_VM_CREATE_FLAG_RESTARTABLE (1 << 4)

struct drm_xe_vm_create {
  __u64 extensions;
  __u32 flags;
  __u32 vm_id; /* out */
  __u64 reserved[2];
};

struct drm_xe_vm_destroy {
  __u32 vm_id;
  __u32 pad;
  __u64 reserved[2];
};

#define DRM_XE_VM_BIND_OP_MAP 0x0
#define DRM_XE_VM_BIND_OP_UNMAP 0x1
#define DRM_XE_VM_BIND_OP_MAP_USERPTR 0x2
#define DRM_XE_VM_BIND_OP_UNMAP_ALL 0x3
#define DRM_XE_VM_BIND_OP_PREFETCH 0x4

#define DRM_XE_VM_BIND_FLAG_READONLY (1 << 0)
#define DRM_XE_VM_BIND_FLAG_IMMEDIATE (1 << 1)
#define DRM_XE_VM_BIND_FLAG_NULL (1 << 2)
#define DRM_XE_VM_BIND_FLAG_DUMPABLE (1 << 3)

struct drm_xe_vm_bind_op {
  __u64 extensions;
  __u32 obj; /* BO handle, 0 for userptr and unmap */
  __u16 pat_index;
  __u16 pad;
  union {
    __u64 obj_offset;
    __u64 userptr;
  };
  __u64 range;
  __u64 addr;
  __u32 op;
  __u32 flags;
  __u32 prefetch_mem_region_instance;
  __u32 pad2;
  __u64 reserved[3];
};

struct drm_xe_vm_bind {
  __u64 extensions;
  __u32 vm_id;
  __u32 exec_queue_id;
  __u32 pad;
  __u32 num_binds;
  union {
    struct drm_xe_vm_bind_op bind; /* num_binds == 1 */
    __u64 vector_of_binds;         /* num_binds > 1: user pointer */
  };
  __u32 pad2;
  __u32 num_syncs;
  __u64 syncs;
  __u64 reserved[2];
};

/* ---- Exec queues -----------------------------------------------------------
 */
struct drm_xe_exec_queue_create {
  __u64 extensions;
  __u16 width;
  __u16 num_placements;
  __u32 vm_id;
  __u32 flags;
  __u32 exec_queue_id; /* out */
  __u64 instances;     /* user pointer: width * num_placements entries */
  __u64 reserved[2];
};

struct drm_xe_exec_queue_destroy {
  __u32 exec_queue_id;
  __u32 pad;
  __u64 reserved[2];
};

/* ---- Proposed: VM restart --------------------------------------------------
 */
/* Re-runs the VM's preempt-rebind worker synchronously. EAGAIN: retry.
 * Non-retriable failures are reported by a new VM_ERR record. */
struct drm_xe_vm_restart {
  __u32 vm_id;
  __u32 pad;
  __u64 timestamp_ns; /* VM_ERR timestamp, for latency logging; may be 0 */
  __u64 reserved;
};

/* ---- Proposed: watch queue -------------------------------------------------
 */
/* Subscribes notification pipe `fd` to this DRM file's events. */
struct drm_xe_watch_queue {
  __u32 fd;
  __u32 watch_id; /* 0..255, OR'ed into every record's info */
  __u32 flags;
  __u32 pad;
};

#define WATCH_TYPE_DRM_XE_NOTIFY 2

enum drm_xe_watch_event {
  DRM_XE_WATCH_EVENT_VM_ERR = 0,
};

struct drm_xe_watch_notification_vm_err {
  struct watch_notification base;
  __u32 vm_id;
  __s32 error_code;   /* negative errno */
  __u64 timestamp_ns; /* CLOCK_MONOTONIC at detection */
};

/* ---- Ioctl requests --------------------------------------------------------
 */
#define DRM_IOCTL_XE_DEVICE_QUERY \
  DRM_IOWR(DRM_COMMAND_BASE + DRM_XE_DEVICE_QUERY, struct drm_xe_device_query)
#define DRM_IOCTL_XE_GEM_CREATE \
  DRM_IOWR(DRM_COMMAND_BASE + DRM_XE_GEM_CREATE, struct drm_xe_gem_create)
#define DRM_IOCTL_XE_VM_CREATE \
  DRM_IOWR(DRM_COMMAND_BASE + DRM_XE_VM_CREATE, struct drm_xe_vm_create)
#define DRM_IOCTL_XE_VM_DESTROY \
  DRM_IOW(DRM_COMMAND_BASE + DRM_XE_VM_DESTROY, struct drm_xe_vm_destroy)
#define DRM_IOCTL_XE_VM_BIND \
  DRM_IOW(DRM_COMMAND_BASE + DRM_XE_VM_BIND, struct drm_xe_vm_bind)
#define DRM_IOCTL_XE_EXEC_QUEUE_CREATE                  \
  DRM_IOWR(DRM_COMMAND_BASE + DRM_XE_EXEC_QUEUE_CREATE, \
           struct drm_xe_exec_queue_create)
#define DRM_IOCTL_XE_EXEC_QUEUE_DESTROY                 \
  DRM_IOW(DRM_COMMAND_BASE + DRM_XE_EXEC_QUEUE_DESTROY, \
          struct drm_xe_exec_queue_destroy)
#define DRM_IOCTL_XE_VM_RESTART \
  DRM_IOW(DRM_COMMAND_BASE + DRM_XE_VM_RESTART, struct drm_xe_vm_restart)
#define DRM_IOCTL_XE_WATCH_QUEUE \
  DRM_IOW(DRM_COMMAND_BASE + DRM_XE_WATCH_QUEUE, struct drm_xe_watch_queue)

#if defined(__cplusplus)
} /* extern "C" */
#endif

/* ---- Layout pins -----------------------------------------------------------
 */
#if defined(__cplusplus)
#define XEHIL_UAPI_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define XEHIL_UAPI_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
#define XEHIL_PIN_SIZE(T, n) XEHIL_UAPI_ASSERT(sizeof(T) == (n), #T " size")
#define XEHIL_PIN_OFF(T, f, n) \
  XEHIL_UAPI_ASSERT(offsetof(T, f) == (n), #T "." #f " offset")

XEHIL_PIN_SIZE(struct watch_notification, 8);
XEHIL_PIN_OFF(struct watch_notification, info, 4);
XEHIL_PIN_SIZE(struct watch_notification_type_filter, 44);
XEHIL_PIN_OFF(struct watch_notification_type_filter, info_filter, 4);
XEHIL_PIN_OFF(struct watch_notification_type_filter, info_mask, 8);
XEHIL_PIN_OFF(struct watch_notification_type_filter, subtype_filter, 12);
XEHIL_PIN_SIZE(struct watch_notification_filter, 8);
XEHIL_PIN_OFF(struct watch_notification_filter, filters, 8);
XEHIL_PIN_SIZE(struct watch_notification_removal, 16);
XEHIL_PIN_OFF(struct watch_notification_removal, id, 8);

XEHIL_PIN_SIZE(struct drm_xe_device_query, 40);
XEHIL_PIN_OFF(struct drm_xe_device_query, query, 8);
XEHIL_PIN_OFF(struct drm_xe_device_query, size, 12);
XEHIL_PIN_OFF(struct drm_xe_device_query, data, 16);
XEHIL_PIN_OFF(struct drm_xe_device_query, reserved, 24);
XEHIL_PIN_SIZE(struct drm_xe_engine_class_instance, 8);
XEHIL_PIN_OFF(struct drm_xe_engine_class_instance, engine_instance, 2);
XEHIL_PIN_OFF(struct drm_xe_engine_class_instance, gt_id, 4);
XEHIL_PIN_SIZE(struct drm_xe_engine, 32);
XEHIL_PIN_SIZE(struct drm_xe_query_engines, 8);
XEHIL_PIN_OFF(struct drm_xe_query_engines, engines, 8);
XEHIL_PIN_SIZE(struct drm_xe_mem_region, 88);
XEHIL_PIN_OFF(struct drm_xe_mem_region, instance, 2);
XEHIL_PIN_OFF(struct drm_xe_mem_region, min_page_size, 4);
XEHIL_PIN_OFF(struct drm_xe_mem_region, total_size, 8);
XEHIL_PIN_OFF(struct drm_xe_mem_region, used, 16);
XEHIL_PIN_OFF(struct drm_xe_mem_region, cpu_visible_size, 24);
XEHIL_PIN_OFF(struct drm_xe_mem_region, cpu_visible_used, 32);
XEHIL_PIN_OFF(struct drm_xe_mem_region, reserved, 40);
XEHIL_PIN_SIZE(struct drm_xe_query_mem_regions, 8);
XEHIL_PIN_OFF(struct drm_xe_query_mem_regions, mem_regions, 8);

XEHIL_PIN_SIZE(struct drm_xe_gem_create, 56);
XEHIL_PIN_OFF(struct drm_xe_gem_create, size, 8);
XEHIL_PIN_OFF(struct drm_xe_gem_create, placement, 16);
XEHIL_PIN_OFF(struct drm_xe_gem_create, flags, 20);
XEHIL_PIN_OFF(struct drm_xe_gem_create, vm_id, 24);
XEHIL_PIN_OFF(struct drm_xe_gem_create, handle, 28);
XEHIL_PIN_OFF(struct drm_xe_gem_create, cpu_caching, 32);
XEHIL_PIN_OFF(struct drm_xe_gem_create, reserved, 40);

XEHIL_PIN_SIZE(struct drm_xe_vm_create, 32);
XEHIL_PIN_OFF(struct drm_xe_vm_create, flags, 8);
XEHIL_PIN_OFF(struct drm_xe_vm_create, vm_id, 12);
XEHIL_PIN_OFF(struct drm_xe_vm_create, reserved, 16);
XEHIL_PIN_SIZE(struct drm_xe_vm_destroy, 24);
XEHIL_PIN_OFF(struct drm_xe_vm_destroy, pad, 4);
XEHIL_PIN_OFF(struct drm_xe_vm_destroy, reserved, 8);

XEHIL_PIN_SIZE(struct drm_xe_vm_bind_op, 80);
XEHIL_PIN_OFF(struct drm_xe_vm_bind_op, obj, 8);
XEHIL_PIN_OFF(struct drm_xe_vm_bind_op, pat_index, 12);
XEHIL_PIN_OFF(struct drm_xe_vm_bind_op, obj_offset, 16);
XEHIL_PIN_OFF(struct drm_xe_vm_bind_op, range, 24);
XEHIL_PIN_OFF(struct drm_xe_vm_bind_op, addr, 32);
XEHIL_PIN_OFF(struct drm_xe_vm_bind_op, op, 40);
XEHIL_PIN_OFF(struct drm_xe_vm_bind_op, flags, 44);
XEHIL_PIN_OFF(struct drm_xe_vm_bind_op, prefetch_mem_region_instance, 48);
XEHIL_PIN_OFF(struct drm_xe_vm_bind_op, reserved, 56);
XEHIL_PIN_SIZE(struct drm_xe_vm_bind, 136);
XEHIL_PIN_OFF(struct drm_xe_vm_bind, vm_id, 8);
XEHIL_PIN_OFF(struct drm_xe_vm_bind, exec_queue_id, 12);
XEHIL_PIN_OFF(struct drm_xe_vm_bind, num_binds, 20);
XEHIL_PIN_OFF(struct drm_xe_vm_bind, bind, 24);
XEHIL_PIN_OFF(struct drm_xe_vm_bind, pad2, 104);
XEHIL_PIN_OFF(struct drm_xe_vm_bind, num_syncs, 108);
XEHIL_PIN_OFF(struct drm_xe_vm_bind, syncs, 112);
XEHIL_PIN_OFF(struct drm_xe_vm_bind, reserved, 120);

XEHIL_PIN_SIZE(struct drm_xe_exec_queue_create, 48);
XEHIL_PIN_OFF(struct drm_xe_exec_queue_create, width, 8);
XEHIL_PIN_OFF(struct drm_xe_exec_queue_create, num_placements, 10);
XEHIL_PIN_OFF(struct drm_xe_exec_queue_create, vm_id, 12);
XEHIL_PIN_OFF(struct drm_xe_exec_queue_create, flags, 16);
XEHIL_PIN_OFF(struct drm_xe_exec_queue_create, exec_queue_id, 20);
XEHIL_PIN_OFF(struct drm_xe_exec_queue_create, instances, 24);
XEHIL_PIN_OFF(struct drm_xe_exec_queue_create, reserved, 32);
XEHIL_PIN_SIZE(struct drm_xe_exec_queue_destroy, 24);

XEHIL_PIN_SIZE(struct drm_xe_vm_restart, 24);
XEHIL_PIN_OFF(struct drm_xe_vm_restart, pad, 4);
XEHIL_PIN_OFF(struct drm_xe_vm_restart, timestamp_ns, 8);
XEHIL_PIN_OFF(struct drm_xe_vm_restart, reserved, 16);
XEHIL_PIN_SIZE(struct drm_xe_watch_queue, 16);
XEHIL_PIN_OFF(struct drm_xe_watch_queue, watch_id, 4);
XEHIL_PIN_OFF(struct drm_xe_watch_queue, flags, 8);
XEHIL_PIN_OFF(struct drm_xe_watch_queue, pad, 12);
XEHIL_PIN_SIZE(struct drm_xe_watch_notification_vm_err, 24);
XEHIL_PIN_OFF(struct drm_xe_watch_notification_vm_err, vm_id, 8);
XEHIL_PIN_OFF(struct drm_xe_watch_notification_vm_err, error_code, 12);
XEHIL_PIN_OFF(struct drm_xe_watch_notification_vm_err, timestamp_ns, 16);

/* Request numbers: direction, size and number are all part of the value. */
XEHIL_UAPI_ASSERT(DRM_IOCTL_XE_VM_RESTART == 0x40186450u, "VM_RESTART nr");
XEHIL_UAPI_ASSERT(DRM_IOCTL_XE_WATCH_QUEUE == 0x40106451u, "WATCH_QUEUE nr");
XEHIL_UAPI_ASSERT(DRM_IOCTL_XE_VM_CREATE == 0xc0206443u, "VM_CREATE nr");

#endif /* XEHIL_CORE_UAPI_XE_UAPI_H_ */
