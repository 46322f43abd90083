"""The machine facts a real server needs, checked in QEMU (rows named hw-*):

  * topology: the package, core and APIC id of every CPU in /proc/cpuinfo, and the SOCKET and
    APIC of every CPU's machine-check record, against QEMU's own view (QMP query-cpus-fast),
    with the extended topology leaf 0xb (threads), leaf 0x1f (dies) and leaves 1 and 4 (a CPU
    that reports only those); /proc/interrupts' MCE, MCP and THR rows move (user/procinfo.c);
  * wall time: the RTC read at boot and the TIME of a record, with QEMU's clock set to a
    known date (-rtc base=...);
  * kernel symbols: a record's kernel RIP is named {function+off/len}, and that is what nm
    says the address is;
  * scale: 32 and 100 CPUs (past the old limit of 64), a broadcast machine check met by all
    32, 8 GiB of memory with a frame above 4 GiB poisoned and recovered;
  * the console: console=ttyS1,115200n8 moves everything to COM2 (with the log so far), a bad
    console= word is reported and ttyS0 kept; the framebuffer console under OVMF, read back
    with the monitor's screendump and compared cell by cell with the font and the serial log;
  * the boot's recovery-capable summary line on an Intel CPU, with LMCE offered, on an AMD CPU
    and with mce.ser=0.
Hook into the run with `from hw_tests import HW_TESTS` in tests.py.
"""

import calendar
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from driver import KERNEL_ELF, LOG_DIR, ROOT, Ktap, Ready, Script, Test

sys.path.insert(0, str(ROOT / "scripts"))
import mkfont  # noqa: E402  (the font the framebuffer console draws with)

SRAO = "0xbd000000000000c0"
# An SRAO at the AP trampoline's page (0x8000): low memory is never allocated, so
# memory_failure finds a reserved frame and nobody is hurt.
SRAO_ARGS = "0x5 0x8000 0x8c"
RECORD = re.compile(r"\[Hardware Error\]: CPU (\d+): Machine Check.*\n(?:.*\n){0,3}?"
                    r".*PROCESSOR \d+:[0-9a-f]+ TIME (\d+) SOCKET (\d+) APIC ([0-9a-f]+)", re.M)


def _done_ok(m, prog, timeout):
    """init reported prog exited 0 (else the reason: its FAIL lines, or a hang)."""
    if not m.wait_for(r"^.*init: %s (exited|killed)" % prog, timeout):
        return False, "no exit report from %s (hang?)" % prog
    text = m.serial_text()
    if "init: %s exited 0" % prog not in text:
        fails = [ln for ln in text.split("\n") if ln.startswith("FAIL ")]
        return False, "; ".join(fails[:3]) or "%s did not exit 0" % prog
    return True, ""


# ---- topology ----

def _order_bits(n):
    return (n - 1).bit_length()


def _expected_cpus(m, dies, cores, threads):
    """{cpu index: (socket, core id as MCRK numbers it, APIC id)} from QEMU's own view."""
    out = {}
    for c in m.qmp().execute("query-cpus-fast"):
        p = c["props"]
        s, d, k, t = (p.get("socket-id", 0), p.get("die-id", 0), p.get("core-id", 0),
                      p.get("thread-id", 0))
        tb, cb, db = _order_bits(threads), _order_bits(cores), _order_bits(dies)
        apic = (((s << db | d) << cb | k) << tb) | t
        out[c["cpu-index"]] = (s, d << cb | k, apic)   # a core's id counts its die's bits
    return out


def _cpuinfo_matches(text, want):
    got = {int(c): (int(p), int(k), int(a)) for c, p, k, a in
           re.findall(r"procinfo: cpu (\d+) package (\d+) core (\d+) apicid (\d+)", text)}
    if got != want:
        return "cpuinfo says %s, QEMU %s" % (got, want)
    return None


