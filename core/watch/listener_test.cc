#include "core/watch/listener.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/base/errno_status.h"
#include "core/watch/record_decoder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

// Upper bound for waits that should finish at once; only a bug reaches it.
constexpr absl::Duration kPatience = absl::Seconds(20);

using Bytes = std::vector<uint8_t>;

// Collects delivered events; tests wait on it instead of sleeping.
class Sink {
 public:
  Listener::Callback callback() {
    return [this](const WatchEvent& e) {
      absl::MutexLock lock(&mu_);
      if (events_.empty()) tid_ = static_cast<pid_t>(::syscall(SYS_gettid));
      events_.push_back(e);
    };
  }
  bool WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&] {
      mu_.AssertReaderHeld();
      return events_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), kPatience);
  }
  std::vector<WatchEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  pid_t tid() {
    absl::MutexLock lock(&mu_);
    return tid_;
  }

 private:
  absl::Mutex mu_;
  std::vector<WatchEvent> events_ ABSL_GUARDED_BY(mu_);
  pid_t tid_ ABSL_GUARDED_BY(mu_) = 0;
};

// An ordinary pipe carrying kernel-identical records. With `listener_writes`
// the listener gets its own write end (as with a real notification pipe) and
// `writer` is a dup; without, `writer` is the only writer, so closing it
// means EOF.
struct TestPipe {
  NotificationPipe pipe;
  UniqueFd writer;
};

TestPipe MakePipe(bool listener_writes) {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  TestPipe t;
  t.pipe.read_end.reset(fds[0]);
  if (listener_writes) {
    t.pipe.write_end.reset(fds[1]);
    t.writer.reset(::fcntl(fds[1], F_DUPFD_CLOEXEC, 0));
  } else {
    t.writer.reset(fds[1]);
  }
  return t;
}

void WriteAll(int fd, const Bytes& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ASSERT_GT(n, 0) << DescribeErrno(errno);
    done += static_cast<size_t>(n);
  }
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

