#!/usr/bin/env python3
"""Write seed inputs for tests/fuzz/fuzz_boot.c into the folder given: a well-formed multiboot2
structure and a well-formed PVH start info (each after the fuzzer's one variant byte)."""
import os
import struct
import sys


def tag(type_, payload):
    t = struct.pack("<II", type_, 8 + len(payload)) + payload
    return t + b"\0" * (-len(t) % 8)


def mb2():
    mmap = [(0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0x100000, 0x7EE0000, 1), (0xFFFC0000, 0x40000, 2)]
    body = tag(1, b"console=ttyS0 ktest=all\0") + tag(2, b"GRUB 2.06\0")
    body += tag(3, struct.pack("<II", 0x200000, 0x210000) + b"initrd\0")
    body += tag(6, struct.pack("<II", 24, 0) + b"".join(struct.pack("<QQII", b, l, t, 0) for b, l, t in mmap))
    body += tag(8, struct.pack("<QIIIBBH", 0xFD000000, 4096, 1024, 768, 32, 1, 0))
    body += tag(14, b"RSD PTR " + b"\0" * 12) + tag(15, b"RSD PTR " + b"\0" * 28)
    body += tag(0, b"")
    return struct.pack("<II", 8 + len(body), 0) + body


def pvh():
    cmdline_at, modlist_at, memmap_at = 64, 96, 160
    si = struct.pack("<IIIIQQQQII", 0x336EC578, 1, 0, 1, modlist_at, cmdline_at, 0xF5A40, memmap_at, 2, 0)
    si += b"\0" * (cmdline_at - len(si)) + b"console=ttyS0\0"
    si += b"\0" * (modlist_at - len(si)) + struct.pack("<QQQQ", 0x400000, 0x8000, cmdline_at, 0)
    si += b"\0" * (memmap_at - len(si))
    si += struct.pack("<QQII", 0, 0x9FC00, 1, 0) + struct.pack("<QQII", 0x100000, 0x7EE0000, 1, 0)
    return si


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/fuzz_boot_corpus"
    os.makedirs(out, exist_ok=True)
    for name, data in (("mb2", mb2()), ("pvh", pvh())):
        with open(os.path.join(out, "seed_" + name), "wb") as f:
            f.write(b"\x00" + data)


if __name__ == "__main__":
    main()
