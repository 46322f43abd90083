#!/usr/bin/env python3
"""Checks that the docs still describe the tree: every file path, function, test suite, test
row and host test that README.md, tests/README.md and docs/*.md cite must exist.

What is read, in each Markdown file:
  * inline code (`...`) and fenced code blocks;
  * links [text](target) to local files.
What is checked:
  * paths: a token with a "/" whose first part is a top-level entry of the tree (kernel/,
    arch/, tests/, Makefile...) must exist (a "*" in it must match something); a bare file name
    with a source extension (setup.c) must name some file in the tree. Paths under build/,
    starting with "/" (the guest's /proc/...) or "../" are not ours and are skipped;
  * functions and other identifiers: `name()`, `name(args)` and a fenced block's `name(` must
    be a word of some source file (C, assembly, Python, shell, Makefile, linker script);
    so must an inline `snake_case` or `UPPER_CASE` identifier, and `struct name`;
  * test=ITEM,... must name in-kernel suites or tests (KTEST(suite, name) in tests/ktest/),
    and so must `suite.name` for a known suite (unless name is a word of the sources: a knob);
  * emulator rows (`mf-hmp-srar-user`, `mce-file-*`) must name a row of tests/qemu/tests.py
    or be the prefix of some; `host/NAME` must be a TEST(NAME) of tests/host/.
And tests/README.md, the front door to the tests, must name every in-kernel suite, host test
file, user program (user/, demo/, bench/mfbench.c, bench/fsbench.c) and emulator row (by
name, or by a prefix such as `mce-file-*`), so that a new one cannot go unlisted.
A citation on a line that names Linux ("Linux's `mm/memory-failure.c`") is Linux's, not
ours, and is skipped. Prints one line per stale reference (FILE:LINE: what) and exits 1 if
there are any.

Usage: scripts/check_docs.py [DOC.md...]     (default: the docs above)
       scripts/check_docs.py --self-test     plants stale references and checks they are found
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SELF = os.path.join("scripts", "check_docs.py")
SOURCE_EXT = (".c", ".h", ".S", ".py", ".sh", ".ld", ".def", ".cfg")
PATH_EXT = SOURCE_EXT + (".md", ".txt", ".json")
SKIP_DIRS = {".git", "build", "__pycache__"}
ROW_PREFIXES = ("boot-", "ktest-", "user-", "mce-hmp", "mce-file", "mce-user", "mf-", "bochs-",
                "cec-", "hw-", "campaign-", "thp-")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PLACEHOLDER = re.compile(
    r"(?<![A-Za-z])(NAME|SUBJECT|SUITE|PATTERN|PROG|TARGET|FILE|ROW)(?![A-Za-z])")


def default_docs(root):
    return [root / "README.md", root / "tests" / "README.md"] + sorted(
        (root / "docs").glob("*.md"))


class Tree:
    """What exists: files, the words of the source files, KTEST names, rows, host tests."""

    def __init__(self, root):
        self.root = root
        self.files, self.words, self.basenames = set(), set(), set()
        self.prefixes = set()      # first parts of our functions and macros: mce, arch, MCG...
        self.formats = set()       # name stems that code completes with printf: action_%s
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
            for f in filenames:
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                self.files.add(rel)
                self.basenames.add(f)
                if rel == SELF:
                    continue     # its planted names must not count as existing
                if f.endswith(SOURCE_EXT) or f in ("Makefile",) or "." not in f:
                    self._read_source(Path(dirpath, f))
        self.ktests = set()
        for path in (root / "tests" / "ktest").rglob("*.c"):
            self.ktests.update("%s.%s" % m for m in re.findall(
                r"^KTEST\((\w+),\s*(\w+)\)", path.read_text(), re.M))
        self.suites = {k.split(".")[0] for k in self.ktests}
        self.host_tests = set()
        for path in (root / "tests" / "host").glob("*.c"):
            self.host_tests.update(re.findall(r"^TEST\((\w+)\)", path.read_text(), re.M))
        self.rows = self._rows()

    def _read_source(self, path):
        try:
            text = path.read_text(errors="replace")
        except OSError:
            return
        self.words.update(IDENT.findall(text))
        self.formats.update(re.findall(r"\b([A-Za-z_]\w*_)%", text))
        if path.suffix in (".c", ".h"):
            defined = re.findall(r"^[A-Za-z_][\w \t*]*?\b([a-z_]\w*)\(", text, re.M)
            defined += re.findall(r"^#define\s+([A-Z]\w*)", text, re.M)
            self.prefixes.update(d.split("_")[0] for d in defined if "_" in d.strip("_"))

    def _rows(self):
        """The emulator rows, from tests/qemu/driver.py list (run in a child: it imports the
        table). None when the table cannot be read."""
        proc = subprocess.run([sys.executable, str(self.root / "tests" / "qemu" / "driver.py"),
                               "list"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, cwd=self.root)
        if proc.returncode != 0:
            return None
        return {ln.split()[0] for ln in proc.stdout.decode().splitlines() if ln.strip()}

    def exists(self, rel):
        rel = rel.rstrip("/")
        if "*" in rel:
            rx = re.compile("^" + re.escape(rel).replace(r"\*", "[^/]*") + "(/|$)")
            return any(rx.match(f) for f in self.files)
        return rel in self.files or any(f.startswith(rel + "/") for f in self.files)


def spans(text):
    """(line number, code, is_fenced, text before the span: the line up to it, after the
    previous line) for each inline code span and each line of a fenced block."""
    out, fenced, prev = [], False, ""
    for n, line in enumerate(text.split("\n"), 1):
        prev, last = line, prev
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            out.append((n, line, True, ""))
            continue
        for m in re.finditer(r"`([^`]+)`", line):
            out.append((n, m.group(1), False, last + " " + line[:m.start()]))
    return out


def links(text):
    for n, line in enumerate(text.split("\n"), 1):
        for m in re.finditer(r"\]\(([^)\s]+)\)", line):
            yield n, m.group(1)


def linux_cited(before):
    """A citation in a sentence that names Linux before it is Linux's, not ours."""
    tail = re.split(r"[.;!?]\s|^\s*$|\n", before)[-1]
    return "Linux" in tail or "linux/" in tail


