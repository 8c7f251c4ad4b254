#include "tools/lab/report/xml_check.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace xehil::lab::testing {
namespace {

constexpr char kXmllint[] = "/usr/bin/xmllint";

bool NameStart(char c) {
  return absl::ascii_isalpha(c) || c == '_' || c == ':';
}
bool NameChar(char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == ':' || c == '-' || c == '.';
}

absl::Status Bad(size_t at, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("offset ", at, ": ", what));
}

// Checks `text` (character data or an attribute value) for raw '<' and for
// '&' that does not start &amp; &lt; &gt; &quot; &apos; &#N; or &#xH;.
absl::Status CheckChars(absl::string_view text, size_t base) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<') return Bad(base + i, "raw '<'");
    if (text[i] != '&') continue;
    const size_t semi = text.find(';', i);
    if (semi == absl::string_view::npos)
      return Bad(base + i, "unterminated entity");
    const absl::string_view ref = text.substr(i + 1, semi - i - 1);
    bool ok = ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" ||
              ref == "apos";
    if (!ok && ref.size() > 1 && ref[0] == '#') {
      const bool hex = ref[1] == 'x';
      const absl::string_view digits = ref.substr(hex ? 2 : 1);
      ok = !digits.empty();
      for (char c : digits)
        ok &= hex ? absl::ascii_isxdigit(c) : absl::ascii_isdigit(c);
    }
    if (!ok) return Bad(base + i, absl::StrCat("bad entity &", ref, ";"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckWellFormedXml(absl::string_view text) {
  std::vector<std::string> open;
  int roots = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t lt = text.find('<', i);
    const absl::string_view chars = text.substr(
        i, lt == absl::string_view::npos ? absl::string_view::npos : lt - i);
    if (auto s = CheckChars(chars, i); !s.ok()) return s;
    if (open.empty() && !absl::StripAsciiWhitespace(chars).empty()) {
      return Bad(i, "text outside the root element");
    }
    if (lt == absl::string_view::npos) break;
    i = lt;
    const absl::string_view rest = text.substr(i);
    absl::string_view end_marker;
    if (absl::StartsWith(rest, "<!--"))
      end_marker = "-->";
    else if (absl::StartsWith(rest, "<?"))
      end_marker = "?>";
    else if (absl::StartsWith(rest, "<!DOCTYPE"))
      end_marker = ">";
    if (!end_marker.empty()) {
      const size_t end = text.find(end_marker, i + 2);
      if (end == absl::string_view::npos) return Bad(i, "unterminated markup");
      i = end + end_marker.size();
      continue;
    }
    const bool closing = absl::StartsWith(rest, "</");
    size_t p = i + (closing ? 2 : 1);
    const size_t name_start = p;
    if (p >= text.size() || !NameStart(text[p])) return Bad(p, "bad tag name");
    while (p < text.size() && NameChar(text[p])) ++p;
    const std::string name(text.substr(name_start, p - name_start));
    std::set<std::string> attrs;
    bool self_closing = false;
    while (true) {
      while (p < text.size() && absl::ascii_isspace(text[p])) ++p;
      if (p >= text.size()) return Bad(i, "unterminated tag");
      if (text[p] == '>') break;
      if (!closing && text.compare(p, 2, "/>") == 0) {
        self_closing = true;
        ++p;
        break;
      }
      if (closing || !NameStart(text[p]))
        return Bad(p, "unexpected character in tag");
      const size_t a = p;
      while (p < text.size() && NameChar(text[p])) ++p;
      const std::string attr(text.substr(a, p - a));
      if (!attrs.insert(attr).second)
        return Bad(a, "duplicate attribute " + attr);
      if (p + 1 >= text.size() || text[p] != '=' ||
          (text[p + 1] != '"' && text[p + 1] != '\'')) {
        return Bad(p, "attribute " + attr + " without a quoted value");
      }
      const char quote = text[p + 1];
      const size_t close = text.find(quote, p + 2);
      if (close == absl::string_view::npos)
        return Bad(p, "unterminated attribute value");
      if (auto s = CheckChars(text.substr(p + 2, close - p - 2), p + 2);
          !s.ok())
        return s;
      p = close + 1;
    }
    i = p + 1;
    if (closing) {
      if (open.empty() || open.back() != name) {
        return Bad(name_start,
                   absl::StrCat("</", name, "> closes <",
                                open.empty() ? "nothing" : open.back(), ">"));
      }
      open.pop_back();
    } else {
      if (open.empty() && ++roots > 1)
        return Bad(name_start, "second root element");
      if (!self_closing) open.push_back(name);
    }
  }
  if (!open.empty())
    return Bad(text.size(), absl::StrCat("<", open.back(), "> not closed"));
  if (roots == 0) return Bad(0, "no root element");
  return absl::OkStatus();
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
