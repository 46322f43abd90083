"""Swap rows (docs/swap.md): boots with 64 MiB of RAM, the block rows' pattern disk as vda and
an empty swap area made by mkswap (build/swap.img, snapshot=on so no row changes it) as vdb,
and runs user/swapstress.c: about twice the RAM of checksummed pages in several processes,
with fork, mlock, pagemap's swap entries and swapoff.
"""

from blk_tests import virtio_disk
from driver import BUILD, Test, UserPrograms

SWAP_IMG = BUILD / "swap.img"


def swap_disk():
    """QEMU arguments for the swap area as a second virtio disk (vdb)."""
    return ("-drive", "if=none,id=sw0,format=raw,snapshot=on,file=%s" % SWAP_IMG,
            "-device", "virtio-blk-pci,drive=sw0,disable-legacy=on")


def swap_row(name, smp, programs, timeout=600):
    expect = UserPrograms({p: 0 for p in programs}, timeout)
    return Test(name, "direct", smp, expect.run_list(), expect, mem="64M",
                extra=virtio_disk() + swap_disk())


SWAP_TESTS = [
    swap_row("swap-stress-smp1", 1, ["swapstress"]),
    swap_row("swap-stress-smp2", 2, ["swapstress"]),
]
