// pressure acquire --hold: leases bound to one HoldLeases stream per host.
#include <atomic>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tools/lab/output.h"
#include "tools/lab/pressure_command.h"
#include "tools/lab/stream_reader.h"

namespace xehil::lab {
namespace {

using HoldReader = StreamReader<HoldLeasesRequest, HoldLeasesUpdate>;

// Everything shared by the hosts' stream callbacks and the command thread.
struct Shared {
  LinePrinter* out;
  StopNotice* stop;
  std::atomic<bool> stopping{false};
  std::atomic<int> live_leases{0};
  std::atomic<int> live_streams{0};
  std::atomic<bool> dropped{false};
};

// One host's stream: its session id arrives first, then LeaseEnded notes.
class HoldSession {
 public:
  HoldSession(Shared* shared, std::string host)
      : shared_(shared), host_(std::move(host)) {}
  ~HoldSession() {
    if (reader_ != nullptr) {
      reader_->Cancel();
      reader_->Wait();
    }
  }

  // Opens the stream and waits for its session id.
  absl::Status Open(HostConnection& conn, absl::Duration deadline) {
    if (reader_ != nullptr) {
      reader_->Cancel();
      reader_->Wait();
    }
    {
      absl::MutexLock lock(&mu_);
      session_.clear();
      ended_ = false;
    }
    reader_ = std::make_unique<HoldReader>(
        [this](const HoldLeasesUpdate& u) { OnUpdate(u); },
        [this](const grpc::Status& s) { OnEnd(s); });
    conn.Prepare(&reader_->context(), absl::InfiniteDuration());
    HoldLeasesRequest request;
    request.set_note("xehil-lab pressure acquire --hold");
    reader_->Start(
        [&conn](grpc::ClientContext* c, const HoldLeasesRequest* r,
                grpc::ClientReadReactor<HoldLeasesUpdate>* reactor) {
          conn.stub().async()->HoldLeases(c, r, reactor);
        },
        request);
    {
      absl::MutexLock lock(&mu_);
      auto answered = [this] {
        mu_.AssertReaderHeld();
        return !session_.empty() || ended_;
      };
      if (mu_.AwaitWithTimeout(absl::Condition(&answered), deadline)) {
        if (session_.empty()) return end_status_;
        shared_->live_streams.fetch_add(1);
        return absl::OkStatus();
      }
    }
    reader_->Cancel();
    reader_->Wait();
    return absl::DeadlineExceededError("no HoldLeases session in time");
  }

  std::string session() {
    absl::MutexLock lock(&mu_);
    return session_;
  }
  void Close() {
    if (reader_ == nullptr) return;
    reader_->Cancel();
    reader_->Wait();
  }

 private:
  void OnUpdate(const HoldLeasesUpdate& update) {
    if (update.has_session_id()) {
      absl::MutexLock lock(&mu_);
      session_ = update.session_id();
      return;
    }
    if (!update.has_lease_ended() || shared_->stopping) return;
    shared_->out->Host(host_,
                       absl::StrCat("lease ", update.lease_ended().lease_id(),
                                    " ended: ", update.lease_ended().reason()));
    if (shared_->live_leases.fetch_sub(1) == 1) {
      shared_->stop->Notify("every held lease ended");
    }
  }

  void OnEnd(const grpc::Status& status) {
    bool was_open;
    const absl::Status ended = FromGrpc(status);
    {
      absl::MutexLock lock(&mu_);
      was_open = !session_.empty();
      ended_ = true;
      end_status_ = ended;
    }
    if (!was_open || shared_->stopping) return;
    shared_->dropped = true;
    shared_->out->Host(
        host_,
        absl::StrCat("hold stream lost: ", CodeName(ended.code()), ": ",
                     ended.message(), " (the agent releases its leases)"));
    if (shared_->live_streams.fetch_sub(1) == 1) {
      shared_->stop->Notify("every hold stream ended");
    }
  }

