#!/usr/bin/env python3
"""Tests of scripts/check_boundary.sh itself: a scratch copy of kernel/ and include/ passes,
and fails once a line naming an x86 register is planted in it; in a small scratch tree each
kind of offence (an x86 register, constant, arch include or inline assembly in portable
code) makes it fail and name the planted line, and look-alikes that are not code (comments,
strings, longer identifiers, the arch interface headers) pass.

Prints `ok   boundary/NAME` or `FAIL boundary/NAME (why)` per case (tests/run_all.py reads
these lines); exits 1 if any failed."""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_boundary.sh"

# (name, file to plant, its text, the 1-based line the script must report)
CATCHES = [
    ("register-field", "kernel/proc/planted.c",
     "#include \"task.h\"\nuint64_t f(struct user_regs *r) { return r->rip; }\n", 2),
    ("register-eflags", "kernel/sig/planted.c", "/* ok */\nint g(void) { return eflags; }\n", 2),
    ("register-r10", "kernel/mm/planted.c", "long h(long *r) {\n\treturn r[0] + r10;\n}\n", 2),
    ("register-cr2-in-header", "include/planted.h", "#pragma once\nextern unsigned long cr2;\n", 2),
    ("msr-number", "kernel/mce/planted.c", "#define PLANT 0xC0000080ull\nint x;\n", 1),
    ("mcg-msr-number", "kernel/mce/planted.c", "int y = 0x17a;\n", 1),
    ("msr-name", "kernel/lib/planted.c", "int z(void)\n{\n\treturn MSR_EFER;\n}\n", 3),
    ("arch-include", "kernel/fs/planted.c", "#include \"../../arch/x86_64/x86.h\"\n", 1),
    ("x86h-include", "kernel/fs/planted.c", "// one\n#include \"x86.h\"\n", 2),
    ("inline-asm", "kernel/lib/planted.c",
     "void w(void)\n{\n\t__asm__ volatile(\"wbinvd\" ::: \"memory\");\n}\n", 3),
    ("after-comment-on-line", "kernel/lib/planted.c", "int a; /* c */ int b = rsp;\n", 1),
]

IGNORES = [
    ("block-comment", "kernel/lib/planted.c", "/* rip, rax and\n * cr2 in prose, MSR_EFER, 0xc0000080 */\nint q;\n"),
    ("line-comment", "kernel/lib/planted.c", "int q; // saved rip and rflags\n"),
    ("string-literal", "kernel/lib/planted.c",
     "const char *m = \"rip=%lx rax \\\" rsp\";\nchar c = '\\\"';\n"),
    ("longer-identifiers", "kernel/lib/planted.c", "int trip, rip_count, scr2, rax2, my_rflags_x;\n"),
    ("compiler-barrier", "kernel/lib/planted.c", "void b(void) { __asm__ volatile(\"\" ::: \"memory\"); }\n"),
    ("arch-interface-header", "include/arch/planted.h", "struct s { unsigned long rip, rsp; };\n"),
]


def run(tree):
    p = subprocess.run(["sh", str(SCRIPT), str(tree)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(errors="replace")


def plant(tree, rel, text):
    """Runs the script on tree with text planted at rel; returns (exit code, output)."""
    f = tree / rel
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text)
    try:
        return run(tree)
    finally:
        f.unlink()


def main():
    results = []
    with tempfile.TemporaryDirectory(prefix="mcrk-boundary-") as tmp:
        full, small = Path(tmp) / "full", Path(tmp) / "small"
        for d in ("kernel", "include"):
            shutil.copytree(ROOT / d, full / d)
            (small / d).mkdir(parents=True)
        rc, out = run(full)
        results.append(("clean-tree", rc == 0, "exit %d: %s" % (rc, out.strip()[:200])))
        name, rel, text, line = CATCHES[0]
        rc, out = plant(full, rel, text)
        want = "%s:%d:" % (rel, line)
        results.append(("catches-in-tree", rc == 1 and want in out,
                        "exit %d, want %s in: %s" % (rc, want, out.strip()[:300])))
        for name, rel, text, line in CATCHES:
            rc, out = plant(small, rel, text)
            want = "%s:%d:" % (rel, line)
            results.append(("catches-" + name, rc == 1 and want in out,
                            "exit %d, want %s in: %s" % (rc, want, out.strip()[:300])))
        for name, rel, text in IGNORES:
            rc, out = plant(small, rel, text)
            results.append(("ignores-" + name, rc == 0, "exit %d: %s" % (rc, out.strip()[:300])))
        rc, out = run(Path(tmp) / "nowhere")
        results.append(("refuses-missing-tree", rc == 2, "exit %d: %s" % (rc, out.strip())))
    failed = 0
    for name, ok, why in results:
        print("ok   boundary/%s" % name if ok else "FAIL boundary/%s (%s)" % (name, why))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
