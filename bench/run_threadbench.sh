#!/bin/sh
# Boot MCRK in QEMU with run=threadbench (bench/threadbench.c) at 1 and 2 CPUs and print its
# figures: thread create+join beside fork+wait, and futex ping-pong between two threads beside
# two processes. Figures, not pass/fail.
#   bench/run_threadbench.sh [--quick] [--timeout S]
# Needs `make` to have built build/mcrk.elf and build/initrd.cpio.
set -eu
cd "$(dirname "$0")/.."
B=${MCRK_BUILD:-build}
ARG=""
TIMEOUT=600
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) ARG=":quick" ;;
	--timeout) TIMEOUT=$2; shift ;;
	*) echo "usage: $0 [--quick] [--timeout S]" >&2; exit 2 ;;
	esac
	shift
done
for f in "$B/mcrk.elf" "$B/initrd.cpio"; do
	[ -f "$f" ] || { echo "$f is missing: run make" >&2; exit 2; }
done
LOG=$(mktemp /tmp/threadbench.XXXXXX)
trap 'rm -f "$LOG"' EXIT INT TERM
for SMP in 2 1; do
	: > "$LOG"
	qemu-system-x86_64 -cpu max,vendor=GenuineIntel -smp $SMP -m 256M -display none \
		-vga none -net none -no-reboot -serial "file:$LOG" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$B/mcrk.elf" \
		-initrd "$B/initrd.cpio" -append "run=threadbench$ARG loglevel=4" &
	QPID=$!
	end=$(( $(date +%s) + TIMEOUT ))
	while ! grep -q "init: threadbench \(exited\|killed\)" "$LOG" 2>/dev/null; do
		if ! kill -0 $QPID 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; then
			echo "threadbench did not finish (timeout or QEMU exited); last lines:" >&2
			tail -n 20 "$LOG" >&2
			kill $QPID 2>/dev/null || true
			exit 1
		fi
		sleep 1
	done
	kill $QPID 2>/dev/null || true
	wait $QPID 2>/dev/null || true
	echo "QEMU TCG -smp $SMP, kernel command line: run=threadbench$ARG loglevel=4"
	grep -a "^threadbench:" "$LOG" | tr -d '\r'
done
