"""Reading one campaign boot's serial log: what each injection did, and every invariant.

The console carries three voices, one line each (docs/campaign.md lists the formats): the
kernel (memory_failure's trace: "memory_failure: pfn P: ..."; machine-check records; panics),
the agent (EV, ACCOUNT, AUDIT, VMCHECK, HWPOISON, ...) and the workload (START, LOST, MISMATCH,
EXIT, RESTART). judge() turns a log into a BootResult: a count per (page state, injector,
outcome), the pages the workload lost, the frames poisoned, and the violations, each with
the event it follows.
"""
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tables import FINAL, expected

ROOT = Path(__file__).resolve().parents[2]
TS = re.compile(r"^\[\s*\d+\.\d+\] ")
MF = r"^memory_failure: pfn (0x[0-9a-f]+): "
# memory_failure's trace lines (failures() reads them per pfn). An event is two lines: what
# was detected and the frame's state (for a user frame also every mapping found, with what
# became of it, printed once they are all unmapped and told), and its outcome. An event that
# ends at once (already poisoned, not RAM, a user frame freed meanwhile) has only the outcome.
MF_RX = {
    "detected": re.compile(MF + r"detected \((.*?)\)(?:,| \(\+)"),
    "outcome": re.compile(MF + r"(.+?) page: (recovered|delayed|ignored|failed) \("),
    "already": re.compile(MF + r"already poisoned: "),
    "nonram": re.compile(MF + r"not a RAM frame"),
}
# One mapping on the detected line of a user frame: task, address, fate (kernel/mm/mf_trace.c).
MAPPER = re.compile(r"[:,] task (\d+) \(.*?\) (0x[0-9a-f]+) (AO|AR|late kill|told|SIGKILL|gone|"
                    r"exiting|cleared)")
FATES = {"AO": "ao", "AR": "ar", "late kill": "late", "told": "told", "SIGKILL": "kill"}
# Everything else, one name per line (Log tags the lines).
RX = {
    "panic": re.compile(r"Kernel panic - not syncing: (.*)"),
    "fault": re.compile(r"KERNEL FAULT"),
    "dropped": re.compile(r"\[console fell behind: (\d+) bytes not shown\]"),
    "sel": re.compile(r"^EV (\d+) sel (\S+) pfn=(0x[0-9a-f]+) state=(\d+) flags=(0x[0-9a-f]+) "
                      r"pids=(\d+)\.\.(\d+) slot=(-?\d+) index=(-?\d+)"),
    "done": re.compile(r"^EV (\d+) done (\S+) (\S+)"),
    "skip": re.compile(r"^EV (\d+) skip (.*)"),
    "unconsumed": re.compile(r"^EV (\d+) unconsumed pfn=([0-9a-f]+) state=(\d+) tasks=(\d+) "
                             r"pids=(\d+)\.\.(\d+)"),
    "srar": re.compile(r"^@srar (\d+) pid=(\d+) pfn=(0x[0-9a-f]+) mcg=(\S+)"),
    "madvise": re.compile(r"^EV (\d+) madvised pid=(\d+) pfn=(0x[0-9a-f]+)"),
    "start": re.compile(r"^START (\d+) (\d+) (\d+) (early|late) (handler|nohandler) \w+"
                        r"(?: thread=(\d+))?"),
    "exit": re.compile(r"^EXIT (\d+) (\d+) (\d+) \d+ \d+ \d+ (\w+)"),
    "restart": re.compile(r"^RESTART (\d+) (\d+) (\d+) (-?\d+)"),
    "lost": re.compile(r"^LOST (\d+) (0x[0-9a-f]+) (0x[0-9a-f]+) (\d+) (\w+) (-?\d+) (\w+)"),
    "mismatch": re.compile(r"^MISMATCH (\d+) (0x[0-9a-f]+) (\d+)"),
    "account": re.compile(r"^ACCOUNT (start|end) (.*)"),
    "check": re.compile(r"^(AUDIT|VMCHECK) (mid|end) (\S+) ?(.*)"),
    "hwpoison": re.compile(r"^HWPOISON (.*)"),
    "kpf": re.compile(r"^KPAGEFLAGS hwpoison=(\d+)"),
    "touch": re.compile(r"^memory_failure: task (\d+) \(.*?\) touched poisoned page (0x[0-9a-f]+)"),
    "state": re.compile(r"^STATE (\d+) (.*)"),
    "family": re.compile(r"^FAMILY (\d+) (\d+) (0x[0-9a-f]+) (0x[0-9a-f]+) (\d+) (\d+) "
                         r"(0x[0-9a-f]+) (\d+)"),
    "end": re.compile(r"^CAMPAIGN end"),
    "trouble": re.compile(r"^(CAMPAIGN error|STUCK) ?(.*)"),
}
ANYWHERE = ("panic", "fault", "dropped")
BUS_MCEERR_AR = 4
LEAK_KEYS = ("user", "file", "pgtable", "kstack", "kernel", "slab_objects", "pagetree_nodes")
CACHE_KEYS = ("file", "pagetree_nodes")   # may shrink across a boot (see _check_books)


