#include "scenarios/library_cases.h"

#include <dirent.h>

#include <algorithm>
#include <cctype>

#include "absl/strings/match.h"
#include "core/scenario/testing.h"

namespace xehil {

void PrintTo(const LibraryCase& library_case, std::ostream* os) {
  *os << library_case.path;
}

std::vector<LibraryCase> ListLibraryCases(const std::string& dir) {
  constexpr absl::string_view kSuffix = ".textproto";
  std::vector<LibraryCase> cases;
  DIR* d = opendir(RunfilesPath(dir).c_str());
  if (d == nullptr) return cases;
  while (dirent* entry = readdir(d)) {
    const std::string file = entry->d_name;
    if (!absl::EndsWith(file, kSuffix) || file.size() == kSuffix.size()) {
      continue;
    }
    std::string name = file.substr(0, file.size() - kSuffix.size());
    // gtest names allow only letters, digits and underscores.
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    cases.push_back({dir + "/" + file, std::move(name)});
  }
  closedir(d);
  std::sort(cases.begin(), cases.end(),
            [](const LibraryCase& a, const LibraryCase& b) {
              return a.path < b.path;
            });
  return cases;
}

std::string LibraryCaseName(const ::testing::TestParamInfo<LibraryCase>& info) {
  return info.param.name;
}

}  // namespace xehil
