"""Machine checks injected from the host into a running user program.

demo/victim.c fills a page, prints its physical address (from /proc/self/pagemap) and the
monitor command that poisons it, then waits for what the error does to it. Each row boots,
waits for that line and injects with QEMU's HMP `mce -b` (broadcast, as Intel reports these):
  SRAO (memory scrub 0xc0, MCG_STATUS RIPV|MCIP): early kill -> BUS_MCEERR_AO at once,
       late kill -> the page is unmapped and the next read gives BUS_MCEERR_AR;
  SRAO on a dirty page of a tmpfs file the victim maps shared (`-file`): the same signals; the
       page stays in its page cache, poisoned (outcome "dirty file page: recovered");
  SRAO on a written page of MAP_SHARED|MAP_ANONYMOUS memory (`-shm`): a shmem file's page, the
       same signals and outcome;
  SRAO on a frame the victim has just freed: the free frame is isolated, no signal;
  UCNA (VAL|UC|ADDRV|MISCV without EN or S, found by the poller): late kill as for the SRAO;
  SRAR (data load 0x134) while the victim runs in user mode on the CPU we inject into
       (the VM is stopped and `info registers` shows CPL 3 first): with RIPV|EIPV the task
       takes BUS_MCEERR_AR in its handler; with EIPV only it cannot resume and dies of SIGBUS.
Every SRAO/UCNA row runs at -smp 1 and -smp 2, with a victim that sleeps while it waits (the
CPU idles) and one that spins without a syscall (`-spin`: nothing but the kernel's own
preemption can run memory_failure or print the record on its CPU); the SRAR victim always
spins. Every row requires the outcome, never a time: the signal in the victim's handler, the
frame isolated ("recovered"), no panic, and the machine-check record on the console before
what it caused (the victim's SIGBUS line, or the end of a victim that expects no signal).
A victim gives up after 60 s (victim.c WAIT_S) and says so, so a kernel that waits for an
idle CPU fails the row instead of hanging it.
"""
import re
import time

from driver import Script, Test

# The whole line, up to its newline: a line still being written would give a cut argument.
READY = r"victim: poison it from the QEMU monitor with: (mce -b 0 1 (\S+) (\S+) (\S+) (\S+))\r?\n"
RECORD = r"mce: \[Hardware Error\]: TSC \S+ ADDR %x "   # the record of the injected error
UCNA_STATUS = "0xac00000000000000"   # VAL|UC|MISCV|ADDRV: EN clear, so the poller takes it
VICTIM_WAIT_S = 60


def _cpu_in_user_mode(mon, ncpus):
    """With the VM stopped, the CPU (if any) whose CS says ring 3."""
    for cpu in range(ncpus):
        mon.cmd("cpu %d" % cpu)
        regs = mon.cmd("info registers")
        cs = re.search(r"^CS =(\w+)", regs, re.M)
        if cs and int(cs.group(1), 16) & 3 == 3:
            return cpu
    return None


def _inject(m, mcg_status=None, status=None, in_user=False, ready=READY):
    """Waits for the victim's command line and injects it (with status/mcg_status replaced
    when given; in_user: at a CPU caught in user mode). Returns (command, address, error)."""
    found = m.wait_for(ready, 60)
    if not found:
        return None, None, "victim never printed its address"
    _, st, mcg, addr, misc = found.groups()
    st, mcg = status or st, mcg_status or mcg
    mon = m.monitor()
    cpu = 0
    if in_user:
        for _ in range(200):           # stop until the victim is caught in user mode
            mon.cmd("stop")
            cpu = _cpu_in_user_mode(mon, m.config.smp)
            if cpu is not None:
                break
            mon.cmd("cont")
            time.sleep(0.02)
        if cpu is None:
            return None, None, "never caught the victim in user mode"
    cmd = "mce -b %d 1 %s %s %s %s" % (cpu, st, mcg, addr, misc)
    mon.cmd(cmd)
    if in_user:
        mon.cmd("cont")
    return cmd, int(addr, 16), None


def first_index(text, pattern):
    """Where pattern (a regex) first matches in text, or None."""
    found = re.search(pattern, text, re.M)
    return found.start() if found else None


