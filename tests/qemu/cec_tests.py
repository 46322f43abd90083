"""The corrected-error collector (docs/mca.md, "The corrected-error collector"): user/cec.c in
each of its modes, at 1 and 2 CPUs.

  * cec-sw-{spin,sleep}-smp{1,2}: a victim that spins without syscalls (or sleeps between
    passes) over its page; corrected errors at that page through the software injector (CMCI
    and poll, both CPUs; mce.fake_cmci=1 gives QEMU a CMCI handler): one fewer than
    action_threshold (100 for the spinning victim, Linux's default 1023 for the sleeping one)
    change nothing, the next soft-offlines the page: no signal, every word intact, a new
    frame, HardwareCorrupted + 4 kB, a CMCI storm on the way.
  * cec-hmp-{spin,sleep}-smp{1,2}: the same with action_threshold 10 and the errors injected
    from the host with QEMU's `mce` (a corrected error only fills the bank; the poller, every
    mce.poll_ms=50, finds it). The program prints each command and waits until the kernel
    took the error from the bank; this script sends it.
  * cec-files-smp{1,2}: the ras/cec files, decay and forgetting, the bound, ignored errors,
    /sys/devices/system/memory/{soft,hard}_offline_page.
  * cec-disabled-smp{1,2}: ras=cec_disable.
Every row fails on a panic or kernel fault (mf_tests._program_exits_0).
"""
import re

from driver import Script, Test
from mf_tests import _program_exits_0

# The whole line, newline included: the serial log may hold half of it when it is read.
INJECT = r"^cec: inject CE %d with: (mce [^\n]*)\n"


def _hmp(mode):
    """Send each `mce` command the program asks for, then judge how it ended."""
    def fn(m):
        k = 0
        while True:
            k += 1
            rx = r"(%s|^init: cec (exited|killed))" % (INJECT % k)
            found = m.wait_for(rx, 90)
            if not found:
                return False, "the program never asked for corrected error %d" % k
            if found.group(0).startswith("init:"):
                break
            cmd = re.match(INJECT % k, found.group(0)).group(1)
            reply = m.monitor().cmd(cmd)
            if reply.strip():
                return False, "%r: the monitor said %r" % (cmd, reply.strip())
        if k - 1 != 10:
            return False, "%d corrected errors injected, the threshold is 10" % (k - 1)
        return _program_exits_0("cec:" + mode, 30)(m)
    return fn


def _row(name, smp, mode, extra="", timeout=240, script=None):
    return Test(name, "direct", smp, ("run=cec:%s %s" % (mode, extra)).strip(),
                Script(script or _program_exits_0("cec:" + mode, timeout), timeout=timeout))


CEC_TESTS = []
for _smp in (1, 2):
    for _how in ("spin", "sleep"):
        CEC_TESTS.append(_row("cec-sw-%s-smp%d" % (_how, _smp), _smp, "sw-" + _how,
                              "mce.fake_cmci=1"))
        CEC_TESTS.append(_row("cec-hmp-%s-smp%d" % (_how, _smp), _smp, "hmp-" + _how,
                              "mce.poll_ms=50", script=_hmp("hmp-" + _how)))
    CEC_TESTS.append(_row("cec-files-smp%d" % _smp, _smp, "files"))
    CEC_TESTS.append(_row("cec-disabled-smp%d" % _smp, _smp, "disabled", "ras=cec_disable",
                          timeout=90))
