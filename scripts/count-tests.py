#!/usr/bin/env python3
"""Counts gtest test cases in the JUnit XML Bazel keeps for each test target.

Usage: count-tests.py TESTLOGS_DIR TARGET...
  (TESTLOGS_DIR from `bazel info bazel-testlogs`; labels like
  //core/watch:listener_test)
Prints one line 'N passed, N failed[, N skipped]'. A target without a
test.xml (it did not build or run) counts as one failed case.
"""
import os
import sys
import xml.etree.ElementTree as ET


def xml_path(testlogs, label):
    pkg, _, name = label.lstrip("/").partition(":")
    return os.path.join(testlogs, pkg, name, "test.xml")


def main(testlogs, labels):
    passed = failed = skipped = 0
    for label in labels:
        path = xml_path(testlogs, label)
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            print(f"count-tests: {label}: no results ({e})", file=sys.stderr)
            failed += 1
            continue
        cases = root.iter("testcase")
        found = False
        for case in cases:
            found = True
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                print(f"count-tests: FAILED {label} {case.get('classname')}."
                      f"{case.get('name')}", file=sys.stderr)
            elif (case.find("skipped") is not None or
                  case.get("result") == "skipped" or
                  case.get("status") == "notrun"):
                skipped += 1
            else:
                passed += 1
        if not found:
            failed += 1
    if not labels:
        print("count-tests: no test targets were selected", file=sys.stderr)
        failed += 1
    if skipped:
        # Skips (no xe device, no watch-queue kernel) are said apart, so the
        # last line stays exactly 'N passed, N failed'.
        print(f"count-tests: {skipped} skipped", file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
