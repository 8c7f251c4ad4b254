// Conformance cases for DRM_IOCTL_XE_WATCH_QUEUE's subscription rules, the
// records a notification pipe carries (VM_ERR layout, watch ids, filters,
// loss, removal) and what a reader sees around them (poll, FIONREAD,
// ENOBUFS, EOF), as uapi.md states the kernel's behaviour.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/backend/conformance/conformance.h"
#include "core/base/monotonic_clock.h"

namespace xehil::conformance {
namespace {

TEST_P(BackendConformance, WatchQueueFieldValidationIsEinval) {
  NotificationPipe pipe = OpenPipe(file());
  drm_xe_watch_queue arg{};
  arg.fd = static_cast<uint32_t>(pipe.read_end.get());
  arg.flags = 1;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_WATCH_QUEUE, &arg), -EINVAL);
  arg.flags = 0;
  arg.pad = 1;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_WATCH_QUEUE, &arg), -EINVAL);
  arg.pad = 0;
  arg.watch_id = 256;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_WATCH_QUEUE, &arg), -EINVAL);
  arg.watch_id = 255;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_WATCH_QUEUE, &arg), 0);
}

TEST_P(BackendConformance, WatchQueueOfAnFdThatIsNotANotificationPipeIsEinval) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_EQ(Watch(file(), fds[0], 1), -EINVAL) << "an ordinary pipe";
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(Watch(file(), fds[0], 1), -EINVAL) << "a closed descriptor";
  EXPECT_EQ(Watch(file(), -1, 1), -EINVAL);
  EXPECT_EQ(Watch(file(), STDIN_FILENO, 1), -EINVAL);
}

TEST_P(BackendConformance,
       SamePipeTwiceOnOneFileIsEbusyButAnotherFileMayWatch) {
  NotificationPipe pipe = OpenPipe(file());
  ASSERT_EQ(Watch(file(), pipe.read_end.get(), 1), 0);
  EXPECT_EQ(Watch(file(), pipe.read_end.get(), 1), -EBUSY);
  EXPECT_EQ(Watch(file(), pipe.read_end.get(), 2), -EBUSY)
      << "another watch id does not make it another watch";
  EXPECT_EQ(Watch(file(), pipe.write_end.get(), 2), -EBUSY)
      << "either end names the pipe";
  OpenedFile other = OpenAnother();
  ASSERT_NE(other.backend, nullptr);
  EXPECT_EQ(Watch(*other.backend, pipe.read_end.get(), 2), 0);
  NotificationPipe second = OpenPipe(file());
  EXPECT_EQ(Watch(file(), second.read_end.get(), 1), 0)
      << "another pipe may reuse a watch id";
}

