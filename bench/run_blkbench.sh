#!/bin/sh
# Raw sequential read and write MiB/s of each block driver under QEMU TCG (figures, not
# pass/fail): a 64 MiB image of scripts/mkdisk.py's pattern, attached as virtio-blk and then
# as NVMe, the kernel booted with blkbench=vda / blkbench=nvme0n1 (kernel/block/blk_bench.c: 64 KiB requests, 8 in flight;
# the write pass ends with a flush). Usage: sh bench/run_blkbench.sh [SMP]
set -e
cd "$(dirname "$0")/.."
SMP=${1:-1}
IMG=build/bench-disk.img
[ -f $IMG ] || python3 scripts/mkdisk.py $IMG 64
run() { # $1 device name, then QEMU device arguments; stops QEMU once both figures are out
	dev=$1; shift
	log=build/blkbench-$dev.log
	rm -f $log
	qemu-system-x86_64 -cpu max,vendor=GenuineIntel -smp "$SMP" -m 256M \
		-display none -vga none -net none -no-reboot -serial file:$log \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel build/mcrk.elf \
		-append "blkbench=$dev" "$@" </dev/null >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		n=$(grep -c 'blkbench:' $log 2>/dev/null || true)
		[ "${n:-0}" -ge 2 ] && break
		grep -q 'mcrk: ready' $log 2>/dev/null && break
		sleep 0.1
	done
	kill $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	grep 'blkbench:' $log || echo "blkbench: $dev: no figures (see $log)"
}
run vda -drive if=none,id=d0,file=$IMG,format=raw,cache=unsafe \
	-device virtio-blk-pci,drive=d0,disable-legacy=on
run nvme0n1 -drive if=none,id=d1,file=$IMG,format=raw,cache=unsafe \
	-device nvme,serial=mcrk0,drive=d1