def before(text, first, then):
    """None when regex `first` matches before regex `then` (or `then` never matches), else
    why not: the console must show what `first` says before what `then` says."""
    a, b = first_index(text, first), first_index(text, then)
    if a is None:
        return "no %r" % first
    if b is not None and b < a:
        return "%r came only after %r" % (first, then)
    return None


def _victim(verdict, mcg_status=None, status=None, in_user=False, ordered=True,
            state="anonymous user"):
    """The victim must end with `verdict` (as init says it) and its frame, in `state`, be
    recovered; with ordered, the error's record must precede the victim's SIGBUS line."""
    def fn(m):
        cmd, addr, err = _inject(m, mcg_status, status, in_user)
        if err:
            return False, err
        if not m.wait_for(r"^init: done", VICTIM_WAIT_S + 30):
            return False, "no verdict after %r" % cmd
        # memory_failure signals the mappers before it prints its outcome line, so on the
        # worker's CPU that line can come after the victim exited and init said "done".
        isolated = m.wait_for(r"memory_failure: pfn \S+: %s page: recovered" % state, 10)
        text = m.serial_text()
        if "Kernel panic" in text or "KERNEL FAULT" in text:
            return False, "panic or fault after %r" % cmd
        if not re.search(r"^init: victim " + re.escape(verdict) + "$", text, re.M):
            got = re.search(r"^init: victim .*$", text, re.M)
            why = re.search(r"^victim: no SIGBUS.*$", text, re.M)
            return False, "want 'victim %s', got %r%s" % (
                verdict, got and got.group(0), " (%s)" % why.group(0) if why else "")
        if not isolated:
            return False, "the frame was not isolated after %r" % cmd
        late = ordered and before(text, RECORD % addr, r"^victim: SIGBUS")
        if late:
            return False, late
        return True, cmd
    return fn


def _free_frame(m):
    """An SRAO at a frame the victim freed: the free frame is isolated and the victim gets no
    signal; the record and the outcome come while the victim still waits."""
    cmd, addr, err = _inject(m)
    if err:
        return False, err
    outcome = r"memory_failure: pfn %#x: free[^\n]* page: recovered" % (addr >> 12)
    if not m.wait_for(outcome + r"|^init: victim ", VICTIM_WAIT_S + 30):
        return False, "no outcome after %r" % cmd
    m.wait_for(outcome, 10)
    text = m.serial_text()
    if "Kernel panic" in text or "KERNEL FAULT" in text:
        return False, "panic or fault after %r" % cmd
    if "victim: SIGBUS" in text:
        return False, "the victim got a SIGBUS for a frame it had freed"
    for first in (RECORD % addr, outcome):
        late = before(text, first, r"^victim: no signal")
        if late:
            return False, late
    return True, cmd


def _rows(case, smp, spin):
    """The row of one SRAO/UCNA case at smp CPUs with a spinning or sleeping victim."""
    suffix = "-smp%d-%s" % (smp, "spin" if spin else "sleep")
    mode = lambda m: "run=victim:%s%s" % (m, "-spin" if spin else "")  # noqa: E731
    # mf.trace=0 on early kill: between unmapping and signalling, a victim that touched its
    # page would take the late-kill AR instead of the early AO (legitimately, on Linux too);
    # without the per-step console lines that window is microseconds instead of a millisecond.
    table = {
        "srao-early": (mode("early") + " mf.trace=0", _victim("exited 0")),
        "srao-late": (mode("late"), _victim("exited 0")),
        "srao-early-file": (mode("early-file") + " mf.trace=0",
                            _victim("exited 0", state="dirty file")),
        "srao-late-file": (mode("late-file"), _victim("exited 0", state="dirty file")),
        "srao-early-shm": (mode("early-shm") + " mf.trace=0",
                           _victim("exited 0", state="dirty file")),
        "srao-late-shm": (mode("late-shm"), _victim("exited 0", state="dirty file")),
        "srao-free": (mode("free"), _free_frame),
        "ucna-late": (mode("late"), _victim("exited 0", status=UCNA_STATUS)),
    }
    cmdline, fn = table[case]
    return Test("mf-hmp-" + case + suffix, "direct", smp, cmdline,
                Script(fn, timeout=VICTIM_WAIT_S + 40))


