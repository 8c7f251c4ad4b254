#include "sim/preload/ioctl_marshal.h"

#include <linux/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/uapi/xe_uapi.h"

namespace xehil::preload {
namespace {

static_assert(sizeof(void*) == sizeof(uint64_t), "pointer fields are u64");
static_assert(sizeof(__kernel_size_t) == sizeof(uint64_t),
              "drm_version lengths are u64");

// Room left in one message for buffers after the header, the argument and
// the buffer descriptors.
constexpr size_t kBufferBudget = simd::kMaxMessageBytes - 4096;

// How the size of the memory behind a pointer field is found.
enum class SizeRule {
  kVersionString,    // size_t length at len_offset; out; capped
  kQueryData,        // u32 size at len_offset; out; 0 means "ask the size"
  kEngineInstances,  // u16 width at len_offset * u16 num_placements at +2; in
  kBindVector,       // u32 num_binds at len_offset, a pointer only when > 1; in
};

struct PointerSpec {
  uint32_t offset;
  SizeRule rule;
  uint32_t len_offset;
};

struct IoctlSpec {
  unsigned long request;
  std::vector<PointerSpec> pointers;
};

const std::vector<IoctlSpec>& Specs() {
  // Built on first use and never destroyed: the interposer may run during
  // the program's static destruction.
  static const auto* specs = new std::vector<IoctlSpec>{
      {DRM_IOCTL_VERSION,
       {{offsetof(drm_version, name), SizeRule::kVersionString,
         offsetof(drm_version, name_len)},
        {offsetof(drm_version, date), SizeRule::kVersionString,
         offsetof(drm_version, date_len)},
        {offsetof(drm_version, desc), SizeRule::kVersionString,
         offsetof(drm_version, desc_len)}}},
      {DRM_IOCTL_GEM_CLOSE, {}},
      {DRM_IOCTL_XE_DEVICE_QUERY,
       {{offsetof(drm_xe_device_query, data), SizeRule::kQueryData,
         offsetof(drm_xe_device_query, size)}}},
      {DRM_IOCTL_XE_GEM_CREATE, {}},
      {DRM_IOCTL_XE_VM_CREATE, {}},
      {DRM_IOCTL_XE_VM_DESTROY, {}},
      {DRM_IOCTL_XE_VM_BIND,
       {{offsetof(drm_xe_vm_bind, vector_of_binds), SizeRule::kBindVector,
         offsetof(drm_xe_vm_bind, num_binds)}}},
      {DRM_IOCTL_XE_EXEC_QUEUE_CREATE,
       {{offsetof(drm_xe_exec_queue_create, instances),
         SizeRule::kEngineInstances,
         offsetof(drm_xe_exec_queue_create, width)}}},
      {DRM_IOCTL_XE_EXEC_QUEUE_DESTROY, {}},
      {DRM_IOCTL_XE_VM_RESTART, {}},
      {DRM_IOCTL_XE_WATCH_QUEUE, {}},
  };
  return *specs;
}

const IoctlSpec* FindSpec(unsigned long request) {
  for (const IoctlSpec& spec : Specs()) {
    if (spec.request == request) return &spec;
  }
  return nullptr;
}

template <typename T>
T Field(const std::vector<uint8_t>& arg, uint32_t offset) {
  T value{};
  std::memcpy(&value, arg.data() + offset, sizeof(T));
  return value;
}

template <typename T>
void SetField(std::vector<uint8_t>& arg, uint32_t offset, T value) {
  std::memcpy(arg.data() + offset, &value, sizeof(T));
}

// Fills `field` (sent, flags, size) from the argument; -EINVAL if the size
// cannot travel in one message.
int SizeBuffer(const PointerSpec& spec, const std::vector<uint8_t>& arg,
               PointerField* field) {
  uint64_t size = 0;
  uint32_t flags = 0;
  switch (spec.rule) {
    case SizeRule::kVersionString:
      size = std::min<uint64_t>(Field<uint64_t>(arg, spec.len_offset),
                                kMaxVersionString);
      flags = simd::kBufferOut;
      field->copy_len_offset = static_cast<int32_t>(spec.len_offset);
      break;
    case SizeRule::kQueryData:
      size = Field<uint32_t>(arg, spec.len_offset);
      flags = simd::kBufferOut;
      break;
    case SizeRule::kEngineInstances:
      size = uint64_t{Field<uint16_t>(arg, spec.len_offset)} *
             Field<uint16_t>(arg, spec.len_offset + 2) *
             sizeof(drm_xe_engine_class_instance);
      flags = simd::kBufferIn;
      break;
    case SizeRule::kBindVector: {
      const uint32_t binds = Field<uint32_t>(arg, spec.len_offset);
      if (binds <= 1) return 0;  // the union holds an inline bind
      size = uint64_t{binds} * sizeof(drm_xe_vm_bind_op);
      flags = simd::kBufferIn;
      break;
    }
  }
  if (field->user_ptr == 0 || size == 0) return 0;
  if (size > kBufferBudget) return -EINVAL;
  field->sent = true;
  field->flags = flags;
  field->size = static_cast<uint32_t>(size);
  return 0;
}

}  // namespace

bool DirectUserMemory::Read(void* out, uint64_t address, size_t size) {
  if (size == 0) return true;
  if (address == 0) return false;
  std::memcpy(out, reinterpret_cast<const void*>(address), size);
  return true;
}

bool DirectUserMemory::Write(uint64_t address, const void* data, size_t size) {
  if (size == 0) return true;
  if (address == 0) return false;
  std::memcpy(reinterpret_cast<void*>(address), data, size);
  return true;
}

bool CheckedUserMemory::Read(void* out, uint64_t address, size_t size) {
  if (size == 0) return true;
  if (address == 0) return false;
  iovec local{out, size};
  iovec remote{reinterpret_cast<void*>(address), size};
  ssize_t n = ::process_vm_readv(Self(), &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(size)) return true;
  if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
    return DirectUserMemory().Read(out, address, size);
  }
  return false;
}

