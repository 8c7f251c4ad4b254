#include "core/backend/drm_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <xf86drm.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/base/errno_status.h"
#include "core/base/read_file.h"
#include "core/uapi/watch_uapi.h"

namespace xehil {
namespace {

// `status` with another code and message; payloads (the errno) kept.
absl::Status Rebuild(const absl::Status& status, absl::StatusCode code,
                     absl::string_view message) {
  absl::Status out(code, message);
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& data) {
    out.SetPayload(url, data);
  });
  return out;
}

// What DRM_IOCTL_VERSION says about an open file.
struct DriverInfo {
  std::string name;     // "xe", "i915", ...
  std::string version;  // "1.1.0 (20201103)"
};

// FAILED_PRECONDITION when `fd` is not a DRM device at all.
absl::StatusOr<DriverInfo> QueryDriver(int fd, absl::string_view path) {
  errno = 0;
  drmVersionPtr version = drmGetVersion(fd);
  if (version == nullptr) {
    int err = errno != 0 ? errno : ENOTTY;
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is not a DRM device (DRM_IOCTL_VERSION: ", DescribeErrno(err),
        ")"));
  }
  DriverInfo info;
  if (version->name != nullptr) info.name = version->name;
  info.version =
      absl::StrCat(version->version_major, ".", version->version_minor, ".",
                   version->version_patchlevel);
  if (version->date != nullptr && version->date_len > 0) {
    absl::StrAppend(&info.version, " (",
                    absl::string_view(version->date, version->date_len), ")");
  }
  drmFreeVersion(version);
  return info;
}

absl::StatusOr<UniqueFd> OpenNode(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return ErrnoToStatus(-errno, absl::StrCat("open ", path));
  return fd;
}

// " PCI 8086:56a0 at 0000:03:00.0" when libdrm knows the bus, else "".
std::string PciSuffix(int fd) {
  drmDevicePtr device = nullptr;
  if (drmGetDevice2(fd, 0, &device) != 0 || device == nullptr) return "";
  std::string out;
  if (device->bustype == DRM_BUS_PCI && device->deviceinfo.pci != nullptr) {
    out = absl::StrFormat(", PCI %04x:%04x", device->deviceinfo.pci->vendor_id,
                          device->deviceinfo.pci->device_id);
    if (device->businfo.pci != nullptr) {
      const drmPciBusInfo& bus = *device->businfo.pci;
      absl::StrAppendFormat(&out, " at %04x:%02x:%02x.%x", bus.domain, bus.bus,
                            bus.dev, bus.func);
    }
  }
  drmFreeDevice(&device);
  return out;
}

absl::Status ValidatePipeOptions(const NotificationPipeOptions& options) {
  if (options.ring_notes < 1 ||
      options.ring_notes > XEHIL_WATCH_QUEUE_MAX_NOTES) {
    return absl::InvalidArgumentError(absl::StrCat(
        "notification pipe ring_notes must be 1..", XEHIL_WATCH_QUEUE_MAX_NOTES,
        ", got ", options.ring_notes));
  }
  if (options.filter.has_value() &&
      (options.filter->empty() ||
       options.filter->size() > XEHIL_WATCH_FILTER_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "notification pipe filter must have 1..", XEHIL_WATCH_FILTER_MAX,
        " entries, got ", options.filter->size()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> FindXeRenderNode(absl::string_view dri_dir) {
  const std::string dir(dri_dir);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("no xe render node: ", dir, " does not exist"));
    }
    return ErrnoToStatus(-err,
                         absl::StrCat("no xe render node: opendir ", dir));
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(d)) {
    if (absl::StartsWith(entry->d_name, "renderD")) {
      names.emplace_back(entry->d_name);
    }
  }
  ::closedir(d);
  if (names.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no xe render node: ", dir, " has no renderD* nodes"));
  }
  // renderD128..renderD255: equal lengths, so name order is number order.
  std::sort(names.begin(), names.end());

  std::vector<std::string> seen;
  for (const std::string& name : names) {
    std::string path = absl::StrCat(dir, "/", name);
    absl::StatusOr<UniqueFd> fd = OpenNode(path);
    if (!fd.ok()) {
      seen.push_back(absl::StrCat(
          name, " (cannot open: ", DescribeErrno(StatusErrno(fd.status())),
          ")"));
      continue;
    }
    absl::StatusOr<DriverInfo> driver = QueryDriver(fd->get(), path);
    if (!driver.ok()) {
      seen.push_back(absl::StrCat(name, " (not a DRM device)"));
    } else if (driver->name == "xe") {
      return path;
    } else {
      seen.push_back(absl::StrCat(name, " (", driver->name, ")"));
    }
  }
  return absl::NotFoundError(
      absl::StrCat("found render nodes but none is driven by xe: ",
                   absl::StrJoin(seen, ", ")));
}

