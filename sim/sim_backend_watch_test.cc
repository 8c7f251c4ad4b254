// DRM_IOCTL_XE_WATCH_QUEUE and record delivery on the simulator: per-file
// scoping, watch ids in records, removal on file release, EOF, scripted
// drops, with the device's counters. Field validation and the rules every
// backend shares are in core/backend/conformance (sim_conformance_test).
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/device.h"
#include "sim/sim_backend.h"
#include "sim/sim_test_util.h"

namespace xehil::sim {
namespace {

using namespace ::xehil::sim::testing;  // NOLINT(google-build-using-namespace)
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// The 16 fixed bytes of a VM_ERR record for `watch_id`, `vm`, `error`
// (little-endian): type 2 (DRM_XE_NOTIFY), subtype 0 (VM_ERR), info 24|id<<8.
std::vector<uint8_t> VmErrHead(uint8_t watch_id, uint32_t vm, int32_t error) {
  uint32_t e = static_cast<uint32_t>(error);
  return {2,
          0,
          0,
          0,
          24,
          watch_id,
          0,
          0,
          static_cast<uint8_t>(vm),
          static_cast<uint8_t>(vm >> 8),
          0,
          0,
          static_cast<uint8_t>(e),
          static_cast<uint8_t>(e >> 8),
          static_cast<uint8_t>(e >> 16),
          static_cast<uint8_t>(e >> 24)};
}

class SimWatch : public ::testing::Test {
 protected:
  NotificationPipe OpenPipe(SimBackend& file) {
    absl::StatusOr<NotificationPipe> pipe = file.OpenNotificationPipe({});
    EXPECT_TRUE(pipe.ok()) << pipe.status();
    return pipe.ok() ? *std::move(pipe) : NotificationPipe{};
  }

  // Makes `vm` of `file` fail its next rebind with `error` and waits for it.
  void FailRebind(SimBackend& file, uint32_t vm, int error) {
    ASSERT_TRUE(device_->FailNextRebinds(file.file_id(), vm, 1, error).ok());
    ASSERT_TRUE(device_->TriggerRebind(file.file_id(), vm).ok());
    device_->WaitIdle();
  }

  std::shared_ptr<Device> device_ = *Device::Create("dg2-16g");
  std::unique_ptr<SimBackend> file_ = device_->Open();
};

TEST_F(SimWatch, SamePipeTwiceOnOneFileIsEbusyButAnotherFileMayWatchIt) {
  NotificationPipe pipe = OpenPipe(*file_);
  ASSERT_EQ(Watch(*file_, pipe.read_end.get(), 1), 0);
  EXPECT_EQ(Watch(*file_, pipe.write_end.get(), 2), -EBUSY);
  std::unique_ptr<SimBackend> other = device_->Open();
  EXPECT_EQ(Watch(*other, pipe.read_end.get(), 2), 0);
}

TEST_F(SimWatch, VmErrorRecordHasTheExactLayoutAndWatchId) {
  NotificationPipe pipe = OpenPipe(*file_);
  ASSERT_EQ(Watch(*file_, pipe.read_end.get(), 7), 0);
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  const uint64_t before = MonotonicNowNs();
  FailRebind(*file_, vm, -ENOSPC);
  const uint64_t after = MonotonicNowNs();

  std::vector<uint8_t> bytes = ReadAvailable(pipe.read_end.get());
  ASSERT_EQ(bytes.size(), 24u);
  EXPECT_THAT(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 16),
              ElementsAreArray(VmErrHead(7, vm, -ENOSPC)));
  VmErrFields record = DecodeVmErr(bytes.data());
  EXPECT_EQ(record.type, static_cast<uint32_t>(WATCH_TYPE_DRM_XE_NOTIFY));
  EXPECT_EQ(record.subtype, static_cast<uint32_t>(DRM_XE_WATCH_EVENT_VM_ERR));
  EXPECT_EQ(record.info, 24u | (7u << 8));
  EXPECT_EQ(record.vm_id, vm);
  EXPECT_EQ(record.error, -ENOSPC);
  EXPECT_GE(record.timestamp_ns, before);
  EXPECT_LE(record.timestamp_ns, after);
}

TEST_F(SimWatch, RecordsReachOnlyTheOwningFilesWatches) {
  std::unique_ptr<SimBackend> other = device_->Open();
  NotificationPipe mine = OpenPipe(*file_);
  NotificationPipe mine_too = OpenPipe(*file_);
  NotificationPipe theirs = OpenPipe(*other);
  ASSERT_EQ(Watch(*file_, mine.read_end.get(), 1), 0);
  ASSERT_EQ(Watch(*file_, mine_too.read_end.get(), 2), 0);
  ASSERT_EQ(Watch(*other, theirs.read_end.get(), 3), 0);
  uint32_t vm = 0, other_vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  ASSERT_EQ(VmCreate(*other, kRestartable, &other_vm), 0);
  ASSERT_EQ(vm, other_vm) << "same id, different files";

  FailRebind(*file_, vm, -ENOMEM);
  std::vector<uint8_t> first = ReadAvailable(mine.read_end.get());
  std::vector<uint8_t> second = ReadAvailable(mine_too.read_end.get());
  ASSERT_EQ(first.size(), 24u);
  ASSERT_EQ(second.size(), 24u);
  EXPECT_EQ(first[5], 1);  // watch id in info bits 8..15
  EXPECT_EQ(second[5], 2);
  EXPECT_TRUE(ReadAvailable(theirs.read_end.get()).empty());
  EXPECT_EQ(device_->counters().records_posted, 2u);
}

TEST_F(SimWatch, ClosingAFilePostsRemovalThenEofOnceTheUserWriteEndCloses) {
  NotificationPipe pipe = OpenPipe(*file_);
  NotificationPipe second = OpenPipe(*file_);
  ASSERT_EQ(Watch(*file_, pipe.read_end.get(), 5), 0);
  ASSERT_EQ(Watch(*file_, second.read_end.get(), 6), 0);
  file_.reset();

  // Removal record: type 0 (META), subtype 0 (REMOVAL), info 8 | id << 8.
  EXPECT_THAT(ReadAvailable(pipe.read_end.get()),
              ElementsAre(0, 0, 0, 0, 8, 5, 0, 0));
  EXPECT_THAT(ReadAvailable(second.read_end.get()),
              ElementsAre(0, 0, 0, 0, 8, 6, 0, 0));
  // No EOF while the user's write end is open: the kernel is not a writer.
  pollfd pfd{pipe.read_end.get(), POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 0), 0);
  pipe.write_end.reset();
  ASSERT_EQ(poll(&pfd, 1, 0), 1);
  EXPECT_TRUE(pfd.revents & POLLHUP);
  char byte;
  EXPECT_EQ(read(pipe.read_end.get(), &byte, 1), 0);
  EXPECT_EQ(device_->counters().removals_posted, 2u);
}