def page_flags():
    """The PG_* bits of include/frame.h, by name (so the tables speak the kernel's words)."""
    text = (ROOT / "include" / "frame.h").read_text()
    return {n: 1 << int(b) for n, b in re.findall(r"#define PG_(\w+) BIT\((\d+)\)", text)}


PG = page_flags()


@dataclass
class Failure:
    """One memory_failure event as its trace lines tell it."""
    pfn: int
    pos: int                # its first line
    how: str
    start: int = 0          # where its event began (the agent's selection): the signals of a
                            # user frame go out before its lines are printed
    state: str = None
    outcome: str = None
    mappers: list = field(default_factory=list)    # (kind, pid, va)


@dataclass
class BootResult:
    name: str
    rows: Counter = field(default_factory=Counter)           # (state, injector, outcome)
    violations: list = field(default_factory=list)           # (event idx or None, what)
    poisoned: set = field(default_factory=set)
    lost: int = 0                                            # pages the workload lost
    vital: int = 0                                           # ... of them outside its data
    restarts: int = 0
    events: int = 0
    skipped: int = 0
    undelivered: int = 0

    def violation(self, idx, what):
        self.violations.append((idx, what))


class Log:
    """The log as lines without time stamps, and for each name of RX [(position, match)]."""

    def __init__(self, text):
        self.by = defaultdict(list)
        self.lines = [TS.sub("", raw) for raw in text.split("\n")]
        for pos, line in enumerate(self.lines):
            for name, rx in RX.items():
                m = rx.search(line) if name in ANYWHERE else rx.match(line)
                if m:
                    self.by[name].append((pos, m))
                    break

    def get(self, name):
        return self.by.get(name, [])


def failures(log):
    """Every memory_failure event, in order of detection. A second event for a frame while
    the first is still at work ends at once ("already poisoned") with a line of its own, so
    an outcome line belongs to the unfinished event of its frame if there is one, else it is
    an event by itself."""
    unfinished, events = defaultdict(list), []
    for pos, line in enumerate(log.lines):
        m = re.match(MF, line)
        if not m:
            continue
        pfn = int(m.group(1), 16)
        d = MF_RX["detected"].match(line)
        if d:
            f = Failure(pfn, pos, d.group(2))
            for t in MAPPER.finditer(line[d.end():]):
                if t.group(3) in FATES:
                    f.mappers.append((FATES[t.group(3)], int(t.group(1)), int(t.group(2), 16)))
            unfinished[pfn].append(f)
            events.append(f)
            continue
        o = MF_RX["outcome"].match(line)
        if MF_RX["already"].match(line):
            state, outcome = "already poisoned", "already"
        elif MF_RX["nonram"].match(line):
            state, outcome = "not RAM", "ignored"
        elif o:
            state, outcome = o.group(2), o.group(3)
        else:
            continue
        if MF_RX["already"].match(line) or MF_RX["nonram"].match(line) or not unfinished[pfn]:
            f = Failure(pfn, pos, "")
            events.append(f)
        else:
            f = unfinished[pfn].pop()
        f.state, f.outcome = state, outcome
    return events


def _flags_ok(flags, allowed):
    names = {"isolated": flags & PG["ISOLATED"], "reserved": flags & PG["RESERVED"],
             "in use": flags & (PG["KERNEL"] | PG["PGTABLE"] | PG["USER"] | PG["SLAB"] |
                                PG["KSTACK"])}
    return any(names[a] for a in allowed)


