// Shared pieces of ValidateScenario (validate.cc, validate_expectations.cc):
// the problem collector and the reference checks.
#ifndef XEHIL_CORE_SCENARIO_INTERNAL_VALIDATION_H_
#define XEHIL_CORE_SCENARIO_INTERNAL_VALIDATION_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "proto/scenario.pb.h"

namespace xehil::scenario_internal {

// Collects "<source>: <path>: <what>" lines.
class Problems {
 public:
  explicit Problems(absl::string_view source) : source_(source) {}
  template <typename... Parts>
  void Add(absl::string_view path, const Parts&... what) {
    lines_.push_back(absl::StrCat(source_, ": ", path, ": ", what...));
  }
  absl::Status ToStatus() const {
    if (lines_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrJoin(lines_, "\n"));
  }

 private:
  std::string source_;
  std::vector<std::string> lines_;
};

// What the setup declares, for checking references.
struct Names {
  std::set<std::string> files;
  std::set<std::string> watched_files;
  std::map<std::string, std::string> vm_file;  // VM name -> file name
};

// "field[index]".
std::string At(absl::string_view field, int index);

void CheckRange(Problems& p, const std::string& path, const CountRange& r);
// `file` names a file of the setup (a watched one if `must_be_watched`);
// "" is fine if `allow_empty`.
void CheckFile(Problems& p, const std::string& path, const std::string& file,
               const Names& names, bool must_be_watched, bool allow_empty);
void CheckVm(Problems& p, const std::string& path, const std::string& vm,
             const Names& names);

void CheckExpectations(Problems& p, const Scenario& s, const Names& names);

}  // namespace xehil::scenario_internal

#endif  // XEHIL_CORE_SCENARIO_INTERNAL_VALIDATION_H_
