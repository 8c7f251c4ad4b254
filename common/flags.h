// Command-line parsing for xehil's binaries on top of Abseil flags, with the
// conventions our users expect: `--help` prints the usage and exits 0; an
// unknown flag or a bad value prints what is wrong plus the usage and exits 2
// (absl::ParseCommandLine would exit 1, which scripts read as a failure of
// the job rather than of the invocation). Errors name the binary (argv[0]'s
// basename) and point at `--help`; the usage itself only goes with --help.
//
//   int main(int argc, char** argv) {
//     std::vector<std::string> args = xehil::ParseFlagsOrExit(argc, argv,
//     kUsage);
//     ...
#ifndef XEHIL_COMMON_FLAGS_H_
#define XEHIL_COMMON_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace xehil {

// Exit code for a usage error (bad flag, bad value, missing argument).
inline constexpr int kExitUsage = 2;

// Sets every `--name=value`, `--name value`, `--bool_flag`, `--nobool_flag`
// in argv[1..] on the registered Abseil flags (a '-' inside a name reads as
// '_', so --device-profile sets device_profile) and returns the positional
// arguments in order; everything after a bare `--` is positional. `-h`,
// `--help` and `help` as a flag yield FailedPrecondition("help") so the
// caller can print usage. Unknown flags and bad values: InvalidArgument.
absl::StatusOr<std::vector<std::string>> ParseFlags(int argc,
                                                    const char* const* argv);

// ParseFlags, printing `usage` and exiting 0 for --help or 2 on error. With
// `commands` (a binary with subcommands), `PROG nosuch --help` is a usage
// error naming the unknown command, not the global help.
std::vector<std::string> ParseFlagsOrExit(
    int argc, const char* const* argv, absl::string_view usage,
    const std::vector<std::string>& commands = {});

// Prints "<program>: <message>" and a pointer to `<program> --help` to
// stderr, exits kExitUsage. `usage` is not repeated: the error stays visible.
[[noreturn]] void UsageError(absl::string_view message,
                             absl::string_view usage = "");

// The binary's name as users typed it (basename of argv[0]).
std::string ProgramName();

}  // namespace xehil

#endif  // XEHIL_COMMON_FLAGS_H_
