#!/usr/bin/env python3
"""The injection campaign (docs/campaign.md): N machine checks and software poisonings, at
random times and places, into MCRK running a workload that checks every page it holds.

    make campaign N=10000 SEED=s [JOBS=2] [K=250] [EVENT=i]
    tests/campaign/campaign.py --n N --seed S [--jobs J] [--per-boot K] [--event I]

The plan (plan.py) splits the N events into boots; each boot is a QEMU machine with the
campaign agent as its program (user/campaign/) and the boot's plan in its initrd. While a boot
runs, this program plays the hardware for what only the host can do: on the agent's "@hmp"
line it types the machine check into QEMU's monitor, and on "@srar" it stops the VM until a
CPU is caught in the workload's reading loop on the named frame (its registers say so) and
injects the SRAR there. Afterwards judge.py reads the boot's log. The boots run JOBS at a time
through the test driver (tests/qemu/driver.py), which keeps the log of every boot that failed.

The report (printed, and written to build/campaign/report-SEED.md) is a table of page state x
injector x outcome with counts, the pages the workload lost against the frames poisoned, and
every violation with the command that reruns its boot up to that event. A violation stops the
campaign: no boot starts after one that failed (those running finish), unless --keep-going.
"""
import argparse
import os
import random
import re
import shutil
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "qemu"))
import driver  # noqa: E402
from judge import BootResult, judge  # noqa: E402
from plan import EVENTS_PER_BOOT, boot_of, make_plan, write_initrd  # noqa: E402

OUT = driver.BUILD / "campaign"
CMDLINE = "run=campaign mce.poll_ms=50"
READER_MAGIC = 0x43414D5052454144     # user/campaign/campaign.h
SRAR_STATUS = "0xbd80000000100134"     # VAL UC EN MISCV ADDRV S AR, data load (0x134)
CATCH_S = 2.5                          # how long to try to catch a CPU in the wanted context
POLL_S = 0.005
SMOKE_SEED, SMOKE_N = "smoke", 201     # the fixed run inside make test (two boots)
MAX_SHOWN = 40                         # violations listed in a report

_results = {}
_results_lock = threading.Lock()


# ---- playing the hardware ----

def _registers(mon, cpu):
    mon.cmd("cpu %d" % cpu)
    text = mon.cmd("info registers")
    regs = {k: int(v, 16) for k, v in re.findall(r"\b(R\w{1,2}|RIP)\s*=([0-9a-f]{16})", text)}
    cpl = re.search(r"CPL=(\d)", text)
    regs["CPL"] = int(cpl.group(1)) if cpl else -1
    return regs


def catch_cpu(mon, smp, wanted, seconds=CATCH_S):
    """Stop the VM until some CPU's registers satisfy wanted(regs); returns that CPU with the
    VM left stopped, or None (VM running again) after `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        mon.cmd("stop")
        for cpu in range(smp):
            if wanted(_registers(mon, cpu)):
                return cpu
        mon.cmd("cont")
        time.sleep(random.uniform(0.001, 0.01))
    return None


def _hmp(m, line, notes):
    """@hmp IDX any|kernel COMMAND: type the command (kernel: at a CPU caught in the kernel)."""
    _, idx, ctx, cmd = line.split(" ", 3)
    mon = m.monitor()
    if ctx == "kernel":
        cpu = catch_cpu(mon, m.config.smp, lambda r: r["CPL"] == 0)
        if cpu is None:
            notes[int(idx)] = "no CPU caught in the kernel"
            return
        mon.cmd(cmd.replace("{cpu}", str(cpu)))
        mon.cmd("cont")
        notes[int(idx)] = "injected at CPU %d in the kernel" % cpu
        return
    mon.cmd(cmd)
    notes[int(idx)] = "injected"


def _srar(m, line, notes):
    """@srar IDX pid=P pfn=F mcg=M lo=L hi=H: an SRAR at the CPU running the reading loop."""
    f = dict(kv.split("=") for kv in line.split()[2:])
    idx, pfn, lo, hi = int(line.split()[1]), int(f["pfn"], 16), int(f["lo"], 16), int(f["hi"], 16)
    mon = m.monitor()
    cpu = catch_cpu(mon, m.config.smp, lambda r: r["CPL"] == 3 and lo <= r.get("RIP", 0) < hi
                    and r.get("R12") == pfn and r.get("R13") == READER_MAGIC)
    if cpu is None:
        notes[idx] = "no CPU caught in the reading loop"
        return
    mon.cmd("mce -b %d 1 %s %s %#x 0x8c" % (cpu, SRAR_STATUS, f["mcg"], pfn << 12))
    mon.cmd("cont")
    notes[idx] = "injected at CPU %d in the reading loop" % cpu


class Serial:
    """The serial log read as it grows, line by line."""

    def __init__(self, path):
        self.path, self.pos, self.partial = path, 0, b""

    def lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return []
        self.pos += len(data)
        data = self.partial + data
        *done, self.partial = data.split(b"\n")
        return [d.decode(errors="replace").replace("\r", "") for d in done]


def _answer(m, body, notes):
    """Carry out an @hmp or @srar request; a machine that stops meanwhile (a fatal injection
    ends in a panic and QEMU exits) closes the monitor, which is no error of ours."""
    try:
        (_hmp if body.startswith("@hmp ") else _srar)(m, body, notes)
    except (ConnectionError, OSError, TimeoutError) as e:
        notes[int(body.split()[1])] = "monitor gone (%s)" % type(e).__name__


def drive(m, plan, timeout):
    """Answer the agent's requests until the campaign ends; returns (how it ended, notes)."""
    serial, notes = Serial(m.serial_log), {}
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for line in serial.lines():
            text = driver.PANIC in line and "panic" or ""
            body = re.sub(r"^\[\s*\d+\.\d+\] ", "", line)
            if body.startswith("@hmp ") or body.startswith("@srar "):
                _answer(m, body, notes)
            elif body.startswith("CAMPAIGN end") or text:
                time.sleep(0.5)    # the last lines (a panic's report) to the log
                return ("end" if not text else "panic"), notes
            elif re.match(r"^init: campaign (exited|killed)", body):
                return "the agent ended: " + body, notes
        if m.exit_status() is not None:
            return "QEMU exited with status %s" % m.exit_status(), notes
        time.sleep(POLL_S)
    return "timeout after %ds (hang)" % timeout, notes