TEST_P(BackendConformance, BadRingSizeIsInvalidArgument) {
  NotificationPipeOptions options;
  options.ring_notes = 513;
  EXPECT_EQ(file().OpenNotificationPipe(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.ring_notes = 0;
  EXPECT_EQ(file().OpenNotificationPipe(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(BackendConformance, VmErrRecordHasTheExactLayoutAndWatchId) {
  XEHIL_CONFORMANCE_NEEDS_FAULTS();
  NotificationPipe pipe = OpenPipe(file());
  ASSERT_EQ(Watch(file(), pipe.read_end.get(), 7), 0);
  uint32_t vm = VmWithBo(file(), kRestartable);
  const uint64_t before = MonotonicNowNs();
  FailRebind(file_, vm, -ENOSPC);
  int rc = 0;
  std::vector<uint8_t> bytes = ReadOnce(pipe, &rc);
  const uint64_t after = MonotonicNowNs();
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(bytes.size(), 24u);
  // type 2 (DRM_XE_NOTIFY) : 24, subtype 0 (VM_ERR) : 8, info 24 | 7 << 8.
  const std::vector<uint8_t> head = {2, 0, 0, 0, 24, 7, 0, 0};
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 8), head);
  Record record = ParseRecords(bytes).at(0);
  EXPECT_TRUE(record.is_vm_err());
  EXPECT_EQ(record.info, 24u | (7u << 8));
  EXPECT_EQ(record.vm_id(), vm);
  EXPECT_EQ(record.error(), -ENOSPC);
  EXPECT_GE(record.timestamp(), before);
  EXPECT_LE(record.timestamp(), after);
}

TEST_P(BackendConformance, RecordsReachOnlyTheOwningFilesWatches) {
  XEHIL_CONFORMANCE_NEEDS_FAULTS();
  OpenedFile other = OpenAnother();
  ASSERT_NE(other.backend, nullptr);
  NotificationPipe mine = OpenPipe(file());
  NotificationPipe mine_too = OpenPipe(file());
  NotificationPipe theirs = OpenPipe(*other.backend);
  ASSERT_EQ(Watch(file(), mine.read_end.get(), 1), 0);
  ASSERT_EQ(Watch(file(), mine_too.read_end.get(), 2), 0);
  ASSERT_EQ(Watch(*other.backend, theirs.read_end.get(), 3), 0);
  uint32_t vm = VmWithBo(file(), kRestartable);
  uint32_t other_vm = VmWithBo(*other.backend, kRestartable);
  FailRebind(file_, vm, -ENOMEM);
  // The other file's own failure comes after ours: once it arrives, ours
  // had every chance to reach the other file's pipe too.
  FailRebind(other, other_vm, -ENOSPC);
  int rc = 0;
  std::vector<Record> first = ParseRecords(ReadOnce(mine, &rc));
  std::vector<Record> second = ParseRecords(ReadOnce(mine_too, &rc));
  std::vector<Record> third = ParseRecords(ReadOnce(theirs, &rc));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(first[0].watch_id(), 1u);
  EXPECT_EQ(second[0].watch_id(), 2u);
  EXPECT_EQ(first[0].error(), -ENOMEM);
  EXPECT_EQ(second[0].bytes.size(), first[0].bytes.size());
  EXPECT_EQ(third[0].watch_id(), 3u);
  EXPECT_EQ(third[0].vm_id(), other_vm);
  EXPECT_EQ(third[0].error(), -ENOSPC);
}

// 40 failures into a 32-note ring: the oldest 32 are read, then the loss
// record the kernel makes up in the next read().
TEST_P(BackendConformance, RingOverflowGivesTheKernelsLossSequence) {
  XEHIL_CONFORMANCE_NEEDS_FAULTS();
  constexpr int kVms = 40;
  NotificationPipe pipe = OpenPipe(file(), 1);  // rounded up to 32 notes
  ASSERT_EQ(Watch(file(), pipe.read_end.get(), 1), 0);
  OpenedFile sentinel = OpenAnother();
  ASSERT_NE(sentinel.backend, nullptr);
  NotificationPipe sentinel_pipe = OpenPipe(*sentinel.backend);
  ASSERT_EQ(Watch(*sentinel.backend, sentinel_pipe.read_end.get(), 1), 0);
  std::vector<uint32_t> vms;
  for (int i = 0; i < kVms; ++i) vms.push_back(VmWithBo(file(), kRestartable));
  uint32_t sentinel_vm = VmWithBo(*sentinel.backend, kRestartable);
  FaultInjector& faults = *env_->Faults();
  for (uint32_t vm : vms) {
    ASSERT_TRUE(faults.FailNextRebinds(file_.client_id, vm, 1, -ENOMEM).ok());
    ASSERT_TRUE(faults.TriggerRebind(file_.client_id, vm).ok());
  }
  // The worker runs in order: the sentinel's record comes after all 40.
  FailRebind(sentinel, sentinel_vm, -ENOMEM);
  int rc = 0;
  ASSERT_EQ(ParseRecords(ReadOnce(sentinel_pipe, &rc)).size(), 1u);

  std::vector<uint8_t> first = ReadOnce(pipe, &rc);
  ASSERT_EQ(rc, 0);
  std::vector<Record> records = ParseRecords(first);
  ASSERT_EQ(records.size(), 32u) << "exactly the oldest 32, no loss yet";
  for (int i = 0; i < 32; ++i) {
    EXPECT_TRUE(records[i].is_vm_err()) << i;
    EXPECT_EQ(records[i].vm_id(), vms[i]) << i;
  }
  EXPECT_EQ(PollNow(pipe), 0) << "the owed loss record does not poll";
  EXPECT_EQ(NotificationBytesQueued(pipe), 0) << "FIONREAD counts records";
  uint8_t small[4];
  EXPECT_EQ(ReadNotificationPipe(pipe, small, sizeof(small)), -ENOBUFS);
  std::vector<uint8_t> rest = ReadQueued(pipe);
  std::vector<Record> loss = ParseRecords(rest);
  ASSERT_EQ(loss.size(), 1u) << "8 drops collapse into one loss record";
  EXPECT_TRUE(loss[0].is_loss());
  EXPECT_EQ(rest.size(), 8u);
  uint8_t byte;
  EXPECT_EQ(ReadNotificationPipe(pipe, &byte, 1), -EAGAIN);
}

TEST_P(BackendConformance,
       FilterPassesOnlyMatchingRecordsButMetaRecordsBypass) {
  XEHIL_CONFORMANCE_NEEDS_FAULTS();
  // Only watch id 5 passes: the filter matches info's watch-id bits.
  watch_notification_type_filter by_id{};
  by_id.type = WATCH_TYPE_DRM_XE_NOTIFY;
  by_id.subtype_filter[0] = 1u << DRM_XE_WATCH_EVENT_VM_ERR;
  by_id.info_mask = WATCH_INFO_ID;
  by_id.info_filter = 5u << 8;
  // Only key notifications: every xe record is refused.
  watch_notification_type_filter keys_only{};
  keys_only.type = WATCH_TYPE_KEY_NOTIFY;
  keys_only.subtype_filter[0] = ~0u;
  NotificationPipeOptions options;
  options.ring_notes = 32;
  options.filter = std::vector<watch_notification_type_filter>{by_id};
  absl::StatusOr<NotificationPipe> five = file().OpenNotificationPipe(options);
  absl::StatusOr<NotificationPipe> six = file().OpenNotificationPipe(options);
  options.filter = std::vector<watch_notification_type_filter>{keys_only};
  absl::StatusOr<NotificationPipe> keys = file().OpenNotificationPipe(options);
  ASSERT_TRUE(five.ok() && six.ok() && keys.ok());
  NotificationPipe open = OpenPipe(file());
  ASSERT_EQ(Watch(file(), five->read_end.get(), 5), 0);
  ASSERT_EQ(Watch(file(), six->read_end.get(), 6), 0);
  ASSERT_EQ(Watch(file(), keys->read_end.get(), 7), 0);
  ASSERT_EQ(Watch(file(), open.read_end.get(), 8), 0);
  uint32_t vm = VmWithBo(file(), kRestartable);
  FailRebind(file_, vm, -ENOSPC);
  int rc = 0;
  ASSERT_EQ(ParseRecords(ReadOnce(open, &rc)).size(), 1u);
  std::vector<Record> passed = ParseRecords(ReadOnce(*five, &rc));
  ASSERT_EQ(passed.size(), 1u);
  EXPECT_EQ(passed[0].watch_id(), 5u);
  EXPECT_TRUE(ReadQueued(*six).empty()) << "watch id 6 is filtered out";
  EXPECT_TRUE(ReadQueued(*keys).empty()) << "xe records are filtered out";

  file_.backend.reset();  // removal records are meta: never filtered
  for (NotificationPipe* pipe : {&*six, &*keys}) {
    std::vector<Record> removal = ParseRecords(ReadOnce(*pipe, &rc));
    ASSERT_EQ(removal.size(), 1u);
    EXPECT_TRUE(removal[0].is_removal());
  }
}

TEST_P(BackendConformance, ReleasingAFilePostsARemovalRecordToEachWatch) {
  NotificationPipe pipe = OpenPipe(file());
  NotificationPipe second = OpenPipe(file());
  ASSERT_EQ(Watch(file(), pipe.read_end.get(), 5), 0);
  ASSERT_EQ(Watch(file(), second.read_end.get(), 6), 0);
  uint32_t vm = VmWithBo(file(), kRestartable);
  (void)vm;
  file_.backend.reset();
  int rc = 0;
  // type 0 (META), subtype 0 (REMOVAL), info 8 | id << 8.
  const std::vector<uint8_t> removal5 = {0, 0, 0, 0, 8, 5, 0, 0};
  const std::vector<uint8_t> removal6 = {0, 0, 0, 0, 8, 6, 0, 0};
  EXPECT_EQ(ReadOnce(pipe, &rc), removal5);
  EXPECT_EQ(ReadOnce(second, &rc), removal6);
  // A removal is not EOF: the user's write end is still open.
  EXPECT_EQ(PollNow(pipe), 0);
  pipe.write_end.reset();
  EXPECT_TRUE(PollNow(pipe) & POLLHUP);
  uint8_t byte;
  EXPECT_EQ(ReadNotificationPipe(pipe, &byte, 1), 0);
}

TEST_P(BackendConformance, RecordTooBigForTheBufferIsEnobufsAndStaysQueued) {
  NotificationPipe pipe = OpenPipe(file());
  ASSERT_EQ(Watch(file(), pipe.read_end.get(), 9), 0);
  file_.backend.reset();
  pollfd pfd{pipe.read_end.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 10000), 1);
  EXPECT_EQ(NotificationBytesQueued(pipe), 8);
  uint8_t small[4];
  EXPECT_EQ(ReadNotificationPipe(pipe, small, sizeof(small)), -ENOBUFS);
  int rc = 0;
  const std::vector<uint8_t> removal = {0, 0, 0, 0, 8, 9, 0, 0};
  EXPECT_EQ(ReadOnce(pipe, &rc), removal);
}

// The kernel is not a writer: with the user's write end closed an empty pipe
// reads EOF although the watch stays, and a later record still arrives.
TEST_P(BackendConformance, EofIsNotFinalWhileTheWatchStays) {
  XEHIL_CONFORMANCE_NEEDS_FAULTS();
  NotificationPipe pipe = OpenPipe(file());
  ASSERT_EQ(Watch(file(), pipe.read_end.get(), 4), 0);
  uint32_t vm = VmWithBo(file(), kRestartable);
  EXPECT_TRUE(ReadQueued(pipe).empty());  // and the read end is non-blocking
  pipe.write_end.reset();
  EXPECT_EQ(PollNow(pipe), POLLHUP);
  uint8_t byte;
  EXPECT_EQ(ReadNotificationPipe(pipe, &byte, 1), 0);
  FailRebind(file_, vm, -ENOMEM);
  int rc = 0;
  std::vector<Record> records = ParseRecords(ReadOnce(pipe, &rc));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].vm_id(), vm);
  EXPECT_EQ(ReadNotificationPipe(pipe, &byte, 1), 0) << "EOF again";
}

