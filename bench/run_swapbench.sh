#!/bin/sh
# Swap figures under QEMU TCG (not pass/fail): boots with 64 MiB of RAM and an empty 192 MiB
# swap area (mkswap) as a virtio disk, and runs bench/swapbench.c: MADV_PAGEOUT and swap-in
# rates, writing and reading back 96 MiB under memory pressure, and memory_failure of a clean
# and a dirty swap cache page. Usage: sh bench/run_swapbench.sh [SMP]
set -e
cd "$(dirname "$0")/.."
SMP=${1:-1}
IMG=build/bench-swap.img
LOG=build/swapbench.log
rm -f $IMG $LOG
truncate -s 192M $IMG
mkswap $IMG >/dev/null 2>&1
qemu-system-x86_64 -cpu max,vendor=GenuineIntel -smp "$SMP" -m 64M -display none -vga none \
	-net none -no-reboot -serial file:$LOG -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel build/mcrk.elf -initrd build/initrd.cpio \
	-append "run=swapbench:/dev/vda mf.trace=0 loglevel=4" \
	-drive if=none,id=sw0,file=$IMG,format=raw,cache=unsafe \
	-device virtio-blk-pci,drive=sw0,disable-legacy=on </dev/null >/dev/null 2>&1 &
pid=$!
for _ in $(seq 3000); do
	grep -q 'init: swapbench \(exited\|killed\)' $LOG 2>/dev/null && break
	sleep 0.1
done
kill $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
grep 'swapbench:' $LOG || echo "swapbench: no figures (see $LOG)"
rm -f $IMG