@dataclass
class Proc:
    """A workload process, from its START line and how it ended."""
    pid: int
    early: bool
    handler: bool
    since: int = 0          # the log position of its START line: its policy holds from there
    ended: str = None       # stop, lifetime, orphan (EXIT); vital; killed (by a signal)


@dataclass
class Lost:
    pos: int
    pid: int
    va: int
    pfn: int
    code: int
    region: str
    how: str


class BootLog:
    """One boot's log, read once, and the lookups the checks share."""

    def __init__(self, plan, text, notes):
        self.plan, self.notes = plan, notes
        self.log = Log(text)
        self.fails = failures(self.log)
        self.states = {int(m.group(1)): m.group(2) for _, m in self.log.get("state")}
        self.sel = {int(m.group(1)): (pos, m) for pos, m in self.log.get("sel")}
        self.done = {int(m.group(1)): m for _, m in self.log.get("done")}
        self.marks = sorted((pos, idx) for idx, (pos, _) in self.sel.items())
        self.procs = self._procs()
        self.tids = {int(m.group(6)): int(m.group(1)) for _, m in self.log.get("start")
                     if m.group(6) and int(m.group(6))}   # a second thread -> its process
        self.losts = [Lost(pos, int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16),
                           int(m.group(4)), m.group(5), m.group(7))
                      for pos, m in self.log.get("lost")]
        self.data = []     # the workload's data pages: [(lo, hi)]
        for _, m in self.log.get("family"):
            for base, n in ((m.group(3), m.group(5)), (m.group(4), m.group(6)),
                            (m.group(7), m.group(8))):
                self.data.append((int(base, 16), int(base, 16) + int(n) * 4096))
        self.first_poison = {}
        for f in self.fails:
            f.start = max((p for p, _ in self.marks if p <= f.pos), default=0)
            if f.state != "not RAM":
                self.first_poison.setdefault(f.pfn, f.start)

    def _procs(self):
        procs = {}
        for pos, m in self.log.get("start"):
            pid = int(m.group(1))
            procs[pid] = Proc(pid, m.group(4) == "early", m.group(5) == "handler", pos)
        for _, m in self.log.get("exit"):
            if int(m.group(1)) in procs:
                procs[int(m.group(1))].ended = m.group(4)
        for _, m in self.log.get("restart"):
            p, status = procs.get(int(m.group(3))), int(m.group(4))
            if p and not p.ended:
                p.ended = "killed" if status < 0 else "vital" if status == 3 else "exit%d" % status
        return procs

    def is_data(self, va):
        """Whether va is a data page of the workload (which every pass reads)."""
        return any(lo <= va < hi for lo, hi in self.data)

    def event_at(self, pos):
        """The event whose selection last came at or before pos (None before the first)."""
        idx = None
        for p, i in self.marks:
            if p > pos:
                break
            idx = i
        return idx

    def failure_after(self, pfn, pos):
        return next((f for f in self.fails if f.pfn == pfn and f.pos > pos), None)

    def state_name(self, byte):
        return "already poisoned" if byte & 0x80 else self.states.get(byte & 0x7f, "?%d" % byte)


def judge(plan, text, notes):
    """The result of one boot (plan: plan.Boot; notes: {event idx: what the host did})."""
    b = BootLog(plan, text, notes)
    r = BootResult(plan.name)
    _check_trouble(r, b)
    if plan.fatal:
        _judge_fatal(r, b)
        return r
    for ev in plan.events:
        _judge_event(r, b, ev)
    r.poisoned = set(b.first_poison)
    _check_mappers(r, b)
    _check_losts(r, b)
    _check_books(r, b)
    _check_final(r, b)
    return r


def _check_trouble(r, b):
    log = b.log
    for pos, m in log.get("panic"):
        if not b.plan.fatal:
            r.violation(b.event_at(pos), "unexpected panic: %s" % m.group(1))
    for pos, _ in log.get("fault"):
        r.violation(b.event_at(pos), "kernel fault (see the log)")
    for pos, m in log.get("dropped"):
        r.violation(b.event_at(pos), "the console dropped %s bytes: the checks cannot see "
                    "every line" % m.group(1))
    for pos, m in log.get("trouble"):
        r.violation(b.event_at(pos), "%s %s" % (m.group(1), m.group(2)))
    if not b.plan.fatal and not log.get("end"):
        r.violation(b.event_at(len(log.lines)), "the boot ended before the campaign did (%s)"
                    % b.notes.get("end", "?"))
    for pos, m in log.get("mismatch"):
        r.violation(b.event_at(pos), "silent corruption: task %s page %s (index %s) does not "
                    "match its checksum and was never reported lost" % m.groups())


