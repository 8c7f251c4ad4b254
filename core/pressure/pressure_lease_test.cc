#include "core/pressure/pressure_lease.h"

#include <atomic>
#include <memory>
#include <thread>
#include <utility>

#include "core/pressure/lease_reaper.h"
#include "core/pressure/pressure_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::xehil::testing::Event;

struct Counts {
  std::atomic<int> releases{0};
  std::atomic<bool> finished{false};
};

// Counts releases; optionally blocks inside Release until `open` is notified.
class FakeHolding : public PressureHolding {
 public:
  FakeHolding(std::shared_ptr<Counts> counts, absl::Status result = {},
              Event* entered = nullptr, Event* open = nullptr)
      : counts_(std::move(counts)),
        result_(std::move(result)),
        entered_(entered),
        open_(open) {}

  absl::Status Release() override {
    ++counts_->releases;
    if (entered_ != nullptr) entered_->Notify();
    if (open_ != nullptr) open_->WaitFor();
    counts_->finished = true;
    return result_;
  }

 private:
  std::shared_ptr<Counts> counts_;
  absl::Status result_;
  Event* entered_;
  Event* open_;
};

std::unique_ptr<PressureLease> MakeLease(
    std::shared_ptr<Counts> counts, absl::Duration ttl = absl::ZeroDuration(),
    std::shared_ptr<LeaseReaper> reaper = std::make_shared<LeaseReaper>()) {
  return *PressureLease::Create(
      "fake", 4096, std::make_unique<FakeHolding>(std::move(counts)), ttl,
      std::move(reaper));
}

TEST(PressureLease, ReleaseIsIdempotentAndRepeatsTheFirstStatus) {
  auto counts = std::make_shared<Counts>();
  auto lease = *PressureLease::Create(
      "fake", 4096,
      std::make_unique<FakeHolding>(counts, absl::InternalError("munmap")),
      absl::ZeroDuration(), nullptr);
  EXPECT_EQ(lease->bytes(), 4096u);
  EXPECT_FALSE(lease->released());
  EXPECT_EQ(lease->Release().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(lease->Release().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(lease->released());
  EXPECT_FALSE(lease->expired());
  EXPECT_EQ(counts->releases, 1);
}

TEST(PressureLease, DestructionReleases) {
  auto counts = std::make_shared<Counts>();
  MakeLease(counts).reset();
  EXPECT_EQ(counts->releases, 1);
}

TEST(PressureLease, TtlExpiryReleasesOnTheReaper) {
  auto counts = std::make_shared<Counts>();
  auto lease = MakeLease(counts, absl::Milliseconds(1));
  ASSERT_TRUE(lease->WaitReleased(testing::kLongWait));
  EXPECT_TRUE(lease->expired());
  EXPECT_TRUE(lease->Release().ok());
  lease.reset();
  EXPECT_EQ(counts->releases, 1);
}

TEST(PressureLease, WithoutReaperATtlStillExpires) {
  auto counts = std::make_shared<Counts>();
  auto lease = MakeLease(counts, absl::Milliseconds(1), nullptr);
  EXPECT_TRUE(lease->WaitReleased(testing::kLongWait));
}

TEST(PressureLease, WithoutTtlWaitReleasedTimesOut) {
  auto counts = std::make_shared<Counts>();
  auto lease = MakeLease(counts);
  EXPECT_FALSE(lease->WaitReleased(absl::Milliseconds(1)));
  EXPECT_EQ(counts->releases, 0);
}

TEST(PressureLease, RenewMovesTheExpiry) {
  auto counts = std::make_shared<Counts>();
  auto lease = MakeLease(counts, absl::Hours(1));
  ASSERT_TRUE(lease->Renew(absl::Milliseconds(1)).ok());
  EXPECT_TRUE(lease->WaitReleased(testing::kLongWait));
  EXPECT_TRUE(lease->expired());
}

TEST(PressureLease, RenewGivesALeaseWithoutTtlAnExpiry) {
  auto counts = std::make_shared<Counts>();
  auto lease = MakeLease(counts);
  ASSERT_TRUE(lease->Renew(absl::Milliseconds(1)).ok());
  EXPECT_TRUE(lease->WaitReleased(testing::kLongWait));
}

TEST(PressureLease, RenewRejectsBadTtlsAndReleasedLeases) {
  auto counts = std::make_shared<Counts>();
  auto lease = MakeLease(counts, absl::Hours(1));
  EXPECT_EQ(lease->Renew(absl::ZeroDuration()).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(lease->Release().ok());
  EXPECT_EQ(lease->Renew(absl::Seconds(1)).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PressureLease, ReleaseWaitsForAnExpiryInProgress) {
  auto counts = std::make_shared<Counts>();
  Event entered, open;
  auto lease = *PressureLease::Create(
      "fake", 4096,
      std::make_unique<FakeHolding>(counts, absl::OkStatus(), &entered, &open),
      absl::Milliseconds(1), std::make_shared<LeaseReaper>());
  ASSERT_TRUE(entered.WaitFor());  // the reaper is inside Release now
  bool finished_when_returned = false;
  std::thread releaser([&] {
    EXPECT_TRUE(lease->Release().ok());
    finished_when_returned = counts->finished;
  });
  open.Notify();
  releaser.join();
  EXPECT_TRUE(finished_when_returned);
  EXPECT_TRUE(lease->expired());
  EXPECT_EQ(counts->releases, 1);
}

TEST(PressureLease, RacingExpiryAndDestructionReleaseExactlyOnce) {
  auto counts = std::make_shared<Counts>();
  auto reaper = std::make_shared<LeaseReaper>();
  constexpr int kLeases = 200;
  for (int i = 0; i < kLeases; ++i) {
    auto lease = MakeLease(counts, absl::Microseconds(i % 7), reaper);
    if (i % 2 == 0) {
      EXPECT_TRUE(lease->Release().ok());
    }
  }
  EXPECT_EQ(counts->releases, kLeases);
  EXPECT_EQ(reaper->pending(), 0u);
}

TEST(PressureLease, LeaseOutlivesTheReaperHandleItWasGiven) {
  auto counts = std::make_shared<Counts>();
  std::unique_ptr<PressureLease> lease;
  {
    auto reaper = std::make_shared<LeaseReaper>();
    lease = MakeLease(counts, absl::Milliseconds(1), reaper);
  }  // the lease keeps the reaper alive
  EXPECT_TRUE(lease->WaitReleased(testing::kLongWait));
}

}  // namespace
}  // namespace xehil
