// JSON, JUnit and the atomic file writer; the HTML page is in lab_html.cc.
#include "tools/lab/report/lab_report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/errno_status.h"
#include "core/base/proto_json.h"
#include "core/base/unique_fd.h"
#include "core/scenario/report_writer.h"

namespace xehil::lab {
namespace {

struct Counts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  void Add(const Counts& o) {
    tests += o.tests;
    failures += o.failures;
    errors += o.errors;
    skipped += o.skipped;
  }
};

Counts CountHost(const HostRun& host) {
  Counts c;
  for (const Report& r : host.reports()) {
    ++c.tests;
    c.failures += IsFailingResult(r.result());
    c.skipped += r.result() == RESULT_SKIP;
  }
  if (!host.error().empty()) {
    ++c.tests;
    ++c.errors;
  }
  return c;
}

uint64_t HostMs(const HostRun& host) {
  if (host.duration_ms() > 0) return host.duration_ms();
  uint64_t ms = 0;
  for (const Report& r : host.reports()) ms += r.duration_ms();
  return ms;
}

// "UNAVAILABLE: connection refused" -> "UNAVAILABLE"; else "host-error".
std::string ErrorType(const std::string& error) {
  const size_t colon = error.find(':');
  if (colon == 0 || colon == std::string::npos) return "host-error";
  for (char c : error.substr(0, colon)) {
    if (!absl::ascii_isupper(c) && c != '_') return "host-error";
  }
  return error.substr(0, colon);
}

std::string Property(absl::string_view name, absl::string_view value) {
  return absl::StrCat("      <property name=\"", name, "\" value=\"",
                      XmlEscape(value), "\"/>\n");
}

std::string HostSuite(const HostRun& host, const Counts& c) {
  std::string xml = absl::StrFormat(
      "  <testsuite name=\"%s\" hostname=\"%s\" tests=\"%d\" failures=\"%d\" "
      "errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n    <properties>\n",
      XmlEscape(host.host()), XmlEscape(host.address()), c.tests, c.failures,
      c.errors, c.skipped, HostMs(host) / 1000.0);
  absl::StrAppend(&xml, Property("address", host.address()),
                  Property("labels", absl::StrJoin(host.labels(), ",")),
                  Property("backend", host.backend()),
                  Property("device", host.device()),
                  Property("attempts", absl::StrCat(host.attempts())),
                  "    </properties>\n");
  for (const Report& r : host.reports()) {
    xml += ReportToJunitTestcase(r, host.host());
  }
  if (!host.error().empty()) {
    absl::StrAppendFormat(
        &xml,
        "    <testcase classname=\"%s\" name=\"host run\" time=\"0.000\">\n"
        "      <error message=\"%s\" type=\"%s\">%s</error>\n"
        "    </testcase>\n",
        XmlEscape(host.host()), XmlEscape(host.error()),
        XmlEscape(ErrorType(host.error())),
        XmlEscape(absl::StrCat(
            host.reports().empty() ? "no scenario ran on "
                                   : "not every scenario ran on ",
            host.host(), " (", host.address(), "): ", host.error())));
  }
  return xml + "  </testsuite>\n";
}

// Writes all of `text` to `fd`, riding out EINTR and short writes.
int WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view text) {
  static std::atomic<uint64_t> counter{0};
  const std::string tmp =
      absl::StrCat(path, ".tmp.", ::getpid(), ".", counter.fetch_add(1));
  const std::string what = absl::StrCat("writing ", path);
  // 0666 so the umask decides, as for any file the user creates.
  UniqueFd fd(
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (!fd.valid()) {
    return ErrnoToStatus(errno, absl::StrCat(what, ": cannot create ", tmp));
  }
  int err = WriteAll(fd.get(), text);
  if (err == 0 && ::fsync(fd.get()) != 0) err = -errno;
  if (::close(fd.release()) != 0 && err == 0) err = -errno;
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = -errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return ErrnoToStatus(err, what);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> LabRunToJson(const LabRun& run) {
  return ProtoToJson(run, "lab run", /*pretty=*/true);
}

std::string LabRunToJUnit(const LabRun& run) {
  Counts total;
  std::vector<Counts> per_host;
  uint64_t total_ms = run.duration_ms();
  const bool sum_ms = total_ms == 0;
  for (const HostRun& host : run.hosts()) {
    per_host.push_back(CountHost(host));
    total.Add(per_host.back());
    if (sum_ms) total_ms += HostMs(host);
  }
  std::string xml = absl::StrFormat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"xehil-lab\" tests=\"%d\" failures=\"%d\" "
      "errors=\"%d\" "
      "skipped=\"%d\" time=\"%.3f\">\n",
      total.tests, total.failures, total.errors, total.skipped,
      total_ms / 1000.0);
  for (int i = 0; i < run.hosts_size(); ++i) {
    xml += HostSuite(run.hosts(i), per_host[i]);
  }
  return xml + "</testsuites>\n";
}

absl::Status WriteLabReports(const LabRun& run, const LabReportPaths& paths) {
  std::vector<absl::Status> errors;
  auto write = [&](const std::string& path, auto render) {
    if (path.empty()) return;
    absl::Status s = WriteFileAtomically(path, render(run));
    if (!s.ok()) errors.push_back(std::move(s));
  };
  if (!paths.json.empty()) {
    absl::StatusOr<std::string> json = LabRunToJson(run);
    absl::Status s = json.ok()
                         ? WriteFileAtomically(paths.json, *json)
                         : absl::Status(json.status().code(),
                                        absl::StrCat(paths.json, ": ",
                                                     json.status().message()));
    if (!s.ok()) errors.push_back(std::move(s));
  }
  write(paths.junit, LabRunToJUnit);
  write(paths.html, LabRunToHtml);
  if (errors.empty()) return absl::OkStatus();
  if (errors.size() == 1) return errors[0];
  std::vector<std::string> rest;
  for (size_t i = 1; i < errors.size(); ++i) {
    rest.push_back(std::string(errors[i].message()));
  }
  // Keep the first error's code and payload (its errno), append the others.
  absl::Status first = errors[0];
  absl::Status merged(first.code(), absl::StrCat(first.message(), "; also ",
                                                 absl::StrJoin(rest, "; ")));
  first.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    merged.SetPayload(url, payload);
  });
  return merged;
}

}  // namespace xehil::lab
