#!/usr/bin/env python3
"""Pack files into a cpio "newc" archive (the initrd MCRK unpacks).

usage: mkinitrd.py OUT DEST=SRC ...
  DEST=SRC       put file SRC at path DEST in the archive
  DEST:MODE=SRC  the same with permission bits MODE (octal: 4755 is a set-user-ID program;
                 every file in the archive belongs to root, uid and gid 0)
  DEST/=DIR      put every file under DIR (recursively) below DEST/
  DEST@=TARGET   a symlink at DEST pointing to TARGET
  DEST?=SRC      like DEST=SRC, but a missing SRC is skipped with a note
A DIR that does not exist is skipped with a note (e.g. ../shared/mce-test-cases on a
machine without it). Directories are created as needed; contents are byte-exact.
"""
import os
import sys


def header(ino, mode, size, name):
    fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name) + 1, 0]
    return ("070701" + "".join("%08x" % f for f in fields)).encode()


def pad(n):
    return b"\0" * ((4 - n % 4) % 4)


def entries(specs):
    for spec in specs:
        dest, src = spec.split("=", 1)
        if ":" in dest:
            dest, mode = dest.split(":", 1)
            yield dest, ("file", src, int(mode, 8))
        elif dest.endswith("@"):
            yield dest[:-1], ("symlink", src)
        elif dest.endswith("?"):
            if os.path.isfile(src):
                yield dest[:-1], src
            else:
                print("mkinitrd: %s not found, skipped" % src, file=sys.stderr)
        elif dest.endswith("/"):
            if not os.path.isdir(src):
                print("mkinitrd: %s not found, skipped" % src, file=sys.stderr)
                continue
            for root, _, files in sorted(os.walk(src)):
                for f in sorted(files):
                    path = os.path.join(root, f)
                    yield dest + os.path.relpath(path, src), path
        else:
            yield dest, src


def main():
    out, specs = sys.argv[1], sys.argv[2:]
    data, dirs, ino = bytearray(), set(), 1
    for dest, src in entries(specs):
        parts = dest.strip("/").split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                h = header(ino, 0o40755, 0, d)
                data += h + d.encode() + b"\0" + pad(len(h) + len(d) + 1)
                ino += 1
        name = "/".join(parts)
        if isinstance(src, tuple) and src[0] == "file":
            body, mode = open(src[1], "rb").read(), 0o100000 | src[2]
        elif isinstance(src, tuple):
            body, mode = src[1].encode(), 0o120777
        else:
            body = open(src, "rb").read()
            mode = 0o100755 if os.access(src, os.X_OK) else 0o100644
        h = header(ino, mode, len(body), name)
        data += h + name.encode() + b"\0" + pad(len(h) + len(name) + 1)
        data += body + pad(len(body))
        ino += 1
    h = header(0, 0, 0, "TRAILER!!!")
    data += h + b"TRAILER!!!\0" + pad(len(h) + 11)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
