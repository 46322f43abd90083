"""Machine-check tests for the QEMU driver: one row per case, in the driver's Test format.

Two families of injection rows:
  * HMP injection (`mce [-b] cpu bank status mcg_status addr misc` through the monitor) on
    -smp 2, waiting for the kernel's report: corrected errors found by the poller, SRAO queued
    for memory_failure, fatal errors (fake-panic mode: the reason printed, the VM survives,
    and one real panic), and an injection without -b, where the other CPU never enters the
    handler and the rendezvous times out.
  * The mce-test data files of ../shared/mce-test-cases/ run through the in-kernel software
    injector, read from the initrd (`mce.inject=/mce-cases/SET/CASE mce.fake_panic=1`; the
    driver passes build/initrd.cpio to every direct boot): each must give the outcome its
    README table says (the fake-panic reason, or no panic; frames queued; the SRAR hook).
    The panic_noser set runs with mce.ser=0 (QEMU's MCG_CAP always has SER_P); srar_usr_dcu,
    which is NOBROADCAST, runs with mce.timeout_panic=0 (as the suite's kernel did: a timeout
    by itself is reported, not fatal). One row checks that every case file has an expected
    outcome here; one that mce.inject=module still reads a raw boot module.
Also: the in-kernel suites test=mce and test=mceburst (10 000 corrected errors: all counted,
storm mode on and off, the kernel still running), user/mceinject.c (the /sys knob files and
/sys/kernel/debug/mce-inject/ from user space), and Bochs: without MCA banks (the boot says
so) and with banks from tests/bochs/mca-msrs.def, where the software injector's SRAO and
corrected errors must be graded and logged exactly as on QEMU.
Hook into the run with `from mce_tests import MCE_TESTS` and `TESTS += MCE_TESTS` in tests.py.
"""

import os
import re
from pathlib import Path

from driver import Config, Ktap, Machine, Panic, Ready, Script, Test

CASES = Path(os.environ.get("MCE_TEST_CASES",
                            Path(__file__).resolve().parents[3] / "shared" / "mce-test-cases"))
FAKE_PANIC = "mce: fake panic: "
MF_QUEUED = "memory_failure: pfn "
SRAR_HOOK = "mce: SRAR in "   # the user-recovery hook's line (kernel/mce/log.c)
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


# A row with a busy partner: the records must reach the console while it still runs.
SPIN_END = r"^spin_inject: child spun"       # user/spin_inject.c, after 60 s of spinning
VICTIM_END = r"^victim: no signal"          # user/victim.c wait-spin, after 60 s
SPIN_WAIT_S = 75


def _in_order(text, lines, end):
    """None when each of `lines` (plain strings) appears before regex `end` (or end is not
    there yet), else what came late."""
    stop = re.search(end, text, re.M)
    for s in lines:
        i = text.find(s)
        if stop and i > stop.start():
            return "%r came only after %r" % (s, stop.group(0))
    return None


def _file_check(reason, must, spin=False):
    """The boot-time injector ran one case file (or, with spin, user/spin_inject ran it while
    its child spins): the fake-panic reason or none, every must line, and with spin all of
    them before the child's end."""
    done, ran = r"^.*mce-inject: done$", r"mce-inject: (file \S+|module) done \([1-9]\d*\)"
    wait = 10
    if spin:
        done, ran, wait = r"^spin_inject: injected .*: [1-9]", r"mce-inject: [1-9]\d* records?", SPIN_WAIT_S

    def fn(m):
        if not m.wait_for(done, 30):
            return False, "the injection did not run (no %r)" % done
        m.wait_for(r"^.*mcrk: ready", 10)
        # The log is drained by a kernel worker after the injector returns, so the records
        # can come after "done": wait for each expected line.
        for s in must + ([FAKE_PANIC + reason] if reason else []):
            m.wait_for(re.escape(s), wait)
        if reason is None:
            m.wait_for(re.escape(FAKE_PANIC), 1)  # give a wrong panic report time to show
        text = m.serial_text()
        if "Kernel panic" in text:
            return False, "real panic"
        if not re.search(ran, text):
            return False, "the injector ran no record"
        if reason is None and FAKE_PANIC in text:
            return False, "unexpected " + text.split(FAKE_PANIC, 1)[1].splitlines()[0]
        if reason is not None and FAKE_PANIC + reason not in text:
            return False, "want fake panic: %s" % reason
        for s in must:
            if s not in text:
                return False, "missing %r" % s
        late = spin and _in_order(text, must, SPIN_END)
        if late:
            return False, late
        return True, reason or "no panic"
    return fn


