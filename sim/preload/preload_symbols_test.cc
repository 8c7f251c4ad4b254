// Checks the built libxehil_preload.so with readelf (binutils):
//  - no relocation names a function the interposer overrides, so no code in
//    the .so can call one of its own overrides (or the C library's by name:
//    every such call goes through dlsym(RTLD_NEXT) pointers);
//  - it exports exactly the overrides and the test hook;
//  - it needs nothing beyond the C and C++ runtime (no libdrm, no absl).
#include <stdio.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

// Keep in step with exports.lds.
const std::set<std::string>& Overrides() {
  static const auto* names = new std::set<std::string>{
      "open",       "open64",     "openat",       "openat64",   "__open_2",
      "__open64_2", "__openat_2", "__openat64_2", "ioctl",      "close",
      "dup",        "dup2",       "dup3",         "fcntl",      "fcntl64",
      "pipe2",      "poll",       "ppoll",        "__poll_chk", "__ppoll_chk",
      "read",       "__read_chk", "write",
  };
  return *names;
}

std::string& LibraryPath() {
  static std::string path;
  return path;
}

// stdout of `readelf <flags> <library>`; fails the test if readelf is
// missing.
std::vector<std::string> Readelf(const std::string& flags) {
  const std::string command =
      "readelf " + flags + " '" + LibraryPath() + "' 2>&1";
  FILE* out = ::popen(command.c_str(), "r");
  std::vector<std::string> lines;
  if (out == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return lines;
  }
  char buffer[4096];
  while (::fgets(buffer, sizeof(buffer), out) != nullptr) {
    std::string line(buffer);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    lines.push_back(line);
  }
  const int status = ::pclose(out);
  EXPECT_EQ(status, 0) << command << " failed (is binutils installed?):\n"
                       << ::testing::PrintToString(lines);
  return lines;
}

std::vector<std::string> Fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> fields;
  for (std::string field; in >> field;) fields.push_back(field);
  return fields;
}

// "close@GLIBC_2.2.5" -> "close".
std::string Unversioned(const std::string& name) {
  return name.substr(0, name.find('@'));
}

TEST(PreloadSymbols, NoRelocationNamesAnOverriddenFunction) {
  // Relocation lines: Offset Info Type Sym.Value "Sym.Name + Addend".
  std::set<std::string> named;
  for (const std::string& line : Readelf("--relocs --wide")) {
    std::vector<std::string> f = Fields(line);
    if (f.size() >= 5 && f[2].rfind("R_", 0) == 0) {
      named.insert(Unversioned(f[4]));
    }
  }
  // The parse works: the .so does call dlsym and socket.
  ASSERT_THAT(named, ::testing::IsSupersetOf({"dlsym", "socket"}));
  for (const std::string& name : named) {
    EXPECT_EQ(Overrides().count(name), 0u)
        << "libxehil_preload.so calls " << name
        << " by name; call it through its RealFn (preload_internal.h)";
  }
}

TEST(PreloadSymbols, ExportsExactlyTheOverrides) {
  // Symbol lines: Num: Value Size Type Bind Vis Ndx Name.
  std::set<std::string> exported;
  for (const std::string& line : Readelf("--dyn-syms --wide")) {
    std::vector<std::string> f = Fields(line);
    if (f.size() >= 8 && f[6] != "UND" &&
        (f[4] == "GLOBAL" || f[4] == "WEAK")) {
      exported.insert(Unversioned(f[7]));
    }
  }
  std::set<std::string> want = Overrides();
  want.insert("xehil_preload_violations");
  EXPECT_EQ(exported, want);
}

TEST(PreloadSymbols, NeedsOnlyTheCAndCxxRuntime) {
  std::vector<std::string> needed;
  for (const std::string& line : Readelf("--dynamic")) {
    const size_t open = line.find("Shared library: [");
    if (line.find("(NEEDED)") == std::string::npos ||
        open == std::string::npos) {
      continue;
    }
    const size_t start = open + sizeof("Shared library: [") - 1;
    needed.push_back(line.substr(start, line.find(']', start) - start));
  }
  ASSERT_FALSE(needed.empty());
  for (const std::string& library : needed) {
    const bool runtime =
        library.rfind("libc.so", 0) == 0 ||
        library.rfind("libstdc++", 0) == 0 ||
        library.rfind("libgcc_s", 0) == 0 || library.rfind("libm.so", 0) == 0 ||
        library.rfind("libdl.so", 0) == 0 ||
        library.rfind("libpthread.so", 0) == 0 ||
        library.rfind("ld-linux", 0) == 0 ||
        // Sanitizer builds link their runtime into everything.
        library.rfind("libasan", 0) == 0 || library.rfind("libtsan", 0) == 0 ||
        library.rfind("libubsan", 0) == 0;
    EXPECT_TRUE(runtime) << "libxehil_preload.so needs " << library;
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    fprintf(stderr, "usage: %s <path of libxehil_preload.so>\n", argv[0]);
    return 2;
  }
  LibraryPath() = argv[1];
  return RUN_ALL_TESTS();
}