# ---- boots as rows of the test driver ----

@dataclass
class CampaignBoot(driver.Test):
    """A test-driver row that boots one campaign boot: config() writes its initrd."""
    plan: object = None
    upto: int = None
    initrd: str = ""

    base: str = str(driver.INITRD)

    def config(self):
        write_initrd(self.plan, self.base, self.initrd, self.upto)
        return driver.Config(smp=self.smp, mem=self.mem, cmdline=self.cmdline,
                             extra=("-initrd", self.initrd))


def boot_row(plan, upto=None, name=None, base=None):
    """The driver row of a campaign boot (run up to event upto, when given), its initrd made
    from base (build/initrd.cpio by default)."""
    name = name or plan.name
    timeout = 90 + 1.5 * len(plan.events)

    def fn(m):
        how, notes = drive(m, plan, timeout)
        notes["end"] = how
        res = judge(plan, m.serial_text(), notes)
        with _results_lock:
            _results[name] = res
        if res.violations:
            idx, what = res.violations[0]
            return False, "%d violation(s); first at event %s: %s" % (len(res.violations), idx,
                                                                      what)
        return True, "%d events" % res.events
    return CampaignBoot(name, "direct", plan.smp, CMDLINE, driver.Script(fn, timeout + 30),
                        plan=plan, upto=upto, initrd=str(OUT / (name + ".initrd.cpio")),
                        base=str(base or driver.INITRD))


def smoke_tests():
    """The fixed-seed run of make test: one ordinary boot and one fatal boot."""
    return [boot_row(b, name=b.name) for b in make_plan(SMOKE_SEED, SMOKE_N, SMOKE_N)]


def result_of(name):
    with _results_lock:
        return _results.get(name)


# ---- the report ----

