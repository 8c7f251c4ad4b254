#!/usr/bin/env bash
# scripts/test.sh's summary counts only what its own bazel invocation ran.
# A small workspace (testdata/counter_workspace) first passes everything with
# --config=stale, which leaves passing test.xml files in the testlogs that
# every config shares; then a non-compiling, a crashing and a passing test
# are each checked for an honest last line and exit code. Runs a nested Bazel
# with its own output root under TEST_TMPDIR.
set -uo pipefail

main="$TEST_SRCDIR/$TEST_WORKSPACE"
ws="$TEST_TMPDIR/ws"
export HOME="$TEST_TMPDIR/home"
mkdir -p "$ws/scripts" "$ws/rules_cc/cc" "$ws/coverage" "$HOME"

cp "$main/scripts/test.sh" "$main/scripts/count-tests.py" "$ws/scripts/"
# The fixture needs nothing installed.
printf '#!/bin/sh\nexit 0\n' >"$ws/scripts/install-deps.sh"
chmod +x "$ws/scripts/"*
fixture="$main/scripts/testdata/counter_workspace"
cp "$fixture/BUILD.fixture" "$ws/BUILD"
cp "$fixture/"*.cc "$ws/"
cp "$TEST_SRCDIR/rules_cc/cc/defs.bzl" "$ws/rules_cc/cc/"
touch "$ws/rules_cc/WORKSPACE" "$ws/rules_cc/BUILD" "$ws/rules_cc/cc/BUILD"
cp "$TEST_SRCDIR/remote_coverage_tools/BUILD" "$ws/coverage/"
touch "$ws/coverage/WORKSPACE"
cat >"$ws/WORKSPACE" <<'EOF'
workspace(name = "counter_fixture")
local_repository(name = "rules_cc", path = "rules_cc")
local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")
local_repository(name = "remote_coverage_tools", path = "coverage")
EOF
cat >"$ws/.bazelrc" <<EOF
startup --output_user_root=$TEST_TMPDIR/root
startup --max_idle_secs=300
build --spawn_strategy=processwrapper-sandbox
build --incompatible_strict_action_env
test --test_tag_filters=-requires-xe,-manual
build:stale --copt=-DSTALE_GOOD
EOF

cd "$ws" || exit 1
trap 'bazel shutdown >/dev/null 2>&1' EXIT

failures=0
out="$TEST_TMPDIR/out"
err="$TEST_TMPDIR/err"

# run WANT_LINE WANT_RC [test.sh args...]: WANT_RC is 0 or 'fail'.
run() {
  local want_line="$1" want_rc="$2"
  shift 2
  scripts/test.sh "$@" >"$out" 2>"$err"
  local rc=$? line
  line=$(tail -n 1 "$out")
  if [[ ! "$line" =~ $want_line ]]; then
    echo "FAIL: test.sh $*: last line '$line', want /$want_line/" >&2
    failures=$((failures + 1))
  fi
  if { [ "$want_rc" = 0 ] && [ $rc -ne 0 ]; } ||
    { [ "$want_rc" = fail ] && [ $rc -eq 0 ]; }; then
    echo "FAIL: test.sh $*: exit $rc, want $want_rc" >&2
    failures=$((failures + 1))
  fi
}

# want_stderr REGEX: the last run said REGEX on stderr.
want_stderr() {
  if ! grep -Eq "$1" "$err"; then
    echo "FAIL: stderr lacks /$1/; it was:" >&2
    grep '^count-tests' "$err" >&2
    failures=$((failures + 1))
  fi
}

# Stale results of another config: 3 + 4 + 2 passing cases.
run '^9 passed, 0 failed$' 0 --config=stale
want_stderr '^count-tests: 0 targets did not build, 0 did not run$'

run '^2 passed, 0 failed$' 0 //:pass_test

run '^0 passed, 1 failed$' fail //:compile_error_test
want_stderr '^count-tests: //:compile_error_test: did not build'
want_stderr '^count-tests: 1 targets did not build, 0 did not run$'

# Crashes in its second case of four.
run '^1 passed, 3 failed$' fail //:crash_test
want_stderr '^count-tests: //:crash_test: FAILED after 1 of 4 cases passed'

run '^3 passed, 4 failed$' fail --keep_going
want_stderr '^count-tests: 1 targets did not build, 0 did not run$'

# Without --keep_going Bazel stops at the compile error; whatever it did not
# run is said, and nothing stale is counted.
run '^[0-3] passed, [1-5] failed$' fail
want_stderr '^count-tests: 1 targets did not build, [0-2] did not run$'

# A crash before gtest's first line: the count of this config's last run.
sed -i '1i #define CRASH_BEFORE_MAIN' crash_test.cc
run '^0 passed, 4 failed$' fail //:crash_test
want_stderr 'after 0 of 4 cases passed \(cases from its last complete run'

if [ $failures -ne 0 ]; then
  echo "$failures checks failed" >&2
  exit 1
fi
echo "all checks passed"