def _srar_rows(smp):
    return [
        Test("mf-hmp-srar-user-smp%d" % smp, "direct", smp, "run=victim:srar",
             Script(_victim("exited 0", mcg_status="0x7", in_user=True, ordered=False),
                    timeout=90)),
        Test("mf-hmp-srar-noripv-smp%d" % smp, "direct", smp, "run=victim:srar",
             Script(_victim("killed by signal 7", mcg_status="0x6", in_user=True,
                            ordered=False), timeout=90)),
    ]


MF_HMP_TESTS = [_rows(case, smp, spin)
                for case in ("srao-early", "srao-late", "srao-early-file", "srao-late-file",
                             "srao-early-shm", "srao-late-shm", "srao-free", "ucna-late")
                for smp in (1, 2) for spin in (True, False)] + _srar_rows(1) + _srar_rows(2)


# ---- threads: who hears of an error in a process of several threads ----
# user/mf_threads.c srar-*/srao-*: a process whose reader thread reads the page (srar) or
# nobody touches it (srao), with an early-kill thread, and a forked child with an early-kill
# thread of its own. For an SRAR the row stops the VM until the reader thread (known by the
# magic value it keeps in r15) runs in user mode on some CPU, and injects on that CPU: the
# reader must get
# BUS_MCEERR_AR and nobody else in its process anything, the child's early thread
# BUS_MCEERR_AO. For an SRAO both early threads get BUS_MCEERR_AO. The program checks it and
# exits 0. Each at 1 and 2 CPUs, with the other threads spinning without syscalls or sleeping.

THREADS_READY = (r"mf_threads: reader r15=(\w+); poison it with: "
                 r"(mce -b 0 1 (\S+) (\S+) (\S+) (\S+))\r?\n")


def _cpu_running_thread(mon, ncpus, magic):
    """With the VM stopped, the CPU in user mode whose r15 holds magic, if any."""
    for cpu in range(ncpus):
        mon.cmd("cpu %d" % cpu)
        regs = mon.cmd("info registers")
        cs = re.search(r"^CS =(\w+)", regs, re.M)
        r15 = re.search(r"R15=(\w+)", regs)
        if cs and int(cs.group(1), 16) & 3 == 3 and r15 and int(r15.group(1), 16) == magic:
            return cpu
    return None


def _threads(smp, srar):
    def fn(m):
        found = m.wait_for(THREADS_READY, 60)
        if not found:
            return False, "mf_threads never printed its address"
        magic, _, st, mcg, addr, misc = found.groups()
        mon = m.monitor()
        cpu = 0
        if srar:
            for _ in range(400):       # stop until the reader thread is caught in user mode
                mon.cmd("stop")
                cpu = _cpu_running_thread(mon, smp, int(magic, 16))
                if cpu is not None:
                    break
                mon.cmd("cont")
                time.sleep(0.02)
            if cpu is None:
                return False, "never caught the reader thread in user mode"
        cmd = "mce -b %d 1 %s %s %s %s" % (cpu, st, mcg, addr, misc)
        mon.cmd(cmd)
        if srar:
            mon.cmd("cont")
        if not m.wait_for(r"^init: done", 60):
            return False, "no verdict after %r" % cmd
        text = m.serial_text()
        if "Kernel panic" in text or "KERNEL FAULT" in text:
            return False, "panic or fault after %r" % cmd
        if not re.search(r"^init: mf_threads exited 0$", text, re.M):
            bad = [ln for ln in text.split("\n") if "mf_threads:" in ln]
            return False, "; ".join(bad[-5:]) or "mf_threads did not exit 0"
        return True, cmd
    return fn


for _kind, _wait in (("srar", "spin"), ("srar", "sleep"), ("srao", "spin"), ("srao", "sleep")):
    for _smp in (1, 2):
        MF_HMP_TESTS.append(Test(
            "mf-hmp-threads-%s-%s-smp%d" % (_kind, _wait, _smp), boot="direct", smp=_smp,
            cmdline="run=mf_threads:%s-%s mf.trace=0" % (_kind, _wait),
            expect=Script(_threads(_smp, _kind == "srar"), timeout=120)))
