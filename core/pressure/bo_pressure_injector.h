// BoPressureInjector ("xe-vram"): VRAM pressure on a real (or simulated) xe
// device, made the way IGT's xe_evict makes it. Each lease opens its own DRM
// file, creates a plain VM (not LR_MODE: the hog must not be a preempt-fence
// VM whose BOs the driver evicts and rebinds), and fills the region with BOs
// of `chunk_bytes`, each bound into the VM at increasing addresses. Creating
// BOs beyond free VRAM makes the driver evict other files' BOs, which is
// what sends their LR VMs' rebinds into -ENOSPC. Releasing closes the file,
// which frees everything at once; so does the process dying, by any signal.
//
//   std::unique_ptr<BoPressureInjector> injector = MakeXeVramInjector();
//   if (!injector->CheckAvailable().ok()) ...  // no xe render node here
//   auto lease = injector->Acquire({/*region_instance=*/1, 4ull << 30});
//
// In tests the files come from a simulator:
//   BoPressureInjector injector([device]() -> OpenResult {
//     return std::unique_ptr<KernelBackend>(device->Open());
//   });
//
// On hardware this is best effort: TTM may also evict the hog's own idle
// BOs. Thread-safe if the factory is.
#ifndef XEHIL_CORE_PRESSURE_BO_PRESSURE_INJECTOR_H_
#define XEHIL_CORE_PRESSURE_BO_PRESSURE_INJECTOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/backend/kernel_backend.h"
#include "core/pressure/lease_reaper.h"
#include "core/pressure/pressure_injector.h"

namespace xehil {

class BoPressureInjector : public PressureInjector {
 public:
  using OpenResult = absl::StatusOr<std::unique_ptr<KernelBackend>>;
  // Opens a new DRM file on the device, separate from the application's.
  using FileFactory = std::function<OpenResult()>;

  struct Options {
    // BO size; the last BO is smaller. Rounded up to the region's page size.
    uint64_t chunk_bytes = uint64_t{256} << 20;
    // First GPU virtual address the BOs are bound at.
    uint64_t base_address = uint64_t{1} << 32;
  };

  explicit BoPressureInjector(FileFactory open_file);
  BoPressureInjector(FileFactory open_file, Options options);

  std::string Name() const override { return "xe-vram"; }
  // Opens (and closes) a file and asks for the memory regions.
  // FAILED_PRECONDITION "xe-vram pressure needs an xe render node: <why>"
  // when no file opens, "... needs VRAM" on a device without any.
  absl::Status CheckAvailable() const override;
  // FAILED_PRECONDITION as CheckAvailable when no file opens.
  // spec.region_instance must name a VRAM region (INVALID_ARGUMENT for a
  // system-memory one, NOT_FOUND for an unknown one). A failed GEM_CREATE or
  // VM_BIND keeps its errno (e.g. RESOURCE_EXHAUSTED, -ENOSPC) and gives back
  // everything taken so far.
  absl::StatusOr<std::unique_ptr<PressureLease>> Acquire(
      const PressureSpec& spec) override;

 private:
  OpenResult OpenFile() const;

  const FileFactory open_file_;
  const Options options_;
  const std::shared_ptr<LeaseReaper> reaper_;
};

// A BoPressureInjector on DrmBackend::Open(path): an empty path picks the
// first xe render node.
std::unique_ptr<BoPressureInjector> MakeXeVramInjector(std::string path = "");

}  // namespace xehil

#endif  // XEHIL_CORE_PRESSURE_BO_PRESSURE_INJECTOR_H_
