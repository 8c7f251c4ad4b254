// Loading scenario files: parse errors name file, line and column; semantic
// errors name the file and the field path.
#include "core/scenario/loader.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kGood[] = R"pb(
  name: "good"
  setup {
    files {
      name: "app"
      watch { watch_id: 1 }
      vms {
        name: "vm"
        flags: VM_FLAG_LR_MODE
        flags: VM_FLAG_RESTARTABLE
        bos { size_bytes: 65536 }
      }
    }
  }
  steps {
    inject_pressure {
      region: MEMORY_REGION_VRAM
      fraction_of_total: 1
      label: "vram"
    }
  }
  steps { release_pressure: "vram" }
  expectations {
    within_ms: 100
    all_healthy {}
  }
)pb";

// The validation problems of kGood merged with `extra` (message fields
// merge, repeated fields append), one per line.
std::string With(const std::string& extra) {
  Scenario merged, more;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kGood, &merged));
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(extra, &more));
  merged.MergeFrom(more);
  return std::string(ValidateScenario(merged, "held.textproto").message());
}

absl::Status Problems(const std::string& text) {
  return ParseScenarioText(text, "held.textproto").status();
}

TEST(ParseScenarioText, AcceptsAValidScenario) {
  absl::StatusOr<Scenario> s = ParseScenarioText(kGood, "good.textproto");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name(), "good");
  EXPECT_EQ(s->setup().files(0).vms(0).flags_size(), 2);
}

TEST(ParseScenarioText, SyntaxErrorNamesFileLineAndColumn) {
  absl::Status s = Problems("name: \"x\"\nsetup {\n  filez {}\n}\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("held.textproto:3:"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("filez"));
}

TEST(ParseScenarioText, BadEnumValueNamesItsLine) {
  absl::Status s = Problems(
      "name: \"x\"\n\nsetup { files { name: \"a\" vms { name: \"v\" "
      "flags: VM_FLAG_NOPE } } }\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("held.textproto:3:"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("VM_FLAG_NOPE"));
}

TEST(ValidateScenario, ReleaseWithoutInjectNamesTheStepAndLabel) {
  EXPECT_THAT(With(R"pb(steps { release_pressure: "sys" })pb"),
              HasSubstr("held.textproto: steps[2].release_pressure: no "
                        "inject_pressure with label 'sys'"));
}

TEST(ValidateScenario, ReportsEveryProblemWithItsFieldPath) {
  absl::Status s = Problems(R"pb(
    setup {
      files {
        name: "a"
        watch { watch_id: 300 ring_notes: 600 }
      }
      files {
        name: "a"
        vms { name: "v" flags: VM_FLAG_RESTARTABLE }
        vms { name: "w" count: 2 }
        vms { name: "w1" }
      }
    }
    steps { inject_pressure { bytes: 1 fraction_of_free: 0.5 } }
    steps { inject_pressure { fraction_of_total: 1.5 label: "x" } }
    steps { fault { vm: "nope" trigger_rebind: true } }
    steps { destroy_vm: "v" }
    steps { destroy_vm: "v" }
    steps {}
    expectations { events_seen { count { min: 3 max: 1 } } }
    expectations { vm_state { vm: "v" } }
    expectations { listener_ended { file: "b" } }
    expectations {}
  )pb");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  for (const char* want : {
           "held.textproto: name: is empty",
           "setup.files[0].watch.watch_id: 300 is above 255",
           "setup.files[0].watch.ring_notes: 600 is above 512",
           "setup.files[1]: duplicate file name 'a'",
           "setup.files[1].vms[0].flags: RESTARTABLE needs LR_MODE",
           "setup.files[1].vms[2]: duplicate VM name 'w1'",
           "steps[0].inject_pressure: exactly one of bytes",
           "steps[1].inject_pressure.fraction_of_total: 1.5 is not in (0, 1]",
           "steps[2].fault.vm: no VM named 'nope'",
           "steps[4].destroy_vm: VM 'v' was destroyed by an earlier step",
           "steps[5]: no action set",
           "expectations[0].events_seen.count: min 3 is greater than max 1",
           "expectations[1].vm_state.outcome: an outcome is required",
           "expectations[2].listener_ended.file: no file named 'b'",
           "expectations[3]: no check set",
       }) {
    EXPECT_THAT(std::string(s.message()), HasSubstr(want));
  }
}

TEST(ValidateScenario, WatchOnlyChecksNeedAWatchedFile) {
  EXPECT_THAT(With(R"pb(
                setup { files { name: "quiet" } }
                expectations { no_event_for { file: "quiet" } }
              )pb"),
              HasSubstr("expectations[1].no_event_for.file: file 'quiet' has "
                        "no watch"));
}

TEST(ValidateScenario, LateListenerMustNameAnExistingStep) {
  EXPECT_THAT(With(R"pb(
                setup {
                  files {
                    name: "late"
                    watch { start_after_step: 2 }
                  }
                }
              )pb"),
              HasSubstr("setup.files[1].watch.start_after_step: no step 2"));
  EXPECT_EQ(With(R"pb(
              setup {
                files {
                  name: "late"
                  watch { start_after_step: 1 }
                }
              }
            )pb"),
            "");
}