size_t CountEntries(const char* dir) {
  size_t n = 0;
  DIR* d = ::opendir(dir);
  if (d == nullptr) return 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

// Our fds, not counting the one opendir() uses while listing.
size_t CountFds() { return CountEntries("/proc/self/fd") - 1; }

// A joined thread has finished but the kernel may unlist it a moment later;
// give it a bounded number of yields to do so.
size_t CountThreadsSettled(size_t expected) {
  size_t n = CountEntries("/proc/self/task");
  for (int i = 0; i < 100000 && n != expected; ++i) {
    sched_yield();
    n = CountEntries("/proc/self/task");
  }
  return n;
}

// True once thread `tid` sleeps inside poll()/ppoll(); false if it is gone.
// Watches the kernel's view of the thread instead of guessing with a sleep.
bool WaitUntilBlockedInPoll(pid_t tid) {
  const std::string path = absl::StrCat("/proc/self/task/", tid, "/syscall");
  const absl::Time deadline = absl::Now() + kPatience;
  while (absl::Now() < deadline) {
    std::ifstream in(path);
    if (!in) return false;
    std::string nr;
    in >> nr;
    if (nr == std::to_string(SYS_poll) || nr == std::to_string(SYS_ppoll)) {
      return true;
    }
    sched_yield();
  }
  return false;
}

TEST(Listener, DeliversEventsInOrderFromAPipe) {
  TestPipe t = MakePipe(/*listener_writes=*/true);
  Sink sink;
  auto listener = Listener::Start(std::move(t.pipe), sink.callback());
  ASSERT_TRUE(listener.ok()) << listener.status();
  WriteAll(t.writer.get(),
           Concat({EncodeVmErr(1, -ENOMEM, 100, 2), EncodeLoss(),
                   EncodeVmErr(2, -ENOSPC, 200)}));
  ASSERT_TRUE(sink.WaitFor(3));
  std::vector<WatchEvent> events = sink.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(DescribeEvent(events[0]),
            "VM_ERR vm=1 error=-ENOMEM ts=100 watch=2");
  EXPECT_EQ(DescribeEvent(events[1]), "LOST");
  EXPECT_EQ(DescribeEvent(events[2]),
            "VM_ERR vm=2 error=-ENOSPC ts=200 watch=0");
  Listener::Stats stats = (*listener)->stats();
  EXPECT_EQ(stats.bytes, 56u);
  EXPECT_EQ(stats.records, 3u);
  EXPECT_EQ(stats.vm_errors, 2u);
  EXPECT_EQ(stats.losses, 1u);
  (*listener)->Stop();
  EXPECT_EQ((*listener)->end_reason(), Listener::EndReason::kStopped);
  EXPECT_TRUE((*listener)->end_status().ok());
}

TEST(Listener, StartStopLeavesNoFdsOrThreads) {
  const size_t fds_before = CountFds();
  const size_t threads_before = CountEntries("/proc/self/task");
  {
    TestPipe t = MakePipe(/*listener_writes=*/true);
    Sink sink;
    auto listener = Listener::Start(std::move(t.pipe), sink.callback());
    ASSERT_TRUE(listener.ok()) << listener.status();
    EXPECT_EQ(CountEntries("/proc/self/task"), threads_before + 1);
    WriteAll(t.writer.get(), EncodeLoss());
    ASSERT_TRUE(sink.WaitFor(1));
    t.writer.reset();
    (*listener)->Stop();
    EXPECT_EQ(CountFds(), fds_before);  // before the Listener is destroyed
    EXPECT_EQ(CountThreadsSettled(threads_before), threads_before);
  }
  // The destructor alone stops it too.
  {
    TestPipe t = MakePipe(/*listener_writes=*/true);
    Sink sink;
    auto listener = Listener::Start(std::move(t.pipe), sink.callback());
    ASSERT_TRUE(listener.ok()) << listener.status();
  }
  EXPECT_EQ(CountFds(), fds_before);
  EXPECT_EQ(CountThreadsSettled(threads_before), threads_before);
}

TEST(Listener, StopsPromptlyWhileBlockedInPoll) {
  TestPipe t = MakePipe(/*listener_writes=*/true);
  Sink sink;
  auto listener = Listener::Start(std::move(t.pipe), sink.callback());
  ASSERT_TRUE(listener.ok()) << listener.status();
  WriteAll(t.writer.get(), EncodeLoss());
  ASSERT_TRUE(sink.WaitFor(1));
  ASSERT_TRUE(WaitUntilBlockedInPoll(sink.tid()));
  EXPECT_FALSE((*listener)->WaitForEnd(absl::ZeroDuration()));

  const absl::Time start = absl::Now();
  (*listener)->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ((*listener)->end_reason(), Listener::EndReason::kStopped);
  EXPECT_TRUE((*listener)->WaitForEnd(absl::ZeroDuration()));
  (*listener)->Stop();  // idempotent
}

TEST(Listener, EndsAtEofAfterDrainingBufferedRecords) {
  TestPipe t = MakePipe(/*listener_writes=*/false);
  WriteAll(t.writer.get(), Concat({EncodeVmErr(1, -ENOMEM, 1), EncodeLoss(),
                                   EncodeVmErr(2, -ENOMEM, 2)}));
  t.writer.reset();  // EOF is already pending when the listener starts
  Sink sink;
  auto listener = Listener::Start(std::move(t.pipe), sink.callback());
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_TRUE((*listener)->WaitForEnd(kPatience));
  EXPECT_EQ((*listener)->end_reason(), Listener::EndReason::kEof);
  EXPECT_TRUE((*listener)->end_status().ok());
  EXPECT_EQ(sink.events().size(), 3u);
  EXPECT_EQ((*listener)->stats().reads, 2u);  // the data, then EOF
}

TEST(Listener, HangupDoesNotSpin) {
  TestPipe t = MakePipe(/*listener_writes=*/false);
  Sink sink;
  auto listener = Listener::Start(std::move(t.pipe), sink.callback());
  ASSERT_TRUE(listener.ok()) << listener.status();
  WriteAll(t.writer.get(), EncodeVmErr(1, -ENOMEM, 1));
  ASSERT_TRUE(sink.WaitFor(1));
  const uint64_t reads_before = (*listener)->stats().reads;
  t.writer.reset();  // POLLHUP from now on
  (*listener)->WaitForEnd();
  EXPECT_EQ((*listener)->end_reason(), Listener::EndReason::kEof);
  // Exactly one more read, the one that saw EOF, and the thread is gone.
  EXPECT_EQ((*listener)->stats().reads, reads_before + 1);
  EXPECT_FALSE(WaitUntilBlockedInPoll(sink.tid()));
  (*listener)->Stop();
  EXPECT_EQ((*listener)->stats().reads, reads_before + 1);
}

TEST(Listener, KeepsItsWriteEndOpenSoOtherWritersClosingIsNotEof) {
  TestPipe t = MakePipe(/*listener_writes=*/true);
  const int listener_write_fd = t.pipe.write_end.get();
  Sink sink;
  auto listener = Listener::Start(std::move(t.pipe), sink.callback());
  ASSERT_TRUE(listener.ok()) << listener.status();
  WriteAll(t.writer.get(), EncodeLoss());
  ASSERT_TRUE(sink.WaitFor(1));
  t.writer.reset();  // ours was the only other writer

  // Like the kernel, write without holding a write end of our own: reopen the
  // listener's through /proc, write, close at once.
  UniqueFd again(
      ::open(absl::StrCat("/proc/self/fd/", listener_write_fd).c_str(),
             O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(again.valid()) << DescribeErrno(errno);
  WriteAll(again.get(), EncodeVmErr(4, -ENOSPC, 4));
  again.reset();
  ASSERT_TRUE(sink.WaitFor(2));
  ASSERT_TRUE(WaitUntilBlockedInPoll(sink.tid()));
  EXPECT_EQ((*listener)->end_reason(), Listener::EndReason::kRunning);
}

TEST(Listener, RemovalEndsTheStreamAfterItIsDelivered) {
  TestPipe t = MakePipe(/*listener_writes=*/true);
  Sink sink;
  auto listener = Listener::Start(std::move(t.pipe), sink.callback());
  ASSERT_TRUE(listener.ok()) << listener.status();
  WriteAll(t.writer.get(), Concat({EncodeVmErr(1, -ENOMEM, 1), EncodeRemoval(3),
                                   EncodeVmErr(2, -ENOMEM, 2)}));
  ASSERT_TRUE((*listener)->WaitForEnd(kPatience));
  EXPECT_EQ((*listener)->end_reason(), Listener::EndReason::kRemoved);
  EXPECT_TRUE((*listener)->end_status().ok());
  std::vector<WatchEvent> events = sink.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(DescribeEvent(events[1]), "REMOVED watch=3");
  EXPECT_EQ((*listener)->stats().removals, 1u);
}

TEST(Listener, RemovalDoesNotEndTheStreamWhenDisabled) {
  TestPipe t = MakePipe(/*listener_writes=*/true);
  Sink sink;
  Listener::Options options;
  options.end_on_removal = false;
  auto listener = Listener::Start(std::move(t.pipe), sink.callback(), options);
  ASSERT_TRUE(listener.ok()) << listener.status();
  WriteAll(t.writer.get(),
           Concat({EncodeRemoval(3, 9), EncodeVmErr(2, -ENOMEM, 2)}));
  ASSERT_TRUE(sink.WaitFor(2));
  EXPECT_EQ((*listener)->end_reason(), Listener::EndReason::kRunning);
  EXPECT_EQ(DescribeEvent(sink.events()[0]), "REMOVED watch=3 id=9");
}

TEST(Listener, DeliversALargeBurstCompletelyAndInOrder) {
  constexpr uint32_t kRecords = 10000;
  TestPipe t = MakePipe(/*listener_writes=*/false);
  Sink sink;
  Listener::Options options;
  options.read_size = Listener::kMinReadSize + 5;  // reads split records
  auto listener = Listener::Start(std::move(t.pipe), sink.callback(), options);
  ASSERT_TRUE(listener.ok()) << listener.status();

  Bytes stream;
  for (uint32_t i = 0; i < kRecords; ++i) {
    Bytes r = EncodeVmErr(i, -ENOMEM, i * 10ull, static_cast<uint8_t>(i));
    stream.insert(stream.end(), r.begin(), r.end());
  }
  // Far more than a pipe holds: write from another thread, in odd chunks.
  std::thread writer([&] {
    for (size_t pos = 0; pos < stream.size(); pos += 1000) {
      size_t end = std::min(stream.size(), pos + 1000);
      WriteAll(t.writer.get(), Bytes(stream.data() + pos, stream.data() + end));
    }
    t.writer.reset();
  });
  writer.join();
  ASSERT_TRUE((*listener)->WaitForEnd(kPatience));
  EXPECT_EQ((*listener)->end_reason(), Listener::EndReason::kEof);

  std::vector<WatchEvent> events = sink.events();
  ASSERT_EQ(events.size(), kRecords);
  for (uint32_t i = 0; i < kRecords; ++i) {
    const VmError& e = std::get<VmError>(events[i]);
    ASSERT_EQ(e.vm_id, i);
    ASSERT_EQ(e.timestamp_ns, i * 10ull);
    ASSERT_EQ(e.watch_id, static_cast<uint8_t>(i));
  }
  Listener::Stats stats = (*listener)->stats();
  EXPECT_EQ(stats.bytes, stream.size());
  EXPECT_EQ(stats.records, kRecords);
  EXPECT_EQ(stats.vm_errors, kRecords);
  EXPECT_EQ(stats.malformed, 0u);
}

TEST(Listener, OnReadSeesTheRawBytesBeforeTheEvents) {
  TestPipe t = MakePipe(/*listener_writes=*/false);
  const Bytes stream =
      Concat({EncodeVmErr(1, -ENOMEM, 1), EncodeRemoval(2, 8)});
  WriteAll(t.writer.get(), stream);
  t.writer.reset();
  Bytes raw;  // written on the listener thread, read after it has ended
  Sink sink;
  Listener::Options options;
  options.end_on_removal = false;
  options.on_read = [&](absl::Span<const uint8_t> bytes) {
    EXPECT_TRUE(sink.events().empty() || raw.size() == stream.size());
    raw.insert(raw.end(), bytes.begin(), bytes.end());
  };
  auto listener = Listener::Start(std::move(t.pipe), sink.callback(), options);
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_TRUE((*listener)->WaitForEnd(kPatience));
  (*listener)->Stop();
  EXPECT_EQ(raw, stream);
  EXPECT_EQ(sink.events().size(), 2u);
}

TEST(Listener, CountsMalformedAndUnknownRecords) {
  TestPipe t = MakePipe(/*listener_writes=*/false);
  Bytes bad_length = EncodeLoss();
  bad_length[4] = 3;
  Bytes unknown = EncodeRemoval(1);
  unknown[0] = 9;  // type 9
  Bytes truncated = EncodeVmErr(7, -ENOMEM, 7);
  truncated.resize(10);  // cut by EOF
  WriteAll(t.writer.get(), Concat({bad_length, unknown, truncated}));
  t.writer.reset();
  Sink sink;
  auto listener = Listener::Start(std::move(t.pipe), sink.callback());
  ASSERT_TRUE(listener.ok()) << listener.status();
  (*listener)->WaitForEnd();
  Listener::Stats stats = (*listener)->stats();
  EXPECT_EQ(stats.malformed, 2u);
  EXPECT_EQ(stats.unknowns, 1u);
  ASSERT_EQ(sink.events().size(), 1u);
  EXPECT_EQ(DescribeEvent(sink.events()[0]),
            "UNKNOWN type=9 subtype=0 watch=1 len=8");
}

TEST(Listener, ReadErrorEndsTheStreamWithItsErrno) {
  NotificationPipe pipe;
  // poll() calls a directory readable; read() then fails with EISDIR.
  pipe.read_end.reset(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(pipe.read_end.valid());
  Sink sink;
  auto listener = Listener::Start(std::move(pipe), sink.callback());
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_TRUE((*listener)->WaitForEnd(kPatience));
  EXPECT_EQ((*listener)->end_reason(), Listener::EndReason::kError);
  EXPECT_EQ(StatusErrno((*listener)->end_status()), -EISDIR);
  EXPECT_THAT((*listener)->end_status().message(),
              testing::HasSubstr("EISDIR"));
}

TEST(Listener, StartRejectsBadArguments) {
  Sink sink;
  EXPECT_EQ(
      Listener::Start(NotificationPipe{}, sink.callback()).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Listener::Start(MakePipe(true).pipe, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  Listener::Options small;
  small.read_size = Listener::kMinReadSize - 1;
  EXPECT_EQ(Listener::Start(MakePipe(true).pipe, sink.callback(), small)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Listener, StopFromTheCallbackEndsTheStream) {
  TestPipe t = MakePipe(/*listener_writes=*/true);
  std::atomic<Listener*> self{nullptr};
  std::atomic<int> calls{0};
  auto listener = Listener::Start(std::move(t.pipe), [&](const WatchEvent&) {
    ++calls;
    self.load()->Stop();
  });
  ASSERT_TRUE(listener.ok()) << listener.status();
  self = listener->get();
  WriteAll(t.writer.get(), Concat({EncodeLoss(), EncodeLoss(), EncodeLoss()}));
  ASSERT_TRUE((*listener)->WaitForEnd(kPatience));
  EXPECT_EQ((*listener)->end_reason(), Listener::EndReason::kStopped);
  EXPECT_EQ(calls.load(), 1);  // the rest of the batch is dropped
  (*listener)->Stop();
  (*listener)->Stop();
}

TEST(Listener, WaitForEndTimesOutWhileTheStreamRuns) {
  TestPipe t = MakePipe(/*listener_writes=*/true);
  Sink sink;
  auto listener = Listener::Start(std::move(t.pipe), sink.callback());
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_FALSE((*listener)->WaitForEnd(absl::Milliseconds(20)));
  EXPECT_FALSE((*listener)->WaitForEnd(-absl::Seconds(1)));
  (*listener)->Stop();
  EXPECT_TRUE((*listener)->WaitForEnd(absl::InfiniteDuration()));
}

}  // namespace
}  // namespace xehil
