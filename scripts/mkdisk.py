#!/usr/bin/env python3
"""Writes a raw disk image whose every 512-byte sector says where it is, for the block tests.

Sector N holds, as little-endian 64-bit words, N then (N * 0x9e3779b97f4a7c15 + i) mod 2^64
for word i = 1..63, so a test can check any sector it reads without a copy of the image
(tests/ktest/blk_test.c computes the same words). Usage: mkdisk.py OUT [MIB]
"""
import struct
import sys

MULT = 0x9E3779B97F4A7C15
MASK = (1 << 64) - 1


def sector(n):
    return struct.pack("<64Q", n, *(((n * MULT) + i) & MASK for i in range(1, 64)))


def main():
    out, mib = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 8
    with open(out, "wb") as f:
        for n in range(mib * 2048):
            f.write(sector(n))


if __name__ == "__main__":
    main()
