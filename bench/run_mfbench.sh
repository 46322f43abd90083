#!/bin/sh
# Boot MCRK in QEMU with run=mfbench (bench/mfbench.c) and print its figures: memory_failure of
# a page with one mapping, early-kill AO delivery, touch-to-SIGBUS, and the N-mappers x
# M-sleepers table with its slopes. Figures, not pass/fail. --prog cecbench boots
# bench/cecbench.c instead (the corrected-error collector's costs).
#   bench/run_mfbench.sh [--prog NAME] [--trace] [--quick] [--timeout S]
# By default the kernel runs with mf.trace=0 loglevel=4 (the kernel log keeps every line but
# the console shows only errors: a
# serial line costs ~100 us under QEMU TCG); --trace keeps every step's line. --quick skips
# the table. Needs `make` to have built build/mcrk.elf and build/initrd.cpio.
set -eu
cd "$(dirname "$0")/.."
B=${MCRK_BUILD:-build}
TRACE="mf.trace=0 loglevel=4"
ARG=""
PROG=mfbench
TIMEOUT=900
while [ $# -gt 0 ]; do
	case "$1" in
	--trace) TRACE="" ;;
	--quick) ARG=":quick" ;;
	--timeout) TIMEOUT=$2; shift ;;
	--prog) PROG=$2; shift ;;
	*) echo "usage: $0 [--prog NAME] [--trace] [--quick] [--timeout S]" >&2; exit 2 ;;
	esac
	shift
done
for f in "$B/mcrk.elf" "$B/initrd.cpio"; do
	[ -f "$f" ] || { echo "$f is missing: run make" >&2; exit 2; }
done
LOG=$(mktemp /tmp/$PROG.XXXXXX)
qemu-system-x86_64 -cpu max,vendor=GenuineIntel -smp 2 -m 1G -display none -vga none \
	-net none -no-reboot -serial "file:$LOG" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$B/mcrk.elf" -initrd "$B/initrd.cpio" -append "run=$PROG$ARG $TRACE" &
QPID=$!
trap 'kill $QPID 2>/dev/null; rm -f "$LOG"' EXIT INT TERM
end=$(( $(date +%s) + TIMEOUT ))
while ! grep -q "init: $PROG \(exited\|killed\)" "$LOG" 2>/dev/null; do
	if ! kill -0 $QPID 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; then
		echo "$PROG did not finish (timeout or QEMU exited); last lines:" >&2
		tail -n 20 "$LOG" >&2
		exit 1
	fi
	sleep 1
done
echo "kernel command line: run=$PROG$ARG $TRACE (QEMU TCG, -smp 2 -m 1G)"
grep -a "^$PROG:\|init: $PROG" "$LOG" | tr -d '\r'
