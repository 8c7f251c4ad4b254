#!/usr/bin/env bash
# Boots the cached vxe kernel under QEMU with a small initramfs (guest_init.c
# as /init, the vxe module, vxe_guest_test, xehil-simd with its shared
# libraries, examples/raw_uapi/restart_on_enomem with its libraries) and
# checks what the guest reports.
#
#   run_guest_tests.sh WORKDIR GUEST_INIT GUEST_TEST XEHIL_SIMD SCRIPT BUILD_MODULE \
#       EXAMPLE
#
# The kernel directory (vmlinux, tree/) is $XEHIL_VXE_KERNEL, else the newest
# complete one under ${XDG_CACHE_HOME:-$HOME/.cache}/xehil/vxe-kernel/.
# Exit 0: every guest step passed; 1: a failure (console shown); 77: cannot
# run here (no kernel, no qemu), with the reason on the last line.
set -euo pipefail

[ $# -eq 7 ] || {
  sed -n '6,7p' "$0" | sed 's/^# *//' >&2
  exit 2
}
work=$1 init=$2 guest_test=$3 simd=$4 script=$5 build_module=$6 example=$7

skip() {
  echo "SKIP: $*"
  exit 77
}

kernel=${XEHIL_VXE_KERNEL:-}
if [ -z "$kernel" ]; then
  for dir in "${XDG_CACHE_HOME:-$HOME/.cache}"/xehil/vxe-kernel/*/; do
    [ -f "$dir/vmlinux" ] && [ -f "$dir/tree/Module.symvers" ] || continue
    if [ -z "$kernel" ] || [ "$dir/vmlinux" -nt "$kernel/vmlinux" ]; then
      kernel=${dir%/}
    fi
  done
fi
[ -n "$kernel" ] && [ -f "$kernel/vmlinux" ] ||
  skip "no vxe kernel (set XEHIL_VXE_KERNEL or build it with vxe/kernel/build-kernel.sh)"
command -v qemu-system-x86_64 >/dev/null ||
  skip "no qemu-system-x86_64 (install qemu-system-x86)"
gen_cpio=$kernel/tree/usr/gen_init_cpio
[ -x "$gen_cpio" ] || skip "$gen_cpio missing from the kernel tree"

mkdir -p "$work"
# Cached per machine by its sources' hash (~/.cache/xehil/vxe-module/).
ko=$(XEHIL_VXE_KERNEL=$kernel "$build_module")

# Every file at its real host path, so the daemon's libraries resolve as on
# the host; the fixed names /init etc. are links or copies.
spec=$work/initramfs.spec
declare -A dirs=()
add_dirs() {
  local d=$1
  while [ "$d" != / ] && [ -z "${dirs[$d]:-}" ]; do
    dirs[$d]=1
    d=$(dirname "$d")
  done
}
files=()
add_file() { # guest path, host path, mode
  add_dirs "$(dirname "$1")"
  files+=("file $1 $2 $3 0 0")
}
simd_real=$(readlink -f "$simd")
example_real=$(readlink -f "$example")
add_file "$simd_real" "$simd_real" 0755
add_file "$example_real" "$example_real" 0755
while read -r lib; do
  add_file "$lib" "$(readlink -f "$lib")" 0755
done < <({
  ldd "$simd_real"
  ldd "$example_real"
} | grep -o '/[^ ]*' | sort -u)
{
  echo "dir /dev 0755 0 0"
  echo "nod /dev/console 0600 0 0 c 5 1"
  echo "dir /proc 0755 0 0"
  echo "dir /sys 0755 0 0"
  echo "dir /tmp 01777 0 0"
  printf '%s\n' "${!dirs[@]}" | sort | sed 's/^\(.*\)$/dir \1 0755 0 0/'
  printf '%s\n' "${files[@]}"
  echo "file /init $(readlink -f "$init") 0755 0 0"
  echo "file /vxe.ko $ko 0644 0 0"
  echo "file /vxe_guest_test $(readlink -f "$guest_test") 0755 0 0"
  echo "file /enomem_on_watch.textproto $(readlink -f "$script") 0644 0 0"
  echo "slink /xehil-simd $simd_real 0755 0 0"
  echo "slink /restart_on_enomem $example_real 0755 0 0"
} >"$spec"
"$gen_cpio" "$spec" >"$work/initramfs.cpio"

console=$work/console.log
set +e
timeout "${XEHIL_VXE_TIMEOUT:-120}" qemu-system-x86_64 -accel tcg -smp 2 -m 512 \
  -display none -no-reboot -serial "file:$console" -monitor none \
  -kernel "$kernel/vmlinux" -initrd "$work/initramfs.cpio" \
  -append "console=ttyS0 panic=-1 quiet" \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04
rc=$?
set -e
cat "$console"
# isa-debug-exit: QEMU exits with (value << 1) | 1; /init writes 0 on success.
case $rc in
  1) exit 0 ;;
  124) echo "FAIL: the guest did not finish within ${XEHIL_VXE_TIMEOUT:-120} s" ;;
  *) echo "FAIL: QEMU exit status $rc" ;;
esac
exit 1