def _judge_fatal(r, b):
    ev = b.plan.events[0]
    if ev.idx not in b.sel:
        r.violation(ev.idx, "the fatal injection never happened (%s)" % b.notes.get("end"))
        return
    state = b.state_name(int(b.sel[ev.idx][1].group(4)))
    panics = [m.group(1) for _, m in b.log.get("panic")]
    if any(re.search(ev.injector.fatal, p) for p in panics):
        r.rows[(state, ev.injector.name, "expected panic")] += 1
    else:
        r.rows[(state, ev.injector.name, "no panic" if not panics else "other panic")] += 1
        r.violation(ev.idx, "%s must panic with %r; got %s" % (
            ev.injector.name, ev.injector.fatal, panics or "no panic"))
    r.events += 1


DELIVERED = ("ok", "got_ar", "killed")


def _judge_event(r, b, ev):
    inj = ev.injector
    if ev.idx not in b.sel:
        skip = next((m for _, m in b.log.get("skip") if int(m.group(1)) == ev.idx), None)
        if skip:
            r.skipped += 1
            r.rows[("(none: %s)" % ev.target.name, inj.name, "no target")] += 1
        return
    r.events += 1
    pos, sel = b.sel[ev.idx]
    pfn = int(sel.group(3), 16)
    done = b.done.get(ev.idx)
    res, settled = (done.group(2), done.group(3)) if done else ("unfinished", "-")
    state, outcome = b.state_name(int(sel.group(4))), None
    # The page the reader spins on, or the owner poisons, is its frame now, not the one
    # published (copy-on-write may have moved it since).
    moved = next((m for name in ("srar", "madvise") for _, m in b.log.get(name)
                  if int(m.group(1)) == ev.idx), None)
    if moved and int(moved.group(3), 16):
        pfn = int(moved.group(3), 16)
    f = b.failure_after(pfn, pos) if inj.outcome != "ce" else None
    if inj.outcome == "ce":
        outcome = "corrected" if res == "ok" and settled == "ok" else "not logged"
    elif f:
        state, outcome = f.state or "?", f.outcome or "unfinished"
    elif res not in DELIVERED and "injected" not in b.notes.get(ev.idx, ""):
        outcome = "not delivered"
        r.undelivered += 1
    else:
        outcome = "none"
    # An EINJ line that waited for a load nobody made, found by the scrubber (agent.c: scrub):
    # fine when no task mapped the frame any more (the agent's pick went stale), a missed
    # consumption when one did (it reads every page of its data on every pass).
    unconsumed = next((m for _, m in b.log.get("unconsumed") if int(m.group(1)) == ev.idx), None)
    if unconsumed and int(unconsumed.group(4)):
        r.violation(ev.idx, "%s at pfn %#x: the armed line was not loaded within the wait, "
                    "though %s task(s) map the frame (pids %s..%s)" % (
                        inj.name, pfn, unconsumed.group(4), unconsumed.group(5),
                        unconsumed.group(6)))
    r.rows[(state, inj.name + (" (scrubbed)" if unconsumed else ""), outcome)] += 1
    allowed = expected(inj.outcome, state)
    if outcome != "not delivered" and (allowed is None or outcome not in allowed):
        r.violation(ev.idx, "%s at pfn %#x: %s page: %s, expected %s (delivery %s, %s)" % (
            inj.name, pfn, state, outcome, sorted(allowed) if allowed else "no row of EXPECTED",
            res, b.notes.get(ev.idx, "")))
    if inj.outcome.startswith("srar") and outcome != "not delivered":
        _check_srar(r, b, ev, f, res)


