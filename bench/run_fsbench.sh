#!/bin/sh
# Boot MCRK in QEMU with run=fsbench (bench/fsbench.c) and print its figures: tmpfs
# sequential write, rewrite and read of 64 MiB with 4 KiB and 1 MiB calls, beside memcpy of
# 64 MiB in the same guest. Figures, not pass/fail.
#   bench/run_fsbench.sh [--smp N] [--timeout S]
# Needs `make` to have built build/mcrk.elf and build/initrd.cpio.
set -eu
cd "$(dirname "$0")/.."
B=${MCRK_BUILD:-build}
SMP=1
TIMEOUT=600
while [ $# -gt 0 ]; do
	case "$1" in
	--smp) SMP=$2; shift ;;
	--timeout) TIMEOUT=$2; shift ;;
	*) echo "usage: $0 [--smp N] [--timeout S]" >&2; exit 2 ;;
	esac
	shift
done
for f in "$B/mcrk.elf" "$B/initrd.cpio"; do
	[ -f "$f" ] || { echo "$f is missing: run make" >&2; exit 2; }
done
LOG=$(mktemp /tmp/fsbench.XXXXXX)
qemu-system-x86_64 -cpu max,vendor=GenuineIntel -smp "$SMP" -m 1G -display none -vga none \
	-net none -no-reboot -serial "file:$LOG" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$B/mcrk.elf" -initrd "$B/initrd.cpio" -append "run=fsbench loglevel=4" &
QPID=$!
trap 'kill $QPID 2>/dev/null; rm -f "$LOG"' EXIT INT TERM
end=$(( $(date +%s) + TIMEOUT ))
while ! grep -q "init: fsbench \(exited\|killed\)" "$LOG" 2>/dev/null; do
	if ! kill -0 $QPID 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; then
		echo "fsbench did not finish (timeout or QEMU exited); last lines:" >&2
		tail -n 20 "$LOG" >&2
		exit 1
	fi
	sleep 1
done
echo "kernel command line: run=fsbench loglevel=4 (QEMU TCG, -smp $SMP -m 1G)"
grep -a "^fsbench:\|init: fsbench" "$LOG" | tr -d '\r'
