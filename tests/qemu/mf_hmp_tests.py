"""Machine checks injected from the host into a running user program.

demo/victim.c fills a page, prints its physical address (from /proc/self/pagemap) and the
monitor command that poisons it, then keeps reading the page. Each row boots -smp 2, waits
for that line and injects with QEMU's HMP `mce -b` (broadcast, as Intel reports these):
  SRAO (memory scrub 0xc0, MCG_STATUS RIPV|MCIP): early kill -> BUS_MCEERR_AO at once,
       late kill -> BUS_MCEERR_AR on the next read;
  SRAR (data load 0x134) while the victim runs in user mode on the CPU we inject into
       (the VM is stopped and `info registers` shows CPL 3 first): with RIPV|EIPV the task
       takes BUS_MCEERR_AR in its handler; with EIPV only it cannot resume and dies of SIGBUS.
Every row also requires the frame to be isolated ("recovered") and no panic.
"""
import re
import time

from driver import Script, Test

READY = r"victim: poison it from the QEMU monitor with: (mce -b 0 1 (\S+) (\S+) (\S+) (\S+))"


def _cpu_in_user_mode(mon, ncpus=2):
    """With the VM stopped, the CPU (if any) whose CS says ring 3."""
    for cpu in range(ncpus):
        mon.cmd("cpu %d" % cpu)
        regs = mon.cmd("info registers")
        cs = re.search(r"^CS =(\w+)", regs, re.M)
        if cs and int(cs.group(1), 16) & 3 == 3:
            return cpu
    return None


def _inject(m, mcg_status=None, status=None, in_user=False, ready=READY):
    found = m.wait_for(ready, 60)
    if not found:
        return None, "victim never printed its address"
    _, st, mcg, addr, misc = found.groups()
    st, mcg = status or st, mcg_status or mcg
    mon = m.monitor()
    cpu = 0
    if in_user:
        for _ in range(200):           # stop until the victim is caught in user mode
            mon.cmd("stop")
            cpu = _cpu_in_user_mode(mon)
            if cpu is not None:
                break
            mon.cmd("cont")
            time.sleep(0.02)
        if cpu is None:
            return None, "never caught the victim in user mode"
    cmd = "mce -b %d 1 %s %s %s %s" % (cpu, st, mcg, addr, misc)
    mon.cmd(cmd)
    if in_user:
        mon.cmd("cont")
    return cmd, None


def _victim(verdict, mcg_status=None, status=None, in_user=False):
    def fn(m):
        cmd, err = _inject(m, mcg_status, status, in_user)
        if err:
            return False, err
        if not m.wait_for(r"^init: done", 30):
            return False, "no verdict after %r" % cmd
        # memory_failure signals the mappers before it prints its outcome line, so on the
        # worker's CPU that line can come after the victim exited and init said "done".
        isolated = m.wait_for(r"memory_failure: pfn \S+: anonymous user page: recovered", 10)
        text = m.serial_text()
        if "Kernel panic" in text or "KERNEL FAULT" in text:
            return False, "panic or fault after %r" % cmd
        if not isolated:
            return False, "the frame was not isolated after %r" % cmd
        if not re.search(r"^init: victim " + re.escape(verdict) + "$", text, re.M):
            got = re.search(r"^init: victim .*$", text, re.M)
            return False, "want 'victim %s', got %r" % (verdict, got and got.group(0))
        return True, cmd
    return fn


ROW = dict(boot="direct", smp=2)
MF_HMP_TESTS = [
    # mf.trace=0: between unmapping and signalling, a victim that reads its page would take
    # the late-kill AR instead of the early AO (legitimately, on Linux too); without the
    # per-step console lines that window is microseconds instead of a millisecond.
    Test("mf-hmp-srao-early", cmdline="run=victim:early mf.trace=0",
         expect=Script(_victim("exited 0")), **ROW),
    Test("mf-hmp-srao-late", cmdline="run=victim:late", expect=Script(_victim("exited 0")), **ROW),
    Test("mf-hmp-srar-user", cmdline="run=victim:srar",
         expect=Script(_victim("exited 0", mcg_status="0x7", in_user=True), timeout=90), **ROW),
    Test("mf-hmp-srar-noripv", cmdline="run=victim:srar",
         expect=Script(_victim("killed by signal 7", mcg_status="0x6", in_user=True), timeout=90),
         **ROW),
]


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
                 r"(mce -b 0 1 (\S+) (\S+) (\S+) (\S+))")


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


for _kind, _wait in (("srar", "spin"), ("srar", "sleep"), ("srao", "sleep")):
    for _smp in (1, 2):
        MF_HMP_TESTS.append(Test(
            "mf-hmp-threads-%s-%s-smp%d" % (_kind, _wait, _smp), boot="direct", smp=_smp,
            cmdline="run=mf_threads:%s-%s mf.trace=0" % (_kind, _wait),
            expect=Script(_threads(_smp, _kind == "srar"), timeout=120)))
