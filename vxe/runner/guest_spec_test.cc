#include "vxe/runner/guest_spec.h"

#include <sys/wait.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::vxe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(GuestSpec, RoundTripsArgumentsWithAnyBytes) {
  GuestSpec spec;
  spec.argv = {"/bin/sh", "-c", "printf 'a\nb'", "", "x y:z 3:"};
  spec.env = {"PATH=/usr/bin", "EMPTY="};
  spec.cwd = "/home/me/src";
  spec.modules = {"/tmp/vxe.ko"};
  spec.daemon = {"xehil-simd", "--control=/dev/vxe"};
  spec.daemon_ready_timeout_ms = 1234;
  spec.daemon_stop_timeout_ms = 5;
  GuestSpec back;
  std::string error;
  ASSERT_TRUE(DecodeGuestSpec(EncodeGuestSpec(spec), &back, &error)) << error;
  EXPECT_EQ(back.argv, spec.argv);
  EXPECT_EQ(back.env, spec.env);
  EXPECT_EQ(back.cwd, spec.cwd);
  EXPECT_EQ(back.modules, spec.modules);
  EXPECT_EQ(back.daemon, spec.daemon);
  EXPECT_EQ(back.daemon_ready_timeout_ms, 1234);
  EXPECT_EQ(back.daemon_stop_timeout_ms, 5);
}

TEST(GuestSpec, FieldsAreLengthPrefixed) {
  EXPECT_EQ(EncodeFields({{"arg", "a\nb"}, {"cwd", ""}}),
            "arg 3:a\nb\ncwd 0:\n");
  Fields fields;
  std::string error;
  ASSERT_TRUE(DecodeFields("arg 3:a\nb\ncwd 0:\n", &fields, &error));
  EXPECT_THAT(fields, ElementsAre(std::make_pair("arg", "a\nb"),
                                  std::make_pair("cwd", "")));
}

TEST(GuestSpec, RejectsTruncatedAndUnknownFields) {
  GuestSpec spec;
  std::string error;
  EXPECT_FALSE(DecodeGuestSpec("arg 10:short\n", &spec, &error));
  EXPECT_THAT(error, HasSubstr("malformed field at byte 0"));
  EXPECT_FALSE(DecodeGuestSpec("arg 1:a\nbogus 0:\n", &spec, &error));
  EXPECT_THAT(error, HasSubstr("unknown field 'bogus'"));
  EXPECT_FALSE(DecodeGuestSpec("cwd 1:/\n", &spec, &error));
  EXPECT_THAT(error, HasSubstr("no program"));
  EXPECT_FALSE(DecodeGuestSpec("arg 1:a\ndaemon_ready_timeout_ms 2:x1\n", &spec,
                               &error));
  EXPECT_THAT(error, HasSubstr("not an integer"));
}

TEST(GuestStatus, RoundTripsProgramAndDaemonResults) {
  GuestStatus status;
  status.program_ran = true;
  status.program_wait_status = 7 << 8;
  status.daemon_ran = true;
  status.daemon_wait_status = SIGTERM;
  status.daemon_killed = true;
  status.boot_to_program_ms = 812.5;
  status.program_ms = 3.25;
  GuestStatus back;
  std::string error;
  ASSERT_TRUE(DecodeGuestStatus(EncodeGuestStatus(status), &back, &error))
      << error;
  EXPECT_TRUE(back.program_ran);
  EXPECT_EQ(WEXITSTATUS(back.program_wait_status), 7);
  EXPECT_TRUE(back.daemon_ran);
  EXPECT_EQ(back.daemon_wait_status, SIGTERM);
  EXPECT_TRUE(back.daemon_killed);
  EXPECT_DOUBLE_EQ(back.boot_to_program_ms, 812.5);
  EXPECT_DOUBLE_EQ(back.program_ms, 3.25);
  EXPECT_TRUE(back.error.empty());
}

TEST(GuestStatus, KeepsAnExecFailure) {
  GuestStatus status;
  status.error = "exec nope: ENOENT (No such file or directory)";
  status.exec_errno = 2;
  GuestStatus back;
  std::string error;
  ASSERT_TRUE(DecodeGuestStatus(EncodeGuestStatus(status), &back, &error));
  EXPECT_FALSE(back.program_ran);
  EXPECT_EQ(back.exec_errno, 2);
  EXPECT_EQ(back.error, status.error);
}

}  // namespace
}  // namespace xehil::vxe
