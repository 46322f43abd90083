"""The table of emulator tests that `make test` runs: one row per test.

Each row names the test, how it boots (`direct` = QEMU -kernel with the command line given;
`bios` / `uefi` = the GRUB ISO under SeaBIOS / OVMF; `bochs` = the GRUB ISO in Bochs), the
CPU count, the kernel command line (direct boots only) and what must happen:
  Ready(cpus=N)       the boot reaches `mcrk: ready` and that line says N CPUs
  Ktap()              an in-kernel KTAP suite: every result ok and exit status 1
  Panic(reason)       a deliberate panic: the panic line and exit status 7
  Fault(exception)    a deliberate kernel fault: the KERNEL FAULT report, a panic, status 7
  Script(fn)          fn(machine) drives the machine (monitor, QMP) and returns (ok, reason)
  UserPrograms({p: N}) /init runs programs p (command line run=p,...): each must exit N, or
                      be killed by signal -N when N < 0; see user() below
Each expectation takes `timeout=` seconds; running past it is a hang and fails the test.
Rows may also set mem=, cpu= (default max,vendor=GenuineIntel), extra= (QEMU args), qmp=,
and ktest=True: boot the test build of the kernel (build/mcrk-test.elf), which alone has the
in-kernel tests (tests/ktest/); every other row boots the production build/mcrk.elf.
To add a test, add a row. `python3 tests/qemu/driver.py run NAME` runs the matching rows.
"""

from blk_tests import BLK_TESTS, virtio_disk
from driver import BUILD, Fault, Ktap, Panic, Ready, Script, Test, UserPrograms

# User programs (user/*.c, in the initrd as /bin/NAME). Every one must exit 0 but these, which
# must die of the signal given ("init: segv killed by signal 11"). "user@prog" runs it as the
# unprivileged user of /etc/passwd.
KILLED_BY = {"segv": 11}
PROGRAMS = ["hello", "fork_cow", "segv", "mmap_stress", "mremap", "efault", "pagemap", "signals",
            "sigcheck", "sched", "vfs", "leakcheck", "procinfo", "files", "dirs", "pipes",
            "mounts", "fmap", "tmpfiles", "threads", "futex", "jobctl", "sysinfo", "itimer", "madvise",
            "creds", "user@creds", "perms", "setid", "user@setid", "tty", "memfd",
            "ipc", "flock"]


def user(name, boot, smp, programs, timeout=120):
    """A row that boots with run=PROGRAMS and checks how /init says each one ended. A GRUB
    boot gets a test ISO whose grub.cfg passes the same command line (driver.py)."""
    expect = UserPrograms({p: -KILLED_BY.get(p, 0) for p in programs}, timeout)
    return Test(name, boot, smp, expect.run_list(), expect)


TESTS = [
    #    name                boot      smp  cmdline       expect
    Test("boot-direct-smp1", "direct", 1,   "",           Ready(cpus=1)),
    Test("boot-direct-smp2", "direct", 2,   "",           Ready(cpus=2)),
    # The production kernel has no in-kernel tests: test= is refused aloud and boot goes on.
    Test("boot-direct-no-ktest", "direct", 1, "test=all",
         Ready(cpus=1, also=(r"mcrk: test= ignored: the in-kernel tests are only in the test "
                             r"build",))),
    Test("boot-grub-bios",   "bios",   2,   "",           Ready(cpus=2, timeout=60)),
    Test("boot-grub-uefi",   "uefi",   2,   "",           Ready(cpus=2, timeout=180)),
    # test=all includes the block suite, which needs a disk (tests/qemu/blk_tests.py).
    Test("ktest-all-smp1",   "direct", 1,   "test=all",   Ktap(), ktest=True,
         extra=virtio_disk()),
    Test("ktest-all-smp2",   "direct", 2,   "test=all",   Ktap(), ktest=True,
         extra=virtio_disk()),
    Test("ktest-panic",      "direct", 1,   "test=panic", Panic("deliberate"), ktest=True),
    Test("ktest-fault",      "direct", 1,   "test=fault",
         Fault("page fault", symbol="ktest_fault_unmapped_kernel_read"), ktest=True),
    # The user-mode entry paths on a CPU without SMAP and SMEP (ktest-all-* has both).
    Test("ktest-user-qemu64", "direct", 1,  "test=user",  Ktap(), cpu="qemu64,vendor=GenuineIntel",
         ktest=True),
    Test("bochs-boot",       "bochs",  2,   "",           Ready(cpus=2, timeout=240)),
    #    name                boot      smp  programs
    # /init takes at most 32 run= entries (Linux's MAX_INIT_ARGS): the programs in two boots.
    user("user-all-smp2",    "direct", 2,   PROGRAMS[:24]),
    user("user-all-smp1",    "direct", 1,   PROGRAMS[:24]),
    user("user-all-more-smp2", "direct", 2, PROGRAMS[24:]),
    user("user-all-more-smp1", "direct", 1, PROGRAMS[24:]),
    user("user-grub-bios",   "bios",   2,   ["hello", "segv", "vfs"], timeout=90),
    # Threads of one process on every CPU at once: pthread synchronisation 1000 rounds, and
    # faults, COW breaks and munmaps raced across CPUs with every byte checked.
    user("user-threads-stress-smp2", "direct", 2, ["pthread_stress", "mt_mm"], timeout=300),
    user("user-threads-stress-smp1", "direct", 1, ["pthread_stress", "mt_mm"], timeout=300),
]

