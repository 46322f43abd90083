#!/bin/sh
# Boot MCRK in QEMU with run=fsbench (bench/fsbench.c) and print its figures: tmpfs
# sequential write, rewrite and read of 64 MiB with 4 KiB and 1 MiB calls, beside memcpy of
# 64 MiB in the same guest. Figures, not pass/fail.
#   bench/run_fsbench.sh [--smp N] [--timeout S]
# Needs `make` to have built build/mcrk.elf and build/initrd.cpio.
set -eu
cd "$(dirname "$0")/.."
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
. bench/guest_run.sh
guest_run fsbench "$SMP" "$TIMEOUT" loglevel=4
