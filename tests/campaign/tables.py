"""The campaign's tables: where errors go, how they are injected, and what must come of them.

A new page state, injector or outcome is a new row here, not a new code path:
  TARGETS    where an error goes: a kind of frame, as the guest agent (user/campaign/agent.c)
             picks it: `own:REGION` (a page of the workload, from the frames its processes
             publish through their /proc/self/pagemap; REGION private, cow, shared or any),
             `state:NAME` (any frame memory_failure would handle as NAME, the names of its
             state table, spaces written as _), or `random` (any frame at all);
  INJECTORS  how: the plan line the agent carries out (`write PATH TEXT [;; PATH TEXT]`,
             `hmp any|kernel COMMAND`, `madvise`, `srar MCG_STATUS`), what it waits for
             (`mf`: memory_failure ran to its outcome; `ce`: the poller logged a corrected
             error), the outcome class its results are judged by, the targets it may take,
             and for a fatal one the panic it must cause (it then runs alone in a short boot);
  EXPECTED   first match of (outcome class, state memory_failure met) -> the outcomes allowed;
  FINAL      outcome -> what the poisoned frame may be at the end of the boot (no poisoned
             frame is ever handed out again).
In TEXT and COMMAND, {pfn} and {addr} become the target's frame and physical address (the
agent fills them in), {cpu} a CPU of the boot (the plan fills it in), \\n a newline.
docs/campaign.md explains the tables and the outcomes.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    name: str          # the table's row name (docs/campaign.md)
    spec: str          # what the agent picks by
    weight: int        # relative frequency among the targets an injector may take


TARGETS = [
    Target("own-private", "own:private", 6),      # a private page of a workload process
    Target("own-cow", "own:cow", 4),              # ... still shared copy-on-write after fork
    Target("own-shared", "own:shared", 3),        # a page of a family's MAP_SHARED region
    Target("own-file", "own:file", 2),            # a page of a read-only file mapping
    Target("head-shared", "head:shared", 1),      # own-shared and own-file of a family
    Target("head-file", "head:file", 1),          # head, which outlives its children
    Target("free", "state:free", 2),              # head of a free buddy block
    Target("free-pcp", "state:free_(per-CPU_cache)", 2),
    Target("free-in-block", "state:free_(inside_a_buddy_block)", 2),
    Target("file", "state:clean_file", 2),        # initrd file pages (program text)
    Target("anon", "state:anonymous_user", 3),    # any process's anonymous page
    Target("pgtable", "state:page-table", 2),
    Target("slab", "state:kernel_heap", 2),
    Target("kstack", "state:kernel_stack", 2),
    Target("kernel", "state:kernel", 1),          # other kernel memory (large kmalloc blocks)
    Target("random", "random", 3),                # any frame, reserved ones included
]

OWN = ("own-private", "own-cow", "own-shared", "own-file")
# What an EINJ line of poison may be armed in: pages the kernel itself never reads (a
# copy-on-write break copies a private page with an ordinary load, and a kernel frame memory_
# failure keeps in use stays armed, so either would consume the poison in the kernel and
# panic, as Linux 6.1 would; the campaign's fatal boots cover that grading).
EINJ_SAFE = ("head-shared", "head-file")     # a head's: its frames are not freed behind a
                                             # line nobody will read (a child exits at will)
ANON = ("own-private", "own-cow", "own-shared")   # what an SRAR's reader may read: a clean
                                                  # file page is dropped and read again, and
                                                  # its reader is told nothing
ALL = tuple(t.name for t in TARGETS)

# Status words (Intel SDM vol. 3B, 15.3.2.2): VAL 63, OVER 62, UC 61, EN 60, MISCV 59,
# ADDRV 58, PCC 57, S 56, AR 55; MCACOD in the low 16 bits. MISC 0x8c: physical address
# mode, recoverable LSB 12 (one 4 KiB frame).
SW_TEXT = "/sys/kernel/debug/mce-inject/text CPU {cpu} BANK 2\\n"
SW_USER = "\\nMISC 0x8c\\nADDR {addr}\\nRIP 0x73:0x1eadbabe"
EINJ_DIR = "/sys/kernel/debug/apei/einj/"
EINJ = (EINJ_DIR + "error_type 0x10 ;; " + EINJ_DIR + "flags 2 ;; " + EINJ_DIR + "param1 {addr} ;; "
        + EINJ_DIR + "param2 0xfffffffffffff000 ;; " + EINJ_DIR)


@dataclass(frozen=True)
class Injector:
    name: str
    deliver: str            # the plan's delivery words and arguments
    wait: str               # mf | ce | none
    outcome: str            # the outcome class of EXPECTED
    targets: tuple = ALL
    weight: int = 1
    fatal: str = None       # regex of the panic line a fatal injection must cause
    smp: tuple = (1, 2)     # CPU counts it makes sense at


INJECTORS = [
    # QEMU's monitor: the machine check arrives wherever the CPU is (idle, kernel, user).
    Injector("hmp-ce", "hmp any mce {cpu} 1 0x9c0000000000009f 0x0 {addr} 0x8c", "ce", "ce",
             weight=3),
    Injector("hmp-ucna", "hmp any mce -b {cpu} 1 0xac0000000000009f 0x5 {addr} 0x8c", "mf",
             "uc", weight=3),
    Injector("hmp-ucna-en", "hmp any mce -b {cpu} 1 0xbc0000000000009f 0x5 {addr} 0x8c", "mf",
             "uc", weight=2),
    Injector("hmp-srao", "hmp any mce -b {cpu} 1 0xbd000000000000c0 0x5 {addr} 0x8c", "mf",
             "uc", weight=6),
    Injector("hmp-srao-ewb", "hmp any mce -b {cpu} 1 0xbd0000000000017a 0x5 {addr} 0x8c", "mf",
             "uc", weight=2),
    # SRAR: a workload process reads the page in a loop; the host stops the VM, finds the CPU
    # running that loop (its registers say so) and injects there (docs/campaign.md).
    Injector("hmp-srar", "srar 0x7", "mf", "srar", targets=ANON, weight=4),
    Injector("hmp-srar-noripv", "srar 0x6", "mf", "srar-kill", targets=ANON, weight=1),
    # The in-kernel software injector, from user space (docs/mca.md, "Injection").
    Injector("sw-srao", "write " + SW_TEXT + "STATUS UNCORRECTED SRAO 0xc0\\nMCGSTATUS RIPV "
             "MCIP" + SW_USER, "mf", "uc", weight=4),
    Injector("sw-srar-user", "write " + SW_TEXT + "STATUS UNCORRECTED SRAR 0x134\\nMCGSTATUS "
             "RIPV EIPV MCIP" + SW_USER, "mf", "uc", weight=2),
    Injector("sw-ucna-poll", "write " + SW_TEXT + "STATUS UNCORRECTED UCNA\\nADDR {addr}\\n"
             "MISC 0x8c\\nPOLL", "mf", "uc", weight=2),
    Injector("sw-ce-poll", "write " + SW_TEXT + "STATUS CORRECTED 0x9f\\nADDR {addr}\\n"
             "MISC 0x8c\\nPOLL", "ce", "ce", weight=2),
    # Two errors at one frame at once: an SRAO whose memory_failure runs on a kernel worker,
    # and corrupt-pfn's in the agent's own write, each possibly on its own CPU.
    Injector("sw-srao+corrupt", "write " + SW_TEXT + "STATUS UNCORRECTED SRAO 0xc0\\nMCGSTATUS "
             "RIPV MCIP" + SW_USER + " ;; /sys/kernel/debug/hwpoison/corrupt-pfn {pfn}", "mf",
             "uc", weight=2),
    # ACPI EINJ on the poison emulator (docs/einj.md): a 64-byte line of poison at the start
    # of the frame. notrigger 0: the patrol scrubber reports it at once (SRAO 0xC0 from the
    # memory controller, broadcast #MC); notrigger 1: it waits for an access, and the
    # workload's next pass loads it (SRAR 0x134 at that instruction).
    Injector("einj-patrol", "write " + EINJ + "notrigger 0 ;; " + EINJ_DIR + "error_inject 1", "mf",
             "uc", targets=EINJ_SAFE, weight=3),
    Injector("einj-load", "write " + EINJ + "notrigger 1 ;; " + EINJ_DIR + "error_inject 1", "mf",
             "uc", targets=EINJ_SAFE, weight=3),
    # Software poison.
    Injector("madvise", "madvise", "mf", "uc", targets=OWN, weight=5),
    Injector("corrupt-pfn", "write /sys/kernel/debug/hwpoison/corrupt-pfn {pfn}", "mf", "uc",
             weight=5),
    # Fatal: each runs alone in a short boot and must end in this panic.
    Injector("fatal-pcc", "hmp any mce -b {cpu} 1 0xbe000000000000c0 0x5 {addr} 0x8c", "none",
             "fatal", weight=2, fatal=r"Processor context corrupt"),
    Injector("fatal-srar-kernel", "hmp kernel mce -b {cpu} 1 0xbd80000000100134 0x7 {addr} "
             "0x8c", "none", "fatal", weight=2,
             fatal=r"Data load in unrecoverable area of kernel"),
    Injector("fatal-srar-over", "hmp any mce -b {cpu} 1 0xfd80000000100134 0x7 {addr} 0x8c",
             "none", "fatal", weight=1, fatal=r"Action required with lost events"),
    Injector("fatal-ucna-ar", "hmp any mce -b {cpu} 1 0xbc80000000000134 0x5 {addr} 0x8c",
             "none", "fatal", weight=1, fatal=r"Illegal combination \(UCNA with AR=1\)"),
    Injector("fatal-no-broadcast", "hmp any mce {cpu} 1 0xbd000000000000c0 0x5 {addr} 0x8c",
             "none", "fatal", weight=1, smp=(2,),
             fatal=r"Timeout: Not all CPUs entered the broadcast exception handler"),
    Injector("fatal-sw-pcc", "write " + SW_TEXT + "STATUS FATAL S\\nMCGSTATUS MCIP\\nMISC 11",
             "none", "fatal", weight=1, fatal=r"Processor context corrupt"),
    Injector("fatal-recovery-off", "write /proc/sys/vm/memory_failure_recovery 0 ;; "
             "/sys/kernel/debug/hwpoison/corrupt-pfn {pfn}", "none", "fatal", weight=1,
             fatal=r"Memory failure on frame 0x[0-9a-f]+: vm.memory_failure_recovery is 0"),
]


@dataclass(frozen=True)
class Expect:
    outcome_class: str      # an Injector.outcome, or * for any
    state: str              # the state memory_failure met (its outcome line), * for any
    allowed: frozenset = field(default_factory=frozenset)


def _e(cls, state, *allowed):
    return Expect(cls, state, frozenset(allowed))


# First match wins. A state memory_failure reports that no row names (a new state of another
# branch) is a violation until a row says what must come of it.
EXPECTED = [
    _e("ce", "*", "corrected"),
    _e("fatal", "*", "expected panic"),
    _e("*", "already poisoned", "already"),
    _e("*", "reserved", "ignored"),
    _e("*", "free", "recovered"),
    _e("*", "free (per-CPU cache)", "recovered"),
    _e("*", "free (inside a buddy block)", "recovered"),
    _e("*", "clean file", "recovered"),
    _e("*", "dirty swapcache", "delayed"),                # docs/swap.md: kept, poisoned
    _e("*", "clean swapcache", "recovered", "delayed"),   # delayed: under swap I/O
    _e("*", "dirty file", "recovered"),  # a shmem page: MAP_SHARED|MAP_ANONYMOUS memory
    _e("*", "anonymous user", "recovered", "delayed"),
    _e("*", "page-table", "failed"),
    _e("*", "kernel heap", "failed"),
    _e("*", "kernel stack", "failed"),
    _e("*", "kernel", "failed"),
]


def expected(outcome_class, state):
    """The outcomes allowed for an injection of that class that met that state, or None."""
    for e in EXPECTED:
        if e.outcome_class in ("*", outcome_class) and e.state in ("*", state):
            return e.allowed
    return None


# What a poisoned frame may be once the boot's workload has exited, by the outcome of its
# poisoning (flags: the PG_* bits of include/frame.h, by name). "isolated": out of the allocator
# for good; "in use": still held by the kernel object it belonged to (never by anyone new).
FINAL = {
    "recovered": ("isolated",),
    "delayed": ("isolated",),          # every process that held it has exited
    "failed": ("isolated", "in use"),
    "ignored": ("reserved",),
}
