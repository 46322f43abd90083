#!/bin/sh
# Boot MCRK in QEMU with run=threadbench (bench/threadbench.c) at 1 and 2 CPUs and print its
# figures: thread create+join beside fork+wait, and futex ping-pong between two threads beside
# two processes. Figures, not pass/fail.
#   bench/run_threadbench.sh [--quick] [--timeout S]
# Needs `make` to have built build/mcrk.elf and build/initrd.cpio.
set -eu
cd "$(dirname "$0")/.."
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
. bench/guest_run.sh
for SMP in 2 1; do
	guest_run "threadbench$ARG" $SMP "$TIMEOUT" loglevel=4 256M
done
