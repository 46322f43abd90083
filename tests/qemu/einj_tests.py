"""EINJ rows for the QEMU driver (docs/einj.md): the poison emulator and the firmware backend.

  * einj-emu-*: user/einj_test.c, the einj_mem_uc cases on MCRK's poison emulator, at 1 and 2
    CPUs, late and early kill, with a bystander that sleeps and one that spins; CMCI (faked on
    QEMU) for the store and the corrected error; a fatal error and a kernel load outside any
    fixup, each a short boot that must panic with the right message.
  * einj-fw-*: a synthetic EINJ table (scripts/mkeinj.py, written into build/einj-tables/ when
    this module is loaded) passed with -acpitable, its registers in pc-testdev's memory window
    at 0xff000000 and I/O ports 0xe0/0xe8. user/einj_fw.c drives the files; the row then checks
    the exact sequence of register accesses the kernel traced (einj.trace=1) against the
    table, read here independently in the order Linux 6.1 runs the actions, and the window's
    contents through the monitor's xp. Malformed tables are refused at boot with the reason.
Hook into the run with `from einj_tests import EINJ_TESTS` and `TESTS += EINJ_TESTS`.
"""

import re
import struct
import sys
from pathlib import Path

from driver import BUILD, ROOT, Panic, Ready, Script, Test
from mf_tests import _program_exits_0

sys.path.insert(0, str(ROOT / "scripts"))
import mkeinj  # noqa: E402

TABLES = BUILD / "einj-tables"
mkeinj.main(["mkeinj.py", str(TABLES)])
PCTESTDEV = ("-device", "pc-testdev")

ACTIONS = {0: "BEGIN_INJECTION_OPERATION", 1: "GET_TRIGGER_ERROR_ACTION_TABLE",
           2: "SET_ERROR_TYPE", 3: "GET_ERROR_TYPE", 4: "END_OPERATION", 5: "EXECUTE_OPERATION",
           6: "CHECK_BUSY_STATUS", 7: "GET_COMMAND_STATUS", 8: "SET_ERROR_TYPE_WITH_ADDRESS",
           9: "GET_EXECUTE_OPERATION_TIMINGS", 0xFF: "TRIGGER_ERROR"}
INSNS = ["READ_REGISTER", "READ_REGISTER_VALUE", "WRITE_REGISTER", "WRITE_REGISTER_VALUE", "NOOP"]
TRACE = re.compile(r"einj: (\S+) (\S+) (mem|io) (0x[0-9a-f]+)/(\d+) (<-|->) (0x[0-9a-f]+|0)$")


