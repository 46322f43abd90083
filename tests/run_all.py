#!/usr/bin/env python3
"""Runs MCRK's tests, every harness, and ends with one line `N passed, N failed`.

`make test` builds everything first, then runs this with no pattern: all of it. In order:
  host/...         build/host-unit, the portable core under ASan/UBSan (one line per test)
  arch-boundary    portable code (kernel/, include/) uses no arch code, x86 register or constant
  boundary/...     tests of that check itself (tests/host/check_boundary_test.py: planted lines)
  image-no-ktest   the production build/mcrk.elf carries no in-kernel test code
  docs-refs        every file path and function that the docs cite exists, and tests/README.md
                   lists every suite, host test file, row and program (scripts/check_docs.py)
  docs-refs-selftest  that check finds a planted stale path and function
  fuzz/...         the libFuzzer targets (tests/fuzz) on their seeds and 20000 fixed inputs each
  emulator rows    the table in tests/qemu/tests.py: QEMU boots (direct, GRUB BIOS, GRUB UEFI),
                   the user programs, machine-check injection, memory_failure, Bochs, and the
                   in-kernel KTAP suites (on the test build, build/mcrk-test.elf); in parallel
Each test prints `ok   NAME` or `FAIL NAME (reason, log: PATH)` followed by the tail of
its log. Exit status 1 if anything failed (or nothing ran), else 0.

`make check T=PATTERN` runs this with a pattern: only the tests that match it, in every harness.
A pattern matches, ignoring case, a test whose name contains it: host/NAME, a check's name,
fuzz/TARGET, an emulator row's name; a KTEST row also matches through the in-kernel tests it
runs (SUITE.NAME) and then runs only those (tests/qemu/driver.py, select). tests/README.md
lists the names.

Usage: tests/run_all.py [-j JOBS] [--keep-logs] [PATTERN...]
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "qemu"))

import driver  # noqa: E402  (needs the path above)
from tests import TESTS  # noqa: E402

HOST_UNIT = driver.BUILD / "host-unit"
HOST_TIMEOUT_S = 600
HOST_SUMMARY = re.compile(r"^host: (\d+) passed, (\d+) failed$")
FUZZ_TARGETS = ["fuzz_boot", "fuzz_mce", "fuzz_einj", "fuzz_pci", "fuzz_ext2"]   # scripts/fuzz.sh, tests/fuzz/*.c
# In the production image, any of these means test code was linked in (tests/ktest/).
TEST_SYMBOLS = re.compile(r"ktest|entry_set_test_hooks|entry_test_hooks|utp_", re.I)


class Tally:
    """Counts results and prints each one as it comes."""

    def __init__(self):
        self.passed = self.failed = 0

    def add(self, ok, line, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(line + ("\n" + detail if detail else ""), flush=True)


def matches(name, patterns):
    """Whether a test named `name` is chosen: always without patterns, else when its name
    contains one of them, ignoring case."""
    return not patterns or any(p.lower() in name.lower() for p in patterns)


def host_tests(patterns):
    """The host tests the patterns choose (build/host-unit --list), or None if it cannot run."""
    if not HOST_UNIT.exists():
        return None
    proc = subprocess.run([str(HOST_UNIT), "--list"] + patterns, cwd=ROOT,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, timeout=60)
    return proc.stdout.decode(errors="replace").split()


def run_host(tally, patterns):
    """Runs build/host-unit (the chosen tests); one result per host test, plus one if the
    runner itself broke."""
    chosen = host_tests(patterns)
    if chosen is None:
        tally.add(False, "FAIL host-unit (%s not built)" % HOST_UNIT)
        return
    if patterns and not chosen:
        return
    try:
        proc = subprocess.run([str(HOST_UNIT)] + patterns, cwd=ROOT, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=HOST_TIMEOUT_S)
        out, status = proc.stdout.decode(errors="replace"), proc.returncode
    except subprocess.TimeoutExpired as e:
        out, status = (e.stdout or b"").decode(errors="replace"), "timeout"
    lines = out.rstrip("\n").split("\n")
    pending = []       # check-failure lines printed before a test's FAIL line
    counted = [0, 0]
    for line in lines:
        m = re.match(r"^(ok  |FAIL) (host/\S+)$", line)
        if not m:
            pending.append(line)
            continue
        ok = m.group(1) == "ok  "
        counted[not ok] += 1
        reason = "" if ok else (pending[-1].strip() if pending else "failed")
        tally.add(ok, "ok   %s" % m.group(2) if ok else "FAIL %s (%s)" % (m.group(2), reason),
                  "" if ok else indent(pending[-20:]))
        pending = []
    summary = HOST_SUMMARY.match(lines[-1]) if lines else None
    expected = [int(summary.group(1)), int(summary.group(2))] if summary else None
    broken = status == "timeout" or not summary or expected != counted
    if broken or (status != 0) != (counted[1] > 0):
        tally.add(False, "FAIL host-unit (runner exit status %s, summary %r)"
                  % (status, lines[-1] if lines else ""), indent(lines[-20:]))
    elif sum(counted) != len(chosen):
        tally.add(False, "FAIL host-unit (ran %d tests, --list said %d)"
                  % (sum(counted), len(chosen)))


def indent(lines):
    return "\n".join("     | " + ln for ln in lines if ln.strip())


def check_arch_boundary(tally):
    """scripts/check_boundary.sh: portable code (kernel/) stays behind the arch boundary."""
    proc = subprocess.run(["sh", str(ROOT / "scripts" / "check_boundary.sh")], cwd=ROOT,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    out = proc.stdout.decode(errors="replace").rstrip("\n").split("\n")
    if proc.returncode == 0:
        tally.add(True, "ok   arch-boundary")
    else:
        tally.add(False, "FAIL arch-boundary (scripts/check_boundary.sh: %s)" % out[0],
                  indent(out[1:21]))


def test_boundary_check(tally):
    """tests/host/check_boundary_test.py: the boundary check fails on planted offences and
    passes on look-alikes; one result per case."""
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "host" / "check_boundary_test.py")],
                          cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=HOST_TIMEOUT_S)
    lines = proc.stdout.decode(errors="replace").rstrip("\n").split("\n")
    rows = [ln for ln in lines if re.match(r"^(ok  |FAIL) boundary/", ln)]
    for ln in rows:
        tally.add(ln.startswith("ok"), ln)
    if not rows or (proc.returncode == 0) != all(ln.startswith("ok") for ln in rows):
        tally.add(False, "FAIL boundary (check_boundary_test.py exit %d)" % proc.returncode,
                  indent(lines[-20:]))


def run_script_check(tally, name, argv):
    """A check that is one command: ok when it exits 0; its first output line is the reason
    of a failure, the rest the detail."""
    proc = subprocess.run(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=HOST_TIMEOUT_S)
    out = proc.stdout.decode(errors="replace").rstrip("\n").split("\n")
    if proc.returncode == 0:
        tally.add(True, "ok   %s" % name)
    else:
        tally.add(False, "FAIL %s (%s: %s)" % (name, argv[1], out[0]), indent(out[1:21]))


def check_production_image(tally):
    """The production build/mcrk.elf has no symbol of the in-kernel tests or their hooks."""
    elf = driver.KERNEL_ELF
    if not elf.exists():
        tally.add(False, "FAIL image-no-ktest (%s not built)" % elf)
        return
    proc = subprocess.run(["nm", str(elf)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    symbols = proc.stdout.decode(errors="replace").split("\n")
    found = [ln.split()[-1] for ln in symbols if ln.strip() and TEST_SYMBOLS.search(ln.split()[-1])]
    if proc.returncode != 0 or len(symbols) < 100:
        tally.add(False, "FAIL image-no-ktest (nm %s failed)" % elf, indent(symbols[:10]))
    elif found:
        tally.add(False, "FAIL image-no-ktest (test code in %s: %s)"
                  % (elf.name, " ".join(found[:8])))
    else:
        tally.add(True, "ok   image-no-ktest")


def run_checks(tally, patterns):
    """The checks that are not tests of code: the arch boundary, the production image, the
    docs' references (and the docs check itself)."""
    checks = [
        ("arch-boundary", lambda: check_arch_boundary(tally)),
        ("boundary/", lambda: test_boundary_check(tally)),
        ("image-no-ktest", lambda: check_production_image(tally)),
        ("docs-refs", lambda: run_script_check(
            tally, "docs-refs", [sys.executable, "scripts/check_docs.py"])),
        ("docs-refs-selftest", lambda: run_script_check(
            tally, "docs-refs-selftest", [sys.executable, "scripts/check_docs.py", "--self-test"])),
    ]
    for name, fn in checks:
        if matches(name, patterns):
            fn()