# Random syscalls with hostile arguments from forked children (user/sysfuzz.c): the kernel
# neither faults nor panics, and no memory is missing afterwards. Fixed seeds, one per row.
from mf_tests import _program_exits_0  # noqa: E402
TESTS += [Test("user-sysfuzz-smp2", "direct", 2, "run=sysfuzz:1",
               Script(_program_exits_0("sysfuzz:1", timeout=240), timeout=240)),
          Test("user-sysfuzz-smp1", "direct", 1, "run=sysfuzz:2",
               Script(_program_exits_0("sysfuzz:2", timeout=240), timeout=240))]


def _unprivileged_fuzz(prog):
    """The fuzzer as the unprivileged user: it exits 0 (no id ever 0, HardwareCorrupted the
    same) and the kernel never handled a memory error or injection."""
    exits_0 = _program_exits_0(prog, timeout=240)

    def fn(m):
        ok, reason = exits_0(m)
        if ok and "memory_failure:" in m.serial_text():
            return False, "a memory_failure ran during the unprivileged fuzz"
        return ok, reason
    return fn


# The same fuzzer run by the unprivileged user of /etc/passwd (docs/security.md).
TESTS += [Test("user-sysfuzz-unpriv-smp2", "direct", 2, "run=user@sysfuzz:3",
               Script(_unprivileged_fuzz("user@sysfuzz:3"), timeout=240)),
          Test("user-sysfuzz-unpriv-smp1", "direct", 1, "run=user@sysfuzz:4",
               Script(_unprivileged_fuzz("user@sysfuzz:4"), timeout=240))]


def _machine_goes(line):
    """A program calls reboot(2): the kernel says `line` and QEMU exits by itself (status 0:
    ACPI power off, or a reset that -no-reboot turns into an exit)."""
    def fn(m):
        status = m.wait_exit(60)
        text = m.serial_text()
        if status is None:
            return False, "QEMU still runs after the reboot call"
        if line not in text:
            return False, "no %r in the log" % line
        return (status == 0, "QEMU exit status %s" % status)
    return fn


def _concatenated_initrd(m):
    """The initrd is three cpio archives one after the other (Makefile: initrd-concat.cpio):
    the third one's /opt/replaced.txt wins over the second's, which also brings kept.txt."""
    if not m.wait_for(r"^init: done", 60):
        return False, "init did not finish"
    text = m.serial_text()
    if "not unpacked" in text or "bad cpio entry" in text:
        return False, "the unpacker refused an entry"
    if "from the second extra archive" not in text:
        return False, "/opt/replaced.txt is not the last archive's"
    if "kept from the first extra archive" not in text:
        return False, "/opt/kept.txt of the middle archive is missing"
    if "\nfrom the first extra archive" in text:
        return False, "the replaced file still shows its first content"
    return "init: done, 2 of 2 programs exited 0" in text, "cat exit statuses"


# An initrd of several archives, as `make run EXTRA=DIR` makes (README, docs/boot.md).
TESTS += [Test("initrd-concatenated", "direct", 1, "run=cat:/opt/replaced.txt,cat:/opt/kept.txt",
               Script(_concatenated_initrd),
               extra=("-initrd", str(BUILD / "initrd-concat.cpio")))]


# reboot(2) for real: power off through ACPI, restart through the keyboard controller.
TESTS += [Test("reboot-poweroff-smp2", "direct", 2, "run=sysinfo:poweroff",
               Script(_machine_goes("reboot: Power down"))),
          Test("reboot-poweroff-smp1", "direct", 1, "run=sysinfo:poweroff",
               Script(_machine_goes("reboot: Power down"))),
          Test("reboot-restart-smp2", "direct", 2, "run=sysinfo:restart",
               Script(_machine_goes("reboot: Restarting system")))]

from mce_tests import MCE_TESTS  # noqa: E402  (machine-check rows, tests/qemu/mce_tests.py)
TESTS += MCE_TESTS

from mf_hmp_tests import MF_HMP_TESTS  # noqa: E402  (host-injected errors into demo/victim.c)
TESTS += MF_HMP_TESTS

from mf_tests import MF_TESTS  # noqa: E402  (memory_failure rows, tests/qemu/mf_tests.py)
TESTS += MF_TESTS

from cec_tests import CEC_TESTS  # noqa: E402  (the corrected-error collector, user/cec.c)
TESTS += CEC_TESTS
from thp_tests import THP_TESTS  # noqa: E402  (huge pages and errors in them, user/thp.c)
TESTS += THP_TESTS
from hugetlb_tests import HUGETLB_TESTS  # noqa: E402  (hugetlbfs and errors in it, user/hugetlb.c)
TESTS += HUGETLB_TESTS

from einj_tests import EINJ_TESTS  # noqa: E402  (EINJ: the poison emulator, firmware tables)
TESTS += EINJ_TESTS

from ext2_tests import EXT2_TESTS  # noqa: E402  (ext2 on a disk image, e2fsck after each row)
TESTS += EXT2_TESTS

# The injection campaign's fixed-seed run (tests/campaign/, docs/campaign.md): one ordinary
# boot of injections into a running workload, and one fatal injection in a boot of its own.
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "campaign"))
from campaign import smoke_tests  # noqa: E402
TESTS += smoke_tests()

from hw_tests import HW_TESTS  # noqa: E402  (machine facts: topology, time, scale, consoles)
TESTS += HW_TESTS
TESTS += BLK_TESTS  # block rows: PCI, the block layer, virtio-blk (blk_tests.py)
from swap_tests import SWAP_TESTS  # noqa: E402
TESTS += SWAP_TESTS  # swap rows: 64 MiB of RAM under twice that of pages (swap_tests.py)

from shell_tests import SHELL_TESTS  # noqa: E402  (busybox's sh driven through the serial line)
TESTS += SHELL_TESTS
