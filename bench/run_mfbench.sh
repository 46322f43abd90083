#!/bin/sh
# Boot MCRK in QEMU with run=mfbench (bench/mfbench.c) at -smp 2 and print its figures:
# memory_failure of a page with one mapping, early-kill AO delivery, touch-to-SIGBUS, and the
# N-mappers x M-sleepers table with its slopes. Figures, not pass/fail.
#   bench/run_mfbench.sh [--trace] [--quick] [--timeout S]
# --quick skips the table; the rest is bench/run_guest.sh's (mf.trace=0 loglevel=4 unless
# --trace).
set -eu
cd "$(dirname "$0")/.."
ARG=""
OPTS=""
while [ $# -gt 0 ]; do
	case "$1" in
	--trace) OPTS="$OPTS --trace" ;;
	--quick) ARG=":quick" ;;
	--timeout) OPTS="$OPTS --timeout $2"; shift ;;
	*) echo "usage: $0 [--trace] [--quick] [--timeout S]" >&2; exit 2 ;;
	esac
	shift
done
exec sh bench/run_guest.sh --smp 2 $OPTS "mfbench$ARG"