TEST_P(BackendConformance, DroppedRecordsNeverArriveButTheVmPausesAllTheSame) {
  XEHIL_CONFORMANCE_NEEDS_FAULTS();
  NotificationPipe pipe = OpenPipe(file());
  ASSERT_EQ(Watch(file(), pipe.read_end.get(), 1), 0);
  uint32_t dropped = VmWithBo(file(), kRestartable);
  uint32_t delivered = VmWithBo(file(), kRestartable);
  ASSERT_TRUE(env_->Faults()->DropNextRecords(file_.client_id, 1).ok());
  FailRebind(file_, dropped, -ENOSPC);
  FailRebind(file_, delivered, -ENOMEM);
  int rc = 0;
  std::vector<Record> records = ParseRecords(ReadOnce(pipe, &rc));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].vm_id(), delivered);
  EXPECT_EQ(records[0].error(), -ENOMEM);
  EXPECT_EQ(Restart(file(), dropped), 0) << "paused although unheard of";
}

TEST_P(BackendConformance, ReleasingAFileDestroysItsVms) {
  VmObserver* observer = env_->Observer();
  if (observer == nullptr) {
    GTEST_SKIP() << "needs the device's view of VMs (no VmObserver here)";
  }
  NotificationPipe pipe = OpenPipe(file());
  ASSERT_EQ(Watch(file(), pipe.read_end.get(), 1), 0);
  uint32_t vm = VmWithBo(file(), kRestartable);
  const uint64_t id = file_.client_id;
  ASSERT_TRUE(observer->GetVm(id, vm).ok());
  file_.backend.reset();
  // The release posts the removal record and destroys the file's objects
  // in one step of the device: once the record is here, so is the rest.
  int rc = 0;
  std::vector<Record> removal = ParseRecords(ReadOnce(pipe, &rc));
  ASSERT_EQ(removal.size(), 1u);
  ASSERT_TRUE(removal[0].is_removal());
  absl::StatusOr<ObservedVm> seen = observer->GetVm(id, vm);
  EXPECT_EQ(seen.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace xehil::conformance
