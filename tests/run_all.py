#!/usr/bin/env python3
"""Runs every MCRK test and ends with one line `N passed, N failed`.

`make test` builds everything first, then runs this. In order:
  host/...      build/host-unit, the portable core under ASan/UBSan (one line per test)
  arch-boundary portable code (kernel/, include/) uses no arch code, x86 register or constant
  boundary/...  tests of that check itself (tests/host/check_boundary_test.py: planted lines)
  fuzz/...      the libFuzzer targets (tests/fuzz) on their seeds and 20000 fixed inputs each
  emulator      the table in tests/qemu/tests.py: QEMU boots (direct, GRUB BIOS, GRUB UEFI),
                in-kernel KTAP suites, the deliberate panic, and Bochs; run in parallel
Each test prints `ok   NAME` or `FAIL NAME (reason, log: PATH)` followed by the tail of
its log. Exit status 1 if anything failed (or nothing ran), else 0.

Usage: tests/run_all.py [-j JOBS] [--keep-logs] [PATTERN...]
  PATTERN selects emulator tests by name substring (host tests then still all run).
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


def run_host(tally):
    """Runs build/host-unit; one result per host test, plus one if the runner itself broke."""
    if not HOST_UNIT.exists():
        tally.add(False, "FAIL host-unit (%s not built)" % HOST_UNIT)
        return
    try:
        proc = subprocess.run([str(HOST_UNIT)], cwd=ROOT, stdin=subprocess.DEVNULL,
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
    elif counted == [0, 0]:
        tally.add(False, "FAIL host-unit (ran no tests)")


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


def run_fuzz_smoke(tally):
    """scripts/fuzz.sh smoke: each libFuzzer target replays its seeds and 20000 inputs from a
    fixed random seed (deterministic), under ASan/UBSan; one result per target."""
    proc = subprocess.run(["sh", str(ROOT / "scripts" / "fuzz.sh"), "smoke"], cwd=ROOT,
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
    if results == 0 or (proc.returncode == 0) != all(
            ln.startswith("ok") for ln in lines if re.match(r"^(ok  |FAIL) fuzz/", ln)):
        tally.add(False, "FAIL fuzz (scripts/fuzz.sh exit %d)" % proc.returncode,
                  indent(lines[-20:]))


def run_emulator(tally, patterns, jobs, keep_logs):
    """Runs the QEMU/Bochs table (tests/qemu/tests.py) in parallel."""
    chosen = driver.select(TESTS, patterns)
    if patterns and not chosen:
        tally.add(False, "FAIL emulator (no test matches %s)" % " ".join(patterns))
        return

    def report(res):
        text = driver.format_result(res).split("\n", 1)
        tally.add(res.ok, text[0], text[1] if len(text) > 1 else "")

    driver.run_tests(chosen, jobs, keep_logs, report)


def main():
    ap = argparse.ArgumentParser(description="run every MCRK test")
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("MCRK_TEST_JOBS", 0)))
    ap.add_argument("--keep-logs", action="store_true", help="keep the logs of passing tests")
    ap.add_argument("patterns", nargs="*", help="emulator tests to run (name substrings)")
    args = ap.parse_args()

    tally = Tally()
    run_host(tally)
    check_arch_boundary(tally)
    test_boundary_check(tally)
    run_fuzz_smoke(tally)
    run_emulator(tally, args.patterns, args.jobs or None, args.keep_logs)
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    return 1 if tally.failed or not tally.passed else 0


if __name__ == "__main__":
    sys.exit(main())
