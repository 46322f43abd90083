#!/usr/bin/env python3
"""Synthetic ACPI EINJ tables for the firmware-backend tests (QEMU `-acpitable file=...`).

The firmware they describe lives in pc-testdev (QEMU `-device pc-testdev`): a 64 KiB memory
window at 0xff000000 that keeps what is written and that the monitor's `xp` reads, and the
data ports 0xe0 (32-bit) and 0xe8. The window starts out zeroed, so everything a real BIOS
would have prepared (the available types, the trigger table, the timings) is written there by
the table's own WRITE_REGISTER_VALUE entries and read back, which also puts every instruction,
access width and both address spaces into the sequence the kernel traces (einj.trace=1).

    mkeinj.py OUTDIR [NAME...]    write OUTDIR/NAME.dat for each table (all by default)
    mkeinj.py --list              the table names and what each is for

Window layout (offsets from WINDOW):
    0x000  SET_ERROR_TYPE_WITH_ADDRESS structure (36 bytes)
    0x080  mailbox: GET_ERROR_TYPE, GET_TRIGGER_ERROR_ACTION_TABLE, GET_EXECUTE_OPERATION_TIMINGS
    0x088  busy word (CHECK_BUSY_STATUS, bit 0)      0x090  command status (GET_COMMAND_STATUS)
    0x098  error type (SET_ERROR_TYPE, ACPI 4 tables) 0x0a0  BEGIN/END marks, byte and word
    0x100  the trigger table (header and one entry)  0x300  what the trigger writes
"""

import struct
import sys
from pathlib import Path

WINDOW = 0xFF000000
PORT32, PORT8 = 0xE0, 0xE8
MAILBOX, BUSY, STATUS, ETYPE, MARKS = 0x080, 0x088, 0x090, 0x098, 0x0A0
TRIGGER, FIRED = 0x100, 0x300
AVAILABLE = 0x2 | 0x8 | 0x10 | 0x20
TIMINGS = (50000 << 32) | 10000          # at most 50 ms, usually 10 ms (microseconds)
TRIGGER_VALUE = 0x7719_5EED_0000_0001    # what the trigger leaves at WINDOW + FIRED
RAM_ADDRESS = 0x00200000                 # in usable RAM: no firmware register may be there

# Actions and instructions (ACPI 6.x, "Error Injection").
BEGIN, GET_TRIGGER, SET_TYPE, GET_TYPE, END, EXECUTE, CHECK_BUSY, GET_STATUS, SET_TYPE_ADDR, \
    GET_TIMINGS = range(10)
TRIGGER_ERROR = 0xFF
READ, READ_VALUE, WRITE, WRITE_VALUE, NOOP = range(5)
PRESERVE = 1
MEM, IO = 0, 1
SIZE_CODE = {8: 1, 16: 2, 32: 3, 64: 4}


def entry(action, insn, space=MEM, addr=0, bits=64, value=0, mask=None, flags=0, offset=0,
          size_code=None, width=None):
    """One 32-byte entry: a register of `width` bits (default: bits) at bit `offset`, reached
    by a bits-wide access. addr is a window offset for MEM (absolute when >= WINDOW) and a
    port for IO."""
    if space == MEM and addr < WINDOW and addr != RAM_ADDRESS:
        addr += WINDOW
    if mask is None:
        mask = (1 << bits) - 1 if bits < 64 else (1 << 64) - 1
    code = SIZE_CODE[bits] if size_code is None else size_code
    gas = struct.pack("<BBBBQ", space, bits if width is None else width, offset, code, addr)
    return struct.pack("<BBBB", action, insn, flags, 0) + gas + struct.pack("<QQ", value, mask)


def mailbox(action, value):
    """An action that puts value in the mailbox and reads it back as its result."""
    return [entry(action, WRITE_VALUE, addr=MAILBOX, value=value),
            entry(action, READ, addr=MAILBOX)]


def trigger_table(n_entries=1, header_size=16):
    body = b"".join(entry(TRIGGER_ERROR, WRITE_VALUE, addr=FIRED, value=TRIGGER_VALUE)
                    for _ in range(n_entries))
    return struct.pack("<IIII", header_size, 1, 16 + len(body), n_entries) + body


def write_blob(action, offset, blob):
    """Entries that write blob (whole qwords) at a window offset."""
    blob += b"\0" * (-len(blob) % 8)
    return [entry(action, WRITE_VALUE, addr=offset + i, value=struct.unpack_from("<Q", blob, i)[0])
            for i in range(0, len(blob), 8)]


