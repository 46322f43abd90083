"""hugetlbfs and MAP_HUGETLB, and memory errors in hugetlb pages (user/hugetlb.c,
user/hugetlb_mf.c).

user-hugetlb-*: the pool (control files, meminfo, surplus), anonymous MAP_HUGETLB mappings
(reservations, fork, copy-on-write of 2 MiB, SIGBUS without a reservation), Linux's errnos for
bad arguments, and hugetlbfs files (mount, mmap shared and private, read, ftruncate, unlink).
user-hugetlb-mf-*: MADV_HWPOISON and corrupt-pfn on one 4 KiB page of a private, a shared and a
file's hugetlb page (demoted: 511 pages intact, si_addr_lsb 12, HugePages_Total -1 and
HugePages_Lost +1), a frame of a free huge page, and vm.memory_failure_hugetlb_whole=1 (Linux's
whole-page loss, si_addr_lsb 21).
hugetlb-pfn-*, hugetlb-madv-*: corrupt-pfn at the page a forked victim reads, and MADV_HWPOISON
from a second thread at the page the main thread reads, sleeping or spinning without a syscall;
-whole with the Linux switch.
hugetlb-hmp-*: QEMU's monitor injects at the victim's page inside its hugetlb page: an SRAO
(memory scrub) the victim finds on its next read, sleeping or spinning, and an SRAR (data load)
while it runs in user mode. Every case at 1 and 2 CPUs.
"""

from driver import Script, Test
from mf_tests import _program_exits_0
from thp_tests import hmp_victim

READY = r"hugetlb_mf: poison it from the QEMU monitor with: (mce -b 0 1 (\S+) (\S+) (\S+) (\S+))"
WAIT_S = 60   # user/hugetlb_mf.c WAIT_S


def _hmp(mcg_status=None, in_user=False):
    return hmp_victim("hugetlb_mf", READY, "hugetlb", WAIT_S, mcg_status, in_user)


def _victim(name, smp, run):
    return Test(name, "direct", smp, run,
                Script(_program_exits_0("hugetlb_mf", WAIT_S + 30), timeout=WAIT_S + 40))


HUGETLB_TESTS = []
for smp in (1, 2):
    HUGETLB_TESTS.append(Test("user-hugetlb-smp%d" % smp, "direct", smp, "run=hugetlb",
                              Script(_program_exits_0("hugetlb", 120), timeout=150)))
    HUGETLB_TESTS.append(Test("user-hugetlb-mf-smp%d" % smp, "direct", smp, "run=hugetlb_mf",
                              Script(_program_exits_0("hugetlb_mf", 120), timeout=150)))
    for spin in ("", "-spin"):
        name = "smp%d-%s" % (smp, "spin" if spin else "sleep")
        HUGETLB_TESTS.append(_victim("hugetlb-pfn-late-" + name, smp,
                                     "run=hugetlb_mf:pfn-late" + spin))
        HUGETLB_TESTS.append(_victim("hugetlb-pfn-late-whole-" + name, smp,
                                     "run=hugetlb_mf:pfn-late%s-whole" % spin))
        HUGETLB_TESTS.append(_victim("hugetlb-madv-late-" + name, smp,
                                     "run=hugetlb_mf:madv-late" + spin))
        HUGETLB_TESTS.append(Test("hugetlb-hmp-srao-late-" + name, "direct", smp,
                                  "run=hugetlb_mf:late" + spin,
                                  Script(_hmp(), timeout=WAIT_S + 40)))
    HUGETLB_TESTS.append(Test("hugetlb-hmp-srar-user-smp%d" % smp, "direct", smp,
                              "run=hugetlb_mf:srar",
                              Script(_hmp(mcg_status="0x7", in_user=True), timeout=WAIT_S + 40)))