def _on_cpus(lines, smp):
    """Expected lines as they read on smp CPUs: the injector takes a record for a CPU that is
    not online to CPU (n mod online CPUs)."""
    return [re.sub(r"CPU (\d+)", lambda c: "CPU %d" % (int(c.group(1)) % smp), s) for s in lines]


def _file_cmdline(name):
    cmd = "mce.inject=/mce-cases/%s mce.fake_panic=1" % name
    if name.startswith("panic_noser/") or name.startswith("poll_noser/"):
        cmd += " mce.ser=0"
    if name == "recoverable_ucr/srar_usr_dcu":
        cmd += " mce.timeout_panic=0"
    return cmd


def _unlisted_cases(m):
    """Every case file in the suite has an expected outcome here (none silently skipped)."""
    files = sorted(str(p.relative_to(CASES)) for p in CASES.rglob("*")
                   if p.is_file() and p.name != "README.md")
    missing = [f for f in files if f not in FILE_CASES]
    gone = [f for f in FILE_CASES if f not in files]
    if missing or gone:
        return False, "no expectation for %s; no file for %s" % (missing, gone)
    return True, "%d case files" % len(files)


def _file_tests():
    """One boot per case file: the files are in the initrd (/mce-cases/SET/CASE, see the
    Makefile), which the driver passes to every direct boot."""
    rows = []
    for name, (reason, must) in sorted(FILE_CASES.items()):
        rows.append(Test("mce-file-" + name.replace("/", "-"), "direct", 2, _file_cmdline(name),
                         Script(_file_check(reason, must), timeout=60)))
    # Those that recover (SRAO, UCNA, corrected errors, SRAR in a faked user context) once
    # more at -smp 1 and -smp 2 from user space, while another task spins without syscalls.
    for name, (reason, must) in sorted(FILE_CASES.items()):
        if reason is not None:
            continue
        for smp in (1, 2):
            knobs = _file_cmdline(name).split(" ", 1)[1]
            rows.append(Test("mce-file-%s-smp%d-spin" % (name.replace("/", "-"), smp), "direct",
                             smp, "run=spin_inject:/mce-cases/%s %s" % (name, knobs),
                             Script(_file_check(None, _on_cpus(must, smp), spin=True),
                                    timeout=SPIN_WAIT_S + 30)))
    rows.append(Test("mce-file-all-listed", "direct", 1, "", Script(_unlisted_cases)))
    # mce.inject=module still takes a raw (non-cpio) boot module as mce-inject text.
    rows.append(Test("mce-file-raw-module", "direct", 2, "mce.inject=module mce.fake_panic=1",
                     Script(_file_check("Processor context corrupt", ["from module"])),
                     extra=("-initrd", str(CASES / "panic" / "fatal"))))
    return rows