def _topology(dies, cores, threads, leaf, mce):
    def fn(m):
        if not m.wait_for(r"procinfo: cpu \d+ ", 60):
            return False, "procinfo printed no CPU line"
        want = _expected_cpus(m, dies, cores, threads)
        if mce:
            if not m.wait_for(r"procinfo: waiting for a machine check", 60):
                return False, "procinfo did not get to wait for a machine check"
            m.monitor().cmd("mce -b %d 1 %s %s" % (len(want) - 1, SRAO, SRAO_ARGS))
        ok, why = _done_ok(m, "procinfo", 90)
        text = m.serial_text()
        if not ok:
            return ok, why
        bad = _cpuinfo_matches(text, want)
        if bad:
            return False, bad
        if "topology: %d CPUs in 2 packages" % len(want) not in text or leaf not in text:
            return False, "no topology line naming %r" % leaf
        if mce:
            # The CPU named gets the #MC record; QEMU's broadcast leaves the others a bank
            # without EN, which their pollers log within a second or two.
            expect = {c: (s, a) for c, (s, _, a) in want.items()}
            for _ in range(50):
                recs = {int(c): (int(s), int(a, 16))
                        for c, _, s, a in RECORD.findall(m.serial_text())}
                if set(recs) == set(expect):
                    break
                time.sleep(0.1)
            if recs != expect:
                return False, "records say {cpu: (SOCKET, APIC)} %s, QEMU %s" % (recs, expect)
        return True, ""
    return fn


def _topology_row(name, dies, cores, threads, leaf, mce=False, cpu=None):
    """Two sockets of dies x cores x threads each."""
    n = 2 * dies * cores * threads
    topo = "%d,sockets=2,dies=%d,cores=%d,threads=%d" % (n, dies, cores, threads)
    cmd = "run=procinfo:mce mce.fake_cmci=1" if mce else "run=procinfo mce.fake_cmci=1"
    return Test(name, "direct", n, cmd, Script(_topology(dies, cores, threads, leaf, mce),
                                               timeout=150),
                extra=("-smp", topo), qmp=True,
                **({"cpu": cpu} if cpu else {}))


# ---- wall time ----

RTC_BASE = "2030-06-15T12:34:56"


def _rtc_time(m):
    base = calendar.timegm(time.strptime(RTC_BASE, "%Y-%m-%dT%H:%M:%S"))
    if not m.wait_for(r"mcrk: ready", 30):
        return False, "no ready line"
    text = m.serial_text()
    if not re.search(r"rtc: 2030-06-15 12:3[45]:\d\d UTC \(CMOS, BCD, 24-hour\)", text):
        return False, "no rtc line with QEMU's date"
    if not re.search(r"time: TSC \d+\.\d{3} MHz \(from PIT calibration\)", text):
        return False, "the TSC line does not say where its rate came from"
    m.monitor().cmd("mce 0 1 0x9000000000000000 0 0 0")
    if not m.wait_for(r"Bank 1 \(poll\): KEEP", 10):
        return False, "the corrected error was not polled"
    recs = RECORD.findall(m.serial_text())
    if not recs:
        return False, "no record"
    t = int(recs[-1][1])
    if not base <= t <= base + 120:
        return False, "record TIME %d, QEMU's clock started at %d" % (t, base)
    return True, "TIME %d = %s + %ds" % (t, RTC_BASE, t - base)


# ---- kernel symbols ----

def _nm_functions():
    out = subprocess.run(["nm", "-S", str(KERNEL_ELF)], capture_output=True, text=True).stdout
    funcs = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3:  # an assembly label without a size: the kernel prints the gap
            f = [f[0], "0", f[1], f[2]]
        if len(f) == 4 and f[2] in "Tt":
            funcs.setdefault(f[3], []).append((int(f[0], 16), int(f[1], 16)))
    return funcs


def _rip_symbol(m):
    if not m.wait_for(r"mcrk: ready", 30):
        return False, "no ready line"
    m.monitor().cmd("mce -b 0 1 %s %s" % (SRAO, SRAO_ARGS))
    got = m.wait_for(r"RIP !INEXACT! 10:<([0-9a-f]{16})> \{(\w+)\+0x([0-9a-f]+)/0x([0-9a-f]+)\}",
                     15)
    if not got:
        return False, "no kernel RIP line with a {function+off/len}"
    ip, name, off, size = int(got.group(1), 16), got.group(2), int(got.group(3), 16), \
        int(got.group(4), 16)
    for start, length in _nm_functions().get(name, []):
        if start + off == ip and (length == size or length == 0):
            return True, "%s+%#x/%#x" % (name, off, size)
    return False, "nm does not put %#x at %s+%#x/%#x" % (ip, name, off, size)