def check_path(tree, tok):
    tok = re.sub(r":\d+(-\d+)?$", "", tok.strip("()[],;:.'\""))
    if not tok or tok.startswith(("/", "../", "build/", "http", "~")) or "=" in tok:
        return None
    if PLACEHOLDER.search(tok):
        return None              # user/NAME.c: a pattern, not a file
    if not re.match(r"^[A-Za-z0-9_.*\-/]+$", tok):
        return None
    if "/" in tok:
        first = tok.split("/")[0]
        if not (tree.root / first).exists():
            return None          # not a path of ours (a guest path, another project's)
        if tree.exists(tok) or (not tok.endswith("/") and tree.exists(tok + ".c")):
            return None          # user/signals: the program built from user/signals.c
        return "no such file or folder: %s" % tok
    if tok.endswith(SOURCE_EXT) and not tok.startswith("."):
        if "*" in tok:
            rx = re.compile("^" + re.escape(tok).replace(r"\*", ".*") + "$")
            ok = any(rx.match(b) for b in tree.basenames)
        else:
            ok = tok in tree.basenames
        return None if ok else "no file named %s" % tok
    return None


def check_word(tree, word, what):
    if word in tree.words or "sys_" + word in tree.words:
        return None              # rt_sigqueueinfo: the system call sys_rt_sigqueueinfo
    if any(word.startswith(f) for f in tree.formats):
        return None              # action_log: printed as action_%s
    if word.endswith("_") and any(w.startswith(word) for w in tree.words):
        return None      # a prefix, from mce_task_* or mf_*
    return "no %s %s in the sources" % (what, word)