bool CheckedUserMemory::Write(uint64_t address, const void* data, size_t size) {
  if (size == 0) return true;
  if (address == 0) return false;
  iovec local{const_cast<void*>(data), size};
  iovec remote{reinterpret_cast<void*>(address), size};
  ssize_t n = ::process_vm_writev(Self(), &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(size)) return true;
  if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
    return DirectUserMemory().Write(address, data, size);
  }
  return false;
}

bool IsSimulatedIoctl(unsigned long request) {
  return FindSpec(request) != nullptr;
}

int BuildIoctl(unsigned long request, uint64_t user_arg, UserMemory& memory,
               simd::IoctlRequest* out, IoctlPlan* plan) {
  const IoctlSpec* spec = FindSpec(request);
  if (spec == nullptr) return -ENOTTY;
  out->request = request;
  out->arg.assign(_IOC_SIZE(request), 0);
  out->buffers.clear();
  plan->request = request;
  plan->fields.clear();
  // drm_ioctl() copies the argument in only for _IOC_WRITE requests.
  if ((_IOC_DIR(request) & _IOC_WRITE) &&
      !memory.Read(out->arg.data(), user_arg, out->arg.size())) {
    return -EFAULT;
  }
  size_t budget = kBufferBudget;
  for (const PointerSpec& pointer : spec->pointers) {
    PointerField field;
    field.offset = pointer.offset;
    field.user_ptr = Field<uint64_t>(out->arg, pointer.offset);
    if (int rc = SizeBuffer(pointer, out->arg, &field); rc != 0) return rc;
    if (pointer.rule == SizeRule::kBindVector &&
        Field<uint32_t>(out->arg, pointer.len_offset) <= 1) {
      continue;  // not a pointer: the inline bind op, sent as it is
    }
    SetField<uint64_t>(out->arg, pointer.offset, 0);
    if (field.sent && pointer.rule == SizeRule::kVersionString) {
      // The daemon fills at most the buffer it got; the kernel copies no
      // more than the string, so a capped length changes nothing visible.
      SetField<uint64_t>(out->arg, pointer.len_offset, field.size);
    }
    if (field.sent) {
      if (field.size > budget) return -EINVAL;
      budget -= field.size;
      simd::Buffer buffer;
      buffer.field_offset = field.offset;
      buffer.flags = field.flags;
      buffer.bytes.assign(field.size, 0);
      if ((field.flags & simd::kBufferIn) &&
          !memory.Read(buffer.bytes.data(), field.user_ptr, field.size)) {
        return -EFAULT;
      }
      out->buffers.push_back(std::move(buffer));
    }
    plan->fields.push_back(field);
  }
  return 0;
}

int ApplyIoctlReply(const IoctlPlan& plan, const simd::IoctlReply& reply,
                    uint64_t user_arg, UserMemory& memory) {
  const size_t arg_size = _IOC_SIZE(plan.request);
  if (reply.arg.size() != arg_size) return -EIO;
  size_t outs = 0;
  for (const PointerField& field : plan.fields) {
    if (field.sent && (field.flags & simd::kBufferOut)) ++outs;
  }
  if (reply.out.size() != outs) return -EIO;

  if (reply.result == 0) {
    size_t next = 0;
    for (const PointerField& field : plan.fields) {
      if (!field.sent || !(field.flags & simd::kBufferOut)) continue;
      const std::vector<uint8_t>& bytes = reply.out[next++];
      if (bytes.size() > field.size) return -EIO;
      size_t copy = bytes.size();
      if (field.copy_len_offset >= 0) {
        copy = std::min<uint64_t>(
            copy, Field<uint64_t>(reply.arg, field.copy_len_offset));
      }
      if (!memory.Write(field.user_ptr, bytes.data(), copy)) return -EFAULT;
    }
  }
  // drm_ioctl() copies the argument back for _IOC_READ requests, whatever
  // the result; the daemon's pointer values must not leak out.
  if (_IOC_DIR(plan.request) & _IOC_READ) {
    std::vector<uint8_t> arg = reply.arg;
    for (const PointerField& field : plan.fields) {
      SetField<uint64_t>(arg, field.offset, field.user_ptr);
    }
    if (!memory.Write(user_arg, arg.data(), arg.size())) return -EFAULT;
  }
  return reply.result;
}

}  // namespace xehil::preload
