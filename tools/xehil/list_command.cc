#include <string>

#include "absl/strings/str_format.h"
#include "core/scenario/describe.h"
#include "core/scenario/loader.h"
#include "tools/xehil/run_command.h"

namespace xehil {

int ListScenarios(const std::vector<std::string>& paths, std::ostream& out,
                  std::ostream& err) {
  absl::StatusOr<std::vector<std::string>> files = ExpandScenarioPaths(paths);
  if (!files.ok()) {
    err << "xehil: " << files.status().message() << "\n";
    return 1;
  }
  int rc = 0;
  for (const std::string& file : *files) {
    absl::StatusOr<Scenario> s = LoadScenarioFile(file);
    if (!s.ok()) {
      err << "xehil: " << s.status().message() << "\n";
      rc = 1;
      continue;
    }
    int vms = 0;
    for (const File& f : s->setup().files()) {
      for (const Vm& vm : f.vms()) vms += vm.count() == 0 ? 1 : vm.count();
    }
    out << absl::StrFormat("%s  (%s)\n", s->name(), file);
    if (!s->description().empty()) out << "  " << s->description() << "\n";
    out << absl::StrFormat("  profile %s, %d file(s), %d VM(s), %d step(s)\n",
                           s->device_profile().empty() ? "default"
                                                       : s->device_profile(),
                           s->setup().files_size(), vms, s->steps_size());
    for (const Step& step : s->steps()) {
      out << "    step   " << DescribeStep(step) << "\n";
    }
    for (const Expectation& e : s->expectations()) {
      out << "    checks " << ExpectationName(e) << "\n";
    }
  }
  return rc;
}

}  // namespace xehil
