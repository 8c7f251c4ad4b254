#include "tools/lab/pressure_command.h"

#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/lab/output.h"

namespace xehil::lab {
namespace {

struct Outcome {
  absl::Status status;
  int attempts = 0;
  Lease lease;
};

std::string Error(const absl::Status& s) {
  return absl::StrCat("error: ", CodeName(s.code()), ": ", s.message());
}

int Acquire(LabHosts& lab, const PressureOptions& options, LinePrinter& out) {
  AcquirePressureRequest request = MakeAcquireRequest(options);
  request.set_ttl_ms(
      absl::ToInt64Milliseconds(options.ttl.value_or(kDefaultLeaseTtl)));
  std::vector<Outcome> results =
      FanOut<Outcome>(lab.size(), lab.fanout().parallel, [&](size_t i) {
        Outcome o;
        o.status = lab.Call(i, &Agent::Stub::AcquirePressure, request, &o.lease,
                            &o.attempts);
        return o;
      });
  bool all_ok = true;
  for (const Outcome& o : results) all_ok = all_ok && o.status.ok();
  for (size_t i = 0; i < results.size(); ++i) {
    const Outcome& o = results[i];
    const std::string& host = lab.host(i).name();
    if (!o.status.ok()) {
      out.Host(host, Error(o.status));
    } else if (all_ok) {
      out.Host(host, DescribeAcquired(o.lease));
    }
  }
  if (all_ok) return 0;
  // All or nothing: give back what the other hosts granted.
  ForEachBounded(lab.size(), lab.fanout().parallel, [&](size_t i) {
    if (!results[i].status.ok()) return;
    ReleasePressureRequest release;
    release.set_lease_id(results[i].lease.lease_id());
    Lease ended;
    absl::Status s =
        lab.Call(i, &Agent::Stub::ReleasePressure, release, &ended);
    out.Host(lab.host(i).name(),
             s.ok() ? absl::StrCat("released ", release.lease_id(),
                                   " again: another host refused")
                    : absl::StrCat("could not release ", release.lease_id(),
                                   " (it ends at its TTL): ", Error(s)));
  });
  return 1;
}

// Renew or release each id on every host; NOT_FOUND means "not this host".
int ById(LabHosts& lab, const PressureOptions& options, LinePrinter& out) {
  const bool renew = options.action == "renew";
  const int64_t ttl_ms =
      absl::ToInt64Milliseconds(options.ttl.value_or(kDefaultLeaseTtl));
  std::vector<std::vector<Outcome>> results = FanOut<std::vector<Outcome>>(
      lab.size(), lab.fanout().parallel, [&](size_t i) {
        std::vector<Outcome> per_id(options.lease_ids.size());
        for (size_t k = 0; k < options.lease_ids.size(); ++k) {
          Outcome& o = per_id[k];
          if (renew) {
            RenewLeaseRequest r;
            r.set_lease_id(options.lease_ids[k]);
            r.set_ttl_ms(ttl_ms);
            o.status =
                lab.Call(i, &Agent::Stub::RenewLease, r, &o.lease, &o.attempts);
          } else {
            ReleasePressureRequest r;
            r.set_lease_id(options.lease_ids[k]);
            o.status = lab.Call(i, &Agent::Stub::ReleasePressure, r, &o.lease,
                                &o.attempts);
          }
        }
        return per_id;
      });
  int code = 0;
  std::set<size_t> found;
  for (size_t i = 0; i < results.size(); ++i) {
    for (size_t k = 0; k < results[i].size(); ++k) {
      const Outcome& o = results[i][k];
      if (absl::IsNotFound(o.status)) continue;
      if (!o.status.ok()) {
        out.Host(lab.host(i).name(),
                 absl::StrCat(options.lease_ids[k], ": ", Error(o.status)));
        code = 1;
        continue;
      }
      found.insert(k);
      out.Host(
          lab.host(i).name(),
          renew ? absl::StrCat("renewed ", o.lease.lease_id(), ": ends in ",
                               absl::FormatDuration(
                                   absl::Milliseconds(o.lease.remaining_ms())))
                : absl::StrCat("released ", o.lease.lease_id(), ": ",
                               o.lease.description()));
    }
  }
  for (size_t k = 0; k < options.lease_ids.size(); ++k) {
    if (found.count(k) == 0 && code == 0) code = 1;
    if (found.count(k) == 0) {
      out.Line(absl::StrCat("xehil-lab: lease ", options.lease_ids[k],
                            ": on no selected host (unknown, released or "
                            "expired)"));
    }
  }
  return code;
}

int ReleaseAll(LabHosts& lab, LinePrinter& out) {
  std::vector<int> codes =
      FanOut<int>(lab.size(), lab.fanout().parallel, [&](size_t i) {
        const std::string& host = lab.host(i).name();
        AgentInfo info;
        absl::Status s =
            lab.Call(i, &Agent::Stub::GetInfo, GetInfoRequest(), &info);
        if (!s.ok()) {
          out.Host(host, Error(s));
          return 1;
        }
        if (info.leases().empty()) out.Host(host, "no leases");
        int code = 0;
        for (const Lease& lease : info.leases()) {
          ReleasePressureRequest r;
          r.set_lease_id(lease.lease_id());
          Lease ended;
          s = lab.Call(i, &Agent::Stub::ReleasePressure, r, &ended);
          if (absl::IsNotFound(s)) continue;  // ended meanwhile
          if (!s.ok()) code = 1;
          out.Host(host, s.ok()
                             ? absl::StrCat("released ", ended.lease_id(), ": ",
                                            ended.description())
                             : absl::StrCat(lease.lease_id(), ": ", Error(s)));
        }
        return code;
      });
  for (int c : codes) {
    if (c != 0) return 1;
  }
  return 0;
}

}  // namespace

AcquirePressureRequest MakeAcquireRequest(const PressureOptions& options) {
  AcquirePressureRequest request;
  request.set_provider(options.provider);
  request.set_region_instance(options.region);
  if (options.bytes > 0) {
    request.set_bytes(static_cast<int64_t>(options.bytes));
  } else {
    request.set_fraction(options.fraction);
  }
  request.set_note(options.note);
  return request;
}

std::string DescribeAcquired(const Lease& lease) {
  return absl::StrCat(
      "acquired ", lease.lease_id(), ": ", lease.description(), ", ttl ",
      absl::FormatDuration(absl::Milliseconds(lease.ttl_ms())),
      lease.bound_to_stream().empty() ? "" : ", bound to this process");
}

int RunPressure(LabHosts& lab, const PressureOptions& options, StopNotice* stop,
                std::ostream& out, std::ostream& err) {
  if (options.action == "acquire") {
    if (options.hold) return AcquireAndHold(lab, options, stop, out, err);
    LinePrinter printer(out, lab.name_width());
    return Acquire(lab, options, printer);
  }
  LinePrinter printer(out, lab.name_width());
  if (options.action == "release" && options.all) {
    return ReleaseAll(lab, printer);
  }
  return ById(lab, options, printer);
}

}  // namespace xehil::lab
