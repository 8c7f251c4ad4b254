// The well-formedness checker must reject what a real XML parser rejects,
// or the report tests that rely on it could not fail.
#include "tools/lab/report/xml_check.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::lab::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CheckWellFormedXml, AcceptsAProperDocument) {
  EXPECT_TRUE(CheckWellFormedXml(
                  "<?xml version=\"1.0\"?>\n<!DOCTYPE html>\n<!-- c -->\n"
                  "<a x=\"1 &amp; &#60; &#x3c;\" y='2'><b/><c>t &lt; &gt; "
                  "&quot;</c></a>\n")
                  .ok());
}

TEST(CheckWellFormedXml, RejectsEachKindOfBreakage) {
  for (const char* bad : {
           "<a><b></a></b>",        // crossed
           "<a><b></a>",            // unclosed
           "<a>x & y</a>",          // raw ampersand
           "<a>&nbsp;</a>",         // HTML-only entity
           "<a x=\"<\"/>",          // '<' in an attribute
           "<a x=\"1\" x=\"2\"/>",  // duplicate attribute
           "<a x=1/>",              // unquoted
           "<a/><b/>",              // two roots
           "text<a/>",              // text outside the root
           "<a>1 < 2</a>",          // raw '<'
           "",                      // no root
           "<a>\xff</a>",           // not UTF-8
           "<a>\x01</a>",           // a control character
           "<a><![CDATA[x</a>",     // unterminated CDATA
       }) {
    EXPECT_FALSE(CheckWellFormedXml(bad).ok()) << bad;
  }
  EXPECT_THAT(CheckWellFormedXml("<a><b></a>").message(), HasSubstr("line 1"));
  EXPECT_THAT(CheckWellFormedXml("<a><b></a>").message(),
              HasSubstr("mismatch"));
}

TEST(RunXmllint, AgreesWithTheCheckerWhereInstalled) {
  const XmllintResult good = RunXmllint("<a><b/></a>", /*html=*/false);
  if (!good.available) GTEST_SKIP() << "no /usr/bin/xmllint (libxml2-utils)";
  EXPECT_EQ(good.exit_code, 0) << good.output;
  const XmllintResult bad = RunXmllint("<a><b></a>", /*html=*/false);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.output, HasSubstr("mismatch"));
}

TEST(HtmlProblems, IgnoresOnlyUnknownTagNotes) {
  const std::string output =
      "f.html:2: HTML parser error : Tag svg invalid\n<svg>\n^\n"
      "f.html:3: HTML parser error : Unexpected end tag : i\n</i>\n^\n";
  EXPECT_THAT(
      HtmlProblems(output),
      ElementsAre("f.html:3: HTML parser error : Unexpected end tag : i"));
}

TEST(CountOccurrences, CountsWithoutOverlap) {
  EXPECT_EQ(CountOccurrences("aaaa", "aa"), 2u);
  EXPECT_EQ(CountOccurrences("abc", ""), 0u);
}

}  // namespace
}  // namespace xehil::lab::testing
