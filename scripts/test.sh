#!/usr/bin/env bash
# The whole test suite: installs what it needs, runs every test target that
# does not need xe hardware, and ends with 'N passed, N failed' (test cases).
# Extra arguments go to `bazel test` (e.g. --config=asan).
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh || exit 1

# The vxe test kernel: built once per machine (about 5 min of 2 cores), then
# found in the cache at once. vm-run tests read it through $XEHIL_VXE_KERNEL
# (tests do not see $HOME, so they cannot look for the cache themselves).
vxe_kernel=$(vxe/kernel/build-kernel.sh) || exit 1

bazel test --test_env=XEHIL_VXE_KERNEL="$vxe_kernel" "$@" //...
bazel_rc=$?

# Same selection as .bazelrc's test_tag_filters: hardware and manual tests are
# run by their own config.
mapfile -t targets < <(bazel query --noshow_progress \
  'tests(//...) except attr(tags, "requires-xe|manual", tests(//...))' 2>/dev/null)
testlogs=$(bazel info "$@" bazel-testlogs 2>/dev/null)
python3 scripts/count-tests.py "$testlogs" "${targets[@]}"
count_rc=$?
[ $bazel_rc -eq 0 ] && [ $count_rc -eq 0 ]