def _hmp(cmd, must, reason=None, wait=r"mce: CPU \d Bank \d \((?:#MC|poll)\)", spin=False):
    """Boot, inject with HMP `cmd`, wait for the report, check substrings and the reason.
    With spin, the row runs user/victim wait-spin: inject once it spins, and every expected
    line must come while it still spins."""
    ready, wait_s = (r"^victim: ready", SPIN_WAIT_S) if spin else (r"^.*mcrk: ready", 10)

    def fn(m):
        if not m.wait_for(ready, 30):
            return False, "no %r line" % ready
        reply = "; ".join(m.monitor().cmd(c).strip() for c in cmd.split("; "))
        if not m.wait_for(wait, wait_s):
            return False, "no report after %r (monitor said %r)" % (cmd, reply)
        # With a reason, wait for the whole line: a partial last line matches a prefix too.
        m.wait_for(re.escape(FAKE_PANIC + reason) if reason else
                   r"^.*(memory_failure|KEEP|UCNA)", wait_s if reason else 3)
        for s in must:  # a poller runs once a second; under load give it time
            m.wait_for(re.escape(s), wait_s)
        text = m.serial_text()
        if not reason and not all(s in text for s in must):
            # Seen once in many loaded runs: the target CPU's record never reached the log
            # (QEMU drops a non-AR injection while that CPU's MCG_STATUS.MCIP is set). Inject
            # once more; a kernel that loses records fails the second time too.
            reply = "; ".join(m.monitor().cmd(c).strip() for c in cmd.split("; "))
            for s in must:
                m.wait_for(re.escape(s), 10)
            text = m.serial_text()
        if reason and FAKE_PANIC + reason not in text:
            return False, "want fake panic: " + reason
        if not reason and (FAKE_PANIC in text or "Kernel panic" in text):
            return False, "unexpected panic"
        for s in must:
            if s not in text:
                return False, "missing %r after %r (monitor said %r)" % (s, cmd, reply)
        report = re.search(wait, text)
        late = spin and _in_order(text, must + [report.group(0)], VICTIM_END)
        if late:
            return False, late
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
     ["(#MC): AO", MF_QUEUED + "0x1234:"], None),
    ("ucna", "mce -b 0 3 0xac00000000000000 0x5 0x5000 0x8c", ["UCNA", MF_QUEUED + "0x5:"], None),
    ("fatal-b", "mce -b 0 2 0xbe00000000000000 0x5 0 0", [], "Processor context corrupt"),
    ("srar-kernel-b", "mce -b 0 1 0xbd80000000000134 0x7 0x1234000 0x86", [],
     "Data load in unrecoverable area of kernel"),
    ("no-broadcast-timeout", "mce 0 1 0xbd000000000000c0 0x5 0x1234000 0x86", [TIMEOUT],
     TIMEOUT),
]


# The HMP cases that recover (SRAO, UCNA, a corrected error) once more at -smp 1 and -smp 2
# with a victim that spins without syscalls (corrected-b needs a second CPU: it is about the
# rendezvous timeout).
HMP_SPIN_CASES = ("corrected", "srao-b", "ucna")
BYSTANDER = " run=victim:wait-spin"
# A run= list, so that /init does not start the shell: the CPUs idle in the kernel when the
# host injects, as the kernel-mode cases expect.
IDLE = " run=hello"


