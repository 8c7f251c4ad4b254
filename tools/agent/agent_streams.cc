// AgentService's callback-API streams: HoldLeases (stream-bound leases)
// and WatchEvents.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tools/agent/agent_service.h"

namespace xehil::agent {
namespace {

// A streaming call refused before it started (auth, shutdown).
template <typename T>
class RefusedStream : public grpc::ServerWriteReactor<T> {
 public:
  explicit RefusedStream(grpc::Status status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

// A HoldLeases stream: its session lives as long as the stream.
class HoldLeasesReactor : public QueuedWriteReactor<lab::HoldLeasesUpdate> {
 public:
  HoldLeasesReactor(LiveStreams* live, LeaseTable* table,
                    const std::string& holder)
      : QueuedWriteReactor(live), table_(table) {
    session_ = table_->OpenSession(
        holder, [this](const std::string& lease_id, LeaseEnd end) {
          lab::HoldLeasesUpdate update;
          update.mutable_lease_ended()->set_lease_id(lease_id);
          update.mutable_lease_ended()->set_reason(LeaseEndName(end));
          Push(std::move(update));
        });
    lab::HoldLeasesUpdate first;
    first.set_session_id(session_);
    Push(std::move(first));
  }

 private:
  // The controller is gone: its bound leases go at once.
  void OnStreamCancelled() override { table_->CloseSession(session_); }
  void OnStreamDone() override { table_->CloseSession(session_); }

  LeaseTable* const table_;
  std::string session_;
};

class WatchEventsReactor : public QueuedWriteReactor<lab::AgentEvent> {
 public:
  WatchEventsReactor(LiveStreams* live, EventHub* hub)
      : QueuedWriteReactor(live), hub_(hub) {
    // Still inside the method handler, so gRPC sends this only once the
    // constructor is done: a client whose WaitForInitialMetadata returned
    // knows the subscription below is in place.
    StartSendInitialMetadata();
    id_ = hub_->Subscribe(
        [this](const lab::AgentEvent& event) { Deliver(event); },
        [this] {
          End(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                           "the agent is shutting down"));
        });
    if (id_ == 0) {
      End(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                       "the agent is shutting down"));
    }
  }

 private:
  // Under the hub's lock. A client too slow to keep up loses events; it is
  // told how many with a LOST event once it catches up.
  void Deliver(const lab::AgentEvent& event) {
    if (dropped_ > 0) {
      lab::AgentEvent lost;
      lost.set_unix_us(absl::ToUnixMicros(absl::Now()));
      lost.set_type(EVENT_TYPE_LOST);
      lost.set_text(absl::StrCat(
          dropped_, " events dropped: the client read too slowly"));
      if (!Push(std::move(lost))) {
        ++dropped_;
        return;
      }
      dropped_ = 0;
    }
    if (!Push(event)) ++dropped_;
  }
  void OnStreamCancelled() override { hub_->Unsubscribe(id_); }
  void OnStreamDone() override { hub_->Unsubscribe(id_); }

  EventHub* const hub_;
  uint64_t id_ = 0;
  uint64_t dropped_ = 0;  // under the hub's lock
};

}  // namespace

grpc::ServerWriteReactor<lab::HoldLeasesUpdate>* AgentService::HoldLeases(
    grpc::CallbackServerContext* context,
    const lab::HoldLeasesRequest* request) {
  absl::StatusOr<Caller> caller = auth_.Check(*context, Access::kAdmin);
  if (!caller.ok()) {
    return new RefusedStream<lab::HoldLeasesUpdate>(
        ToGrpcStatus(caller.status()));
  }
  if (shutting_down_) {
    return new RefusedStream<lab::HoldLeasesUpdate>(grpc::Status(
        grpc::StatusCode::UNAVAILABLE, "the agent is shutting down"));
  }
  std::string holder = caller->identity;
  if (!request->note().empty()) absl::StrAppend(&holder, " ", request->note());
  return new HoldLeasesReactor(&streams_, &leases_, holder);
}

grpc::ServerWriteReactor<lab::AgentEvent>* AgentService::WatchEvents(
    grpc::CallbackServerContext* context, const lab::WatchEventsRequest*) {
  absl::StatusOr<Caller> caller = auth_.Check(*context, Access::kRead);
  if (!caller.ok()) {
    return new RefusedStream<lab::AgentEvent>(ToGrpcStatus(caller.status()));
  }
  return new WatchEventsReactor(&streams_, &events_);
}

}  // namespace xehil::agent