def _check_srar(r, b, ev, f, res):
    """The consumer of an SRAR is told with BUS_MCEERR_AR, or killed when it cannot resume."""
    m = next((m for _, m in b.log.get("srar") if int(m.group(1)) == ev.idx), None)
    if not m or not f:
        return
    pid = int(m.group(2))
    proc = b.procs.get(pid, Proc(pid, False, True))
    if not proc.handler and proc.ended not in ("killed", None):
        r.violation(ev.idx, "SRAR: task %d has no SIGBUS handler and must die of it (%s)" % (
            pid, res))
    elif not proc.handler:
        return      # told by its death
    elif ev.injector.outcome == "srar-kill":
        # (no RESTART line when its head died meanwhile and the family started again)
        if res != "killed" or proc.ended not in ("killed", None):
            r.violation(ev.idx, "SRAR without restart IP: task %d must die of SIGBUS (%s)" % (
                pid, res))
    elif not any(l.pid == pid and l.pfn == f.pfn and l.code == BUS_MCEERR_AR and l.pos > f.start
                 for l in b.losts) and not _died_under_handler(b, proc, f.start):
        r.violation(ev.idx, "SRAR at pfn %#x: the reading task %d was not told "
                    "(BUS_MCEERR_AR) (%s)" % (f.pfn, pid, res))


def _died_under_handler(b, proc, since):
    """Whether proc, told since `since`, died of SIGBUS because its handler touched another
    lost page (its program data or signal stack): SIGBUS is blocked in the handler, and a
    fault it cannot take kills, as on Linux."""
    return proc.ended == "killed" and any(int(m.group(1)) == proc.pid and pos > since
                                          for pos, m in b.log.get("touch"))


def _check_mappers(r, b):
    """Every mapper memory_failure found is told per its policy: early kill now (AO), late kill
    when it touches the page; the told must report it (a process that ran its final pass has
    touched every page it had)."""
    for f in b.fails:
        for kind, tid, va in f.mappers:
            pid = b.tids.get(tid, tid)
            p = b.procs.get(pid)
            if not p or p.since > f.start:
                continue    # forked a moment ago: its parent's policy still held
            idx = b.event_at(f.pos)
            if kind == "ao" and not p.early:
                r.violation(idx, "task %d (late kill) got BUS_MCEERR_AO for pfn %#x" % (pid, f.pfn))
            # The second thread is named only when the main thread is exiting (the process is
            # dying; the thread picked to be told must be live): nothing is owed then.
            if kind == "late" and p.early and tid == pid:
                r.violation(idx, "task %d (early kill) was left to late kill for pfn %#x" % (
                    pid, f.pfn))
            # A late-kill task learns of a page when it touches it: of a data page surely if
            # it ran its final pass, which reads every one (not of a page of its stack or
            # program data it may never touch again).
            must = p.handler and (p.ended == "stop" and (kind != "late" or b.is_data(va)) or
                                  (kind != "late" and p.ended == "lifetime"))
            # "told": it met the page first and was told by that touch (the loss checks see
            # its report), or it dropped the page before memory_failure told it.
            if kind in ("kill", "told") or not must:
                continue
            if not any(l.pid == pid and l.va == va and l.pfn == f.pfn and l.pos > f.start
                       for l in b.losts):
                r.violation(idx, "task %d was never told that pfn %#x at %#x was lost (%s)" % (
                    pid, f.pfn, va, kind))


def _check_losts(r, b):
    """Each loss the workload reports was owed: a frame poisoned before, told once per task."""
    seen = Counter()
    for l in b.losts:
        idx = b.event_at(l.pos)
        r.lost += 1
        r.vital += l.region == "vital"
        if l.how == "none" and l.region in ("shared", "file") and l.code == BUS_MCEERR_AR:
            continue    # a shared object's poisoned frame, met on a fault: no frame number;
                        # or a file page consumed while another event of its frame was at
                        # work, dropped (PTE cleared) by the time the handler looked
        if l.how == "none":
            r.violation(idx, "task %d told of a loss at %#x where it had no page (told twice?)"
                        % (l.pid, l.va))
            continue
        if b.first_poison.get(l.pfn, 1 << 62) > l.pos:
            r.violation(idx, "task %d told it lost pfn %#x at %#x, which was not poisoned "
                        "(told twice?)" % (l.pid, l.pfn, l.va))
        seen[(l.pid, l.pfn)] += 1
        if seen[(l.pid, l.pfn)] == 2:
            r.violation(idx, "task %d told twice that it lost pfn %#x" % (l.pid, l.pfn))
    r.restarts = sum(1 for _, m in b.log.get("restart") if m.group(4) != "0")


