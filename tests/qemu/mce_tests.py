"""Machine-check tests for the QEMU driver: one row per case, in the driver's Test format.

Two families:
  * HMP injection (`mce [-b] cpu bank status mcg_status addr misc` through the monitor) on
    -smp 2, waiting for the kernel's report: corrected errors found by the poller, SRAO queued
    for memory_failure, fatal errors (fake-panic mode: the reason printed, the VM survives,
    and one real panic), and an injection without -b, where the other CPU never enters the
    handler and the rendezvous times out.
  * The mce-test data files of ../shared/mce-test-cases/ run through the in-kernel software
    injector (`-initrd FILE`, `mce.inject=module mce.fake_panic=1`): each must give the outcome
    its README table says (the fake-panic reason, or no panic; frames queued; the SRAR hook).
    The panic_noser set runs with mce.ser=0 (QEMU's MCG_CAP always has SER_P); srar_usr_dcu,
    which is NOBROADCAST, runs with mce.timeout_panic=0 (as the suite's kernel did: a timeout
    by itself is reported, not fatal).
Hook into the run with `from mce_tests import MCE_TESTS` and `TESTS += MCE_TESTS` in tests.py.
"""

import os
from pathlib import Path

from driver import Ktap, Panic, Script, Test

CASES = Path(os.environ.get("MCE_TEST_CASES",
                            Path(__file__).resolve().parents[3] / "shared" / "mce-test-cases"))
FAKE_PANIC = "mce: fake panic: "
MF_QUEUED = "memory_failure: pfn "
SRAR_HOOK = "mce: SRAR in user mode at pfn "
TIMEOUT = "Timeout: Not all CPUs entered the broadcast exception handler"

# Expected outcome per mce-test file: (fake-panic reason or None, substrings that must appear).
FILE_CASES = {
    "non-panic/corrected": (None, ["(poll): KEEP \"Corrected error\""]),
    "non-panic/corrected_hold": (None, ["CPU 0 Bank 1 (poll): KEEP", "CPU 1 Bank 2 (poll): KEEP"]),
    "non-panic/corrected_no_en": (None, ["(poll): KEEP"]),
    "non-panic/corrected_over": (None, ["(poll): KEEP"]),
    "panic/fatal": ("Processor context corrupt", []),
    "panic/fatal_irq": ("Processor context corrupt", []),
    "panic/fatal_over": ("Processor context corrupt", []),
    "panic/fatal_ripv": ("Processor context corrupt", []),
    "panic/fatal_eipv": ("Processor context corrupt", []),
    "panic/fatal_userspace": ("Processor context corrupt", []),
    "panic/fatal_no_en": ("Machine check from unknown source", []),
    "panic/fatal_timeout": ("Processor context corrupt", [TIMEOUT]),
    "panic/fatal_timeout_ripv": ("Processor context corrupt", [TIMEOUT]),
    "panic_noser/uc_over": ("Overflowed uncorrected", []),
    "panic_noser/uc_over_corrected": ("Overflowed uncorrected", []),
    "panic_noser/uc_over_timeout": ("Overflowed uncorrected", [TIMEOUT]),
    "panic_npcc/fatal_severity": ("Processor context corrupt", []),
    "panic_npcc/uncorrected": ("In kernel and no restart IP", []),
    "panic_npcc/uncorrected_timeout": ("In kernel and no restart IP", [TIMEOUT]),
    "panic_npcc/uc_no_mcip": ("MCIP not set in MCA handler", []),
    "panic_npcc/uc_no_mcip_timeout": ("MCIP not set in MCA handler", [TIMEOUT]),
    "panic_npcc/uc_no_eripv": ("Neither restart nor error IP", []),
    "panic_npcc/uc_no_eripv_timeout": ("Neither restart nor error IP", [TIMEOUT]),
    "panic_npcc/unknown": ("Machine check from unknown source", []),
    "panic_ucr/s0_ar1": ("Illegal combination (UCNA with AR=1)", []),
    "panic_ucr/srar_over": ("Action required with lost events", []),
    "panic_ucr/srar_unkown": ("Action required: unknown MCACOD", []),
    "panic_ucr/srar_no_en": ("Machine check from unknown source", []),
    "panic_ucr/srao_mem_scrub_noripv": ("Neither restart nor error IP", []),
    "panic_ucr/srao_ewb_noripv": ("Neither restart nor error IP", []),
    "poll_noser/uc_poll": (None, ["(poll): "]),
    "poll_ucr/ucna": (None, ["(poll): UCNA", MF_QUEUED]),
    "poll_ucr/ucna_over": (None, ["(poll): UCNA", MF_QUEUED]),
    "poll_ucr/uc_poll": (None, ["(poll): "]),
    "poll_ucr/srar_poll": (None, ["(poll): UCNA"]),
    "poll_ucr/fatal_poll": (None, ["(poll): UCNA"]),
    "recoverable_ucr/srao_corrected": (None, ["(#MC): SOME"]),
    "recoverable_ucr/srao_ewb": (None, ["(#MC): AO", MF_QUEUED]),
    "recoverable_ucr/srao_mem_scrub": (None, ["(#MC): AO", MF_QUEUED]),
    "recoverable_ucr/srao_no_en": (None, []),
    "recoverable_ucr/srao_over": (None, ["(#MC): SOME"]),
    "recoverable_ucr/srao_ucna": (None, ["(#MC): SOME"]),
    "recoverable_ucr/srao_unknown": (None, ["(#MC): SOME"]),
    "recoverable_ucr/srar_usr_dcu": (None, ["(#MC): AR", SRAR_HOOK]),
    "recoverable_ucr/srar_usr_dcu_irq": (None, ["(#MC): AR", SRAR_HOOK]),
    "recoverable_ucr/srar_usr_dcu_nmi": (None, ["(#MC): AR", SRAR_HOOK]),
}


