#!/bin/sh
# Boot MCRK in QEMU with run=mfbench (bench/mfbench.c) and print its figures: memory_failure of
# a page with one mapping, early-kill AO delivery, touch-to-SIGBUS, and the N-mappers x
# M-sleepers table with its slopes. Figures, not pass/fail.
#   bench/run_mfbench.sh [--trace] [--quick] [--timeout S]
# By default the kernel runs with mf.trace=0 loglevel=4 (the kernel log keeps every line but
# the console shows only errors: a
# serial line costs ~100 us under QEMU TCG); --trace keeps every step's line. --quick skips
# the table. Needs `make` to have built build/mcrk.elf and build/initrd.cpio.
set -eu
cd "$(dirname "$0")/.."
TRACE="mf.trace=0 loglevel=4"
ARG=""
TIMEOUT=900
while [ $# -gt 0 ]; do
	case "$1" in
	--trace) TRACE="" ;;
	--quick) ARG=":quick" ;;
	--timeout) TIMEOUT=$2; shift ;;
	*) echo "usage: $0 [--trace] [--quick] [--timeout S]" >&2; exit 2 ;;
	esac
	shift
done
. bench/guest_run.sh
guest_run "mfbench$ARG" 2 "$TIMEOUT" "$TRACE"
