#!/usr/bin/env bash
# Builds the vxe test kernel once per machine and prints its cache directory.
#
#   dir=$(vxe/kernel/build-kernel.sh)   # $dir/vmlinux, $dir/tree (built tree)
#   make -C "$dir/tree" M="$PWD" modules  # out-of-tree modules against it
#   vxe/kernel/build-kernel.sh --check    # the path if built, else exit 3
#
# Source: Debian's linux-source-6.12 (/usr/src/linux-source-6.12.tar.xz), plus
# watch-type-drm-xe.patch, configured from vxe.config. The cache lives outside
# any clone, in ${XDG_CACHE_HOME:-~/.cache}/xehil/vxe-kernel/<key>/, where the
# key hashes this script, the fragment, the patch, the source package version
# and the compiler, so a second clone reuses the kernel and any input change
# builds a new one. Concurrent callers build once (flock); the directory
# appears atomically (built under a temporary name, then renamed), so it is
# either complete or absent. Progress goes to stderr; stdout is only the path.
#
# --check computes the key and answers at once: the path (exit 0) if that
# kernel is built, else exit 3; it never builds.
# Environment: XEHIL_LINUX_SOURCE overrides the source tarball;
# XEHIL_KERNEL_VERBOSE=1 streams the kernel build log to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fragment=$here/vxe.config
patch_file=$here/watch-type-drm-xe.patch
source_tar=${XEHIL_LINUX_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
source_pkg=linux-source-6.12

check_only=0
case "${1:-}" in
  --check) check_only=1 ;;
  "") ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "usage: build-kernel.sh [--check]" >&2
    exit 2
    ;;
esac

log() { echo "build-kernel: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

[ -r "$fragment" ] && [ -r "$patch_file" ] ||
  die "missing $fragment or $patch_file beside this script"
[ -r "$source_tar" ] ||
  die "missing $source_tar: install $source_pkg (./scripts/install-deps.sh)"
missing_tools=()
for tool in make gcc flex bison bc tar xz patch flock sha256sum; do
  command -v "$tool" >/dev/null || missing_tools+=("$tool")
done
[ ${#missing_tools[@]} -eq 0 ] ||
  die "missing tools: ${missing_tools[*]} (./scripts/install-deps.sh)"
# objtool needs libelf's headers; without them the build fails late.
[ -r /usr/include/libelf.h ] || [ -r /usr/include/gelf.h ] ||
  die "missing libelf headers: install libelf-dev (./scripts/install-deps.sh)"

source_version=$(dpkg-query -W -f='${Version}' "$source_pkg" 2>/dev/null ||
  stat -L -c '%s-%Y' "$source_tar")
# The tarball's size and time too: XEHIL_LINUX_SOURCE may name another one.
key=$({
  cat "${BASH_SOURCE[0]}" "$fragment" "$patch_file"
  echo "$source_version"
  stat -L -c '%s %Y' "$source_tar"
  gcc --version | head -n1
} | sha256sum | cut -c1-16)

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/xehil/vxe-kernel
out=$cache_root/$key

is_complete() { [ -f "$out/vmlinux" ] && [ -f "$out/tree/Module.symvers" ]; }

if is_complete; then
  echo "$out"
  exit 0
fi
[ "$check_only" = 0 ] || exit 3

mkdir -p "$cache_root"
exec 9>"$cache_root/$key.lock"
if ! flock -n 9; then
  log "another build of $key is running; waiting for it"
  flock 9
fi
if is_complete; then
  echo "$out"
  exit 0
fi

tmp=$(mktemp -d "$cache_root/.build-$key.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
buildlog=$tmp/build.log
started=$(date +%s)

# Runs a command with its output in the build log; on failure shows the tail.
run_logged() {
  if [ "${XEHIL_KERNEL_VERBOSE:-0}" = 1 ]; then
    "$@" 2>&1 | tee -a "$buildlog" >&2
    return "${PIPESTATUS[0]}"
  fi
  if ! "$@" >>"$buildlog" 2>&1; then
    log "failed: $*; last lines of the build log:"
    tail -n 40 "$buildlog" >&2
    return 1
  fi
}

log "building kernel $key in $tmp (about 5 min on 2 idle cores; far longer on a busy machine)"
log "extracting $source_tar ($source_pkg $source_version)"
tar -xJf "$source_tar" -C "$tmp" || die "cannot extract $source_tar"
top=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d)
[ "$(echo "$top" | wc -l)" = 1 ] || die "unexpected layout in $source_tar"
mv "$top" "$tmp/tree"
tree=$tmp/tree

log "applying $(basename "$patch_file")"
run_logged patch -d "$tree" -p1 --forward -i "$patch_file"

# A make inside bazel or another make must not inherit their job server.
unset MAKEFLAGS MFLAGS MAKELEVEL
export KBUILD_BUILD_USER=xehil KBUILD_BUILD_HOST=vxe
export KBUILD_BUILD_TIMESTAMP="$source_version"

# `make tinyconfig` followed by `allnoconfig` would discard tinyconfig's
# choices (allnoconfig starts afresh), so the fragment over allnoconfig is the
# whole configuration. EXPERT stays off, so options only EXPERT can disable
# (EPOLL, SHMEM, ...) keep their defaults.
log "configuring from $(basename "$fragment")"
run_logged make -C "$tree" KCONFIG_ALLCONFIG="$fragment" allnoconfig

not_set=()
while IFS= read -r option; do
  grep -qx "$option=y" "$tree/.config" || not_set+=("$option")
done < <(sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=y$/\1/p' "$fragment")
if [ ${#not_set[@]} -ne 0 ]; then
  for option in "${not_set[@]}"; do
    log "config: $option is not =y: $(grep -E "^(# )?$option[= ]" "$tree/.config" || echo "absent")"
  done
  die "${#not_set[@]} option(s) of $(basename "$fragment") did not end up =y (unmet dependencies?)"
fi

jobs=$(nproc)
log "make -j$jobs vmlinux modules (log: $buildlog)"
if [ "${XEHIL_KERNEL_VERBOSE:-0}" = 1 ]; then
  run_logged make -C "$tree" -j"$jobs" vmlinux modules
else
  make -C "$tree" -j"$jobs" vmlinux modules >>"$buildlog" 2>&1 &
  make_pid=$!
  while kill -0 "$make_pid" 2>/dev/null; do
    sleep 10 &
    wait $! || true
    kill -0 "$make_pid" 2>/dev/null &&
      log "... $(($(date +%s) - started)) s, $(grep -c '^  [A-Z]' "$buildlog") build steps"
  done
  if ! wait "$make_pid"; then
    log "kernel build failed; last lines of $buildlog:"
    tail -n 40 "$buildlog" >&2
    exit 1
  fi
fi
[ -f "$tree/Module.symvers" ] || die "the build left no Module.symvers"

cp "$tree/vmlinux" "$tmp/vmlinux"
cp "$buildlog" "$tmp/tree/.xehil-build.log"
rm -f "$buildlog"
{
  echo "source: $source_pkg $source_version"
  echo "compiler: $(gcc --version | head -n1)"
  echo "built: $(date -u +%FT%TZ) in $(($(date +%s) - started)) s"
} >"$tmp/BUILD-INFO"
chmod 755 "$tmp" # mktemp made it private
mv -T "$tmp" "$out"
trap - EXIT
log "built in $(($(date +%s) - started)) s: $out"
echo "$out"