absl::StatusOr<std::unique_ptr<DrmBackend>> DrmBackend::Open(std::string path) {
  if (path.empty()) {
    XEHIL_ASSIGN_OR_RETURN(path, FindXeRenderNode());
  }
  XEHIL_ASSIGN_OR_RETURN(UniqueFd fd, OpenNode(path));
  XEHIL_ASSIGN_OR_RETURN(DriverInfo driver, QueryDriver(fd.get(), path));
  if (driver.name != "xe") {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is driven by ",
        driver.name.empty() ? "an unnamed driver" : driver.name, ", not xe"));
  }
  std::string description =
      absl::StrCat(path, ": xe ", driver.version, PciSuffix(fd.get()));
  return std::unique_ptr<DrmBackend>(
      new DrmBackend(std::move(fd), std::move(path), std::move(description)));
}

int DrmBackend::Ioctl(unsigned long request, void* arg) {
  return IoctlRetryingEintr(fd_.get(), request, arg);
}

int IoctlRetryingEintr(int fd, unsigned long request, void* arg) {
  // Not drmIoctl(): libdrm retries EAGAIN as well as EINTR, without bound.
  // VM_RESTART answers -EAGAIN to mean "try again", and XeDevice bounds those
  // retries, so EAGAIN has to come back to the caller. EINTR (a signal before
  // the driver did anything) is still retried.
  int rc;
  do {
    rc = ::ioctl(fd, request, arg);
  } while (rc == -1 && errno == EINTR);
  return rc == -1 ? -errno : 0;
}

absl::StatusOr<NotificationPipe> DrmBackend::OpenNotificationPipe(
    const NotificationPipeOptions& options) {
  return OpenKernelNotificationPipe(options);
}

absl::StatusOr<NotificationPipe> OpenKernelNotificationPipe(
    const NotificationPipeOptions& options) {
  XEHIL_RETURN_IF_ERROR(ValidatePipeOptions(options));
  int fds[2];
  if (::pipe2(fds, O_NOTIFICATION_PIPE | O_CLOEXEC) != 0) {
    int err = errno;
    if (err == ENOPKG) {
      // Not UNIMPLEMENTED (ENOPKG's usual code): the kernel could have it,
      // this one was built without it.
      return Rebuild(ErrnoToStatus(-err, "pipe2"),
                     absl::StatusCode::kFailedPrecondition,
                     absl::StrCat("kernel lacks watch-queue support "
                                  "(CONFIG_WATCH_QUEUE): "
                                  "pipe2(O_NOTIFICATION_PIPE) gave ",
                                  DescribeErrno(err)));
    }
    return ErrnoToStatus(-err, "pipe2(O_NOTIFICATION_PIPE)");
  }
  NotificationPipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};

  if (::ioctl(pipe.read_end.get(), IOC_WATCH_QUEUE_SET_SIZE,
              static_cast<unsigned long>(options.ring_notes)) != 0) {
    return ErrnoToStatus(-errno, absl::StrCat("IOC_WATCH_QUEUE_SET_SIZE ",
                                              options.ring_notes, " notes"));
  }
  if (options.filter.has_value()) {
    const auto& entries = *options.filter;
    // The header and the 44-byte entries are all 4-byte aligned words.
    const size_t bytes =
        sizeof(watch_notification_filter) +
        entries.size() * sizeof(watch_notification_type_filter);
    std::vector<uint32_t> buffer((bytes + 3) / 4, 0);
    auto* filter = reinterpret_cast<watch_notification_filter*>(buffer.data());
    filter->nr_filters = static_cast<uint32_t>(entries.size());
    std::memcpy(filter->filters, entries.data(),
                entries.size() * sizeof(watch_notification_type_filter));
    if (::ioctl(pipe.read_end.get(), IOC_WATCH_QUEUE_SET_FILTER, filter) != 0) {
      return ErrnoToStatus(-errno, absl::StrCat("IOC_WATCH_QUEUE_SET_FILTER ",
                                                entries.size(), " entries"));
    }
  }
  return pipe;
}

absl::StatusOr<uint64_t> DrmBackend::client_id() const {
  return ReadDrmClientId(fd_.get());
}

absl::StatusOr<uint64_t> ReadDrmClientId(int fd, absl::string_view fdinfo_dir) {
  const std::string path = absl::StrCat(fdinfo_dir, "/", fd);
  // fdinfo is a few hundred bytes; a DRM driver's stats add lines, not pages.
  XEHIL_ASSIGN_OR_RETURN(std::string text,
                         ReadFileToString(path, "fdinfo", 1 << 20));
  constexpr absl::string_view kKey = "drm-client-id:";
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, kKey)) continue;
    uint64_t id = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &id)) {
      return absl::DataLossError(absl::StrCat(
          path, ": malformed drm-client-id '", absl::CEscape(line), "'"));
    }
    return id;
  }
  return absl::NotFoundError(
      absl::StrCat("fd ", fd, " has no drm-client-id in ", path,
                   " (not a DRM file, or its driver does not report fdinfo)"));
}

absl::Status ProbeWatchQueueSupport() {
  NotificationPipeOptions options;
  options.ring_notes = 1;
  return OpenKernelNotificationPipe(options).status();
}

}  // namespace xehil
