#include "core/scenario/loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/errno_status.h"
#include "core/base/read_file.h"
#include "core/base/unique_fd.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace xehil {
namespace {

// Keeps every parser message as "source:LINE:COL: message" (1-based).
class Collector : public google::protobuf::io::ErrorCollector {
 public:
  explicit Collector(absl::string_view source) : source_(source) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors_.push_back(Format(line, column, message));
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {
    warnings_.push_back(Format(line, column, message));
  }

  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::string Format(int line, int column, const std::string& message) const {
    // The parser reports -1 when it has no position (e.g. at end of input).
    if (line < 0) return absl::StrCat(source_, ": ", message);
    return absl::StrCat(source_, ":", line + 1, ":", column + 1, ": ", message);
  }

  std::string source_;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
};

}  // namespace

absl::StatusOr<Scenario> ParseScenarioText(absl::string_view text,
                                           absl::string_view source_name) {
  Collector collector(source_name);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  Scenario scenario;
  if (!parser.ParseFromString(std::string(text), &scenario)) {
    if (collector.errors().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_name, ": not a text-format xehil.Scenario"));
    }
    return absl::InvalidArgumentError(absl::StrJoin(collector.errors(), "\n"));
  }
  XEHIL_RETURN_IF_ERROR(ValidateScenario(scenario, source_name));
  return scenario;
}

absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path) {
  XEHIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, "scenario"));
  return ParseScenarioText(text, path);
}

}  // namespace xehil
