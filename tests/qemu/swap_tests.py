"""Swap rows (docs/swap.md): boots with 64 MiB of RAM, the block rows' pattern disk as vda and
an empty swap area made by mkswap (build/swap.img, snapshot=on so no row changes it) as vdb,
and runs user/swapstress.c: about twice the RAM of checksummed pages in several processes,
with fork, mlock, pagemap's swap entries and swapoff. The swap-mf rows run user/mf_swap.c:
memory_failure of clean and dirty swap cache pages by madvise and corrupt-pfn, on the owner
itself, on a spinning and a sleeping victim, and under swap pressure, at 1 and 2 CPUs.
"""

from blk_tests import virtio_disk
from driver import BUILD, Script, Test, UserPrograms
from mf_hmp_tests import _inject
from mf_tests import _program_exits_0

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


def mf_swap_row(name, smp, mode, mem="256M", timeout=300):
    """user/mf_swap.c in one mode: memory_failure of swap cache pages."""
    return Test(name, "direct", smp, "run=mf_swap:" + mode,
                Script(_program_exits_0("mf_swap:" + mode, timeout), timeout=timeout), mem=mem,
                extra=virtio_disk() + swap_disk())


SWAP_TESTS += [
    mf_swap_row("swap-mf-self-smp%d" % n, n, "self") for n in (1, 2)
] + [
    mf_swap_row("swap-mf-%s-smp%d" % (v, n), n, v) for v in ("spin", "sleep") for n in (1, 2)
] + [
    mf_swap_row("swap-mf-pressure-smp%d" % n, n, "pressure", mem="64M", timeout=600)
    for n in (1, 2)
]


# An SRAO (memory scrub) from QEMU's monitor at the frame of a swap cache page: the victim
# prints the command (mf_hmp_tests.READY's form), the row injects it broadcast and requires
# the victim's verdict and memory_failure's outcome for the state.
HMP_READY = r"mf_swap: poison it from the QEMU monitor with: (mce -b 0 1 (\S+) (\S+) (\S+) (\S+))"
HMP_OUTCOME = {"clean": "clean swapcache page: recovered",
               "dirty": "dirty swapcache page: delayed",
               "dirty-early": "dirty swapcache page: delayed"}


def _hmp(mode, state):
    def fn(m):
        cmd, addr, err = _inject(m, ready=HMP_READY)
        if err:
            return False, err
        ok, why = _program_exits_0("mf_swap:" + mode, 90)(m)
        if not ok:
            return ok, why
        if not m.wait_for(r"memory_failure: pfn %#x: %s" % (addr >> 12, HMP_OUTCOME[state]), 10):
            return False, "no %r after %r" % (HMP_OUTCOME[state], cmd)
        return True, cmd
    return fn


SWAP_TESTS += [
    Test("swap-mf-hmp-%s-smp%d-%s" % (st, n, how), "direct", n,
         "run=mf_swap:hmp-%s-%s" % (st, how) + (" mf.trace=0" if st == "dirty-early" else ""),
         Script(_hmp("hmp-%s-%s" % (st, how), st), timeout=120),
         extra=virtio_disk() + swap_disk())
    for st in ("clean", "dirty", "dirty-early") for n in (1, 2) for how in ("spin", "sleep")
]
