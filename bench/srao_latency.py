#!/usr/bin/env python3
"""SRAO latency: from the machine check to the program's BUS_MCEERR_AO handler, at -smp 1 and
-smp 2 (figures, not pass/fail). Each sample is one boot of MCRK with user/victim in early-kill
mode; QEMU's `mce -b` injects an SRAO (memory scrub, MCG_STATUS RIPV|MCIP) at its page while
it waits, and the victim's handler compares the TSC at its entry with the TSC the #MC handler
recorded for the error (read back from /proc/kmsg), which the kernel's TSC frequency turns
into microseconds. Between the two: the #MC handler queues the log drain, the CPU schedules a
kernel worker on its way back to user mode (or another CPU's idle loop does), the worker
prints the record, runs memory_failure (rmap walk, unmap, SIGBUS), and the victim is switched
back in and its handler entered.

Each boot runs the victim twice (two injections): the first recovery of a boot pays for
QEMU translating code that never ran before (worker, drain, memory_failure), the second
shows the kernel's own path. Four ways per CPU count: the victim spins without a syscall (`early-spin`: on one CPU only
the worker's precedence over user tasks gets the drain to run) or sleeps (`early`: the CPU is
idle); and the console quiet (loglevel=4 mf.trace=0: records and trace go to the log, not the
serial line, as on a server) or showing everything (each console line costs ~100 us under
QEMU TCG). Budget (DESIGN.md): recovery starts within one tick (10 ms).

usage: bench/srao_latency.py [BOOTS]   (after `make`; default 5 boots per configuration)
"""
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "qemu"))
from driver import Config, Machine  # noqa: E402
from mf_hmp_tests import READY  # noqa: E402

QUIET = "loglevel=4 mf.trace=0"
TIMING = r"victim: machine check at TSC \S+, handler at TSC \S+: (\d+) cycles"
ROUNDS = 2   # init runs the victim twice: the first recovery of a boot, then a warm one


def _nth(m, pattern, n, timeout):
    """The n-th match (from 1) of pattern in the serial text, waiting up to timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        found = list(re.finditer(pattern, m.serial_text(), re.M))
        if len(found) >= n:
            return found[n - 1]
        if time.monotonic() > deadline or m.exit_status() is not None:
            return None
        time.sleep(0.05)


def one(smp, mode, console, i):
    """One boot, ROUNDS victims, one injection each; microseconds from the machine check to
    the handler per round, and an error or None."""
    cmdline = "run=%s %s" % (",".join(["victim:" + mode] * ROUNDS),
                             QUIET if console == "quiet" else "mf.trace=0")
    out = []
    with Machine("srao-bench-%d-%s-%s-%d" % (smp, mode, console, i),
                 Config(boot="direct", smp=smp, cmdline=cmdline)) as m:
        mhz = m.wait_for(r"time: TSC ([\d.]+) MHz", 30)
        for r in range(1, ROUNDS + 1):
            ready = _nth(m, READY, r, 30)
            if not ready or not mhz:
                return out, "round %d: no victim" % r
            m.monitor().cmd(ready.group(1))
            done = _nth(m, TIMING, r, 90)
            if not done:
                return out, "round %d: no timing line after %r" % (r, ready.group(1))
            out.append(int(done.group(1)) / float(mhz.group(1)))
    return out, None


def main():
    boots = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print("srao_latency: machine check to BUS_MCEERR_AO handler, QEMU TCG, %d boots each; "
          "first recovery of a boot / the next one" % boots)
    for console in ("quiet", "full"):
        for mode in ("early-spin", "early"):
            for smp in (1, 2):
                rounds = [[] for _ in range(ROUNDS)]
                for i in range(boots):
                    us, err = one(smp, mode, console, i)
                    if err:
                        print("srao_latency: smp%d %s %s boot %d: %s" % (smp, mode, console, i,
                                                                           err))
                    for r, t in enumerate(us):
                        rounds[r].append(t)
                print("srao_latency: -smp %d  victim %-10s  console %-5s  %s" % (
                    smp, mode, console, "  /  ".join(
                        "median %5.0f us (%4.0f-%5.0f, %d runs)" % (
                            statistics.median(r), min(r), max(r), len(r)) if r else "no runs"
                        for r in rounds)), flush=True)


if __name__ == "__main__":
    main()