// The kernel is not a writer: with the user's write end closed the pipe
// reads EOF between records although a watch stays (uapi.md).
TEST_F(SimWatch, APipeWatchedByTwoFilesReadsEofBetweenTheirRemovals) {
  std::unique_ptr<SimBackend> other = device_->Open();
  NotificationPipe pipe = OpenPipe(*file_);
  ASSERT_EQ(Watch(*file_, pipe.read_end.get(), 1), 0);
  ASSERT_EQ(Watch(*other, pipe.read_end.get(), 2), 0);
  pipe.write_end.reset();
  file_.reset();  // the opener goes; the other file's watch keeps the queue
  EXPECT_THAT(ReadAvailable(pipe.read_end.get()),
              ElementsAre(0, 0, 0, 0, 8, 1, 0, 0));
  pollfd pfd{pipe.read_end.get(), POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 0), 1);
  EXPECT_EQ(pfd.revents, POLLHUP);
  char byte;
  EXPECT_EQ(read(pipe.read_end.get(), &byte, 1), 0);
  other.reset();  // EOF was not final
  EXPECT_THAT(ReadAvailable(pipe.read_end.get()),
              ElementsAre(0, 0, 0, 0, 8, 2, 0, 0));
  EXPECT_EQ(read(pipe.read_end.get(), &byte, 1), 0);
}

TEST_F(SimWatch, ScriptedDropsNeverReachThePipeAndAreCounted) {
  NotificationPipe pipe = OpenPipe(*file_);
  ASSERT_EQ(Watch(*file_, pipe.read_end.get(), 1), 0);
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  ASSERT_TRUE(device_->DropNextRecords(file_->file_id(), 1).ok());
  FailRebind(*file_, vm, -ENOSPC);
  EXPECT_TRUE(ReadAvailable(pipe.read_end.get()).empty());
  EXPECT_EQ(device_->counters().records_dropped, 1u);
  // The VM is paused all the same; the next failure is delivered.
  ASSERT_TRUE(device_->FailNextRebinds(file_->file_id(), vm, 1, -ENOSPC).ok());
  ASSERT_EQ(Restart(*file_, vm), 0);
  EXPECT_EQ(ReadAvailable(pipe.read_end.get()).size(), 24u);
  EXPECT_EQ(device_->DropNextRecords(99, 1).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SimWatch, FilteredRecordsAreRefused) {
  NotificationPipeOptions options;
  watch_notification_type_filter only_keys{};
  only_keys.type = WATCH_TYPE_KEY_NOTIFY;
  only_keys.subtype_filter[0] = ~0u;
  options.filter = std::vector<watch_notification_type_filter>{only_keys};
  absl::StatusOr<NotificationPipe> pipe = file_->OpenNotificationPipe(options);
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  ASSERT_EQ(Watch(*file_, pipe->read_end.get(), 1), 0);
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  FailRebind(*file_, vm, -ENOSPC);
  EXPECT_TRUE(ReadAvailable(pipe->read_end.get()).empty());
  EXPECT_EQ(device_->counters().records_refused, 1u);
}

TEST_F(SimWatch, BadRingSizeIsInvalidArgumentNamingTheErrno) {
  NotificationPipeOptions options;
  options.ring_notes = 513;
  absl::StatusOr<NotificationPipe> pipe = file_->OpenNotificationPipe(options);
  EXPECT_EQ(pipe.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(pipe.status().message(), HasSubstr("EINVAL"));
  options.ring_notes = 0;
  EXPECT_EQ(file_->OpenNotificationPipe(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SimWatch, FailureOfAnUnwatchedFileIsCounted) {
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  FailRebind(*file_, vm, -ENOSPC);
  EXPECT_EQ(device_->counters().records_unwatched, 1u);
}

}  // namespace
}  // namespace xehil::sim
