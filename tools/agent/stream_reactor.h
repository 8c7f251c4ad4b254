// Server-streaming calls on gRPC's callback API, for streams that mostly
// wait: HoldLeases (open as long as the controller holds leases) and
// WatchEvents (open until the client goes away). A callback reactor learns
// at once that its client is gone (OnCancel), without a thread blocked per
// stream and without polling, which is what lets a stream-bound lease be
// released the moment its controller dies.
//
// QueuedWriteReactor<T> writes pushed messages one at a time, in order, and
// finishes the call exactly once: when End() was called and the queue is
// written, or when the client cancels. LiveStreams tracks the reactors alive
// so the agent can end them all at shutdown and wait until gRPC is done
// with them.
//
//   class MyReactor : public QueuedWriteReactor<Update> {
//    public:
//     explicit MyReactor(LiveStreams* live) : QueuedWriteReactor(live) {}
//     void OnStreamCancelled() override { ... }  // client gone: clean up
//     void OnStreamDone() override { ... }       // last call, then deleted
//   };
//   auto* r = new MyReactor(&live);
//   r->Push(first_update);
//   return r;  // from the service's callback method
//
// Thread-safe: Push and End may be called from any thread until
// OnStreamDone; the hooks run on gRPC's threads, without the reactor's lock.
#ifndef XEHIL_TOOLS_AGENT_STREAM_REACTOR_H_
#define XEHIL_TOOLS_AGENT_STREAM_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <deque>
#include <optional>
#include <set>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace xehil::agent {

// What LiveStreams can ask of any live stream.
class EndableStream {
 public:
  virtual ~EndableStream() = default;
  // Finishes the call with `status` once the queued messages are written.
  virtual void End(grpc::Status status) = 0;
};

class LiveStreams {
 public:
  // False once EndAll ran: the new stream should end at once.
  bool Add(EndableStream* stream) {
    absl::MutexLock lock(&mu_);
    if (closed_) return false;
    live_.insert(stream);
    return true;
  }
  void Remove(EndableStream* stream) {
    absl::MutexLock lock(&mu_);
    live_.erase(stream);
  }
  // Ends every live stream and refuses new ones.
  void EndAll(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    for (EndableStream* stream : live_) stream->End(status);
  }
  // Waits until gRPC is done with every stream (their OnDone ran).
  void WaitAllDone() {
    absl::MutexLock lock(&mu_);
    auto all_done = [this] {
      mu_.AssertReaderHeld();
      return live_.empty();
    };
    mu_.Await(absl::Condition(&all_done));
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return live_.size();
  }

 private:
  // Held while EndAll ends streams, so before each stream's own lock.
  mutable absl::Mutex mu_;
  std::set<EndableStream*> live_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

template <typename T>
class QueuedWriteReactor : public grpc::ServerWriteReactor<T>,
                           public EndableStream {
 public:
  // `max_queued`: Push drops messages beyond this many unwritten ones.
  explicit QueuedWriteReactor(LiveStreams* live, size_t max_queued = 4096)
      : live_(live), max_queued_(max_queued) {
    if (!live_->Add(this)) {
      End(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                       "the agent is shutting down"));
    }
  }

  // Queues `message`; false if it was dropped (ending, or queue full).
  bool Push(T message) {
    {
      absl::MutexLock lock(&mu_);
      if (end_.has_value() || finished_) return false;
      if (writing_) {
        if (queue_.size() >= max_queued_) return false;
        queue_.push_back(std::move(message));
        return true;
      }
      writing_ = true;
      current_ = std::move(message);
    }
    this->StartWrite(&current_);
    return true;
  }

  void End(grpc::Status status) override {
    {
      absl::MutexLock lock(&mu_);
      if (end_.has_value() || finished_) return;
      end_ = status;
      if (writing_) return;  // OnWriteDone finishes
      finished_ = true;
    }
    this->Finish(status);
  }

 protected:
  // The client cancelled or went away. Once, on a gRPC thread.
  virtual void OnStreamCancelled() {}
  // The call is over; the reactor is deleted right after. Once.
  virtual void OnStreamDone() {}

 private:
  void OnWriteDone(bool ok) override {
    bool start_next = false;
    std::optional<grpc::Status> finish;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok && !end_.has_value()) {
        end_ = grpc::Status(grpc::StatusCode::CANCELLED, "stream broken");
      }
      if (ok && !queue_.empty()) {  // also drains what was queued before End
        writing_ = true;
        start_next = true;
        current_ = std::move(queue_.front());
        queue_.pop_front();
      } else if (end_.has_value() && !finished_) {
        queue_.clear();
        finished_ = true;
        finish = end_;
      }
    }
    if (start_next) {
      this->StartWrite(&current_);
    } else if (finish.has_value()) {
      this->Finish(*finish);
    }
  }

  void OnCancel() override {
    End(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
    OnStreamCancelled();
  }

  void OnDone() override {
    OnStreamDone();
    live_->Remove(this);
    delete this;
  }

  LiveStreams* const live_;
  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<T> queue_ ABSL_GUARDED_BY(mu_);
  // The message being written: set under mu_ while writing_ is false, then
  // read by gRPC until OnWriteDone.
  T current_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace xehil::agent

#endif  // XEHIL_TOOLS_AGENT_STREAM_REACTOR_H_
