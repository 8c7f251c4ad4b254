#!/usr/bin/env bash
# Builds the vxe kernel module against the cached vxe test kernel and prints
# the .ko's path (stdout is only that path; progress and errors on stderr).
#
#   ko=$(vxe/driver/build-module.sh)            # kernel from the cache
#   ko=$(vxe/driver/build-module.sh --out=DIR)  # build in DIR (default:
#                        # ~/.cache/xehil/vxe-module/KEY, per machine)
#
# The kernel directory comes from $XEHIL_VXE_KERNEL, else vxe/kernel/
# build-kernel.sh (which builds it once per machine). From Bazel:
# `bazel run //vxe/driver:build_module`. The module is built
# out of tree in a copy of the sources, so the source folder stays clean and
# read-only sources (Bazel runfiles) work. The output directory is keyed by
# the sources' hash, so an unchanged module is not rebuilt.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# As a Bazel sh_binary the sources are in the runfiles tree, not beside us.
if [ ! -f "$here/vxe_drv.c" ]; then
  for dir in "${RUNFILES_DIR:-$0.runfiles}/xehil/vxe/driver" \
    "${BASH_SOURCE[0]}.runfiles/xehil/vxe/driver"; do
    [ -f "$dir/vxe_drv.c" ] && here=$(cd "$dir" && pwd) && break
  done
fi
out=""
for arg in "$@"; do
  case $arg in
    --out=*) out=${arg#--out=} ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' |
        sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "build-module: unknown argument '$arg' (see --help)" >&2
      exit 2
      ;;
  esac
done

log() { echo "build-module: $*" >&2; }

kernel=${XEHIL_VXE_KERNEL:-}
if [ -z "$kernel" ]; then
  # Under `bazel run` the sources are runfiles; the kernel script is not.
  builder=${BUILD_WORKSPACE_DIRECTORY:-$here/../..}/vxe/kernel/build-kernel.sh
  [ -x "$builder" ] || {
    log "error: no \$XEHIL_VXE_KERNEL and no $builder"
    exit 1
  }
  kernel=$("$builder")
fi
tree=$kernel/tree
[ -f "$tree/Module.symvers" ] || {
  log "error: $tree is not a built kernel tree (no Module.symvers)"
  exit 1
}

sources=(Kbuild vxe.h vxe_ctl.h vxe_xe_abi.h vxe_ctl.c vxe_drv.c)
key=$(cd "$here" && cat "${sources[@]}" "$tree/Module.symvers" |
  sha256sum | cut -c1-16)
if [ -z "$out" ]; then
  # Bazel tests run without $HOME: the account's home is the same machine's.
  home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
  out=${XDG_CACHE_HOME:-$home/.cache}/xehil/vxe-module/$key
fi
mkdir -p "$out"
# Concurrent callers (parallel tests) build once.
exec 9>"$out/.lock"
flock 9
if [ -f "$out/vxe.ko" ] && [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ]; then
  echo "$out/vxe.ko"
  exit 0
fi
rm -f "$out/.key"
for f in "${sources[@]}"; do
  install -m 0644 "$here/$f" "$out/$f"
done
unset MAKEFLAGS MFLAGS MAKELEVEL
if ! make -C "$tree" M="$out" W=1 modules >"$out/build.log" 2>&1; then
  log "module build failed:"
  cat "$out/build.log" >&2
  exit 1
fi
if grep -q "warning:" "$out/build.log"; then
  log "warnings:"
  grep -A3 "warning:" "$out/build.log" >&2
fi
echo "$key" >"$out/.key"
echo "$out/vxe.ko"