def good(acpi5=True, execute_extra=(), trigger=None):
    """A complete table: every action, every instruction, memory and I/O of every width."""
    e = []
    e += write_blob(BEGIN, TRIGGER, trigger if trigger is not None else trigger_table())
    e += [entry(BEGIN, WRITE_VALUE, addr=MARKS, bits=8, value=0xB1),
          entry(BEGIN, WRITE_VALUE, addr=MARKS + 2, bits=16, value=0xBE61),
          entry(BEGIN, READ, space=IO, addr=PORT8, bits=16),
          entry(BEGIN, NOOP)]
    e += mailbox(GET_TYPE, AVAILABLE)
    if acpi5:
        e += [entry(SET_TYPE_ADDR, WRITE, addr=0, bits=32)]
    else:
        e += [entry(SET_TYPE, WRITE, addr=ETYPE, bits=32)]
    e += [entry(EXECUTE, WRITE_VALUE, space=IO, addr=PORT32, bits=32, value=0x5A5A0001),
          entry(EXECUTE, WRITE_VALUE, space=IO, addr=PORT8, bits=8, value=0x42)]
    e += list(execute_extra)
    e += mailbox(GET_TIMINGS, TIMINGS)
    e += [entry(CHECK_BUSY, READ_VALUE, addr=BUSY, mask=1, value=1),
          entry(GET_STATUS, READ, addr=STATUS, bits=32, mask=0xFF)]
    e += mailbox(GET_TRIGGER, WINDOW + TRIGGER)
    # END: a preserving write of bits 15:8 of the word at MARKS + 4 (its other bits stay).
    e += [entry(END, WRITE_VALUE, addr=MARKS + 4, bits=32, width=8, offset=8, mask=0xFF,
                value=0xED, flags=PRESERVE)]
    return e


def table(entries, header_size=12, count=None, length_extra=b""):
    body = b"".join(entries)
    count = len(entries) if count is None else count
    inj = struct.pack("<IB3xI", header_size, 0, count)
    length = 36 + len(inj) + len(body) + len(length_extra)
    hdr = struct.pack("<4sIBB6s8sI4sI", b"EINJ", length, 1, 0, b"MCRK  ", b"EINJTEST", 1,
                      b"MCRK", 1)
    raw = bytearray(hdr + inj + body + length_extra)
    raw[9] = (-sum(raw)) & 0xFF
    return bytes(raw)


def _replace_first(entries, action, new):
    out, done = [], False
    for e in entries:
        if not done and e[0] == action:
            out.append(new)
            done = True
        else:
            out.append(e)
    return out


TABLES = {
    "good": ("ACPI 5 table: parameters in SET_ERROR_TYPE_WITH_ADDRESS, a trigger table",
             lambda: table(good())),
    "acpi4": ("ACPI 4 table: SET_ERROR_TYPE, no parameters",
              lambda: table(good(acpi5=False))),
    "busy": ("the busy bit never clears: error_inject fails with EIO after the 50 ms the "
             "timings allow",
             lambda: table(good(execute_extra=[entry(EXECUTE, WRITE_VALUE, addr=BUSY, value=1)]))),
    "busy-default": ("the same without GET_EXECUTE_OPERATION_TIMINGS: Linux's one second",
                     lambda: table([e for e in good(execute_extra=[
                         entry(EXECUTE, WRITE_VALUE, addr=BUSY, value=1)]) if e[0] != GET_TIMINGS])),
    "refused": ("the command status says the platform failed: EBUSY",
                lambda: table(good(execute_extra=[entry(EXECUTE, WRITE_VALUE, addr=STATUS,
                                                        bits=32, value=1)]))),
    "bad-trigger": ("the trigger table's header is wrong: EINVAL",
                    lambda: table(good(trigger=trigger_table(header_size=20)))),
    "header-size": ("malformed: injection header size 99",
                    lambda: table(good(), header_size=99)),
    "count": ("malformed: the entry count does not match the length",
              lambda: table(good(), count=len(good()) + 1)),
    "action": ("malformed: an unknown action 0x42",
               lambda: table(good() + [entry(0x42, NOOP)])),
    "instruction": ("malformed: an unknown instruction 7",
                    lambda: table(good() + [entry(END, 7, addr=MARKS)])),
    "in-ram": ("malformed: a register in usable RAM, outside any register window",
               lambda: table(_replace_first(good(), EXECUTE,
                                            entry(EXECUTE, WRITE_VALUE, addr=RAM_ADDRESS,
                                                  value=1)))),
    "width": ("malformed: access size code 5",
              lambda: table(good() + [entry(END, READ, addr=MARKS, size_code=5)])),
    "io-64": ("malformed: a 64-bit I/O register",
              lambda: table(good() + [entry(END, READ, space=IO, addr=PORT32, bits=64)])),
    "no-execute": ("incomplete: no EXECUTE_OPERATION",
                   lambda: table([e for e in good() if e[0] != EXECUTE])),
}


def main(argv):
    if argv[1:2] == ["--list"]:
        for name, (what, _) in TABLES.items():
            print("%-12s %s" % (name, what))
        return 0
    if len(argv) < 2:
        print(__doc__)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name in argv[2:] or TABLES:
        (out / (name + ".dat")).write_bytes(TABLES[name][1]())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