def _hmp_tests():
    rows = [Test("mce-hmp-" + n, "direct", 2, "mce.fake_panic=1" + IDLE, Script(_hmp(c, must, r)))
            for n, c, must, r in HMP_CASES]
    rows += [Test("mce-hmp-%s-smp%d-spin" % (n, smp), "direct", smp, "mce.fake_panic=1" + BYSTANDER,
                  Script(_hmp(c, must, r, spin=True), timeout=SPIN_WAIT_S + 30))
             for n, c, must, r in HMP_CASES if n in HMP_SPIN_CASES for smp in (1, 2)]
    rows.append(Test("mce-hmp-no-rendezvous", "direct", 2,
                     "mce.fake_panic=1 mce.no_rendezvous_cpu=1" + IDLE,
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


def _user_program(prog, timeout=30):
    """init runs /bin/PROG (user/PROG.c, in the initrd) and must report it exited 0."""
    def fn(m):
        if not m.wait_for(r"^.*init: %s (exited|killed)" % re.escape(prog), timeout):
            return False, "no exit report from %s" % prog
        text = m.serial_text()
        if "init: %s exited 0" % prog not in text:
            fails = [ln for ln in text.split("\n") if ln.startswith("FAIL ")]
            return False, "; ".join(fails[:3]) or "did not exit 0"
        return True, ""
    return fn


# Bochs has no machine-check banks of its own; tests/bochs/mca-msrs.def supplies MCG_CAP
# (6 banks, CTL_P, SER_P) and the bank registers through Bochs's configurable MSRs. The same
# case files then run through the software injector on Bochs and on QEMU, and the kernel must
# grade and log them identically.
BOCHS_MSRS = Path(__file__).resolve().parents[1] / "bochs" / "mca-msrs.def"
BOCHS_CASES = ["recoverable_ucr/srao_mem_scrub", "non-panic/corrected"]
BOCHS_CMDLINE = ("mce.inject=" + ",".join("/mce-cases/" + c for c in BOCHS_CASES) +
                 " mce.fake_panic=1")
GRADED = re.compile(r"mce: (CPU \d+ Bank \d+ \((?:#MC|poll)\): .*)$"
                    r"|mce: \[Hardware Error\]: (CPU \d+: Machine Check(?: Exception)?: \S+ "
                    r"Bank \d+: [0-9a-f]+)$"
                    r"|(memory_failure: pfn 0x[0-9a-f]+)"
                    r"|(mce: fake panic: .*)$", re.M)


def _graded(text):
    """What the kernel decided and logged, without the machine-specific parts (TSC, CPUID)."""
    return sorted("".join(g) for g in GRADED.findall(text))


def _booted_and_drained(m, timeout):
    """Boot is complete and /init has started (with no run=, the shell on the console)."""
    return (m.wait_for(r"^.*mcrk: ready", timeout) and
            m.wait_for(r"^init: (done|starting /bin/sh)", 60) is not None)


def _bochs_like_qemu(m):
    if not _booted_and_drained(m, 600):
        return False, "Bochs: no ready line and init"
    text = m.serial_text()
    if "MCG_CAP 0x1000106: 6 banks, CTL_P, SER_P" not in text:
        return False, "Bochs did not take MCG_CAP from the msrs file"
    bochs = _graded(text)
    ref = Machine(m.name + "-qemu", Config(boot="direct", smp=2, cmdline=BOCHS_CMDLINE),
                  m.log_dir)
    with ref:
        if not _booted_and_drained(ref, 30):
            return False, "QEMU reference: no ready line and init"
        qemu = _graded(ref.serial_text())
    for want in ('(#MC): AO "Action optional: memory scrubbing error"', '(poll): KEEP'):
        if not any(want in g for g in bochs):
            return False, "Bochs: missing %r" % want
    if bochs != qemu:
        only_b = [g for g in bochs if g not in qemu]
        only_q = [g for g in qemu if g not in bochs]
        return False, "Bochs and QEMU differ: Bochs only %s; QEMU only %s" % (only_b, only_q)
    for f in ref.log_files():
        f.unlink(missing_ok=True)
    return True, "%d graded lines alike" % len(bochs)


# ---- the same case files injected from the host with QEMU's HMP `mce`, where it can say them ----

_BIT = {"VAL": 63, "OVER": 62, "UC": 61, "EN": 60, "PCC": 57, "S": 56, "AR": 55}
_STATUS_WORDS = {"CORRECTED": ("VAL", "EN"), "UNCORRECTED": ("VAL", "UC", "EN"),
                 "FATAL": ("VAL", "UC", "EN", "PCC"), "SRAO": ("S",), "SRAR": ("S", "AR"),
                 "UCNA": ()}
_MCG_BITS = {"RIPV": 1, "EIPV": 2, "MCIP": 4, "LMCES": 8}


def _parse_case(path):
    """The records of an mce-inject file, read the way its README says (an independent
    reading from the kernel's): [{cpu, bank, status, mcg, addr, misc, cs, words}]."""
    recs = []
    for line in path.read_text().splitlines():
        w = line.split("#", 1)[0].split()
        if not w:
            continue
        if w[0] == "CPU" and len(w) >= 4:
            recs.append(dict(cpu=int(w[1], 0), bank=int(w[3], 0), status=0, mcg=0, addr=0,
                             misc=0, cs=None, words=set()))
        elif not recs:
            continue
        elif w[0] == "STATUS":
            for t in w[1:]:
                for name in _STATUS_WORDS.get(t, (t,) if t in _BIT else ()):
                    recs[-1]["status"] |= 1 << _BIT[name]
                if t not in _STATUS_WORDS and t not in _BIT:
                    recs[-1]["status"] |= int(t, 0)
        elif w[0] == "MCGSTATUS":
            for t in w[1:]:
                recs[-1]["mcg"] |= _MCG_BITS.get(t, 0)
        elif w[0] in ("ADDR", "MISC"):
            recs[-1][w[0].lower()] = int(w[1], 0)
            recs[-1]["status"] |= 1 << (58 if w[0] == "ADDR" else 59)
        elif w[0] == "RIP":
            recs[-1]["cs"] = int(w[1].split(":")[0], 0) if ":" in w[1] else None
        else:
            recs[-1]["words"].update(w)
    return recs


def _hmp_command(name, smp=2):
    """(HMP command, None) for a case file QEMU's `mce` can express on smp CPUs, else (None,
    why not)."""
    recs = [r for r in _parse_case(CASES / name) if r["status"]]
    words = set().union(*(r["words"] for r in recs)) if recs else set()
    if name.endswith("_timeout") or words & {"NOBROADCAST", "IRQBROADCAST", "NMIBROADCAST"}:
        return None, "a CPU kept out of the rendezvous (rows mce-hmp-no-*)"
    if not recs or any(not r["status"] >> 63 for r in recs):
        return None, "a status without VAL, which QEMU refuses"
    ucs = [r for r in recs if r["status"] >> 61 & 1]
    if ucs and len(recs) > 1:
        return None, "%d records with a UC one: its broadcast would overwrite the others" % (
            len(recs))
    if ucs and "POLL" in words:
        return None, "polled UC: QEMU raises #MC for every UC injection"
    if any(r["status"] >> 55 & 1 and r["cs"] == 0x73 for r in recs):
        return None, "SRAR in user mode (rows mf-hmp-srar-*)"
    if any(r["cpu"] >= smp for r in recs):
        return None, "names CPU %d, which -smp %d does not have (the software-injector row " \
            "takes it to CPU n mod CPUs)" % (max(r["cpu"] for r in recs), smp)
    return ("; ".join("mce %s%d %d %#x %#x %#x %#x" % (
        "-b " if ucs else "", r["cpu"], r["bank"], r["status"], r["mcg"], r["addr"], r["misc"])
        for r in recs), None)


def _hmp_case_tests():
    rows = []
    for name, (reason, must) in sorted(FILE_CASES.items()):
        cmdline = _file_cmdline(name).split(" ", 1)[1]  # the knobs, without mce.inject=
        cmd, why = _hmp_command(name)
        if cmd is None:
            continue
        rows.append(Test("mce-hmp-file-" + name.replace("/", "-"), "direct", 2, cmdline + IDLE,
                         Script(_hmp(cmd, must, reason), timeout=60)))
        # Those that recover, once more with a victim that spins, at -smp 1 and -smp 2.
        for smp in (1, 2) if reason is None else ():
            cmd, why = _hmp_command(name, smp)
            if cmd is not None:
                rows.append(Test("mce-hmp-file-%s-smp%d-spin" % (name.replace("/", "-"), smp),
                                 "direct", smp, cmdline + BYSTANDER,
                                 Script(_hmp(cmd, must, reason, spin=True),
                                        timeout=SPIN_WAIT_S + 30)))
    return rows


def hmp_case_coverage(smp=2):
    """Which case files have an HMP row on smp CPUs and why the others do not (docs,
    `driver.py list`)."""
    return [(n,) + _hmp_command(n, smp) for n in sorted(FILE_CASES)]


MCE_TESTS = _hmp_tests() + _file_tests() + _hmp_case_tests() + [
    # Without the msrs file Bochs has CPUID MCA but MCG_CAP 0: the boot must say so plainly.
    Test("bochs-no-mca-banks", "bochs", 1, "",
         Ready(cpus=1, timeout=240, also=(r"mce: MCA present but no banks \(MCG_CAP 0\)",
                                          r"mce: recovery-capable: no \(MCG_CAP reports no "
                                          r"banks;"))),
    Test("bochs-mce", "bochs", 2, BOCHS_CMDLINE, Script(_bochs_like_qemu, timeout=240),
         extra=("--msrs", str(BOCHS_MSRS))),
    # /sys/devices/system/machinecheck/machinecheck0/ knobs and /sys/kernel/debug/mce-inject/
    # from a user program (user/mceinject.c).
    Test("mce-user-mceinject", "direct", 2, "run=mceinject", Script(_user_program("mceinject"))),
    Test("ktest-mce-smp2", "direct", 2, "test=mce mce.fake_cmci=1", Ktap(timeout=60), ktest=True),
    # 10 000 corrected errors in a burst: all counted (logged or suppressed by storm control),
    # storm mode engages and ends, and the kernel keeps going (KTAP completes).
    Test("ktest-mceburst-smp2", "direct", 2, "test=mceburst mce.storm_quiet_ms=500",
         Ktap(timeout=90), ktest=True),
]
