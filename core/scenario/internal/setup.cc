#include "core/scenario/internal/setup.h"

#include <cerrno>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"
#include "core/scenario/internal/observing_policy.h"
#include "core/scenario/validate.h"

namespace xehil::scenario_internal {
namespace {

constexpr uint64_t kFirstAddress = 1ull << 20;  // 1 MiB
constexpr uint64_t kAddressAlign = 2ull << 20;  // 2 MiB between BOs

uint64_t AlignUp(uint64_t value, uint64_t align) {
  return align == 0 ? value : (value + align - 1) / align * align;
}

SetupOutcome Failed(std::string reason) {
  return {SetupOutcome::kFailed, std::move(reason), 0};
}
SetupOutcome Skip(std::string reason) {
  return {SetupOutcome::kSkip, std::move(reason), 0};
}

// The scenario's VMs after expanding counts.
size_t VmsOf(const Scenario& scenario) {
  size_t n = 0;
  for (const File& file : scenario.setup().files()) {
    for (const Vm& vm : file.vms()) n += vm.count() == 0 ? 1 : vm.count();
  }
  return n;
}

// A timed-out outcome if the run's deadline has passed.
std::optional<SetupOutcome> PastDeadline(const RunState& state) {
  if (Clock::now() < state.deadline) return std::nullopt;
  return SetupOutcome{SetupOutcome::kTimedOut,
                      absl::StrCat(state.vms.size(), " of ",
                                   VmsOf(state.scenario), " VMs created"),
                      0};
}

uint32_t VmFlagsOf(const Vm& vm) {
  uint32_t flags = 0;
  for (int flag : vm.flags()) {
    switch (flag) {
      case VM_FLAG_LR_MODE:
        flags |= DRM_XE_VM_CREATE_FLAG_LR_MODE;
        break;
      case VM_FLAG_RESTARTABLE:
        flags |= DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
        break;
      case VM_FLAG_FAULT_MODE:
        flags |= DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
        break;
      case VM_FLAG_SCRATCH_PAGE:
        flags |= DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE;
        break;
      default:
        break;
    }
  }
  return flags;
}

uint32_t PageSizeOf(const RunState& state, uint32_t placement) {
  uint32_t page = 4096;
  for (const MemRegion& r : state.regions) {
    if ((placement >> r.instance) & 1u) page = std::max(page, r.min_page_size);
  }
  return page;
}

// The GEM_CREATE placement mask, or a skip reason.
absl::StatusOr<uint32_t> PlacementOf(const RunState& state, Placement p) {
  const std::optional<uint16_t> vram = VramInstance(state);
  const uint32_t sys = 1u << SystemInstance(state);
  switch (p) {
    case PLACEMENT_VRAM_ONLY:
      if (!vram.has_value()) {
        return absl::FailedPreconditionError(
            absl::StrCat("a VRAM-only BO needs VRAM; ",
                         state.env.device_description, " has none"));
      }
      return 1u << *vram;
    case PLACEMENT_SYSTEM_ONLY:
      return sys;
    case PLACEMENT_VRAM_PREFERRED:
      return vram.has_value() ? (1u << *vram) | sys : sys;
    default:
      return vram.has_value() ? 1u << *vram : sys;
  }
}

// The engine for an exec queue of `wanted` class, or a skip reason.
absl::StatusOr<EngineInfo> EngineFor(const RunState& state,
                                     EngineClass wanted) {
  auto find = [&](uint16_t cls) -> std::optional<EngineInfo> {
    for (const EngineInfo& e : state.engines) {
      if (e.engine_class == cls) return e;
    }
    return std::nullopt;
  };
  std::optional<EngineInfo> engine;
  switch (wanted) {
    case ENGINE_CLASS_RENDER:
      engine = find(DRM_XE_ENGINE_CLASS_RENDER);
      break;
    case ENGINE_CLASS_COPY:
      engine = find(DRM_XE_ENGINE_CLASS_COPY);
      break;
    case ENGINE_CLASS_COMPUTE:
      engine = find(DRM_XE_ENGINE_CLASS_COMPUTE);
      break;
    default:
      engine = find(DRM_XE_ENGINE_CLASS_COMPUTE);
      if (!engine) engine = find(DRM_XE_ENGINE_CLASS_RENDER);
      break;
  }
  if (!engine) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the device has no engine of class ", EngineClass_Name(wanted)));
  }
  return *engine;
}

// Subscribes the file's pipe and starts its engine (and listener).
SetupOutcome WatchFile(RunState& state, size_t index) {
  FileEntry& entry = *state.files[index];
  const Watch& watch = entry.spec->watch();
  const std::string where = absl::StrCat("file '", entry.name, "' watch");
  NotificationPipeOptions pipe_options;
  pipe_options.ring_notes = watch.ring_notes() == 0 ? 256 : watch.ring_notes();
  absl::StatusOr<NotificationPipe> pipe = entry.xe->WatchQueue(
      static_cast<uint8_t>(watch.watch_id()), pipe_options);
  if (!pipe.ok()) {
    if (StatusErrno(pipe.status()) == -ENOPKG) {
      return Skip(absl::StrCat(where, ": ", pipe.status().message()));
    }
    return Failed(absl::StrCat(where, ": ", pipe.status().ToString()));
  }
  std::unique_ptr<RecoveryPolicy> inner;
  if (state.options.policy_factory) {
    inner = state.options.policy_factory(state.scenario.recovery());
  }
  if (inner == nullptr) inner = MakeDefaultPolicy(state.scenario.recovery());
  absl::StatusOr<std::unique_ptr<RecoveryEngine>> engine =
      RecoveryEngine::Start(
          *entry.xe, std::make_unique<ObservingPolicy>(state, entry.name,
                                                       std::move(inner)));
  if (!engine.ok()) {
    return Failed(
        absl::StrCat(where, ": engine: ", engine.status().ToString()));
  }
  entry.engine = *std::move(engine);
  absl::Status watched = state.WatchEngine(entry);
  if (!watched.ok())
    return Failed(absl::StrCat(where, ": ", watched.ToString()));
  entry.pending_pipe = *std::move(pipe);
  if (!watch.has_start_after_step()) {
    absl::Status started = state.StartListener(index);
    if (!started.ok()) {
      return Failed(absl::StrCat(where, ": listener: ", started.ToString()));
    }
  }
  return {};
}

SetupOutcome CreateVms(RunState& state, size_t index, int file_number) {
  FileEntry& entry = *state.files[index];
  SetupOutcome outcome;
  for (int v = 0; v < entry.spec->vms_size(); ++v) {
    const Vm& spec = entry.spec->vms(v);
    const std::string path =
        absl::StrCat("setup.files[", file_number, "].vms[", v, "]");
    const uint32_t flags = VmFlagsOf(spec);
    for (const std::string& name : ExpandVmNames(spec)) {
      if (std::optional<SetupOutcome> late = PastDeadline(state)) {
        late->bos = outcome.bos;
        return *late;
      }
      absl::StatusOr<uint32_t> vm = entry.xe->CreateVm(flags);
      if (!vm.ok()) {
        if ((flags & DRM_XE_VM_CREATE_FLAG_FAULT_MODE) &&
            StatusErrno(vm.status()) == -EINVAL) {
          return Skip(absl::StrCat(
              path, " '", name,
              "': the device refuses FAULT_MODE VMs: ", vm.status().message()));
        }
        return Failed(
            absl::StrCat(path, " '", name, "': ", vm.status().ToString()));
      }
      state.vms.push_back(VmEntry{name, index, *vm, flags, false});
      uint64_t addr = kFirstAddress;
      for (int b = 0; b < spec.bos_size(); ++b) {
        const std::string bo_path = absl::StrCat(path, ".bos[", b, "]");
        absl::StatusOr<uint32_t> placement =
            PlacementOf(state, spec.bos(b).placement());
        if (!placement.ok()) {
          return Skip(
              absl::StrCat(bo_path, ": ", placement.status().message()));
        }
        const uint64_t size =
            AlignUp(spec.bos(b).size_bytes(), PageSizeOf(state, *placement));
        absl::StatusOr<uint32_t> bo = entry.xe->CreateBo(size, *placement, *vm);
        absl::Status bound =
            bo.ok() ? entry.xe->BindBo(*vm, *bo, 0, addr, size) : bo.status();
        if (!bound.ok()) {
          return Failed(
              absl::StrCat(bo_path, " of '", name, "': ", bound.ToString()));
        }
        ++outcome.bos;
        addr = AlignUp(addr + size, kAddressAlign);
      }
      for (int q = 0; q < spec.exec_queues_size(); ++q) {
        const std::string q_path = absl::StrCat(path, ".exec_queues[", q, "]");
        absl::StatusOr<EngineInfo> engine =
            EngineFor(state, spec.exec_queues(q).engine_class());
        if (!engine.ok()) {
          return Skip(absl::StrCat(q_path, ": ", engine.status().message()));
        }
        absl::StatusOr<uint32_t> queue =
            entry.xe->CreateExecQueue(*vm, *engine);
        if (!queue.ok()) {
          return Failed(absl::StrCat(q_path, " of '", name,
                                     "': ", queue.status().ToString()));
        }
      }
    }
  }
  return outcome;
}

}  // namespace

