#include "sim/simd/script.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/simd/simd_test_util.h"

namespace xehil::simd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Errors(const std::string& text) {
  absl::StatusOr<sim::SimdScript> script = ParseScriptText(text, "s.textproto");
  EXPECT_FALSE(script.ok());
  return std::string(script.status().message());
}

TEST(SimdScript, ParsesEveryTriggerAndAction) {
  absl::StatusOr<sim::SimdScript> script = ParseScriptText(
      R"pb(
        rule {
          name: "enomem"
          when { watch_subscribed {} }
          action { fail_rebinds { count: 2 error: ERRNO_ENOMEM } }
          action { trigger_rebind {} }
          times: 3
          program: "restart_on_enomem"
        }
        rule {
          when { vm_created { nth: 2 } }
          action { restart_eagain: 4 }
          action { drop_records: 1 }
        }
        rule {
          when { file_opened {} }
          action { inject_pressure { region: MEMORY_REGION_VRAM bytes: 4096 } }
        }
        rule {
          when { vm_bound { nth: 1 } }
          action { release_pressure { instance: 1 bytes: 4096 } }
        }
      )pb",
      "ok.textproto");
  ASSERT_TRUE(script.ok()) << script.status();
  ASSERT_EQ(script->rule_size(), 4);
  EXPECT_EQ(script->rule(0).action(0).fail_rebinds().error(), ERRNO_ENOMEM);
  EXPECT_EQ(script->rule(1).when().vm_created().nth(), 2u);
  EXPECT_TRUE(script->rule(3).action(0).release_pressure().has_instance());
  EXPECT_EQ(RuleName(script->rule(0), 1), "rule 'enomem'");
  EXPECT_EQ(RuleName(script->rule(1), 2), "rule 2");
}

TEST(SimdScript, SyntaxErrorsNameFileLineAndColumn) {
  EXPECT_THAT(Errors("rule {\n  when { watch_subscribed {} }\n  bogus: 1\n}\n"),
              HasSubstr("s.textproto:3:"));
  EXPECT_THAT(Errors("rule { action { fail_rebinds { error: ENOMEM } } }"),
              HasSubstr("s.textproto:1:"));
}

TEST(SimdScript, RuleProblemsAreReportedWithPositions) {
  // Not an R"pb(...)" string: clang-format would re-lay it out, and the
  // line numbers below are the point.
  const std::string errors = Errors(R"text(rule {
  name: "a"
}
rule {
  name: "b"
  when {}
  action { fail_rebinds { count: 1 } }
  action {}
  action { restart_eagain: 0 }
}
rule {
  name: "a"
  when { file_opened {} }
  action { trigger_rebind {} }
  action { inject_pressure { bytes: 0 instance: 40 } }
})text");
  // Rule "a": no trigger, no action (at the rule's line).
  EXPECT_THAT(errors, HasSubstr("s.textproto:1:1: rule 'a': needs `when`"));
  EXPECT_THAT(errors, HasSubstr("s.textproto:1:1: rule 'a': needs an action"));
  // Rule "b": empty when (its own line), each action at its line.
  EXPECT_THAT(errors, HasSubstr("s.textproto:6:3: rule 'b': needs `when`"));
  EXPECT_THAT(
      errors,
      HasSubstr("s.textproto:7:3: rule 'b': fail_rebinds needs an error"));
  EXPECT_THAT(errors, HasSubstr("s.textproto:8:3: rule 'b': empty action"));
  EXPECT_THAT(
      errors,
      HasSubstr("s.textproto:9:3: rule 'b': restart_eagain must be > 0"));
  // The second "a".
  EXPECT_THAT(errors,
              HasSubstr("s.textproto:11:1: rule 'a': duplicate rule name"));
  EXPECT_THAT(errors, HasSubstr("s.textproto:14:3: rule 'a': file_opened fires "
                                "before the file has VMs"));
  EXPECT_THAT(errors,
              HasSubstr("s.textproto:15:3: rule 'a': pressure needs bytes"));
  EXPECT_THAT(errors, HasSubstr("s.textproto:15:3: rule 'a': region instance"));
}

TEST(SimdScript, ValidateWithoutPositionsNumbersRules) {
  sim::SimdScript script;
  script.add_rule();
  absl::Status status = ValidateScript(script, "add_rules", nullptr, 5);
  EXPECT_THAT(status.message(), HasSubstr("add_rules: rule 5: needs `when`"));
  sim::Action empty;
  EXPECT_EQ(ValidateAction(empty).code(), absl::StatusCode::kInvalidArgument);
  sim::Action drop;
  drop.set_drop_records(2);
  EXPECT_TRUE(ValidateAction(drop).ok());
}

TEST(SimdScript, LoadScriptFileNamesUnreadableFiles) {
  absl::StatusOr<sim::SimdScript> missing =
      LoadScriptFile("/nonexistent/enomem.textproto");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("/nonexistent/enomem.textproto"));

  testing::TempDir dir;
  const std::string path = dir.path() + "/bad.textproto";
  const std::string text = "rule { when { vm_bound {} } }\n";
  {
    UniqueFd fd(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    ASSERT_EQ(::write(fd.get(), text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
  }
  absl::StatusOr<sim::SimdScript> bad = LoadScriptFile(path);
  EXPECT_THAT(bad.status().message(), HasSubstr(path + ":1:1:"));
  EXPECT_THAT(bad.status().message(), Not(HasSubstr("needs `when`")));
}

}  // namespace
}  // namespace xehil::simd
