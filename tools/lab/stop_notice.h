// StopNotice: "time to stop" for commands that run until told (pressure
// --hold, watch). Anyone may notify it (a signal, a count reached, every
// stream gone); the command's thread waits on it with an optional limit.
//
// SignalThread turns SIGINT/SIGTERM into a notification. It must be created
// before any other thread (gRPC's included), because it blocks those
// signals in the creating thread so that every later thread inherits the
// mask and only its own sigwait() sees them. Its destructor stops and joins
// it.
//
//   StopNotice stop;
//   SignalThread signals(&stop);      // first thing in the command
//   ... start streams whose end calls stop.Notify("streams ended") ...
//   stop.WaitFor(absl::Seconds(30));  // false: the 30 s passed
//   std::cout << "stopping: " << stop.reason() << "\n";
#ifndef XEHIL_TOOLS_LAB_STOP_NOTICE_H_
#define XEHIL_TOOLS_LAB_STOP_NOTICE_H_

#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace xehil::lab {

class StopNotice {
 public:
  // The first reason wins; later notifications change nothing.
  void Notify(const std::string& reason);
  // True once notified; waits at most `timeout` (InfiniteDuration: forever).
  bool WaitFor(absl::Duration timeout);
  bool notified() const;
  std::string reason() const;

 private:
  mutable absl::Mutex mu_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
  std::string reason_ ABSL_GUARDED_BY(mu_);
};

class SignalThread {
 public:
  explicit SignalThread(StopNotice* stop);
  ~SignalThread();
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;

 private:
  std::thread thread_;
};

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_STOP_NOTICE_H_
