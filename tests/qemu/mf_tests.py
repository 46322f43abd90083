"""memory_failure tests for the QEMU driver: one row per case, in the driver's Test format.

  * ktest-mf-smp2: the in-kernel suite test=mf (tests/ktest/mf_test.c): a kernel-heap frame and a
    page-table frame poisoned (outcome "failed", never reused by an allocation storm), a free
    frame poisoned and unpoisoned (HardwareCorrupted up and back down).
  * mf-user-hwpoison-smp1/2: user/hwpoison.c, the tinjpage-style cases (dirty, dirty then
    unmapped, mlocked, clean untouched; late kill in the same task, a forked child with the
    default action, early kill), prctl(PR_MCE_KILL) and inheritance, pages shared by fork and
    COW-shared by 64 children, the early-kill sysctl, MADV_DONTNEED after a lost page.
  * mf-user-files (2 CPUs), mf-user-files-smp1: user/mf_files.c, the control files from user
    space: corrupt-pfn on a free frame (+4 kB HardwareCorrupted, KPF_HWPOISON, never handed out under a storm that maps
    most of free memory), unpoison-pfn, madvise(MADV_SOFT_OFFLINE), bad writes; /proc/meminfo
    and a sysctl kept open across madvise(MADV_HWPOISON) and re-read at offset 0; kpageflags
    of the poisoned anonymous page (ANON, UPTODATE, SWAPBACKED next to HWPOISON).
  * mf-user-tmpfs-smp1/2: user/mf_tmpfs.c, tmpfs pages: a dirty page mapped by this process
    and by an early-kill child that spins and one that sleeps (AO to both, AR at the touch),
    then kept in its file poisoned (EIO for read/pread/pwrite, SIGBUS for a new mapper, fsync
    0) until a hole punch or truncate releases it; soft offline of a dirty page keeping its
    content; a clean initrd page dropped and read again.
    mf-user-tmpfs-corrupt-smp1/2: the same, each page poisoned through corrupt-pfn.
  * mf-user-shmem-smp1/2: user/mf_shmem.c, shared memory (MAP_SHARED|MAP_ANONYMOUS, a memfd, a
    SysV segment: each a shmem file): a written page mapped by an early-kill child that spins
    and one that sleeps (AO to both, AR at the touch), then kept in the object poisoned (AR for
    a later fork, after MADV_DONTNEED, for a new mapping and after mremap; a memfd's EIO and
    hole punch); soft offline; unpoison-pfn refused (EBUSY) while the object holds the page.
    mf-user-shmem-corrupt-smp1/2: the same through corrupt-pfn.
  * mf-recovery0-fake-panic: vm.memory_failure_recovery=0 with mce.fake_panic=1: poisoning a
    page reports the panic naming the frame, and the kernel (and the program) keep running.
  * mf-told-once-smp1/2: user/told_once.c, 30 rounds of an early-kill child that reads a page
    copy-on-write shared with its parent while the parent poisons it: each is told exactly
    once (found by the injection campaign: a child that met the page between the unmapping
    and the signals was told twice).
Hook into the run with `from mf_tests import MF_TESTS` and `TESTS += MF_TESTS` in tests.py.
"""

import re

from driver import Ktap, Script, Test

PANIC = "Kernel panic - not syncing"


def _program_exits_0(prog, timeout=120):
    """init runs /bin/PROG (the run= list) and must report that it exited 0."""
    name = prog.split(":")[0]

    def fn(m):
        # The whole line, newline included: the serial log may hold half of it when read.
        if not m.wait_for(r"^.*init: %s (exited|killed)[^\n]*\n" % re.escape(name), timeout):
            return False, "no exit report from %s (hang?)" % name
        text = m.serial_text()
        if PANIC in text:
            return False, "kernel panic: " + text[text.find(PANIC):].split("\n", 1)[0]
        if "init: %s exited 0" % name not in text:
            fails = [ln for ln in text.split("\n") if ln.startswith("FAIL ")]
            return False, "; ".join(fails[:3]) or "%s did not exit 0" % name
        return True, ""
    return fn