# ---- scale ----

def _broadcast_32(m):
    if not m.wait_for(r"mcrk: ready \(32 CPUs", 120):
        return False, "not ready with 32 CPUs"
    m.monitor().cmd("mce -b 31 1 %s %s" % (SRAO, SRAO_ARGS))
    if not m.wait_for(r"CPU 31 Bank 1 \(#MC\): AO", 120):
        return False, "no AO record from CPU 31"
    time.sleep(1)
    text = m.serial_text()
    cpus = {int(c) for c, _, _, _ in RECORD.findall(text)}
    if cpus != set(range(32)):
        return False, "records from CPUs %s, want all 32" % sorted(cpus)
    if "Timeout" in text or "Kernel panic" in text:
        return False, "the rendezvous timed out"
    return True, ""


def _mem_8g(m):
    if not m.wait_for(r"mcrk: ready", 60):
        return False, "no ready line"
    text = m.serial_text()
    if not re.search(r"mem: 838\d{4} KiB total", text):
        return False, "not 8 GiB of memory"
    m.monitor().cmd("mce -b 0 1 %s 0x5 0x1f0000000 0x8c" % SRAO)
    want = r"memory_failure: pfn 0x1f0000: free .* recovered"
    if not m.wait_for(want, 30):
        return False, "no recovery of pfn 0x1f0000 (7.75 GiB)"
    return True, ""


# ---- consoles ----

COM2_LOG = LOG_DIR / "hw-console-ttys1.com2.log"


def _console_ttys1(m):
    deadline = time.monotonic() + 60
    com2 = ""
    while time.monotonic() < deadline and "init: done" not in com2:
        time.sleep(0.2)
        com2 = COM2_LOG.read_text(errors="replace").replace("\r", "") if COM2_LOG.exists() else ""
    com1 = m.serial_text()
    for want in ("MCRK: machine-check recovery kernel", "console: output to ttyS1,115200n8",
                 "mcrk: ready", "init: hello exited 0"):
        if want not in com2:
            return False, "COM2 lacks %r" % want
    if "console: output to ttyS1,115200n8" not in com1 or "mcrk: ready" in com1:
        return False, "COM1 should stop at the switch to ttyS1"
    COM2_LOG.unlink()
    return True, ""