def _file_check(reason, must):
    def fn(m):
        if not m.wait_for(r"^.*mce-inject: done", 30):
            return False, "no 'mce-inject: done'"
        m.wait_for(r"^.*mcrk: ready", 10)
        text = m.serial_text()
        if "Kernel panic" in text:
            return False, "real panic"
        if reason is None and FAKE_PANIC in text:
            return False, "unexpected " + text.split(FAKE_PANIC, 1)[1].splitlines()[0]
        if reason is not None and FAKE_PANIC + reason not in text:
            return False, "want fake panic: %s" % reason
        for s in must:
            if s not in text:
                return False, "missing %r" % s
        return True, reason or "no panic"
    return fn


def _file_tests():
    rows = []
    for name, (reason, must) in sorted(FILE_CASES.items()):
        path = CASES / name
        if not path.exists():
            continue
        cmd = "mce.inject=module mce.fake_panic=1"
        if name.startswith("panic_noser/") or name.startswith("poll_noser/"):
            cmd += " mce.ser=0"
        if name == "recoverable_ucr/srar_usr_dcu":
            cmd += " mce.timeout_panic=0"
        rows.append(Test("mce-file-" + name.replace("/", "-"), "direct", 2, cmd,
                         Script(_file_check(reason, must), timeout=60),
                         extra=("-initrd", str(path))))
    return rows


def _hmp(cmd, must, reason=None, wait=r"mce: CPU \d Bank \d \((?:#MC|poll)\)"):
    """Boot, inject with HMP `cmd`, wait for the report, check substrings and the reason."""
    def fn(m):
        if not m.wait_for(r"^.*mcrk: ready", 30):
            return False, "no ready line"
        m.monitor().cmd(cmd)
        if not m.wait_for(wait, 10):
            return False, "no report after %r" % cmd
        m.wait_for(r"^.*" + (FAKE_PANIC if reason else "memory_failure|KEEP|UCNA"), 3)
        text = m.serial_text()
        if reason and FAKE_PANIC + reason not in text:
            return False, "want fake panic: " + reason
        if not reason and (FAKE_PANIC in text or "Kernel panic" in text):
            return False, "unexpected panic"
        for s in must:
            if s not in text:
                return False, "missing %r" % s
        return True, cmd
    return fn


HMP_CASES = [
    # name, HMP command, must-appear, fake-panic reason
    ("corrected", "mce 0 1 0x9000000000000000 0 0 0", ["(poll): KEEP"], None),
    # -b with a corrected error: QEMU raises #MC only on the *other* CPU (with VAL|UC in its
    # bank 1), so the CPU that got the corrected error never arrives: rendezvous timeout.
    ("corrected-b", "mce -b 1 1 0x9000000000000000 0 0 0", ["CPU 1 Bank 1 (poll): KEEP", TIMEOUT],
     TIMEOUT),
    ("srao-b", "mce -b 0 1 0xbd000000000000c0 0x5 0x1234000 0x86",
     ["(#MC): AO", MF_QUEUED + "0x1234 "], None),
    ("ucna", "mce -b 0 3 0xac00000000000000 0x5 0x5000 0x8c", ["UCNA", MF_QUEUED + "0x5 "], None),
    ("fatal-b", "mce -b 0 2 0xbe00000000000000 0x5 0 0", [], "Processor context corrupt"),
    ("srar-kernel-b", "mce -b 0 1 0xbd80000000000134 0x7 0x1234000 0x86", [],
     "Data load in unrecoverable area of kernel"),
    ("no-broadcast-timeout", "mce 0 1 0xbd000000000000c0 0x5 0x1234000 0x86", [TIMEOUT],
     TIMEOUT),
]


def _hmp_tests():
    rows = [Test("mce-hmp-" + n, "direct", 2, "mce.fake_panic=1", Script(_hmp(c, must, r)))
            for n, c, must, r in HMP_CASES]
    rows.append(Test("mce-hmp-no-rendezvous", "direct", 2,
                     "mce.fake_panic=1 mce.no_rendezvous_cpu=1",
                     Script(_hmp("mce -b 0 1 0xbd000000000000c0 0x5 0x1234000 0x86",
                                 [TIMEOUT, "CPU 1 ignored a machine check"], TIMEOUT))))
    rows.append(Test("mce-hmp-fatal-real-panic", "direct", 2, "", Script(_real_panic)))
    return rows


def _real_panic(m):
    if not m.wait_for(r"^.*mcrk: ready", 30):
        return False, "no ready line"
    m.monitor().cmd("mce -b 0 2 0xbe00000000000000 0x5 0 0")
    if not m.wait_for(r"Kernel panic - not syncing: Processor context corrupt", 10):
        return False, "no panic"
    return (m.wait_exit(10) == 7), "panic with exit status 7"


MCE_TESTS = _hmp_tests() + _file_tests() + [
    Test("ktest-mce-smp2", "direct", 2, "test=mce mce.fake_cmci=1", Ktap(timeout=60)),
]
