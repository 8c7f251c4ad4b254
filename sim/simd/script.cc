#include "sim/simd/script.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/errno_status.h"
#include "core/base/read_file.h"
#include "core/base/unique_fd.h"
#include "google/protobuf/io/tokenizer.h"

namespace xehil::simd {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// Keeps every parser message as "source:LINE:COL: message" (1-based).
class Collector : public google::protobuf::io::ErrorCollector {
 public:
  explicit Collector(absl::string_view source) : source_(source) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (line < 0) {
      errors_.push_back(absl::StrCat(source_, ": ", message));
    } else {
      errors_.push_back(
          absl::StrCat(source_, ":", line + 1, ":", column + 1, ": ", message));
    }
  }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::string source_;
  std::vector<std::string> errors_;
};

// "source:LINE:COL" of `field` (index `index`) in `tree`, or just "source".
std::string Where(absl::string_view source,
                  const TextFormat::ParseInfoTree* tree,
                  const FieldDescriptor* field, int index) {
  if (tree != nullptr) {
    const TextFormat::ParseLocation at = tree->GetLocation(field, index);
    if (at.line >= 0) {
      return absl::StrCat(source, ":", at.line + 1, ":", at.column + 1);
    }
  }
  return std::string(source);
}

bool IsVmAction(const sim::Action& action) {
  return action.has_fail_rebinds() || action.has_trigger_rebind() ||
         action.action_case() == sim::Action::kRestartEagain;
}

// Checks one action; appends problems to `errors`.
void CheckAction(const sim::Action& action, const std::string& where,
                 const std::string& rule, bool file_opened,
                 std::vector<std::string>* errors) {
  auto problem = [&](absl::string_view message) {
    errors->push_back(absl::StrCat(where, ": ", rule, ": ", message));
  };
  switch (action.action_case()) {
    case sim::Action::ACTION_NOT_SET:
      problem(
          "empty action: set one of fail_rebinds, restart_eagain, "
          "drop_records, trigger_rebind, inject_pressure, release_pressure");
      return;
    case sim::Action::kFailRebinds:
      if (action.fail_rebinds().error() <= 0) {
        problem("fail_rebinds needs an error, e.g. error: ERRNO_ENOMEM");
      }
      break;
    case sim::Action::kRestartEagain:
      if (action.restart_eagain() == 0) problem("restart_eagain must be > 0");
      break;
    case sim::Action::kDropRecords:
      if (action.drop_records() == 0) problem("drop_records must be > 0");
      break;
    case sim::Action::kTriggerRebind:
      break;
    case sim::Action::kInjectPressure:
    case sim::Action::kReleasePressure: {
      const sim::RegionBytes& region = action.has_inject_pressure()
                                           ? action.inject_pressure()
                                           : action.release_pressure();
      if (region.bytes() == 0) problem("pressure needs bytes > 0");
      if (region.has_instance() && region.instance() >= 32) {
        problem("region instance must be below 32");
      }
      break;
    }
  }
  if (file_opened && IsVmAction(action)) {
    problem(
        "file_opened fires before the file has VMs: use watch_subscribed, "
        "vm_created or vm_bound for VM actions");
  }
}

}  // namespace

absl::Status ValidateAction(const sim::Action& action) {
  std::vector<std::string> errors;
  CheckAction(action, "action", "apply", /*file_opened=*/false, &errors);
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
}

std::string RuleName(const sim::Rule& rule, int number) {
  return rule.name().empty() ? absl::StrCat("rule ", number)
                             : absl::StrCat("rule '", rule.name(), "'");
}

absl::Status ValidateScript(const sim::SimdScript& script,
                            absl::string_view source,
                            const TextFormat::ParseInfoTree* tree,
                            int first_rule) {
  const FieldDescriptor* rule_field =
      sim::SimdScript::descriptor()->FindFieldByName("rule");
  const FieldDescriptor* action_field =
      sim::Rule::descriptor()->FindFieldByName("action");
  const FieldDescriptor* when_field =
      sim::Rule::descriptor()->FindFieldByName("when");
  std::vector<std::string> errors;
  std::set<std::string> names;
  for (int i = 0; i < script.rule_size(); ++i) {
    const sim::Rule& rule = script.rule(i);
    const std::string name = RuleName(rule, first_rule + i);
    const TextFormat::ParseInfoTree* nested =
        tree == nullptr ? nullptr : tree->GetTreeForNested(rule_field, i);
    const std::string at = Where(source, tree, rule_field, i);
    if (!rule.name().empty() && !names.insert(rule.name()).second) {
      errors.push_back(absl::StrCat(at, ": ", name, ": duplicate rule name"));
    }
    if (rule.when().event_case() == sim::Trigger::EVENT_NOT_SET) {
      const std::string when_at =
          rule.has_when() ? Where(source, nested, when_field, -1) : at;
      errors.push_back(absl::StrCat(
          when_at, ": ", name,
          ": needs `when` with one of file_opened, watch_subscribed, "
          "vm_created, vm_bound"));
    }
    if (rule.action_size() == 0) {
      errors.push_back(absl::StrCat(at, ": ", name, ": needs an action"));
    }
    const bool file_opened = rule.when().has_file_opened();
    for (int j = 0; j < rule.action_size(); ++j) {
      CheckAction(rule.action(j), Where(source, nested, action_field, j), name,
                  file_opened, &errors);
    }
  }
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
}

absl::StatusOr<sim::SimdScript> ParseScriptText(absl::string_view text,
                                                absl::string_view source) {
  Collector collector(source);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  TextFormat::ParseInfoTree tree;
  parser.WriteLocationsTo(&tree);
  sim::SimdScript script;
  if (!parser.ParseFromString(std::string(text), &script)) {
    if (collector.errors().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": not a text-format xehil.sim.SimdScript"));
    }
    return absl::InvalidArgumentError(absl::StrJoin(collector.errors(), "\n"));
  }
  absl::Status valid = ValidateScript(script, source, &tree);
  if (!valid.ok()) return valid;
  return script;
}

absl::StatusOr<sim::SimdScript> LoadScriptFile(const std::string& path) {
  XEHIL_ASSIGN_OR_RETURN(std::string text,
                         ReadFileToString(path, "script", 1u << 20));
  return ParseScriptText(text, path);
}

}  // namespace xehil::simd