  Shared* const shared_;
  const std::string host_;
  std::unique_ptr<HoldReader> reader_;
  absl::Mutex mu_;
  std::string session_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status end_status_ ABSL_GUARDED_BY(mu_);
};

struct HostHold {
  std::unique_ptr<HoldSession> session;
  absl::Status status;
  Lease lease;
};

}  // namespace

int AcquireAndHold(LabHosts& lab, const PressureOptions& options,
                   StopNotice* stop, std::ostream& out, std::ostream&) {
  LinePrinter printer(out, lab.name_width());
  Shared shared{&printer, stop};
  std::vector<HostHold> holds(lab.size());
  ForEachBounded(lab.size(), lab.fanout().parallel, [&](size_t i) {
    HostHold& h = holds[i];
    HostConnection& conn = lab.host(i);
    h.session = std::make_unique<HoldSession>(&shared, conn.name());
    AcquirePressureRequest request = MakeAcquireRequest(options);
    absl::Duration ttl = options.hold_for + absl::Seconds(10);
    if (options.ttl.has_value()) {
      ttl = *options.ttl;
    } else if (options.hold_for == absl::InfiniteDuration()) {
      AgentInfo info;
      h.status = lab.Call(i, &Agent::Stub::GetInfo, GetInfoRequest(), &info);
      if (!h.status.ok()) return;
      ttl = absl::Milliseconds(info.limits().max_ttl_ms());
    }
    request.set_ttl_ms(absl::ToInt64Milliseconds(ttl));
    h.status = CallWithRetries(lab.fanout().retry, [&](int) {
      return h.session->Open(conn, lab.rpc_deadline());
    });
    if (!h.status.ok()) return;
    request.set_bind_to_stream(h.session->session());
    h.status = lab.Call(i, &Agent::Stub::AcquirePressure, request, &h.lease);
  });
  bool all_ok = true;
  for (const HostHold& h : holds) all_ok = all_ok && h.status.ok();
  for (size_t i = 0; i < holds.size(); ++i) {
    const HostHold& h = holds[i];
    if (!h.status.ok()) {
      printer.Host(lab.host(i).name(),
                   absl::StrCat("error: ", CodeName(h.status.code()), ": ",
                                h.status.message()));
    } else if (all_ok) {
      printer.Host(lab.host(i).name(), DescribeAcquired(h.lease));
    }
  }
  if (!all_ok) {
    // All or nothing: closing the streams releases what was granted.
    shared.stopping = true;
    for (HostHold& h : holds) h.session->Close();
    printer.Line("released every lease again: a host refused");
    return 1;
  }
  shared.live_leases = static_cast<int>(holds.size());
  printer.Line(absl::StrCat(
      "holding ", holds.size(), holds.size() == 1 ? " lease" : " leases",
      " on ", lab.size(), lab.size() == 1 ? " host" : " hosts",
      options.hold_for == absl::InfiniteDuration()
          ? " until SIGINT/SIGTERM"
          : absl::StrCat(" for ", absl::FormatDuration(options.hold_for),
                         " (or until SIGINT/SIGTERM)")));
  if (!stop->WaitFor(options.hold_for)) stop->Notify("hold duration over");
  shared.stopping = true;
  printer.Line(absl::StrCat("stopping (", stop->reason(), ")"));
  ForEachBounded(lab.size(), lab.fanout().parallel, [&](size_t i) {
    ReleasePressureRequest release;
    release.set_lease_id(holds[i].lease.lease_id());
    Lease ended;
    absl::Status s =
        lab.Call(i, &Agent::Stub::ReleasePressure, release, &ended);
    if (s.ok()) {
      printer.Host(lab.host(i).name(),
                   absl::StrCat("released ", release.lease_id()));
    }
    // Otherwise it ended already, or closing the stream ends it.
    holds[i].session->Close();
  });
  return shared.dropped ? 1 : 0;
}

}  // namespace xehil::lab