def _recovery0_fake_panic(m):
    ok, reason = _program_exits_0("mf_files:recovery0", 60)(m)
    if not ok:
        return ok, reason
    text = m.serial_text()
    got = re.search(r"mf_files: poisoning pfn (0x[0-9a-f]+)", text)
    if not got:
        return False, "the program did not say which frame it poisons"
    want = "memory_failure: fake panic: Memory failure on frame %s" % got.group(1)
    if want not in text:
        return False, "no %r line" % want
    if "mf_files: still running after the fake panic" not in text:
        return False, "the program did not run on after the fake panic"
    if not m.wait_for(r"^init: done", 10):
        return False, "init did not finish"
    return True, ""


MF_TESTS = [
    #    name                       boot      smp  cmdline                       expect
    Test("ktest-mf-smp2",           "direct", 2,   "test=mf",                    Ktap(timeout=120),
         ktest=True),
    Test("mf-user-hwpoison-smp2",   "direct", 2,   "run=hwpoison",
         Script(_program_exits_0("hwpoison"), timeout=150)),
    Test("mf-user-hwpoison-smp1",   "direct", 1,   "run=hwpoison",
         Script(_program_exits_0("hwpoison"), timeout=150)),
    Test("mf-user-files",           "direct", 2,   "run=mf_files",
         Script(_program_exits_0("mf_files"), timeout=150)),
    Test("mf-user-files-smp1",      "direct", 1,   "run=mf_files",
         Script(_program_exits_0("mf_files"), timeout=150)),
    Test("mf-user-tmpfs-smp2",      "direct", 2,   "run=mf_tmpfs",
         Script(_program_exits_0("mf_tmpfs"), timeout=150)),
    Test("mf-user-tmpfs-smp1",      "direct", 1,   "run=mf_tmpfs",
         Script(_program_exits_0("mf_tmpfs"), timeout=150)),
    Test("mf-user-tmpfs-corrupt-smp2", "direct", 2, "run=mf_tmpfs:corrupt",
         Script(_program_exits_0("mf_tmpfs:corrupt"), timeout=150)),
    Test("mf-user-tmpfs-corrupt-smp1", "direct", 1, "run=mf_tmpfs:corrupt",
         Script(_program_exits_0("mf_tmpfs:corrupt"), timeout=150)),
    Test("mf-user-shmem-smp2",      "direct", 2,   "run=mf_shmem",
         Script(_program_exits_0("mf_shmem"), timeout=150)),
    Test("mf-user-shmem-smp1",      "direct", 1,   "run=mf_shmem",
         Script(_program_exits_0("mf_shmem"), timeout=150)),
    Test("mf-user-shmem-corrupt-smp2", "direct", 2, "run=mf_shmem:corrupt",
         Script(_program_exits_0("mf_shmem:corrupt"), timeout=150)),
    Test("mf-user-shmem-corrupt-smp1", "direct", 1, "run=mf_shmem:corrupt",
         Script(_program_exits_0("mf_shmem:corrupt"), timeout=150)),
    Test("mf-recovery0-fake-panic", "direct", 2,   "run=mf_files:recovery0 mce.fake_panic=1",
         Script(_recovery0_fake_panic, timeout=90)),
    # Threads: who is told of an madvise(MADV_HWPOISON), threads sleeping or spinning.
    Test("mf-user-threads-smp2",    "direct", 2,   "run=mf_threads",
         Script(_program_exits_0("mf_threads"), timeout=150)),
    Test("mf-user-threads-smp1",    "direct", 1,   "run=mf_threads",
         Script(_program_exits_0("mf_threads"), timeout=150)),
    Test("mf-user-threads-spin-smp2", "direct", 2, "run=mf_threads:spin",
         Script(_program_exits_0("mf_threads:spin"), timeout=150)),
    Test("mf-user-threads-spin-smp1", "direct", 1, "run=mf_threads:spin",
         Script(_program_exits_0("mf_threads:spin"), timeout=150)),
    Test("mf-told-once-smp2",       "direct", 2,   "run=told_once",
         Script(_program_exits_0("told_once"), timeout=120)),
    Test("mf-told-once-smp1",       "direct", 1,   "run=told_once",
         Script(_program_exits_0("told_once"), timeout=120)),
]
