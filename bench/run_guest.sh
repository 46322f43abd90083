#!/bin/sh
# Boot MCRK in QEMU TCG with run=PROG[:ARG] (a benchmark of the initrd: mfbench, forkbench,
# fsbench) and print its figures (lines starting "PROG:"). Figures, not pass/fail.
#   bench/run_guest.sh [--kernel ELF] [--smp N] [--trace] [--timeout S] PROG[:ARG]
# By default the kernel runs with mf.trace=0 loglevel=4: the kernel log (/proc/kmsg) keeps
# every line but the console shows only errors (a serial line costs ~100 us under TCG);
# --trace keeps memory_failure's step lines on (still off the console at loglevel=4).
# --kernel boots another kernel with this tree's initrd, to measure a "before" in the same
# window as the "after". Needs `make` to have built build/mcrk.elf and build/initrd.cpio.
set -eu
cd "$(dirname "$0")/.."
B=${MCRK_BUILD:-build}
KERNEL=$B/mcrk.elf
TRACE="mf.trace=0 loglevel=4"
SMP=1
TIMEOUT=900
while [ $# -gt 1 ]; do
	case "$1" in
	--kernel) KERNEL=$2; shift ;;
	--smp) SMP=$2; shift ;;
	--trace) TRACE="loglevel=4" ;;
	--timeout) TIMEOUT=$2; shift ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] || { echo "usage: $0 [--kernel ELF] [--smp N] [--trace] [--timeout S] PROG[:ARG]" >&2; exit 2; }
RUN=$1
PROG=${RUN%%:*}
for f in "$KERNEL" "$B/initrd.cpio"; do
	[ -f "$f" ] || { echo "$f is missing: run make" >&2; exit 2; }
done
LOG=$(mktemp /tmp/benchlog.XXXXXX)
qemu-system-x86_64 -cpu max,vendor=GenuineIntel -smp "$SMP" -m 1G -display none -vga none \
	-net none -no-reboot -serial "file:$LOG" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$KERNEL" -initrd "$B/initrd.cpio" -append "run=$RUN $TRACE" &
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
echo "$(date -u +%F) $(uptime | sed 's/.*load/load/'); kernel $KERNEL; command line: run=$RUN $TRACE (QEMU TCG, -smp $SMP -m 1G)"
grep -a "^$PROG:\|init: $PROG" "$LOG" | tr -d '\r'
