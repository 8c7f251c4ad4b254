// The scenario library as gtest cases: one case per *.textproto in a
// directory of the test's runfiles (the files come from the test's `data`,
// e.g. //scenarios:library). Shared by //scenarios:library_sim_test and the
// hardware suite in hwtest/, so both run exactly the same list.
//
//   class Library : public ::testing::TestWithParam<LibraryCase> {};
//   TEST_P(Library, Passes) { ... RunScenarioFileOnSim(GetParam().path) ... }
//   INSTANTIATE_TEST_SUITE_P(Scenarios, Library,
//                            ::testing::ValuesIn(ListLibraryCases()),
//                            LibraryCaseName);
#ifndef XEHIL_SCENARIOS_LIBRARY_CASES_H_
#define XEHIL_SCENARIOS_LIBRARY_CASES_H_

#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace xehil {

struct LibraryCase {
  std::string path;  // workspace-relative, e.g. "scenarios/two_files.textproto"
  std::string name;  // the file's stem, usable as a gtest name: "two_files"
};

// Prints the path, so gtest names the parameter readably.
void PrintTo(const LibraryCase& library_case, std::ostream* os);

// Every *.textproto under `dir` (workspace-relative) in the runfiles, sorted
// by name. Empty if the directory is missing; a test should check the count.
std::vector<LibraryCase> ListLibraryCases(const std::string& dir = "scenarios");

// For INSTANTIATE_TEST_SUITE_P: the case's name.
std::string LibraryCaseName(const ::testing::TestParamInfo<LibraryCase>& info);

// The library has at least these many files (scenarios/*.textproto); the
// suites check they found them, so a broken runfiles tree cannot pass as an
// empty run.
inline constexpr size_t kMinLibrarySize = 12;

}  // namespace xehil

#endif  // XEHIL_SCENARIOS_LIBRARY_CASES_H_
