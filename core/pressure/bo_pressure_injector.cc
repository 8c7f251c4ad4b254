#include "core/pressure/bo_pressure_injector.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/backend/drm_backend.h"
#include "core/base/errno_status.h"
#include "core/device/xe_device.h"
#include "core/uapi/xe_uapi.h"

namespace xehil {
namespace {

uint64_t RoundUp(uint64_t value, uint64_t unit) {
  return (value + unit - 1) / unit * unit;
}

// Prefixes a status's message, keeping its code and payloads (the errno).
absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& p) {
    out.SetPayload(url, p);
  });
  return out;
}

// The lease's DRM file. Closing it destroys the VM and frees every BO.
class BoHolding : public PressureHolding {
 public:
  explicit BoHolding(std::unique_ptr<KernelBackend> file)
      : file_(std::move(file)), xe_(std::make_unique<XeDevice>(*file_)) {}

  XeDevice& xe() { return *xe_; }

  absl::Status Release() override {
    xe_.reset();  // refers to the file
    file_.reset();
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<KernelBackend> file_;
  std::unique_ptr<XeDevice> xe_;  // after file_: destroyed first
};

std::string DescribeRegions(const std::vector<MemRegion>& regions) {
  return absl::StrJoin(regions, ", ", [](std::string* out, const MemRegion& r) {
    absl::StrAppend(
        out, r.instance,
        r.mem_class == DRM_XE_MEM_REGION_CLASS_VRAM ? " (vram)" : " (sysmem)");
  });
}

}  // namespace

BoPressureInjector::BoPressureInjector(FileFactory open_file)
    : BoPressureInjector(std::move(open_file), Options()) {}

BoPressureInjector::BoPressureInjector(FileFactory open_file, Options options)
    : open_file_(std::move(open_file)),
      options_(options),
      reaper_(std::make_shared<LeaseReaper>()) {}

BoPressureInjector::OpenResult BoPressureInjector::OpenFile() const {
  OpenResult file = open_file_
                        ? open_file_()
                        : absl::FailedPreconditionError("no file factory");
  if (file.ok() && *file == nullptr) {
    file = absl::FailedPreconditionError("the file factory gave no file");
  }
  if (!file.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "xe-vram pressure needs an xe render node: ", file.status().message()));
  }
  return file;
}

absl::Status BoPressureInjector::CheckAvailable() const {
  XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<KernelBackend> file, OpenFile());
  XeDevice xe(*file);
  XEHIL_ASSIGN_OR_RETURN(std::vector<MemRegion> regions, xe.QueryMemRegions());
  for (const MemRegion& region : regions) {
    if (region.mem_class == DRM_XE_MEM_REGION_CLASS_VRAM) {
      return absl::OkStatus();
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat("xe-vram pressure needs VRAM: ", file->Description(),
                   " has regions ", DescribeRegions(regions)));
}

absl::StatusOr<std::unique_ptr<PressureLease>> BoPressureInjector::Acquire(
    const PressureSpec& spec) {
  XEHIL_RETURN_IF_ERROR(ValidatePressureSpec(spec));
  XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<KernelBackend> file, OpenFile());
  auto holding = std::make_unique<BoHolding>(std::move(file));
  XeDevice& xe = holding->xe();

  XEHIL_ASSIGN_OR_RETURN(std::vector<MemRegion> regions, xe.QueryMemRegions());
  auto region = std::find_if(
      regions.begin(), regions.end(),
      [&](const MemRegion& r) { return r.instance == spec.region_instance; });
  if (region == regions.end()) {
    return absl::NotFoundError(
        absl::StrCat("no memory region ", spec.region_instance,
                     "; the device has ", DescribeRegions(regions)));
  }
  if (region->mem_class != DRM_XE_MEM_REGION_CLASS_VRAM) {
    return absl::InvalidArgumentError(absl::StrCat(
        "xe-vram pressure takes a VRAM region; ", spec.region_instance,
        " is system memory (the device has ", DescribeRegions(regions), ")"));
  }
  // VM_BIND wants 4 KiB-aligned ranges; VRAM BOs may need larger pages.
  const uint64_t page = std::max<uint64_t>(region->min_page_size, 4096);
  const uint64_t total = RoundUp(spec.bytes, page);
  const uint64_t chunk =
      RoundUp(std::max<uint64_t>(options_.chunk_bytes, 1), page);
  const uint64_t base = RoundUp(options_.base_address, page);

  // flags 0: a dma-fence VM, never one the rebind worker evicts.
  XEHIL_ASSIGN_OR_RETURN(uint32_t vm, xe.CreateVm(0));
  const uint32_t placement = 1u << spec.region_instance;
  for (uint64_t offset = 0; offset < total; offset += chunk) {
    const uint64_t n = std::min(chunk, total - offset);
    const std::string where =
        absl::StrCat("xe-vram pressure stopped after ", DescribeBytes(offset),
                     " of ", DescribeBytes(total), ": ");
    absl::StatusOr<uint32_t> bo = xe.CreateBo(n, placement, vm);
    if (!bo.ok()) return Annotate(bo.status(), where);
    absl::Status bound = xe.BindBo(vm, *bo, 0, base + offset, n);
    if (!bound.ok()) return Annotate(bound, where);
  }
  return PressureLease::Create(
      absl::StrCat("xe-vram region ", spec.region_instance, ": ",
                   DescribeBytes(total)),
      total, std::move(holding), spec.ttl, reaper_);
}

std::unique_ptr<BoPressureInjector> MakeXeVramInjector(std::string path) {
  return std::make_unique<BoPressureInjector>(
      [path = std::move(path)]() -> BoPressureInjector::OpenResult {
        XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<DrmBackend> backend,
                               DrmBackend::Open(path));
        return std::unique_ptr<KernelBackend>(std::move(backend));
      });
}

}  // namespace xehil