TEST(ValidateScenario, FaultFlagsAndErrnosAreChecked) {
  const std::string s = With(R"pb(
    steps {
      fault {
        vm: "vm"
        fail_rebinds { count: 0 }
      }
    }
    steps {
      fault {
        fail_rebinds { count: 1 error: ERRNO_ENOMEM all_vms_of_file: true }
      }
    }
    steps { fault { file: "app" drop_records: 2 } }
  )pb");
  EXPECT_THAT(s, HasSubstr("steps[2].fault.fail_rebinds.count: "
                           "must be above 0"));
  EXPECT_THAT(s, HasSubstr("steps[2].fault.fail_rebinds.error: an "
                           "errno is required"));
  EXPECT_THAT(s, HasSubstr("steps[3].fault: needs a file"));
  EXPECT_THAT(s, Not(HasSubstr("steps[4]")));
}

TEST(ValidateScenario, RefusesValuesThatWouldWrapOnTheirWay) {
  const std::string s = With(R"pb(
    setup {
      files {
        name: "big"
        vms {
          name: "huge"
          bos { size_bytes: 18446744073709551615 }
        }
        vms {
          name: "crowded"
          bos { size_bytes: 140737488355328 }
          bos { size_bytes: 140737488355328 }
        }
      }
    }
    recovery {
      max_restart_tries: 4294967295
      max_consecutive_failures: 4294967295
    }
    steps { inject_pressure { bytes: 18446744073709551615 label: "all" } }
  )pb");
  EXPECT_THAT(s, HasSubstr("setup.files[1].vms[0].bos[0].size_bytes: "
                           "18446744073709551615 is above 281474976710656"));
  EXPECT_THAT(s, HasSubstr("setup.files[1].vms[1].bos: together need more "
                           "than the 281474976710656 bytes"));
  EXPECT_THAT(s, HasSubstr("recovery.max_restart_tries: 4294967295 is above "
                           "1000"));
  EXPECT_THAT(s, HasSubstr("recovery.max_consecutive_failures: 4294967295 is "
                           "above 1000000"));
  EXPECT_THAT(s, HasSubstr("steps[2].inject_pressure.bytes: "
                           "18446744073709551615 is above 281474976710656"));
}

TEST(ValidateScenario, AcceptsTheLimitsThemselves) {
  EXPECT_EQ(
      With(R"pb(
        setup {
          files {
            name: "edge"
            vms {
              name: "largest"
              bos { size_bytes: 140737488355328 }
            }
          }
        }
        recovery { max_restart_tries: 1000 max_consecutive_failures: 1000000 }
        steps { inject_pressure { bytes: 281474976710656 label: "x" } }
      )pb"),
      "");
}

TEST(ValidateScenario, BoundsTheTotalsOverEveryFileAndCount) {
  std::string files;
  for (int i = 0; i < 256; ++i) {
    files += absl::StrCat("files { name: \"f", i, "\" }\n");
  }
  const std::string s = With(absl::StrCat(R"pb(
                                            setup { files {
                                              name: "fleet"
                                              vms {
                                                name: "a"
                                                count: 40000
                                                bos { size_bytes: 4096 }
                                                bos { size_bytes: 4096 }
                                                bos { size_bytes: 4096 }
                                                bos { size_bytes: 4096 }
                                                exec_queues {}
                                              }
                                              vms {
                                                name: "b"
                                                count: 40000
                                                bos { size_bytes: 4096 }
                                                bos { size_bytes: 4096 }
                                                bos { size_bytes: 4096 }
                                                exec_queues {}
                                              }
                                              vms { name: "c" count: 70000 }
                                            }
                                          )pb",
                                          files, "}"));
  EXPECT_THAT(s, HasSubstr("setup: 258 files in all is above the limit of "
                           "256"));
  EXPECT_THAT(s, HasSubstr("setup: 150001 VMs in all is above the limit of "
                           "65536"));
  EXPECT_THAT(s, HasSubstr("setup: 280001 BOs in all is above the limit of "
                           "262144"));
  EXPECT_THAT(s, HasSubstr("setup: 80000 exec queues in all is above the "
                           "limit of 65536"));
  EXPECT_THAT(s, HasSubstr("setup.files[1].vms[2].count: 70000 is above "
                           "65536"));
}

TEST(LoadScenarioFile, MissingFileIsNotFoundWithThePath) {
  absl::StatusOr<Scenario> s = LoadScenarioFile("/nonexistent/x.textproto");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("/nonexistent/x.textproto"));
}

TEST(LoadScenarioFile, ErrorsCarryThePath) {
  const std::string path =
      std::string(std::getenv("TEST_TMPDIR")) + "/broken.textproto";
  std::ofstream(path) << "name: \"x\"\nsteps { wait_ms: -1 }\n";
  absl::StatusOr<Scenario> s = LoadScenarioFile(path);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr(path + ":2:"));

  std::ofstream(path) << kGood;
  s = LoadScenarioFile(path);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->steps_size(), 2);
}

}  // namespace
}  // namespace xehil
