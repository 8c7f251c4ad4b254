#!/usr/bin/env python3
"""Counts the test cases that one `bazel test` invocation executed.

Usage: count-tests.py [--state FILE] BEP_JSON
  BEP_JSON is the file written by `bazel test --build_event_json_file=BEP_JSON`.

Only what that invocation reports is counted: the test.xml of each TestResult
event it posted (never other XML under bazel-testlogs, which configurations
share), for the test targets it selected (its --test_tag_filters and
--test_size_filters applied). Prints diagnostics on stderr and, last, exactly
one line 'N passed, N failed' on stdout; exits 1 if anything failed.

- A target that did not build, or built but did not run (Bazel stopped
  without --keep_going), is named on stderr and counted as failed: its number
  of cases from the last complete run of the same configuration, else 1.
- A target that crashed or timed out before gtest wrote its XML counts its
  real number of cases: from gtest's "Running N tests" line in its log, else
  its binary's --gtest_list_tests, else the last complete run of the same
  configuration, else 1. Cases its log shows as OK count as passed.
- A target that failed although all its cases passed (e.g. a sanitizer report
  at exit) adds one failed case.

The case counts of complete runs, per configuration, are kept in FILE
(default: xehil-test-cases.json in Bazel's output base).
"""
import json
import os
import re
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET

PASSING = ("PASSED", "FLAKY")


def log(msg):
    print(f"count-tests: {msg}", file=sys.stderr)


def uri_path(uri):
    return urllib.parse.unquote(urllib.parse.urlparse(uri).path)


def option(cmdline, name, default=""):
    value = default
    for arg in cmdline:
        if arg.startswith(f"--{name}="):
            value = arg.split("=", 1)[1]
    return value


class Stream:
    """The parts of a build event stream that decide what was tested."""

    def __init__(self, path):
        self.cmdline, self.output_base = [], ""
        self.configured = {}  # label -> (kind, tags, size)
        self.not_configured = set()  # analysis failed
        self.completed = {}  # label -> (state, config id, binary path)
        self.results = {}  # (label, run, shard) -> (attempt, event)
        self.exit = None  # (name, code) from BuildFinished
        with open(path) as f:
            for line in f:
                if line.strip():
                    self._add(json.loads(line))

    def _add(self, e):
        kind, eid = next(iter(e["id"].items()))
        if kind == "optionsParsed":
            opts = e.get("optionsParsed", {})
            self.cmdline = opts.get("cmdLine", [])
            self.output_base = option(opts.get("startupOptions", []),
                                      "output_base")
        elif kind == "targetConfigured":
            if "configured" in e:
                c = e["configured"]
                self.configured[eid["label"]] = (c.get("targetKind", ""),
                                                 c.get("tag", []),
                                                 c.get("testSize", ""))
            elif "aborted" in e:
                self.not_configured.add(eid["label"])
        elif kind == "targetCompleted":
            config = eid.get("configuration", {}).get("id", "")
            if "aborted" in e:
                state, binary = "aborted", ""
            else:
                done = e.get("completed", {})
                state = "built" if done.get("success") else "failed"
                outs = done.get("importantOutput", [])
                binary = uri_path(outs[0]["uri"]) if outs else ""
            self.completed[eid["label"]] = (state, config, binary)
        elif kind == "testResult" and "testResult" in e:
            key = (eid["label"], eid.get("run", 1), eid.get("shard", 1))
            attempt = eid.get("attempt", 1)
            if key not in self.results or self.results[key][0] <= attempt:
                self.results[key] = (attempt, e)
        elif kind == "buildFinished":
            code = e.get("finished", {}).get("exitCode", {})
            self.exit = (code.get("name", "SUCCESS"), code.get("code", 0))

    def selected_tests(self):
        """Test targets this invocation meant to run, with its filters."""
        tags = [t for t in option(self.cmdline, "test_tag_filters").split(",")
                if t]
        sizes = [s.upper() for s in
                 option(self.cmdline, "test_size_filters").split(",") if s]
        selected = []
        for label, (kind, ttags, size) in sorted(self.configured.items()):
            if not kind.endswith("_test rule"):
                continue
            if any(t[1:] in ttags for t in tags if t.startswith("-")):
                continue
            wanted = [t for t in tags if not t.startswith("-")]
            if wanted and not any(t in ttags for t in wanted):
                continue
            if size and size in [s[1:] for s in sizes if s.startswith("-")]:
                continue
            wanted = [s for s in sizes if not s.startswith("-")]
            if size and wanted and size not in wanted:
                continue
            selected.append(label)
        return selected


def gtest_cases(xml_file):
    """(passed, failed names, skipped) from gtest's XML; None if not gtest."""
    try:
        root = ET.parse(xml_file).getroot()
    except (OSError, ET.ParseError):
        return None
    cases = list(root.iter("testcase"))
    # Bazel writes a one-case XML without classname for a test that wrote
    # none of its own (it crashed, timed out, or is not a gtest).
    if not cases or any(c.get("classname") is None for c in cases):
        return None
    passed, failed, skipped = 0, [], 0
    for c in cases:
        if c.find("failure") is not None or c.find("error") is not None:
            failed.append(f"{c.get('classname')}.{c.get('name')}")
        elif (c.find("skipped") is not None or
              c.get("result") == "skipped" or c.get("status") == "notrun"):
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def from_log(log_file):
    """(total or None, passed, skipped) from a gtest log that may end early."""
    try:
        with open(log_file, errors="replace") as f:
            text = f.read()
    except OSError:
        return None, 0, 0
    m = re.search(r"^\[==========\] Running (\d+) tests? from", text, re.M)
    return (int(m.group(1)) if m else None,
            len(re.findall(r"^\[       OK \] ", text, re.M)),
            len(re.findall(r"^\[  SKIPPED \] \S+ \(", text, re.M)))