std::optional<uint16_t> VramInstance(const RunState& state) {
  for (const MemRegion& r : state.regions) {
    if (r.mem_class == DRM_XE_MEM_REGION_CLASS_VRAM) return r.instance;
  }
  return std::nullopt;
}

uint16_t SystemInstance(const RunState& state) {
  for (const MemRegion& r : state.regions) {
    if (r.mem_class == DRM_XE_MEM_REGION_CLASS_SYSMEM) return r.instance;
  }
  return 0;
}

SetupOutcome SetUp(RunState& state) {
  absl::StatusOr<OpenedFile> control = state.env.open_file();
  if (!control.ok()) {
    return Failed(
        absl::StrCat("opening the device: ", control.status().ToString()));
  }
  state.control = std::move(control->backend);
  state.control_xe = std::make_unique<XeDevice>(*state.control);
  absl::StatusOr<std::vector<MemRegion>> regions =
      state.control_xe->QueryMemRegions();
  absl::StatusOr<std::vector<EngineInfo>> engines =
      state.control_xe->QueryEngines();
  if (!regions.ok() || !engines.ok()) {
    return Failed(absl::StrCat(
        "querying the device: ",
        (regions.ok() ? engines.status() : regions.status()).ToString()));
  }
  state.regions = *std::move(regions);
  state.engines = *std::move(engines);

  SetupOutcome total;
  state.vms.reserve(VmsOf(state.scenario));
  const auto& files = state.scenario.setup().files();
  for (int f = 0; f < files.size(); ++f) {
    if (std::optional<SetupOutcome> late = PastDeadline(state)) {
      late->bos = total.bos;
      return *late;
    }
    const std::string where =
        absl::StrCat("setup.files[", f, "] '", files[f].name(), "'");
    absl::StatusOr<OpenedFile> opened = state.env.open_file();
    if (!opened.ok()) {
      return Failed(absl::StrCat(
          where, ": opening the device: ", opened.status().ToString()));
    }
    auto entry = std::make_unique<FileEntry>();
    entry->name = files[f].name();
    entry->spec = &files[f];
    entry->client_id = opened->client_id;
    entry->backend =
        std::make_unique<ClosableBackend>(std::move(opened->backend));
    entry->xe = std::make_unique<XeDevice>(*entry->backend);
    const size_t index = state.files.size();
    state.file_by_name[entry->name] = index;
    state.files.push_back(std::move(entry));
    if (files[f].has_watch()) {
      SetupOutcome watched = WatchFile(state, index);
      if (watched.kind != SetupOutcome::kOk) return watched;
    }
    SetupOutcome created = CreateVms(state, index, f);
    if (created.kind == SetupOutcome::kTimedOut) created.bos += total.bos;
    if (created.kind != SetupOutcome::kOk) return created;
    total.bos += created.bos;
  }
  return total;
}

}  // namespace xehil::scenario_internal