def check_code(tree, code, fenced):
    """The problems with one inline code span (or one line of a fenced block)."""
    problems = []
    for tok in re.split(r"[\s,]+", code) if fenced else [code]:
        p = check_path(tree, tok)
        if p:
            problems.append(p)
    for m in re.finditer(r"(?:^|[^\w.>-])([A-Za-z_]\w*)\(", code):
        p = check_word(tree, m.group(1), "function")
        if p:
            problems.append(p)
    if fenced:
        return problems
    bare = code.strip()
    m = re.match(r"^(?:struct|enum|union) (\w+)$", bare)
    if m:
        problems += [p for p in [check_word(tree, m.group(1), "type")] if p]
    elif (re.match(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+\*?$", bare) or
          re.match(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+\*?$", bare)) and \
            bare.split("_")[0] in tree.prefixes:
        # Only names shaped like ours (a prefix our functions or macros use): Linux ABI names
        # that MCRK does not have (si_utime, rt_sigsuspend) are cited on purpose.
        problems += [p for p in [check_word(tree, bare.rstrip("*"), "name")] if p]
    for m in re.finditer(r"(?:^|\s)test=([\w.,]+)", code):
        for item in m.group(1).split(","):
            if item.isupper() or not re.match(r"^\w+(\.\w+)?$", item):
                continue         # a placeholder: test=SUITE, test=...
            if item != "all" and item not in tree.suites and item not in tree.ktests:
                problems.append("no in-kernel suite or test %r (test=)" % item)
    m = re.match(r"^(\w+)\.(\w+|\*)$", bare)
    if m and m.group(1) in tree.suites and bare not in tree.ktests and m.group(2) != "*" and \
            m.group(2) not in tree.words:
        problems.append("no in-kernel test %s" % bare)   # (mce.poll_ms, a knob, is a word)
    m = re.match(r"^host/(\w+)$", bare)
    if m and m.group(1) not in tree.host_tests and not PLACEHOLDER.search(bare):
        problems.append("no host test %s" % m.group(1))
    if tree.rows is not None and bare.startswith(ROW_PREFIXES) and \
            re.match(r"^[a-z0-9]+(-[a-z0-9_.]+)*-?\*?$", bare):
        stem = bare.rstrip("*")
        if stem not in tree.rows and not any(r.startswith(stem) for r in tree.rows):
            problems.append("no emulator row %s" % bare)
    return problems


def check_doc(tree, doc):
    """[(line, problem)] for one Markdown file."""
    text = doc.read_text(errors="replace")
    out = []
    for n, code, fenced, before in spans(text):
        if linux_cited(before):
            continue
        out += [(n, p) for p in check_code(tree, code, fenced)]
    for n, target in links(text):
        target = target.split("#")[0]
        if not target or re.match(r"^[a-z]+:", target):
            continue
        if not (doc.parent / target).exists():
            out.append((n, "link to a missing file: %s" % target))
    return out


def front_door_gaps(tree, text):
    """What tests/README.md (its text) fails to name: [problem]."""
    cited = {c.strip() for _, c, fenced, _ in spans(text) if not fenced}
    words = set(re.findall(r"[\w./-]+", " ".join(cited)))
    gaps = ["suite %s" % x for x in sorted(tree.suites) if x not in cited]
    gaps += ["host test file %s" % os.path.basename(f) for f in sorted(tree.files)
             if re.match(r"^tests/host/test_\w+\.c$", f) and os.path.basename(f) not in words]
    gaps += ["program %s" % f for f in sorted(tree.files)
             if re.match(r"^(user|demo)/\w+\.c$|^bench/(mf|fs)bench\.c$", f) and f not in cited]
    # A group such as `mce-file-*` covers its rows; one as broad as `mf-*` does not.
    prefixes = [c[:-1] for c in cited if re.match(r"^[a-z0-9]+-[a-z0-9_-]+-\*$", c)]
    gaps += ["emulator row %s" % r for r in sorted(tree.rows or ())
             if r not in cited and not any(r.startswith(p) for p in prefixes)]
    return gaps


def run(root, docs):
    tree = Tree(root)
    if tree.rows is None:
        print("cannot list the emulator rows (tests/qemu/driver.py list failed)")
        return 1
    bad = 0
    front = root / "tests" / "README.md"
    if front in docs:
        for gap in front_door_gaps(tree, front.read_text()):
            print("tests/README.md: does not list %s" % gap)
            bad += 1
    for doc in docs:
        for n, problem in check_doc(tree, doc):
            rel = os.path.relpath(doc, root) if str(doc).startswith(str(root)) else doc
            print("%s:%d: %s" % (rel, n, problem))
            bad += 1
    if bad:
        print("%d stale references (fix the doc, or the name it cites)" % bad)
    return 1 if bad else 0


# What --self-test plants in a scratch doc: each stale line must be reported, and nothing else.
SELF_TEST_DOC = """# planted
The allocator is `kernel/mm/frame.c`; `frame_alloc()` takes a frame, `struct page` is its
descriptor, and `tests/host/*.c` are its tests (see [the map](README.md)).
Linux's `arch/x86/kernel/cpu/mce/severity.c` and Linux's `kill_procs()` are not ours.
Guest paths such as `/proc/meminfo` and build products such as `build/mcrk.elf` are skipped.
STALE `kernel/mm/no_such_file.c`
STALE `no_such_function_xyz()`
STALE `test=mce,no_such_suite`
STALE `mf-hmp-no-such-row`
STALE `host/no_such_host_test`
STALE `mce.no_such_ktest`, but `mce.poll_finds_corrected` and `mce.poll_ms` are fine
STALE `no_such_identifier_q`
STALE see [gone](no-such-page.md)
```
kernel/main.c        kernel_main
STALE kernel/gone/   gone_function(x)
```
"""


def self_test(root):
    """Plants stale references in a scratch doc (in a temporary folder) and checks that exactly
    those are reported, against the real tree, which is only read."""
    with tempfile.TemporaryDirectory() as tmp:
        doc = Path(tmp) / "planted.md"
        doc.write_text(SELF_TEST_DOC)
        (Path(tmp) / "README.md").write_text("")
        tree = Tree(root)
        found = check_doc(tree, doc)
        readme = (root / "tests" / "README.md").read_text()
        dropped = readme.replace("`ktest-fault`", "").replace("`user/sched.c`", "")
        gaps = [g for g in front_door_gaps(tree, dropped) if g not in
                front_door_gaps(tree, readme)]
    lines = SELF_TEST_DOC.split("\n")
    want = {n for n, ln in enumerate(lines, 1) if "STALE" in ln}
    got = {n for n, _ in found}
    planted_stale = len([ln for ln in lines if "STALE" in ln])
    if got != want or len(found) != planted_stale + 1:   # the fenced line has two problems
        print("self-test: planted stale references on lines %s, reported %s"
              % (sorted(want), sorted(found)))
        return 1
    if gaps != ["program user/sched.c", "emulator row ktest-fault"]:
        print("self-test: tests/README.md without ktest-fault and user/sched.c: gaps %s" % gaps)
        return 1
    print("self-test: all %d planted stale references found, nothing else; a front door "
          "missing a row and a program is caught" % len(found))
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test(ROOT)
    docs = [Path(a).resolve() for a in argv[1:]] or default_docs(ROOT)
    return run(ROOT, docs)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