def _screen_text(ppm):
    """The text on a screendump (PPM), decoded cell by cell against the font: a list of rows
    (trailing blanks cut), or raise ValueError for a cell that is no character in grey."""
    head, rest = ppm.split(b"\n", 1)
    dims, rest = rest.split(b"\n", 1)
    _maxval, px = rest.split(b"\n", 1)
    w, h = map(int, dims.split())
    glyphs = {tuple(rows): chr(cp) for cp, rows in sorted(mkfont.cells().items(), reverse=True)}
    fg, rows = b"\xaa\xaa\xaa", []
    for r in range(h // 16):
        line = ""
        for c in range(w // 8):
            cell = []
            for y in range(16):
                o = ((r * 16 + y) * w + c * 8) * 3
                bits = 0
                for x in range(8):
                    p = px[o + 3 * x:o + 3 * x + 3]
                    if p == fg:
                        bits |= 0x80 >> x
                    elif p != b"\0\0\0":
                        raise ValueError("pixel %r at cell %d,%d" % (p, r, c))
                cell.append(bits)
            if tuple(cell) not in glyphs:
                raise ValueError("cell %d,%d is no character" % (r, c))
            line += glyphs[tuple(cell)]
        rows.append(line.rstrip())
    return rows


def _expected_screen(serial, cols, rows):
    """The last rows of the kernel's output as the console wraps it at cols."""
    text = serial[serial.index("[    0.000000] MCRK:"):]
    lines = []
    for line in text.split("\n"):
        lines += [line[i:i + cols] for i in range(0, max(len(line), 1), cols)] or [""]
    return [ln.rstrip() for ln in lines[-rows:]]


def _fbcon_uefi(m):
    if not m.wait_for(r"^init: done", 180):
        return False, "init did not finish"
    got = m.wait_for(r"fbcon: (\d+)x(\d+) characters", 1)
    if not got:
        return False, "no framebuffer console line"
    cols, rows = int(got.group(1)), int(got.group(2))
    time.sleep(1)
    shot = LOG_DIR / "hw-fbcon-uefi.ppm"
    m.monitor().cmd("screendump %s" % shot)
    for _ in range(50):
        if shot.exists() and shot.stat().st_size > (cols * 8) * (rows * 16) * 3:
            break
        time.sleep(0.1)
    try:
        screen = _screen_text(shot.read_bytes())
    except (ValueError, OSError) as e:
        return False, "screen does not decode: %s" % e
    want = _expected_screen(m.serial_text(), cols, rows)
    if len(want) < rows:
        return False, "only %d lines of output: the screen never scrolled" % len(want)
    if screen != want:
        diff = [(i, s, w) for i, (s, w) in enumerate(zip(screen, want)) if s != w]
        return False, "screen row %d is %r, want %r" % diff[0]
    shot.unlink()
    return True, "%dx%d characters, scrolled" % (cols, rows)


def _summary(pattern):
    return Ready(also=(pattern,))


HW_TESTS = [
    _topology_row("hw-topology-threads", 1, 2, 2, "from CPUID leaf 0xb", mce=True),
    _topology_row("hw-topology-dies", 2, 2, 1, "from CPUID leaf 0x1f"),
    _topology_row("hw-topology-legacy-leaves", 1, 2, 2, "from CPUID leaves 1 and 4",
                  cpu="max,vendor=GenuineIntel,level=4"),
    Test("hw-rtc-time", "direct", 1, "", Script(_rtc_time, timeout=60),
         extra=("-rtc", "base=%s,clock=vm" % RTC_BASE)),
    Test("hw-ksyms-rip", "direct", 2, "run=hello", Script(_rip_symbol, timeout=60)),
    Test("hw-smp32-ktest", "direct", 32, "test=smp,pt", Ktap(timeout=900), ktest=True),
    Test("hw-smp100-boot", "direct", 100, "",
         Ready(cpus=100, timeout=240, also=(r"topology: 100 CPUs in 1 package",))),
    Test("hw-smp32-mce-broadcast", "direct", 32, "mce.monarch_timeout_ms=60000",
         Script(_broadcast_32, timeout=300)),
    Test("hw-mem8g", "direct", 2, "", Script(_mem_8g, timeout=90), mem="8G"),
    Test("hw-console-ttys1", "direct", 1, "console=ttyS1,115200n8 run=hello",
         Script(_console_ttys1, timeout=90), extra=("-serial", "file:%s" % COM2_LOG)),
    Test("hw-console-bad", "direct", 1, "console=ttyS7,115201",
         Ready(also=(r'console: "ttyS7,115201" not understood: serial ports are ttyS0 to '
                     r'ttyS3; using ttyS0,115200n8',
                     r"console: output to ttyS0,115200n8 \(the default\)"))),
    Test("hw-fbcon-uefi", "uefi", 2, "run=" + ",".join(["hello"] * 10),
         Script(_fbcon_uefi, timeout=240), extra=("-vga", "std")),
    Test("hw-summary-intel", "direct", 1, "", _summary(
        r"mce: recovery-capable: yes \(MCG_CAP 0x100010a has SER_P; 10 banks; LMCE not "
        r"supported \(broadcast only\); CMCI not supported: corrected errors by polling; "
        r"EINJ ")),
    Test("hw-summary-lmce-offered", "direct", 1, "", _summary(
        r"recovery-capable: yes \(MCG_CAP 0x900010a has SER_P; 10 banks; LMCE offered but "
        r"not enabled by the firmware"), cpu="max,vendor=GenuineIntel,lmce=on"),
    Test("hw-summary-amd", "direct", 1, "", _summary(
        r"recovery-capable: no \(not an Intel CPU"), cpu="max"),
    Test("hw-summary-ser0", "direct", 1, "mce.ser=0", _summary(
        r"recovery-capable: no \(SER_P ignored \(mce.ser=0\)")),
]
