#include "tools/lab/watch_command.h"

#include <atomic>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/base/proto_json.h"
#include "tools/lab/output.h"
#include "tools/lab/stream_reader.h"

namespace xehil::lab {
namespace {

using WatchReader = StreamReader<WatchEventsRequest, AgentEvent>;

std::string EventText(const AgentEvent& e) {
  return absl::StrCat(
      absl::FormatTime("%H:%M:%E6S", absl::FromUnixMicros(e.unix_us()),
                       absl::LocalTimeZone()),
      "  ", e.scenario().empty() ? "-" : e.scenario(), "  ", e.text());
}

std::string EventJson(const std::string& host, const AgentEvent& e) {
  const absl::StatusOr<std::string> event = ProtoToJson(e, "event", false);
  std::string quoted;
  for (char c : host) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  if (!event.ok()) {
    // Say so in the stream rather than print an empty event.
    std::string why;
    for (char c : event.status().message()) {
      if (c == '"' || c == '\\') why += '\\';
      why += (static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
    }
    return absl::StrCat("{\"host\":\"", quoted, "\",\"error\":\"", why, "\"}");
  }
  return absl::StrCat("{\"host\":\"", quoted, "\",\"event\":", *event, "}");
}

// What the hosts' callbacks share with the command's thread.
struct Shared {
  const WatchOptions* options;
  LinePrinter* out;
  StopNotice* stop;
  std::atomic<bool> stopping{false};
  std::atomic<bool> lost{false};
  std::atomic<int> printed{0};
  std::atomic<int> open{0};
};

// One host's WatchEvents stream.
class WatchSession {
 public:
  WatchSession(Shared* shared, std::string host)
      : shared_(shared), host_(std::move(host)) {}
  ~WatchSession() { Close(); }

  // Opens the stream and waits until the agent has subscribed it (its
  // initial metadata) or the call ended.
  absl::Status Open(HostConnection& conn, absl::Duration deadline) {
    Close();
    {
      absl::MutexLock lock(&mu_);
      ready_ = ended_ = false;
    }
    reader_ = std::make_unique<WatchReader>(
        [this](const AgentEvent& e) { OnEvent(e); },
        [this](const grpc::Status& s) { OnEnd(s); },
        [this] {
          absl::MutexLock lock(&mu_);
          ready_ = true;
        });
    conn.Prepare(&reader_->context(), absl::InfiniteDuration());
    reader_->Start(
        [&conn](grpc::ClientContext* c, const WatchEventsRequest* r,
                grpc::ClientReadReactor<AgentEvent>* reactor) {
          conn.stub().async()->WatchEvents(c, r, reactor);
        },
        WatchEventsRequest());
    {
      absl::MutexLock lock(&mu_);
      auto answered = [this] {
        mu_.AssertReaderHeld();
        return ready_ || ended_;
      };
      if (mu_.AwaitWithTimeout(absl::Condition(&answered), deadline)) {
        if (!ready_) return end_status_;
        shared_->open.fetch_add(1);
        return absl::OkStatus();
      }
    }
    Close();
    return absl::DeadlineExceededError("WatchEvents was not answered");
  }

  void Cancel() {
    if (reader_ != nullptr) reader_->Cancel();
  }
  void Close() {
    if (reader_ == nullptr) return;
    reader_->Cancel();
    reader_->Wait();
  }

 private:
  void OnEvent(const AgentEvent& e) {
    if (shared_->stopping) return;
    const int count = shared_->options->count;
    const int n = shared_->printed.fetch_add(1) + 1;
    if (count > 0 && n > count) return;
    if (shared_->options->format == "json") {
      shared_->out->Line(EventJson(host_, e));
    } else {
      shared_->out->Host(host_, EventText(e));
    }
    if (count > 0 && n == count) {
      shared_->stop->Notify(absl::StrCat(n, n == 1 ? " event" : " events"));
    }
  }

  void OnEnd(const grpc::Status& status) {
    bool was_ready;
    const absl::Status ended = FromGrpc(status);
    {
      absl::MutexLock lock(&mu_);
      was_ready = ready_;
      ended_ = true;
      end_status_ = ended;
    }
    if (!was_ready || shared_->stopping) return;
    shared_->lost = true;
    shared_->out->Host(
        host_, absl::StrCat("watch stream lost: ", CodeName(ended.code()), ": ",
                            ended.message()));
    if (shared_->open.fetch_sub(1) == 1) {
      shared_->stop->Notify("every stream ended");
    }
  }

  Shared* const shared_;
  const std::string host_;
  std::unique_ptr<WatchReader> reader_;
  absl::Mutex mu_;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status end_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

int RunWatch(LabHosts& lab, const WatchOptions& options, StopNotice* stop,
             std::ostream& out, std::ostream&) {
  LinePrinter printer(out, lab.name_width());
  Shared shared{&options, &printer, stop};
  std::vector<std::unique_ptr<WatchSession>> sessions(lab.size());
  ForEachBounded(lab.size(), lab.fanout().parallel, [&](size_t i) {
    HostConnection& conn = lab.host(i);
    sessions[i] = std::make_unique<WatchSession>(&shared, conn.name());
    absl::Status s = CallWithRetries(lab.fanout().retry, [&](int) {
      return sessions[i]->Open(conn, lab.rpc_deadline());
    });
    if (!s.ok()) {
      shared.lost = true;
      printer.Host(conn.name(),
                   absl::StrCat("cannot watch: ", CodeName(s.code()), ": ",
                                s.message()));
    }
  });
  const int open = shared.open.load();
  printer.Line(absl::StrCat("watching ", open, " of ", lab.size(),
                            lab.size() == 1 ? " host" : " hosts"));
  if (open == 0) return 1;
  if (!stop->WaitFor(options.duration)) stop->Notify("duration over");
  shared.stopping = true;
  for (auto& session : sessions) session->Cancel();
  for (auto& session : sessions) session->Close();
  return shared.lost ? 1 : 0;
}

}  // namespace xehil::lab