def run_fuzz_smoke(tally, patterns):
    """scripts/fuzz.sh smoke: each chosen libFuzzer target replays its seeds and 20000 inputs
    from a fixed random seed (deterministic), under ASan/UBSan; one result per target."""
    targets = [t for t in FUZZ_TARGETS if matches("fuzz/" + t, patterns)]
    if not targets:
        return
    proc = subprocess.run(["sh", str(ROOT / "scripts" / "fuzz.sh"), "smoke"] + targets, cwd=ROOT,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=HOST_TIMEOUT_S)
    lines = proc.stdout.decode(errors="replace").rstrip("\n").split("\n")
    results = 0
    for i, line in enumerate(lines):
        m = re.match(r"^(ok  |FAIL) (fuzz/\S+.*)$", line)
        if m:
            results += 1
            detail = [ln for ln in lines[i + 1:i + 11] if ln.startswith("     |")]
            tally.add(m.group(1) == "ok  ", line, "\n".join(detail))
    if results != len(targets) or (proc.returncode == 0) != all(
            ln.startswith("ok") for ln in lines if re.match(r"^(ok  |FAIL) fuzz/", ln)):
        tally.add(False, "FAIL fuzz (scripts/fuzz.sh exit %d)" % proc.returncode,
                  indent(lines[-20:]))


def run_emulator(tally, patterns, jobs, keep_logs):
    """Runs the chosen rows of the QEMU/Bochs table (tests/qemu/tests.py) in parallel."""
    chosen = driver.select(TESTS, patterns)

    def report(res):
        text = driver.format_result(res).split("\n", 1)
        tally.add(res.ok, text[0], text[1] if len(text) > 1 else "")

    if chosen:
        driver.run_tests(chosen, jobs, keep_logs, report)


def main():
    ap = argparse.ArgumentParser(description="run MCRK's tests (all, or those matching)")
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("MCRK_TEST_JOBS", 0)))
    ap.add_argument("--keep-logs", action="store_true", help="keep the logs of passing tests")
    ap.add_argument("patterns", nargs="*", help="run only the tests whose names contain one")
    args = ap.parse_args()

    tally = Tally()
    run_host(tally, args.patterns)
    run_checks(tally, args.patterns)
    run_fuzz_smoke(tally, args.patterns)
    run_emulator(tally, args.patterns, args.jobs or None, args.keep_logs)
    if args.patterns and tally.passed + tally.failed == 0:
        tally.add(False, "FAIL nothing matches %s (tests/README.md lists the test names)"
                  % " ".join(repr(p) for p in args.patterns))
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    return 1 if tally.failed or not tally.passed else 0


if __name__ == "__main__":
    sys.exit(main())
