#include "sim/simd/ioctl_buffers.h"

#include <cstring>

#include "core/uapi/xe_uapi.h"
#include "gtest/gtest.h"

namespace xehil::simd {
namespace {

template <typename T>
std::vector<PointerField> Fields(uint64_t request, const T& arg) {
  return PointerFields(request, reinterpret_cast<const uint8_t*>(&arg),
                       sizeof(arg));
}

TEST(PointerFields, DeviceQueryDataIsSizeBytes) {
  drm_xe_device_query q{};
  q.size = 88;
  std::vector<PointerField> fields = Fields(DRM_IOCTL_XE_DEVICE_QUERY, q);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].offset, 16u);
  EXPECT_EQ(fields[0].bytes, 88u);
  EXPECT_TRUE(fields[0].out) << "the decoder writes the query data";
}

TEST(PointerFields, ExecQueueInstancesAreWidthTimesPlacements) {
  drm_xe_exec_queue_create q{};
  q.width = 2;
  q.num_placements = 3;
  std::vector<PointerField> fields = Fields(DRM_IOCTL_XE_EXEC_QUEUE_CREATE, q);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].offset, 24u);
  EXPECT_EQ(fields[0].bytes, 48u);
  EXPECT_FALSE(fields[0].out) << "engine instances are read";
}

TEST(PointerFields, VmBindVectorOnlyForMoreThanOneBind) {
  drm_xe_vm_bind b{};
  b.num_binds = 1;
  EXPECT_TRUE(Fields(DRM_IOCTL_XE_VM_BIND, b).empty());
  b.num_binds = 0xffffffff;
  std::vector<PointerField> fields = Fields(DRM_IOCTL_XE_VM_BIND, b);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].offset, 24u);
  EXPECT_EQ(fields[0].bytes, 0xffffffffull * sizeof(drm_xe_vm_bind_op))
      << "computed in 64 bits";
}

TEST(PointerFields, VersionStringsAndNothingElse) {
  drm_version v{};
  v.name_len = 1;
  v.date_len = 2;
  v.desc_len = 3;
  std::vector<PointerField> fields = Fields(DRM_IOCTL_VERSION, v);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0].bytes, 1u);
  EXPECT_EQ(fields[2].offset, offsetof(drm_version, desc));
  drm_xe_vm_create create{};
  EXPECT_TRUE(Fields(DRM_IOCTL_XE_VM_CREATE, create).empty());
  // A wrong size gives nothing to follow.
  EXPECT_TRUE(
      PointerFields(DRM_IOCTL_VERSION, reinterpret_cast<const uint8_t*>(&v), 8)
          .empty());
}

}  // namespace
}  // namespace xehil::simd
