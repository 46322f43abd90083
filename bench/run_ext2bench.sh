#!/bin/sh
# ext2 through the page cache under QEMU TCG (figures, not pass/fail): bench/ext2bench.c on an
# empty 192 MiB ext2 image (4 KiB blocks) attached as virtio-blk with cache=unsafe, so the
# figures are the guest's costs, not a disk's. Usage: sh bench/run_ext2bench.sh [SMP]
set -e
cd "$(dirname "$0")/.."
SMP=${1:-1}
IMG=build/bench-ext2.img
LOG=build/ext2bench.log
rm -f $IMG $LOG
truncate -s 192M $IMG
mke2fs -q -F -t ext2 -b 4096 $IMG
qemu-system-x86_64 -cpu max,vendor=GenuineIntel -smp "$SMP" -m 1G \
	-display none -vga none -net none -no-reboot -serial file:$LOG \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel build/mcrk.elf \
	-initrd build/initrd.cpio -append "run=ext2bench mf.trace=0 loglevel=4" \
	-drive if=none,id=d0,file=$IMG,format=raw,cache=unsafe \
	-device virtio-blk-pci,drive=d0,disable-legacy=on </dev/null >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1200); do
	grep -q 'ext2bench: done\|init: done' $LOG 2>/dev/null && break
	sleep 0.1
done
kill $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
grep 'ext2bench:' $LOG | grep -v done || echo "ext2bench: no figures (see $LOG)"
e2fsck -fn $IMG >/dev/null 2>&1 || echo "ext2bench: e2fsck -fn found the image unclean"