@dataclass
class Report:
    seed: str
    n: int
    per_boot: int
    results: list = field(default_factory=list)
    seconds: float = 0.0
    failed_boots: list = field(default_factory=list)
    not_run: list = field(default_factory=list)   # boots a violation kept from starting

    def reproducer(self, idx):
        k = "" if self.per_boot == EVENTS_PER_BOOT else " K=%d" % self.per_boot
        return "make campaign SEED=%s N=%d%s EVENT=%s" % (self.seed, self.n, k, idx)

    def text(self):
        rows = Counter()
        for r in self.results:
            rows.update(r.rows)
        events = sum(r.events for r in self.results)
        poisoned = sum(len(r.poisoned) for r in self.results)
        lines = ["# Injection campaign: seed %s, %d events, %d boots, %.0f s" % (
            self.seed, self.n, len(self.results), self.seconds), "",
            "| page state | injector | outcome | count |", "|---|---|---|---|"]
        lines += ["| %s | %s | %s | %d |" % (s, i, o, c) for (s, i, o), c in sorted(rows.items())]
        lines += ["", "events run %d, skipped (no target) %d, not delivered %d" % (
            events, sum(r.skipped for r in self.results),
            sum(r.undelivered for r in self.results)),
            "frames poisoned %d; pages the workload lost %d (%d outside its data); process "
            "restarts %d" % (poisoned, sum(r.lost for r in self.results),
                             sum(r.vital for r in self.results),
                             sum(r.restarts for r in self.results))]
        violations = [(r.name, idx, what) for r in self.results for idx, what in r.violations]
        lines += ["violations %d%s" % (len(violations), " (the first %d follow)" % MAX_SHOWN
                                       if len(violations) > MAX_SHOWN else "")]
        for name, idx, what in violations[:MAX_SHOWN]:
            lines.append("- %s, event %s: %s\n  reproduce: %s" % (
                name, idx, what, self.reproducer(idx) if idx is not None else "make campaign "
                "SEED=%s N=%d (boot %s)" % (self.seed, self.n, name)))
        lines += ["- boot %s failed: %s" % b for b in self.failed_boots]
        if self.not_run:
            lines.append("stopped at the first violation: %d boot(s) not run (--keep-going, "
                         "or KEEP_GOING=1, runs them all)" % len(self.not_run))
        return "\n".join(lines) + "\n"


def run_rows(rows, jobs, keep_going, keep_logs, on_result):
    """Boot the rows `jobs` at a time (in order; the machines boot one snapshot of the kernel).
    Unless keep_going, no row starts once one has failed: a violation stops the campaign.
    Returns the rows that never ran."""
    pending, lock, failed = list(rows), threading.Lock(), []
    snapshot = Path(OUT / ("images-%d" % os.getpid()))   # its own: another campaign (a
    snapshot.mkdir(parents=True, exist_ok=True)          # replay) may start meanwhile
    images = driver.snapshot_images(snapshot, [driver.KERNEL_ELF])

    def worker():
        while True:
            with lock:
                if not pending or (failed and not keep_going):
                    return
                row = pending.pop(0)
            res = driver.run_test(row, keep_logs, images=images)
            with lock:
                if not res.ok:
                    failed.append(row)
                on_result(res)
    threads = [threading.Thread(target=worker) for _ in range(max(1, jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shutil.rmtree(snapshot, ignore_errors=True)
    return pending


def run(seed, n, per_boot, jobs, event=None, keep_going=False):
    """Run the campaign (or, with event, the boot holding it up to it); returns a Report."""
    boots = make_plan(seed, n, per_boot)
    OUT.mkdir(parents=True, exist_ok=True)
    base = OUT / ("initrd-%s-%d.cpio" % (boots[0].name, os.getpid()))   # every boot starts
    shutil.copyfile(driver.INITRD, base)             # from this copy, whatever make does meanwhile
    if event is not None:
        b = boot_of(boots, event)
        if not b:
            raise SystemExit("event %d is not in a campaign of %d events" % (event, n))
        rows = [boot_row(b, upto=event, name=b.name + "-upto%d" % event, base=base)]
    else:
        rows = [boot_row(b, base=base) for b in boots]
    report = Report(str(seed), n, per_boot)
    t0 = time.monotonic()

    def each(res):
        print(driver.format_result(res), flush=True)
        if not res.ok:
            report.failed_boots.append((res.name, res.reason))
    not_run = run_rows(rows, jobs, keep_going, event is not None, each)
    base.unlink(missing_ok=True)
    report.seconds = time.monotonic() - t0
    report.not_run = [r.name for r in not_run]
    report.results = [result_of(r.name) or BootResult(r.name, violations=[
        (None, "no result (the boot could not run)")]) for r in rows if r not in not_run]
    return report


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", default="1")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--per-boot", type=int, default=EVENTS_PER_BOOT)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--event", type=int, default=None, help="run only up to this event")
    ap.add_argument("--keep-going", action="store_true",
                    help="run every boot even after a violation (for the statistics)")
    args = ap.parse_args(argv)
    report = run(args.seed, args.n, args.per_boot, args.jobs, args.event, args.keep_going)
    text = report.text()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / ("report-%s%s.md" % (args.seed, "" if args.event is None else
                                      "-event%d" % args.event))
    path.write_text(text)
    print(text + "(written to %s)" % path)
    bad = any(r.violations for r in report.results) or report.failed_boots
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