def _account(m):
    return {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", m.group(2))}


def _check_books(r, b):
    """Frame accounting at the start and the end, the audit and address-space checks, and
    kpageflags against HardwareCorrupted."""
    books = {m.group(1): (pos, _account(m)) for pos, m in b.log.get("account")}
    for when, (pos, a) in books.items():
        idx = b.event_at(pos)
        kb = 4
        total = a["MemFree"] // kb + a["HardwareCorrupted"] // kb + a["in_use"]
        if a.get("unaccounted") != 0 or total != a["frames"]:
            r.violation(idx, "%s: MemFree %d kB + HardwareCorrupted %d kB + in use %d frames = "
                        "%d frames, not the %d described" % (
                            when, a["MemFree"], a["HardwareCorrupted"], a["in_use"], total,
                            a["frames"]))
        if a["meminfo_HardwareCorrupted"] != a["HardwareCorrupted"]:
            r.violation(idx, "%s: /proc/meminfo says HardwareCorrupted %d kB, the accounting %d"
                        % (when, a["meminfo_HardwareCorrupted"], a["HardwareCorrupted"]))
    if "start" in books and "end" in books:
        start, (pos, end) = books["start"][1], books["end"]
        for books_at in (start, end):   # the direct map's tables split for EINJ stay, for good
            books_at["kernel"] -= books_at.get("directmap", 0)
            books_at["slab_objects"] -= books_at.get("pagetree_nodes", 0)
        # The page cache may end smaller than it began (memory_failure drops a clean file page
        # and the file reads it again only when someone touches it), never larger: the
        # workload's own files are gone when it exits. The frame sum above still balances.
        # So may the nodes of its index (kmalloc objects, counted apart from the others): a
        # node left empty by the drop is freed.
        leaked = ["%s %d -> %d" % (k, start[k], end[k]) for k in LEAK_KEYS
                  if end[k] > start[k] or (end[k] < start[k] and k not in CACHE_KEYS)]
        if leaked:
            r.violation(b.event_at(pos), "frames or objects not back once the workload exited: "
                        + ", ".join(leaked))
        kpf = b.log.get("kpf")
        if kpf and int(kpf[-1][1].group(1)) != end["poisoned"]:
            r.violation(None, "kpageflags says %s frames are HWPOISON, HardwareCorrupted %d" % (
                kpf[-1][1].group(1), end["poisoned"]))
    _check_reports(r, b)


def _check_reports(r, b):
    """AUDIT and VMCHECK: every run must say "result ok" and find no poisoned frame mapped."""
    errors = []
    for pos, m in b.log.get("check"):
        what, when, key, value = m.groups()
        if key == "error:":
            errors.append(value)
        elif key == "poisoned_mapped" and value != "0":
            r.violation(b.event_at(pos), "%s %s: %s poisoned frames still mapped" % (
                what, when, value))
        elif key == "result":
            if value != "ok":
                r.violation(b.event_at(pos), "%s (%s) failed: %s" % (
                    {"AUDIT": "allocator audit", "VMCHECK": "rmap/page-table check"}[what],
                    when, "; ".join(errors) or value))
            errors = []


def _check_final(r, b):
    """No poisoned frame handed out again: at the end each poisoned frame is what FINAL allows
    for the outcome of its poisoning, and kpageflags names exactly the frames memory_failure
    poisoned."""
    final = {}
    for _, m in b.log.get("hwpoison"):
        for pfn, flags, _state in re.findall(r"([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)", m.group(1)):
            final[int(pfn, 16)] = int(flags, 16)
    if not b.log.get("kpf"):
        return
    first = {}
    for f in b.fails:
        if f.state != "not RAM" and f.outcome not in (None, "already"):
            first.setdefault(f.pfn, f)
    for pfn in sorted(set(b.first_poison) - set(final)):
        r.violation(b.event_at(b.first_poison[pfn]), "pfn %#x was poisoned but is no longer "
                    "HWPOISON in /proc/kpageflags" % pfn)
    for pfn in sorted(set(final) - set(b.first_poison)):
        r.violation(None, "pfn %#x is HWPOISON but memory_failure never named it" % pfn)
    for pfn, f in first.items():
        allowed = FINAL.get(f.outcome)
        if pfn in final and allowed and not _flags_ok(final[pfn], allowed):
            r.violation(b.event_at(f.pos), "pfn %#x (%s page, %s) ends with flags %#x: allowed %s"
                        % (pfn, f.state, f.outcome, final[pfn], "/".join(allowed)))
