#!/usr/bin/env python3
"""Writes the ext2 test image: a folder of test files laid out by Debian's mke2fs -d.

The files (user/ext2.c checks them): hello.txt ("hello, ext2\\n"), pattern-100k and
pattern-5m (32-bit little-endian words, word i of the file = i * 2654435761 mod 2^32, so
pattern-5m reaches the double indirect block of a 4 KiB-block file system), a hard link
hard-link to hello.txt, a short symlink (kept in the inode) and a long one (in a block), a
directory sub/ with sub/deeper/leaf.txt, an empty directory empty/, and a file with mode 0600
owned by uid 1000 (owned.txt). Usage: mkext2.py OUT [MIB]
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile


def pattern(nbytes):
    words = nbytes // 4
    return struct.pack("<%dI" % words, *((i * 2654435761) & 0xFFFFFFFF for i in range(words)))


def populate(root):
    def put(name, data, mode=0o644):
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
    put("hello.txt", b"hello, ext2\n")
    put("pattern-100k", pattern(100 * 1024))
    put("pattern-5m", pattern(5 * 1024 * 1024))
    put("sub/deeper/leaf.txt", b"leaf\n")
    put("owned.txt", b"private\n", 0o600)
    os.makedirs(os.path.join(root, "empty"))
    os.link(os.path.join(root, "hello.txt"), os.path.join(root, "hard-link"))
    os.symlink("hello.txt", os.path.join(root, "short-link"))
    os.symlink("./" * 45 + "sub/deeper/leaf.txt", os.path.join(root, "long-link"))


def main():
    out, mib = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 32
    mke2fs = shutil.which("mke2fs") or "/usr/sbin/mke2fs"
    debugfs = shutil.which("debugfs") or "/usr/sbin/debugfs"
    with tempfile.TemporaryDirectory() as root:
        populate(root)
        if os.path.exists(out):
            os.unlink(out)
        with open(out, "wb") as f:
            f.truncate(mib << 20)
        # -E root_owner: the root directory belongs to root whoever builds the image.
        subprocess.run([mke2fs, "-q", "-F", "-t", "ext2", "-b", "4096", "-N", "1024",
                        "-E", "root_owner=0:0", "-d", root, out], check=True)
    # Ownership as a test needs it, whoever ran the build (mke2fs -d copies the builder's ids).
    cmds = "".join("set_inode_field %s uid 0\nset_inode_field %s gid 0\n" % (p, p) for p in
                   ("hello.txt", "pattern-100k", "pattern-5m", "sub", "sub/deeper",
                    "sub/deeper/leaf.txt", "empty", "short-link", "long-link"))
    cmds += "set_inode_field owned.txt uid 1000\nset_inode_field owned.txt gid 1000\n"
    subprocess.run([debugfs, "-w", "-f", "-", out], input=cmds.encode(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
