"""Campaign plans: which injections a campaign of N events makes, boot by boot, from its seed.

The events 0..N-1 are split: a few (FATAL_SHARE of them) are fatal injections, each run alone
in a short boot of its own; the rest go, in order, into boots of EVENTS_PER_BOOT events. Every
boot's plan is a pure function of (seed, N, events per boot, boot number): its CPU count, its
workload (families, each member's kill policy, whether it catches SIGBUS, whether it sleeps or
spins between passes) and each event's injector, target, CPU and delay before it. So `--event
I` rebuilds the one boot that holds event I and runs it up to I. What the kernel does with
each event still depends on timing (which frames are free at that moment, which process runs
where); the plan fixes the decisions, not the machine.

A plan is text the guest agent reads from /campaign/plan in the boot's initrd (docs/campaign.md
lists its lines); write_initrd adds it to a copy of build/initrd.cpio.
"""
import random
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from tables import INJECTORS, TARGETS, Injector, Target

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import mkinitrd  # noqa: E402  (the cpio writer make uses)

EVENTS_PER_BOOT = 250
FATAL_SHARE = 0.005        # of the events; at least one in a campaign of 20 or more
SMP_CYCLE = (2, 2, 2, 1)   # boot b runs with SMP_CYCLE[b % 4] CPUs
CHECK_EVERY = 25           # the audit and the address-space check every so many events
FATAL_DELAY_MS = (300, 1500)
DELAY_MS = (0, 20)


@dataclass
class Event:
    idx: int
    injector: Injector
    target: Target
    cpu: int
    delay_ms: int

    def line(self):
        deliver = self.injector.deliver
        if not deliver.startswith("hmp kernel"):    # that CPU is the one the host catches
            deliver = deliver.replace("{cpu}", str(self.cpu))
        return "event %d %d %s %s %s" % (self.idx, self.delay_ms, self.target.spec,
                                         self.injector.wait, deliver)


@dataclass
class Boot:
    seed: str
    number: int
    smp: int
    events: list
    fatal: bool = False
    families: int = 3
    members: int = 3
    priv_pages: int = 16
    shared_pages: int = 8
    file_pages: int = 4
    lifetime: int = 40
    policies: dict = field(default_factory=dict)   # (family, member) -> (kill, handler, wait)

    @property
    def name(self):
        return "campaign-%s-b%03d%s" % (_safe(self.seed), self.number,
                                        "-fatal" if self.fatal else "")

    def text(self, upto=None):
        """The plan the agent reads; with upto, only the events up to index upto."""
        lines = ["campaign %d %d" % (zlib.crc32(str(self.seed).encode()), self.number),
                 "shape %d %d %d %d %d %d" % (self.families, self.members, self.priv_pages,
                                              self.shared_pages, self.lifetime,
                                              self.file_pages),
                 "check_every %d" % CHECK_EVERY]
        lines += ["member %d %d %s %s %s %s" % ((f, m) + p) for (f, m), p in
                  sorted(self.policies.items())]
        lines += [e.line() for e in self.events if upto is None or e.idx <= upto]
        return "\n".join(lines) + "\n"


def _safe(seed):
    return "".join(c if c.isalnum() else "_" for c in str(seed))[:24]


def _weighted(rng, rows):
    total = sum(r.weight for r in rows)
    x = rng.uniform(0, total)
    for r in rows:
        x -= r.weight
        if x <= 0:
            return r
    return rows[-1]


def _policies(rng, boot):
    """Each member's kill policy, SIGBUS handling, waiting, and whether a second thread runs
    beside it; heads always handle SIGBUS (a head that dies takes its family's shared data
    with it)."""
    for f in range(boot.families):
        for m in range(boot.members):
            boot.policies[(f, m)] = (rng.choice(("early", "late")),
                                     "handler" if m == 0 or rng.random() < 0.8 else "nohandler",
                                     rng.choice(("spin", "sleep")),
                                     rng.choice(("thread", "nothread")))


def _targets_of(inj):
    return [t for t in TARGETS if t.name in inj.targets]


def _event(rng, idx, inj, smp, delay):
    return Event(idx, inj, _weighted(rng, _targets_of(inj)), rng.randrange(smp),
                 rng.randint(*delay))


def make_boot(seed, number, indices, fatal):
    """The plan of boot `number`: its events are `indices` (one fatal event when fatal)."""
    rng = random.Random("campaign %s boot %d" % (seed, number))
    if fatal:
        inj = _weighted(rng, [i for i in INJECTORS if i.fatal])
        smp = rng.choice(inj.smp)
    else:
        smp = SMP_CYCLE[number % len(SMP_CYCLE)]
    boot = Boot(seed, number, smp, [], fatal, families=3 if smp > 1 else 2,
                lifetime=rng.randint(150, 400))
    _policies(rng, boot)
    if fatal:
        target = next(t for t in TARGETS if t.name == "free")
        boot.events = [Event(indices[0], inj, target, rng.randrange(smp),
                             rng.randint(*FATAL_DELAY_MS))]
        return boot
    ordinary = [i for i in INJECTORS if not i.fatal]
    for idx in indices:
        inj = _weighted(rng, [i for i in ordinary if smp in i.smp])
        boot.events.append(_event(rng, idx, inj, smp, DELAY_MS))
    return boot


def make_plan(seed, n, per_boot=EVENTS_PER_BOOT):
    """Every boot of a campaign of n events: the ordinary boots in order, then one boot per
    fatal event."""
    rng = random.Random("campaign %s" % seed)
    nfatal = max(1, round(n * FATAL_SHARE)) if n >= 20 else 0
    fatal = set(rng.sample(range(n), nfatal))
    ordinary = [i for i in range(n) if i not in fatal]
    boots = [make_boot(seed, b, ordinary[k:k + per_boot], False)
             for b, k in enumerate(range(0, len(ordinary), per_boot))]
    boots += [make_boot(seed, len(boots) + j, [i], True) for j, i in enumerate(sorted(fatal))]
    return boots


def boot_of(boots, idx):
    """The boot that holds event idx, or None."""
    return next((b for b in boots if any(e.idx == idx for e in b.events)), None)


def write_initrd(boot, base, out, upto=None):
    """A copy of the initrd `base` with the boot's plan added as /campaign/plan."""
    data = Path(base).read_bytes()
    cut = data.rfind(b"TRAILER!!!")
    if cut < 110:
        raise ValueError("%s: no cpio trailer" % base)
    data = bytearray(data[:cut - 110])
    body = boot.text(upto).encode()
    for ino, (name, mode, content) in enumerate((("campaign", 0o40755, b""),
                                                 ("campaign/plan", 0o100644, body)), 90000):
        h = mkinitrd.header(ino, mode, len(content), name)
        data += h + name.encode() + b"\0" + mkinitrd.pad(len(h) + len(name) + 1)
        data += content + mkinitrd.pad(len(content))
    h = mkinitrd.header(0, 0, 0, "TRAILER!!!")
    data += h + b"TRAILER!!!\0" + mkinitrd.pad(len(h) + 11)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(bytes(data))
    return out
