#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds the targets under
# clang's thread-safety analysis (--config=tsa), runs every test target that
# does not need xe hardware, and ends with 'N passed, N failed' (test cases)
# counted from this bazel invocation's own build events, never from results
# that earlier runs or other configs left in bazel-testlogs.
#
# Usage: scripts/test.sh [BAZEL_FLAG...] [TARGET_PATTERN...]
#   Flags (e.g. --config=asan, -k) go to `bazel test`; write them as
#   --name=value. Arguments that do not start with '-' are target patterns
#   (default //...).
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh || exit 1

flags=()
patterns=()
for arg in "$@"; do
  case "$arg" in
    -*) flags+=("$arg") ;;
    *) patterns+=("$arg") ;;
  esac
done
[ ${#patterns[@]} -eq 0 ] && patterns=(//...)

events=$(mktemp "${TMPDIR:-/tmp}/xehil-test-events.XXXXXX") || exit 1
trap 'rm -f "$events"' EXIT

# The vxe test kernel: built once per machine (about 5 min of 2 cores), then
# found in the cache at once. vm-run tests read it through $XEHIL_VXE_KERNEL
# (tests do not see $HOME, so they cannot look for the cache themselves).
# (A workspace without vxe/, such as the counter's own test fixture, skips it.)
if [ -e vxe/kernel/build-kernel.sh ]; then
  vxe_kernel=$(vxe/kernel/build-kernel.sh) || exit 1
  flags+=("--test_env=XEHIL_VXE_KERNEL=$vxe_kernel")
fi

# The lock contracts: clang's thread-safety analysis (--config=tsa) over the
# same targets. A failure fails the run, after the tests have still run.
# (A workspace without the config, such as the counter's fixture, skips it.)
tsa_rc=0
if grep -q '^build:tsa ' .bazelrc 2>/dev/null; then
  bazel build --config=tsa -- "${patterns[@]}"
  tsa_rc=$?
fi

bazel test --build_event_json_file="$events" "${flags[@]}" -- "${patterns[@]}"
bazel_rc=$?

[ $tsa_rc -eq 0 ] ||
  echo "test.sh: bazel build --config=tsa failed (exit $tsa_rc)" >&2
python3 scripts/count-tests.py "$events"
count_rc=$?
[ $tsa_rc -eq 0 ] && [ $bazel_rc -eq 0 ] && [ $count_rc -eq 0 ]
