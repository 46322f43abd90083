"""Block rows: PCI enumeration, the block layer, virtio-blk and NVMe, on a disk image that
scripts/mkdisk.py wrote (build/disk-pattern.img, every sector saying its number). The image
is attached under QEMU's blkdebug driver with the rules of tests/blkdebug.conf (reads of
sector 12345 fail with EIO) and snapshot=on, so no row changes the file. The in-kernel suite
`blk` (tests/ktest/blk_test.c) runs against every disk the row attaches.
"""

from driver import BUILD, ROOT, Ktap, Ready, Test, UserPrograms

DISK = BUILD / "disk-pattern.img"
BLKDEBUG = ROOT / "tests" / "blkdebug.conf"


def virtio_disk(extra_device=""):
    """QEMU arguments for one modern virtio-blk disk over the pattern image, with blkdebug."""
    return ("-drive", "if=none,id=d0,format=raw,snapshot=on,file.driver=blkdebug,"
            "file.config=%s,file.image.filename=%s" % (BLKDEBUG, DISK),
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on" + extra_device)


def nvme_disk():
    """QEMU arguments for one NVMe controller over the pattern image, with blkdebug."""
    return ("-drive", "if=none,id=d1,format=raw,snapshot=on,file.driver=blkdebug,"
            "file.config=%s,file.image.filename=%s" % (BLKDEBUG, DISK),
            "-device", "nvme,serial=mcrk0,drive=d1")


BLK_TESTS = [
    Test("ktest-blk-virtio-smp1", "direct", 1, "test=blk", Ktap(), extra=virtio_disk(),
         ktest=True),
    Test("ktest-blk-virtio-smp2", "direct", 2, "test=blk", Ktap(), extra=virtio_disk(),
         ktest=True),
    # q35 has an MCFG table: configuration space through ECAM instead of the ports.
    Test("ktest-blk-virtio-q35-smp2", "direct", 2, "test=blk",
         Ktap(also=(r"pci: ECAM at 0x[0-9a-f]+ for buses 00-ff \(MCFG\)",)),
         extra=("-machine", "q35") + virtio_disk(), ktest=True),
    # No MSI-X (vectors=0) and no MSI: with no I/O APIC there is no interrupt path, and the
    # driver says so and leaves the device alone; the boot goes on.
    Test("blk-virtio-no-msix", "direct", 1, "",
         Ready(cpus=1, also=(r"pci: 00:0\d\.0 has neither MSI-X nor MSI, and MCRK has no I/O "
                             r"APIC for its pin: no interrupts",
                             r"virtio-blk: 00:0\d\.0: not used \(error -19\)")),
         extra=virtio_disk(",vectors=0")),
    # Boot prints one line per PCI function and registers the disk.
    Test("blk-virtio-boot-lines", "direct", 2, "",
         Ready(cpus=2, also=(r"pci: 00:00\.0 \[8086:1237\] class 060000",
                             r"pci: 00:0\d\.0 \[1af4:1042\] class 010000 .*msix=\d+",
                             r"blk: vda: 16384 sectors \(8 MiB\)")),
         extra=virtio_disk()),
    Test("ktest-blk-nvme-smp1", "direct", 1, "test=blk", Ktap(), extra=nvme_disk(),
         ktest=True),
    Test("ktest-blk-nvme-smp2", "direct", 2, "test=blk", Ktap(), extra=nvme_disk(),
         ktest=True),
    # Both drivers at once, on q35 (ECAM): the suite runs on vda and nvme0n1.
    Test("ktest-blk-both-q35-smp2", "direct", 2, "test=blk",
         Ktap(also=(r"blk: vda: 16384 sectors", r"blk: nvme0n1: 16384 sectors",
                    r"nvme: nvme0n1 at 00:0\d\.0, 512-byte blocks, 32-entry I/O queue, MSI-X")),
         extra=("-machine", "q35") + virtio_disk() + nvme_disk(), ktest=True),
]


def blkdev_row(name, smp, node, disk):
    """user/blkdev.c on a block device node (/dev/vda or /dev/nvme0n1) over the pattern image."""
    return Test(name, "direct", smp, "run=blkdev:" + node, UserPrograms({"blkdev": 0}, 60),
                extra=disk)


BLK_TESTS += [
    blkdev_row("blk-dev-virtio-smp1", 1, "/dev/vda", virtio_disk()),
    blkdev_row("blk-dev-nvme-smp2", 2, "/dev/nvme0n1", nvme_disk()),
]
