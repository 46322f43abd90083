"""Transparent huge pages, and a memory error in one (user/thp.c).

user-thp-*: the program's own checks (control files, policy, fork, splits, MADV_HWPOISON and
corrupt-pfn on one 4 KiB page of a huge page, a poisoned frame of a free 2 MiB block).
thp-pfn-*: corrupt-pfn at the page a forked victim keeps reading, sleeping or spinning.
thp-madv-*: MADV_HWPOISON from a second thread at the page the main thread keeps reading.
thp-hmp-*: QEMU's monitor injects at the victim's page inside a huge page: an SRAO (memory
scrub) that a late-kill victim finds on its next read (sleeping or spinning), and an SRAR
(data load) while the victim runs in user mode. Each time the program checks SIGBUS
BUS_MCEERR_AR at that 4 KiB page with si_addr_lsb 12, the other 511 pages byte for byte,
AnonHugePages -2048 kB and HardwareCorrupted +4 kB; the row checks it exited 0, the frame was
recovered and nothing panicked. Every case at 1 and 2 CPUs.
"""

from driver import Script, Test
from mf_hmp_tests import _inject
from mf_tests import _program_exits_0

# The whole line, up to its newline: a line still being written would give a cut argument.
READY = r"thp: poison it from the QEMU monitor with: (mce -b 0 1 (\S+) (\S+) (\S+) (\S+))\r?\n"
WAIT_S = 60   # user/thp.c WAIT_S

def hmp_victim(prog, ready, state, wait_s, mcg_status=None, in_user=False):
    """A row's script: inject where prog's victim says (its line matches ready), then prog
    exits 0 and memory_failure recovered the frame as state (a regex of the state's name)."""
    def fn(m):
        cmd, addr, err = _inject(m, mcg_status, None, in_user, ready=ready)
        if err:
            return False, err
        ok, why = _program_exits_0(prog, wait_s + 30)(m)
        if not ok:
            return False, "%s after %r" % (why, cmd)
        line = r"memory_failure: pfn %#x: .*%s page: recovered" % (addr >> 12, state)
        if not m.wait_for(line, 10):
            return False, "the frame was not recovered after %r" % cmd
        return True, cmd
    return fn


def _hmp(mcg_status=None, in_user=False):
    return hmp_victim("thp", READY, "anonymous user", WAIT_S, mcg_status, in_user)

THP_TESTS = []
for smp in (1, 2):
    THP_TESTS.append(Test("user-thp-smp%d" % smp, "direct", smp, "run=thp",
                          Script(_program_exits_0("thp", 120), timeout=150)))
    for spin in ("", "-spin"):
        name = "smp%d-%s" % (smp, "spin" if spin else "sleep")
        THP_TESTS.append(Test("thp-pfn-late-" + name, "direct", smp, "run=thp:pfn-late" + spin,
                              Script(_program_exits_0("thp", WAIT_S + 30), timeout=WAIT_S + 40)))
        THP_TESTS.append(Test("thp-madv-late-" + name, "direct", smp, "run=thp:madv-late" + spin,
                              Script(_program_exits_0("thp", WAIT_S + 30), timeout=WAIT_S + 40)))
        THP_TESTS.append(Test("thp-hmp-srao-late-" + name, "direct", smp, "run=thp:late" + spin,
                              Script(_hmp(), timeout=WAIT_S + 40)))
    THP_TESTS.append(Test("thp-hmp-srar-user-smp%d" % smp, "direct", smp, "run=thp:srar",
                          Script(_hmp(mcg_status="0x7", in_user=True), timeout=WAIT_S + 40)))
