#include "tools/lab/report/xml_check.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libxml/parser.h"
#include "libxml/xmlerror.h"

extern char** environ;

namespace xehil::lab::testing {
namespace {

constexpr char kXmllint[] = "/usr/bin/xmllint";

// Keeps the first error libxml2 reports while one document is parsed.
void KeepFirstError(void* first, xmlErrorPtr error) {
  auto* kept = static_cast<std::string*>(first);
  if (!kept->empty() || error == nullptr || error->level < XML_ERR_ERROR) {
    return;
  }
  std::string message = error->message != nullptr ? error->message : "";
  while (!message.empty() && message.back() == '\n') message.pop_back();
  *kept = absl::StrCat("line ", error->line, ", column ", error->int2, ": ",
                       message);
}

}  // namespace

absl::Status CheckWellFormedXml(absl::string_view text) {
  // No network, no external entities or DTDs: only the text itself counts.
  constexpr int kOptions = XML_PARSE_NONET | XML_PARSE_NOERROR |
                           XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS;
  std::unique_ptr<xmlParserCtxt, decltype(&xmlFreeParserCtxt)> ctxt(
      xmlNewParserCtxt(), xmlFreeParserCtxt);
  if (ctxt == nullptr) return absl::ResourceExhaustedError("xmlNewParserCtxt");
  std::string first_error;
  xmlSetStructuredErrorFunc(&first_error, KeepFirstError);
  xmlDocPtr doc =
      xmlCtxtReadMemory(ctxt.get(), text.data(), static_cast<int>(text.size()),
                        "check.xml", nullptr, kOptions);
  xmlSetStructuredErrorFunc(nullptr, nullptr);
  const bool well_formed = doc != nullptr && ctxt->wellFormed != 0;
  if (doc != nullptr) xmlFreeDoc(doc);
  if (well_formed && first_error.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(first_error.empty() ? "not well-formed XML"
                                                        : first_error);
}

XmllintResult RunXmllint(absl::string_view text, bool html) {
  XmllintResult result;
  if (::access(kXmllint, X_OK) != 0) return result;
  result.available = true;
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string base =
      absl::StrCat(dir != nullptr ? dir : "/tmp", "/xmllint_", ::getpid(), "_",
                   counter.fetch_add(1));
  const std::string in = base + (html ? ".html" : ".xml"), out = base + ".out";
  std::ofstream(in, std::ios::binary) << text;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args = {kXmllint, "--noout"};
  if (html) args.push_back("--html");
  args.push_back(in);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, kXmllint, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    result.output = absl::StrCat("posix_spawn failed: ", rc);
    return result;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream f(out, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  result.output = ss.str();
  ::unlink(in.c_str());
  ::unlink(out.c_str());
  return result;
}

size_t CountOccurrences(absl::string_view text, absl::string_view needle) {
  if (needle.empty()) return 0;
  size_t n = 0;
  for (size_t at = text.find(needle); at != absl::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

std::vector<std::string> HtmlProblems(const std::string& xmllint_output) {
  std::vector<std::string> problems;
  for (absl::string_view line : absl::StrSplit(xmllint_output, '\n')) {
    const size_t at = line.find("parser error : ");
    if (at == absl::string_view::npos) continue;
    const absl::string_view what = line.substr(at + 15);
    if (absl::StartsWith(what, "Tag ") && absl::EndsWith(what, " invalid"))
      continue;
    problems.emplace_back(line);
  }
  return problems;
}

}  // namespace xehil::lab::testing