def listed_cases(binary):
    """Number of cases `binary --gtest_list_tests` names, or None."""
    if not binary or not os.access(binary, os.X_OK):
        return None
    try:
        out = subprocess.run([binary, "--gtest_list_tests"], capture_output=True,
                             text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    n = sum(1 for line in out.splitlines() if line.startswith("  "))
    return n or None


class Counter:
    def __init__(self, stream, known):
        self.stream, self.known, self.learned = stream, known, {}
        self.passed = self.failed = self.skipped = 0
        self.not_built, self.not_run = [], []

    def known_cases(self, label):
        config = self.stream.completed.get(label, ("", "", ""))[1]
        return self.known.get(config, {}).get(label)

    def learn(self, label, config, n):
        # Shards of one target add up.
        labels = self.learned.setdefault(config, {})
        labels[label] = labels.get(label, 0) + n

    def count_result(self, label, event):
        result = event["testResult"]
        status = result.get("status", "NO_STATUS")
        config = event["id"]["testResult"].get("configuration", {}).get("id", "")
        files = {o["name"]: uri_path(o["uri"])
                 for o in result.get("testActionOutput", [])}
        cases = gtest_cases(files.get("test.xml", ""))
        if cases is not None:
            passed, failed, skipped = cases
            self.passed += passed
            self.skipped += skipped
            self.failed += len(failed)
            for name in failed:
                log(f"FAILED {label} {name}")
            self.learn(label, config, passed + len(failed) + skipped)
            if status not in PASSING and not failed:
                log(f"{label}: {status} although its {passed} cases passed "
                    "(see its test.log); counted as 1 failed")
                self.failed += 1
            return
        total, passed, skipped = from_log(files.get("test.log", ""))
        if status in PASSING:
            self.passed += 1  # not a gtest: the target is its one case
            return
        source = "its log"
        if total is None:
            total = listed_cases(self.stream.completed.get(label,
                                                           ("", "", ""))[2])
            source = "its --gtest_list_tests"
        if total is None:
            total = self.known_cases(label)
            source = "its last complete run of this configuration"
        if total is None:
            total, source = 1, "unknown"
        else:
            self.learn(label, config, total)
        passed, skipped = min(passed, total), min(skipped, total - passed)
        self.passed += passed
        self.skipped += skipped
        self.failed += total - passed - skipped
        log(f"{label}: {status} after {passed} of {total} cases passed "
            f"(cases from {source}); {total - passed - skipped} counted as "
            "failed")

    def count_missing(self, label):
        state = self.stream.completed.get(label, ("", "", ""))[0]
        if state == "failed" or label in self.stream.not_configured:
            self.not_built.append(label)
            what = "did not build"
        else:
            self.not_run.append(label)
            what = "did not run"
        n = self.known_cases(label) or 1
        self.failed += n
        log(f"{label}: {what}; counted as {n} failed")

    def run(self):
        results = {}
        for (label, _, _), (_, event) in self.stream.results.items():
            results.setdefault(label, []).append(event)
        selected = self.stream.selected_tests()
        for label in selected:
            if label in results:
                for event in results[label]:
                    self.count_result(label, event)
            else:
                self.count_missing(label)
        for label in sorted(self.stream.not_configured - set(selected)):
            self.count_missing(label)
        log(f"{len(self.not_built)} targets did not build, "
            f"{len(self.not_run)} did not run")
        if not selected and not self.stream.not_configured:
            log("no test targets were selected")
            self.failed += 1
        if self.stream.exit is None:
            log("the build event stream has no end: bazel was interrupted")
            self.failed += 1
        elif self.stream.exit[1] != 0 and self.failed == 0:
            log(f"bazel failed ({self.stream.exit[0]}) without a failed test")
            self.failed += 1


def main(argv):
    state = None
    if len(argv) >= 2 and argv[0] == "--state":
        state, argv = argv[1], argv[2:]
    if len(argv) != 1 or argv[0].startswith("-"):
        sys.exit(__doc__)
    try:
        stream = Stream(argv[0])
    except (OSError, ValueError) as e:
        log(f"cannot read the build event stream {argv[0]}: {e}")
        print("0 passed, 1 failed")
        return 1
    if state is None and stream.output_base:
        state = os.path.join(stream.output_base, "xehil-test-cases.json")
    known = {}
    if state:
        try:
            with open(state) as f:
                known = json.load(f)
        except (OSError, ValueError):
            known = {}
    counter = Counter(stream, known)
    counter.run()
    if state and counter.learned:
        for config, labels in counter.learned.items():
            known.setdefault(config, {}).update(labels)
        try:
            with open(state + ".tmp", "w") as f:
                json.dump(known, f, indent=1, sort_keys=True)
            os.replace(state + ".tmp", state)
        except OSError as e:
            log(f"cannot keep case counts in {state}: {e}")
    if counter.skipped:
        # Skips (no xe device, no watch-queue kernel) are said apart, so the
        # last line stays exactly 'N passed, N failed'.
        log(f"{counter.skipped} skipped")
    print(f"{counter.passed} passed, {counter.failed} failed")
    return 1 if counter.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