def _entries(blob):
    """(action, insn, flags, space, addr, bits, value) of each 32-byte entry."""
    out = []
    for i in range(0, len(blob) - 31, 32):
        a, ins, fl, _, sp, bw, _, code, addr, val, _ = struct.unpack_from("<BBBBBBBBQQQ", blob, i)
        bits = 8 << (code - 1) if 1 <= code <= 4 else 0
        if bw in (32, 64) and bits < bw and addr % (bw // 8) == 0:
            bits = bw                     # the firmware mistake Linux fixes up
        out.append((a, ins, fl, sp, addr, bits, val))
    return out


def _accesses(e):
    """The trace lines one entry makes: (action, insn, space, addr, bits, dir, value or None).
    Reads have no value to expect (the device decides); writes of a value do."""
    a, ins, fl, sp, addr, bits, val = e
    if ins == 4:
        return []
    head = (ACTIONS[a], INSNS[ins], "io" if sp else "mem", addr, bits)
    if ins in (0, 1):
        return [head + ("->", None)]
    reads = [head + ("->", None)] if fl & 1 else []
    return reads + [head + ("<-", val if ins == 3 and not fl & 1 else None)]


def table_program(table_name):
    """The table's entries, a function giving the accesses of one action in table order, and
    the entries of the trigger table the table's BEGIN entries build in the window."""
    ents = _entries((TABLES / (table_name + ".dat")).read_bytes()[48:])

    def run(action):
        return [x for e in ents if e[0] == action for x in _accesses(e)]
    return run, _entries(_trigger_blob(ents))


def _trigger_blob(ents):
    """The trigger table the BEGIN entries write into the window (qword values in order)."""
    words = [e[6] for e in ents if e[0] == 0 and e[1] == 3 and e[5] == 64 and
             mkeinj.WINDOW + mkeinj.TRIGGER <= e[4] < mkeinj.WINDOW + mkeinj.FIRED]
    blob = b"".join(struct.pack("<Q", w) for w in words)
    return blob[16:16 + 32 * struct.unpack_from("<I", blob, 12)[0]]


def _parse_trace(text):
    out = []
    for ln in text.split("\n"):
        m = TRACE.search(ln)
        if m:
            out.append((m.group(1), m.group(2), m.group(3), int(m.group(4), 16), int(m.group(5)),
                        m.group(6), int(m.group(7), 16)))
    return out


def _matches(got, want):
    return all(w is None or g == w for g, w in zip(got, want))


def _check_sequence(text, table_name, acpi5):
    """The first injection's trace, from BEGIN_INJECTION_OPERATION to END_OPERATION, in Linux
    6.1's order: BEGIN; the type and parameters (the ACPI 5 structure's fields as traced, at
    least the type and the flags; else SET_ERROR_TYPE); EXECUTE; the timings; CHECK_BUSY;
    GET_COMMAND_STATUS; GET_TRIGGER; the trigger table's entries; END."""
    got = _parse_trace(text)
    start = next((i for i, t in enumerate(got) if t[0] == "BEGIN_INJECTION_OPERATION"), None)
    if start is None:
        return "no BEGIN_INJECTION_OPERATION in the trace"
    run, trig = table_program(table_name)
    got = got[start:]
    want = run(0)
    if acpi5:   # flags 2 given: type, then flags, address, mask, APIC id, SBDF (Linux's order)
        w, f = mkeinj.WINDOW, ("SET_ERROR_TYPE_WITH_ADDRESS", "WRITE_REGISTER", "mem")
        want = want + [f + (w + 0, 32, "<-", 0x10), f + (w + 8, 32, "<-", 2),
                       f + (w + 16, 64, "<-", None), f + (w + 24, 64, "<-", (1 << 64) - 1),
                       f + (w + 12, 32, "<-", 0), f + (w + 32, 32, "<-", 0)]
    else:
        want = want + run(2)
    for action in (5, 9, 6, 7, 1):
        want = want + run(action)
    want += [x for e in trig for x in _accesses(e)]
    want += run(4)
    for k, (g, w) in enumerate(zip(got, want)):
        if not _matches(g, w):
            return "access %d: got %r, want %r" % (k, g, w)
    if len(got) < len(want):
        return "the trace stops after %d of %d accesses" % (len(got), len(want))
    return None


def _xp(m, addr, unit="g"):
    out = m.monitor().cmd("xp /1x%s %#x" % (unit, addr))
    found = re.search(r":\s*(0x[0-9a-f]+)", out)
    return int(found.group(1), 16) if found else None


def _window_checks(m, acpi5):
    w = mkeinj.WINDOW
    want = [(w + mkeinj.FIRED, "g", mkeinj.TRIGGER_VALUE, "the trigger's write"),
            (w + mkeinj.MARKS, "b", 0xB1, "BEGIN's byte"),
            (w + mkeinj.MARKS + 2, "h", 0xBE61, "BEGIN's word"),
            (w + mkeinj.MARKS + 4, "w", 0xED00, "END's preserving write of bits 15:8")]
    if acpi5:
        want += [(w + 0, "w", 0x10, "SET_ERROR_TYPE_WITH_ADDRESS type"),
                 (w + 8, "w", 0x2, "SET_ERROR_TYPE_WITH_ADDRESS flags")]
    else:
        want += [(w + mkeinj.ETYPE, "w", 0x10, "SET_ERROR_TYPE's register")]
    for addr, unit, value, what in want:
        got = _xp(m, addr, unit)
        if got != value:
            return "xp %#x: %s is %s, want %#x" % (addr, what, got and hex(got), value)
    return None


def _fw_ok(table_name, acpi5):
    prog = "einj_fw:%s+ok" % ("acpi5" if acpi5 else "acpi4")

    def fn(m):
        ok, reason = _program_exits_0(prog, 120)(m)
        if not ok:
            return ok, reason
        text = m.serial_text()
        why = _check_sequence(text, table_name, acpi5) or _window_checks(m, acpi5)
        return (False, why) if why else (True, "")
    return fn


def _fw_fails(arg, line):
    def fn(m):
        ok, reason = _program_exits_0("einj_fw:" + arg, 120)(m)
        if ok and not re.search(line, m.serial_text()):
            return False, "no log line matching %r" % line
        return ok, reason
    return fn


def _fw_row(name, table, cmdline, expect, extra=()):
    return Test(name, "direct", 1, cmdline, expect,
                extra=("-acpitable", "file=%s" % (TABLES / (table + ".dat"))) + PCTESTDEV + extra)


REJECTED = {
    "header-size": r"injection header size 99",
    "count": r"\d+ entries do not fill the \d+ bytes of the table",
    "action": r"entry \d+: unknown action 0x42",
    "instruction": r"entry \d+ \(END_OPERATION\): unknown instruction 7",
    "in-ram": r"entry \d+ \(EXECUTE_OPERATION\): memory register 0x200000 is in RAM the kernel "
              r"uses",
    "width": r"entry \d+ \(END_OPERATION\): access size code 5",
    "io-64": r"entry \d+ \(END_OPERATION\): I/O register 0xe0/64 is outside the port space",
    "no-execute": r"no EXECUTE_OPERATION action",
}


# What the console must show for the cases a row runs: each record as the hardware would have
# logged it (MCG_STATUS, bank, MCi_STATUS; a user or kernel RIP) and how it was graded.
RECORDS = {
    "single": [r"Machine Check Exception: 7 Bank 1: bd80000000000134\n.*RIP 33:<",
               r"Bank 1 \(#MC\): AR \"Action required: data load error in a user process\""],
    "instr": [r"Machine Check Exception: 7 Bank 0: bd80000000000150\n.*RIP 33:<",
              r"AR \"Action required: instruction fetch error in a user process\""],
    "store": [r"Bank 3: bc00000000000146",
              r"Bank 3 \((poll|CMCI)\): UCNA \"Uncorrected no action required\""],
    "patrol": [r"Machine Check Exception: 5 Bank 7: bd000000000000c0",
               r"AO \"Action optional: memory scrubbing error\""],
    "llc": [r"Machine Check Exception: 5 Bank 9: bd0000000000017a",
            r"AO \"Action optional: last level cache writeback error\""],
    "copyin": [r"Machine Check Exception: 7 Bank 1: bd80000000000134\n.*RIP 10:<",
               r"AR \"Action required: data load in error recoverable area of kernel\" addr "
               r"\S+ action ar-kernel-fixup"],
    "ce": [r"Bank 7: 9c0000400000009f", r"Bank 7 \((poll|CMCI)\): KEEP \"Corrected error\""],
}


def _emu_check(prog, cases, timeout, also=()):
    def fn(m):
        ok, reason = _program_exits_0(prog, timeout)(m)
        if not ok:
            return ok, reason
        for case in cases:
            for rx in list(RECORDS.get(case, ())) + list(also):
                if not m.wait_for(rx, 10):     # a polled record comes within a poll interval
                    return False, "%s: no console line matching %r" % (case, rx)
        return True, ""
    return fn


def _emu(name, smp, mode, timeout=300, extra_cmdline="", also=()):
    prog = "einj_test:" + mode
    cases = [w for w in mode.split("+") if w in RECORDS] or list(RECORDS)
    if "ce" in cases:   # the corrected-error collector keeps a CE off the console, as Linux's
        extra_cmdline = (extra_cmdline + " mce.print_all=1").strip()
    return Test(name, "direct", smp, ("run=%s %s" % (prog, extra_cmdline)).strip(),
                Script(_emu_check(prog, cases, timeout, also), timeout=timeout))


EINJ_TESTS = [
    # The poison emulator: every case at 1 and 2 CPUs, late and early kill, and a bystander
    # that sleeps or spins without syscalls (each CPU count sees both).
    _emu("einj-emu-smp1-late-sleep", 1, "late"),
    _emu("einj-emu-smp1-early-spin", 1, "early+spin"),
    _emu("einj-emu-smp2-late-spin", 2, "late+spin"),
    _emu("einj-emu-smp2-early-sleep", 2, "early"),
    # Stores and corrected errors through CMCI (QEMU has none: mce.fake_cmci=1).
    _emu("einj-emu-cmci-smp2", 2, "late+store+ce", 120, "mce.fake_cmci=1",
         also=(r"Bank 3 \(CMCI\): UCNA", r"Bank 7 \(CMCI\): KEEP")),
    Test("einj-emu-fatal", "direct", 2, "run=einj_test:fatal",
         Panic("Processor context corrupt", timeout=60)),
    Test("einj-emu-kernel-load", "direct", 2, "run=einj_test:kpanic",
         Panic("Data load in unrecoverable area of kernel", timeout=60)),
    # The firmware backend over synthetic tables.
    _fw_row("einj-fw-acpi5", "good", "einj.trace=1 run=einj_fw:acpi5+ok",
            Script(_fw_ok("good", True), timeout=120)),
    _fw_row("einj-fw-acpi4", "acpi4", "einj.trace=1 run=einj_fw:acpi4+ok",
            Script(_fw_ok("acpi4", False), timeout=120)),
    _fw_row("einj-fw-busy", "busy", "run=einj_fw:acpi5+EIO",
            Script(_fw_fails("acpi5+EIO", r"einj: firmware still busy after 50 ms"), timeout=120)),
    _fw_row("einj-fw-busy-default", "busy-default", "run=einj_fw:acpi5+EIO",
            Script(_fw_fails("acpi5+EIO", r"einj: firmware still busy after 1000 ms"),
                   timeout=120)),
    _fw_row("einj-fw-refused", "refused", "run=einj_fw:acpi5+EBUSY",
            Script(_fw_fails("acpi5+EBUSY", r"einj_fw: error_inject with the trigger: -16"),
                   timeout=120)),
    _fw_row("einj-fw-bad-trigger", "bad-trigger", "run=einj_fw:acpi5+EINVAL",
            Script(_fw_fails("acpi5+EINVAL", r"einj: invalid trigger error action table at "
                             r"0xff000100: trigger table header"), timeout=120)),
] + [
    _fw_row("einj-fw-rejected-" + name, name, "",
            Ready(cpus=1, also=(r"einj: EINJ table rejected: " + why,
                                r"einj: no error injection")))
    for name, why in REJECTED.items()
]
