// StreamReader: a server-streaming call read with gRPC's callback API, so
// that holding or watching 64 hosts needs no thread per host. Messages and
// the end of the stream are handed to callbacks, which run on gRPC's
// threads: keep them short and thread-safe.
//
//   StreamReader<WatchEventsRequest, AgentEvent> reader(
//       [&](const AgentEvent& e) { Print(host, e); },
//       [&](const grpc::Status& s) { Dropped(host, s); });
//   conn.Prepare(&reader.context(), absl::InfiniteDuration());
//   reader.Start([&](auto* ctx, auto* req, auto* reactor) {
//     conn.stub().async()->WatchEvents(ctx, req, reactor);
//   }, WatchEventsRequest());
//   ...
//   reader.Cancel();   // ends the call; the agent sees CANCELLED
//   reader.Wait();     // the status OnDone received
//
// The reader must outlive the call: destroy it only after Wait() returned
// (or without ever calling Start).
#ifndef XEHIL_TOOLS_LAB_STREAM_READER_H_
#define XEHIL_TOOLS_LAB_STREAM_READER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace xehil::lab {

template <typename Request, typename Response>
class StreamReader final : public grpc::ClientReadReactor<Response> {
 public:
  using MessageFn = std::function<void(const Response&)>;
  using DoneFn = std::function<void(const grpc::Status&)>;
  using ReadyFn = std::function<void()>;
  using StartFn = std::function<void(grpc::ClientContext*, const Request*,
                                     grpc::ClientReadReactor<Response>*)>;

  // `on_ready` runs when the agent's initial metadata arrives: for
  // WatchEvents, the subscription is in place from then on.
  StreamReader(MessageFn on_message, DoneFn on_done, ReadyFn on_ready = nullptr)
      : on_message_(std::move(on_message)),
        on_done_(std::move(on_done)),
        on_ready_(std::move(on_ready)) {}

  // Set the deadline and metadata here before Start.
  grpc::ClientContext& context() { return context_; }

  // `start` binds the call to this reactor (stub.async()->Method(...)).
  void Start(const StartFn& start, Request request) {
    request_ = std::move(request);
    start(&context_, &request_, this);
    this->StartRead(&message_);
    this->StartCall();
    absl::MutexLock lock(&mu_);
    started_ = true;
  }

  void Cancel() { context_.TryCancel(); }

  // The final status, once the stream ended.
  grpc::Status Wait() {
    absl::MutexLock lock(&mu_);
    auto ended = [this] {
      mu_.AssertReaderHeld();
      return done_ || !started_;
    };
    mu_.Await(absl::Condition(&ended));
    return status_;
  }
  // True once ended, waiting at most `timeout`.
  bool WaitFor(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&done_), timeout);
  }
  bool done() {
    absl::MutexLock lock(&mu_);
    return done_;
  }

  void OnReadInitialMetadataDone(bool ok) override {
    if (ok && on_ready_) on_ready_();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended; OnDone follows
    if (on_message_) on_message_(message_);
    this->StartRead(&message_);
  }

  void OnDone(const grpc::Status& status) override {
    if (on_done_) on_done_(status);
    // Set under the lock: Wait() may destroy this object as soon as it
    // returns.
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

 private:
  const MessageFn on_message_;
  const DoneFn on_done_;
  const ReadyFn on_ready_;
  grpc::ClientContext context_;
  Request request_;
  Response message_;
  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_STREAM_READER_H_
