#include "common/flags.h"

#include <errno.h>  // program_invocation_short_name

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace xehil {
namespace {

bool IsBoolFlag(const absl::CommandLineFlag& flag) {
  return flag.IsOfType<bool>();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseFlags(int argc,
                                                    const char* const* argv) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) positional.emplace_back(argv[i]);
      break;
    }
    if (arg == "-h" || arg == "--help" || arg == "-help" ||
        arg == "--helpfull") {
      return absl::FailedPreconditionError("help");
    }
    if (!absl::StartsWith(arg, "-") || arg == "-") {
      positional.emplace_back(arg);
      continue;
    }
    arg.remove_prefix(absl::StartsWith(arg, "--") ? 2 : 1);
    absl::string_view name = arg;
    absl::string_view value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    // --device-profile and --device_profile name the same flag.
    std::string flag_name(name);
    std::replace(flag_name.begin(), flag_name.end(), '-', '_');
    name = flag_name;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    bool negated = false;
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      flag = absl::FindCommandLineFlag(name.substr(2));
      negated = flag != nullptr && IsBoolFlag(*flag);
      if (!negated) flag = nullptr;
    }
    if (flag == nullptr || flag->IsRetired()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    std::string text;
    if (negated) {
      if (has_value) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value"));
      }
      text = "false";
    } else if (has_value) {
      text = std::string(value);
    } else if (IsBoolFlag(*flag)) {
      text = "true";
    } else if (i + 1 < argc) {
      text = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " needs a value"));
    }
    std::string error;
    if (!flag->ParseFrom(text, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag->Name(), "=", text, ": ", error));
    }
  }
  return positional;
}

std::string ProgramName() {
  const char* name = program_invocation_short_name;
  return name != nullptr && *name != '\0' ? name : "xehil";
}

void UsageError(absl::string_view message, absl::string_view /*usage*/) {
  const std::string program = ProgramName();
  std::fprintf(stderr, "%s: %.*s\n(see `%s --help`)\n", program.c_str(),
               static_cast<int>(message.size()), message.data(),
               program.c_str());
  std::exit(kExitUsage);
}

std::vector<std::string> ParseFlagsOrExit(
    int argc, const char* const* argv, absl::string_view usage,
    const std::vector<std::string>& commands) {
  absl::StatusOr<std::vector<std::string>> args = ParseFlags(argc, argv);
  if (args.ok()) return *std::move(args);
  if (args.status().code() == absl::StatusCode::kFailedPrecondition) {
    // The command, if any, is the first argument that is not a flag.
    for (int i = 1; i < argc && !commands.empty(); ++i) {
      absl::string_view arg = argv[i];
      if (arg == "--") break;  // a program's arguments follow, no command
      if (absl::StartsWith(arg, "-") && arg != "-") {
        // `--name value` of a non-bool flag: the value is not the command.
        std::string name(arg.substr(arg.find_first_not_of('-')));
        std::replace(name.begin(), name.end(), '-', '_');
        const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
        if (name.find('=') == std::string::npos && flag != nullptr &&
            !IsBoolFlag(*flag)) {
          ++i;
        }
        continue;
      }
      if (std::find(commands.begin(), commands.end(), arg) == commands.end()) {
        UsageError(absl::StrCat("unknown command '", arg, "'"), usage);
      }
      break;
    }
    std::fwrite(usage.data(), 1, usage.size(), stdout);
    std::exit(0);
  }
  UsageError(args.status().message(), usage);
}

}  // namespace xehil
