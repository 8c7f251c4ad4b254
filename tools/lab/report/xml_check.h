// Test helpers: is the generated XML / XHTML well-formed? An in-process
// check with libxml2's parser (Debian libxml2-dev) that always runs and,
// where /usr/bin/xmllint exists (Debian libxml2-utils; both installed by
// scripts/install-deps.sh), its HTML parser's opinion as well.
//
//   EXPECT_TRUE(CheckWellFormedXml(xml).ok());
//   XmllintResult lint = RunXmllint(xml, /*html=*/false);
//   if (lint.available) EXPECT_EQ(lint.exit_code, 0) << lint.output;
#ifndef XEHIL_TOOLS_LAB_REPORT_XML_CHECK_H_
#define XEHIL_TOOLS_LAB_REPORT_XML_CHECK_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace xehil::lab::testing {

// OK, or INVALID_ARGUMENT naming libxml2's first error with its line and
// column. Nothing outside `text` is loaded (no network, no external DTD).
absl::Status CheckWellFormedXml(absl::string_view text);

struct XmllintResult {
  bool available = false;  // false: no xmllint, nothing was checked
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `xmllint --noout [--html] FILE` on `text` written to a file under
// $TEST_TMPDIR (or /tmp).
XmllintResult RunXmllint(absl::string_view text, bool html);

// The diagnostics in `xmllint --html` output that are real problems: every
// "parser error" line except "Tag X invalid", which libxml2's HTML 4 parser
// says of every HTML5 and SVG element (it exits 0 on anything anyway).
std::vector<std::string> HtmlProblems(const std::string& xmllint_output);

// Non-overlapping occurrences of `needle` in `text` (tests count elements).
size_t CountOccurrences(absl::string_view text, absl::string_view needle);

}  // namespace xehil::lab::testing

#endif  // XEHIL_TOOLS_LAB_REPORT_XML_CHECK_H_
