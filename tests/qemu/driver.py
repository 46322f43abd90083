#!/usr/bin/env python3
"""Boots MCRK in QEMU (or Bochs) for a test and judges what the serial console says.

A `Config` says how to boot: directly with `-kernel build/mcrk.elf -append CMDLINE -initrd
build/initrd.cpio` (PVH note; fastest; a row's extra= may give its own -initrd; ktest=True
boots the test build build/mcrk-test.elf instead, which has the in-kernel tests), from the
GRUB ISO under SeaBIOS (`bios`) or under OVMF UEFI firmware (`uefi`), or the ISO in Bochs
(`bochs`, through scripts/bochs.sh). A `Machine` starts one emulator with its serial
console in build/test-logs/NAME.log, an HMP monitor on a unix
socket (`Machine.monitor()` sends commands such as `mce -b 0 1 0xb... 0x5 0x1000 0x86`,
`stop`, `cont`, `info registers`) and optionally a QMP socket. An expectation (`Ready`,
`Ktap`, `Panic`) waits for its sentinels with a deadline, a timeout being a hang and so a
failure, and returns a verdict. `run_tests` runs a table of `Test`s in parallel, keeps the
logs of failures and deletes those of passes. Standard library only.

CLI:  driver.py list | run [-j N] [--keep-logs] [PATTERN...] |
      boot [--boot direct|bios|uefi|bochs] [--smp N] [--mem M] [--append CMDLINE] [--timeout S]
           [--ktest] [--until REGEX]
"""

import argparse
import dataclasses
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("MCRK_BUILD", ROOT / "build"))   # override: test the harness
LOG_DIR = BUILD / "test-logs"
KERNEL_ELF = BUILD / "mcrk.elf"
KTEST_ELF = BUILD / "mcrk-test.elf"  # the same kernel plus tests/ktest/ (direct boots only)
KERNEL_ISO = BUILD / "mcrk.iso"
INITRD = BUILD / "initrd.cpio"   # every direct boot gets it (-initrd) unless extra= has one
BOCHS_SCRIPT = ROOT / "scripts" / "bochs.sh"
GRUB_CFG = ROOT / "boot" / "grub.cfg"
GRUB_KERNEL_LINE = "multiboot2 /boot/mcrk.elf"
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")

# Debian 12's ovmf ships split code/vars images (vars must be a writable copy) and, as a
# fallback, one combined image.
OVMF_SPLIT = (Path("/usr/share/OVMF/OVMF_CODE.fd"), Path("/usr/share/OVMF/OVMF_VARS.fd"))
OVMF_COMBINED = Path("/usr/share/ovmf/OVMF.fd")

# What the kernel prints (see the boot contract in README.md).
READY = "mcrk: ready"
PANIC = "Kernel panic - not syncing"
FAULT = "KERNEL FAULT"

# isa-debug-exit: the kernel writes code c to port 0xf4 and QEMU exits with (c << 1) | 1.
DEBUG_EXIT_DEVICE = "isa-debug-exit,iobase=0xf4,iosize=0x04"
EXIT_PASS, EXIT_TESTS_FAILED, EXIT_PANIC = 1, 3, 7

POLL_S = 0.05
TAIL_LINES = 25


@dataclass
class Config:
    """How to boot one machine."""
    boot: str = "direct"          # direct | bios | uefi | bochs
    smp: int = 1
    mem: str = "256M"
    cmdline: str = ""             # direct boots; a GRUB or Bochs boot with one gets its own ISO
                                  # (BIOS/UEFI boots use boot/grub.cfg as it is)
    cpu: str = "max,vendor=GenuineIntel"
    extra: tuple = ()             # more QEMU arguments (Bochs: more scripts/bochs.sh ones)
    qmp: bool = False             # also open a QMP socket
    ktest: bool = False           # boot the test build (in-kernel tests; direct boots only)
    serial_in: bool = False       # QEMU: the serial line also takes input (Machine.type)


class Monitor:
    """QEMU's human monitor (HMP) over a unix socket: send a command, get its reply text."""
    PROMPT = b"(qemu) "

    def __init__(self, path, timeout=10.0):
        self.sock = _connect_unix(path, timeout)
        self.buf = b""
        self._read_until_prompt(timeout)     # banner

    def _read_until_prompt(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.buf.endswith(self.PROMPT):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no monitor prompt; got %r" % self.buf[-200:])
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("monitor closed")
            self.buf += chunk
        out, self.buf = self.buf[:-len(self.PROMPT)], b""
        return out.decode(errors="replace")

    def cmd(self, line, timeout=10.0):
        """Runs one HMP command; returns its output without the echoed command line."""
        self.sock.sendall(line.encode() + b"\n")
        text = self._read_until_prompt(timeout).replace("\r", "")
        # The monitor echoes the command (redrawn with escape codes) on the first line.
        return text.split("\n", 1)[1].strip("\n") if "\n" in text else ""

    def close(self):
        self.sock.close()


class Qmp:
    """QEMU's machine protocol (QMP) over a unix socket; events are kept in `events`."""

    def __init__(self, path, timeout=10.0):
        self.sock = _connect_unix(path, timeout)
        self.file = self.sock.makefile("rwb", buffering=0)
        self.events = []
        self.next_id = 0
        self._read(timeout)                  # greeting
        self.execute("qmp_capabilities")

    def _read(self, timeout):
        self.sock.settimeout(timeout)
        line = self.file.readline()
        if not line:
            raise ConnectionError("QMP closed")
        return json.loads(line)

    def execute(self, command, timeout=10.0, **arguments):
        """Runs one QMP command; returns its "return" value, raises RuntimeError on error."""
        self.next_id += 1
        msg = {"execute": command, "id": self.next_id}
        if arguments:
            msg["arguments"] = arguments
        self.file.write(json.dumps(msg).encode() + b"\n")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(max(deadline - time.monotonic(), 0.01))
            if "event" in reply:
                self.events.append(reply)
            elif reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError("QMP %s: %s" % (command, reply["error"]))
                return reply.get("return")

    def hmp(self, line, timeout=10.0):
        """Runs an HMP command through QMP (human-monitor-command)."""
        return self.execute("human-monitor-command", timeout, **{"command-line": line})

    def close(self):
        self.sock.close()


def _connect_unix(path, timeout):
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(path))
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(POLL_S)


def snapshot_images(dest, images=(KERNEL_ELF, KERNEL_ISO)):
    """Copies build products into folder `dest`; returns {file name: copy's path}. Booting
    copies means a `make` running meanwhile cannot change a disk under an emulator, and
    every test of one run boots the same build."""
    copies = {}
    for image in images:
        if not image.exists():
            raise FileNotFoundError("%s is missing: run make %s" % (
                image, "build/mcrk-test.elf" if image == KTEST_ELF else ""))
        copies[image.name] = os.path.join(dest, image.name)
        shutil.copyfile(image, copies[image.name])
    return copies


def ovmf_images(vars_copy):
    """Returns pflash -drive arguments for OVMF, copying the vars image to `vars_copy`."""
    code, vars_src = OVMF_SPLIT
    if code.exists() and vars_src.exists():
        shutil.copyfile(vars_src, vars_copy)
        return ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=%s" % code,
                "-drive", "if=pflash,format=raw,unit=1,file=%s" % vars_copy]
    if OVMF_COMBINED.exists():
        return ["-bios", str(OVMF_COMBINED)]
    raise FileNotFoundError("no OVMF firmware (install Debian's ovmf)")


class Machine:
    """One emulator run: start(), then read serial_text() / monitor(), then stop()."""

    def __init__(self, name, config, log_dir=LOG_DIR, images=None):
        self.name, self.config = name, config
        self.images = dict(images or {})     # file name -> path of the copy to boot
        self.log_dir = Path(log_dir)
        self.serial_log = self.log_dir / (name + ".log")
        self.emu_log = self.log_dir / (name + ".qemu.log")
        self.sock_dir = None
        self.proc = None
        self._mon = None
        self._qmp = None
        self._serial = None

    def log_files(self):
        """Every file this run writes under the log folder."""
        base = self.log_dir / self.name
        return [self.serial_log, self.emu_log] + [
            Path(str(base) + ext) for ext in
            (".stderr", ".vars.fd", ".bochsrc", ".bochsrc.cmds", ".qemu.log.stdout")]

    def _image(self, image):
        """This run's copy of a build product (see snapshot_images)."""
        if image.name not in self.images:
            self.images.update(snapshot_images(self.sock_dir, [image]))
        return self.images[image.name]

    def _qemu_argv(self):
        c = self.config
        mon = os.path.join(self.sock_dir, "mon")
        argv = [QEMU, "-cpu", c.cpu, "-smp", str(c.smp), "-m", c.mem,
                "-display", "none", "-vga", "none", "-net", "none", "-no-reboot",
                ] + self._serial_argv() + [
                "-monitor", "unix:%s,server=on,wait=off" % mon,
                "-device", DEBUG_EXIT_DEVICE,
                "-d", "guest_errors,cpu_reset", "-D", str(self.emu_log)]
        if c.qmp:
            argv += ["-qmp", "unix:%s,server=on,wait=off" % os.path.join(self.sock_dir, "qmp")]
        if c.ktest and c.boot != "direct":
            raise ValueError("the test build of the kernel boots directly only")
        if c.boot == "direct":
            kernel = KTEST_ELF if c.ktest else KERNEL_ELF
            argv += ["-kernel", self._image(kernel), "-append", c.cmdline]
            if "-initrd" not in c.extra and INITRD.exists():
                argv += ["-initrd", self._image(INITRD)]
        elif c.boot in ("bios", "uefi"):
            iso = self._iso_with_cmdline(c.cmdline) if c.cmdline else self._image(KERNEL_ISO)
            argv += ["-cdrom", iso, "-boot", "d"]
            if c.boot == "uefi":
                argv += ovmf_images(self.log_dir / (self.name + ".vars.fd"))
        else:
            raise ValueError("unknown boot kind %r" % c.boot)
        return argv + list(c.extra)

    def _serial_argv(self):
        """COM1 into the serial log; with serial_in, through a unix socket that type() writes
        to (QEMU's logfile= keeps the log as -serial file: would)."""
        if not self.config.serial_in:
            return ["-serial", "file:%s" % self.serial_log]
        sock = os.path.join(self.sock_dir, "serial")
        return ["-chardev", "socket,id=com1,path=%s,server=on,wait=off,logfile=%s"
                % (sock, self.serial_log), "-serial", "chardev:com1"]

    def type(self, text, delay=0.02):
        """Sends `text` to the guest's serial line (serial_in machines), one byte at a time
        like a person typing, so the UART's 16-byte FIFO never overflows."""
        if self._serial is None:
            self._serial = _connect_unix(os.path.join(self.sock_dir, "serial"), 10.0)
            threading.Thread(target=self._drain_serial, daemon=True).start()
        for b in text.encode():
            self._serial.sendall(bytes([b]))
            time.sleep(delay)

    def _drain_serial(self):
        """Reads and drops what the socket echoes (the log file has it), so QEMU never
        blocks on a full socket."""
        try:
            while self._serial.recv(65536):
                pass
        except OSError:
            pass

    def _iso_with_cmdline(self, cmdline):
        """A GRUB ISO like `make`'s whose kernel line carries `cmdline` (built with
        grub-mkrescue in this run's temporary folder, from this run's image copies)."""
        tree = os.path.join(self.sock_dir, "iso")
        os.makedirs(os.path.join(tree, "boot", "grub"))
        for image in (KERNEL_ELF, INITRD):
            shutil.copyfile(self._image(image), os.path.join(tree, "boot", image.name))
        cfg = GRUB_CFG.read_text()
        if GRUB_KERNEL_LINE not in cfg:
            raise ValueError("%s has no %r line" % (GRUB_CFG, GRUB_KERNEL_LINE))
        cfg = cfg.replace(GRUB_KERNEL_LINE, GRUB_KERNEL_LINE + " " + cmdline)
        with open(os.path.join(tree, "boot", "grub", "grub.cfg"), "w") as f:
            f.write(cfg)
        iso = os.path.join(self.sock_dir, "cmdline.iso")
        subprocess.run(["grub-mkrescue", "-o", iso, tree], check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return iso

    def _bochs_argv(self):
        c = self.config
        iso = self._iso_with_cmdline(c.cmdline) if c.cmdline else self._image(KERNEL_ISO)
        return ["bash", str(BOCHS_SCRIPT), "--quiet", "--timeout", "900",
                "--smp", str(c.smp), "--iso", iso,
                "--serial", str(self.serial_log),
                "--rc", str(self.log_dir / (self.name + ".bochsrc")),
                "--log", str(self.emu_log)] + list(c.extra)

    def start(self):
        """Starts the emulator; raises if it cannot be started."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for f in self.log_files():
            f.unlink(missing_ok=True)
        self.serial_log.touch()
        self.sock_dir = tempfile.mkdtemp(prefix="mcrk-")
        try:
            argv = self._bochs_argv() if self.config.boot == "bochs" else self._qemu_argv()
        except Exception:
            self.stop()
            raise
        self.stderr_path = self.log_dir / (self.name + ".stderr")
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err,
                                         stderr=subprocess.STDOUT, cwd=ROOT,
                                         start_new_session=True)
        return self

    def serial_text(self):
        """Everything the serial console printed so far, with CR removed."""
        try:
            data = self.serial_log.read_bytes()
        except FileNotFoundError:
            return ""
        return data.decode(errors="replace").replace("\r", "")

    def exit_status(self):
        """The emulator's exit status, or None while it runs."""
        return self.proc.poll()

    def wait_for(self, pattern, timeout):
        """Waits until the serial text matches `pattern` (a regex) or the emulator exits.

        Returns the match or None (timed out or exited first)."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.serial_text())
            if m or self.proc.poll() is not None:
                return m or rx.search(self.serial_text())
            if time.monotonic() > deadline:
                return None
            time.sleep(POLL_S)

    def wait_exit(self, timeout):
        """Waits for the emulator to exit; returns its status or None on timeout."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def monitor(self):
        """The HMP monitor (QEMU only), connected on first use."""
        if self._mon is None:
            self._mon = Monitor(os.path.join(self.sock_dir, "mon"))
        return self._mon

    def qmp(self):
        """The QMP connection (needs Config.qmp), connected on first use."""
        if self._qmp is None:
            self._qmp = Qmp(os.path.join(self.sock_dir, "qmp"))
        return self._qmp

    def stop(self):
        """Kills the emulator (its whole process group) if it still runs; cleans sockets."""
        for conn in (self._mon, self._qmp):
            if conn:
                conn.close()
        if self._serial:
            self._serial.close()
        if self.proc and self.proc.poll() is None:
            try:    # Bochs ignores SIGTERM; QEMU gets the chance to flush its logs
                sig = signal.SIGKILL if self.config.boot == "bochs" else signal.SIGTERM
                os.killpg(self.proc.pid, sig)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        if self.sock_dir:
            shutil.rmtree(self.sock_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---- expectations: each waits on a running machine and returns (ok, reason) ----

def _trouble(text):
    """A failure sentinel line in the serial text, or None."""
    for sentinel in (PANIC, FAULT):
        i = text.find(sentinel)
        if i >= 0:
            return text[i:].split("\n", 1)[0].strip()
    return None


def _describe_exit(m, status):
    if m.config.boot == "bochs":
        panic = re.search(r">>PANIC<<.*", _read(m.emu_log))
        return "Bochs stopped: " + panic.group(0) if panic else "Bochs exited (%s)" % status
    if status == 0 and "Triple fault" in _read(m.emu_log):
        return "triple fault (QEMU reset)"
    if status == 0:
        return "emulator exited 0 (reset or shutdown)"
    return "emulator exited with status %s" % status


def _read(path):
    try:
        return Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return ""


@dataclass
class Ready:
    """The boot reaches the `mcrk: ready` line, reporting `cpus` CPUs when given."""
    cpus: int = None
    timeout: float = 30.0
    also: tuple = ()         # more regexes the serial text must match once ready

    def judge(self, m):
        rx = r"^.*(%s.*\n|%s|%s)" % (re.escape(READY), re.escape(PANIC), re.escape(FAULT))
        # An emulator that exited may have cut the ready line's end off: accept it then.
        if not m.wait_for(rx, self.timeout) and READY not in m.serial_text():
            if m.exit_status() is not None:
                return False, _describe_exit(m, m.exit_status()) + " before ready"
            return False, "timeout after %gs: no ready line (hang)" % self.timeout
        time.sleep(0.3)          # let the lines after the ready line arrive
        text = m.serial_text()
        trouble = _trouble(text)
        if trouble:
            return False, trouble
        line = next(ln for ln in text.split("\n") if READY in ln)
        if self.cpus is not None:
            got = re.search(r"\b(\d+) CPUs?\b", line)
            if not got:
                return False, "ready line gives no CPU count: %r" % line.strip()
            if int(got.group(1)) != self.cpus:
                return False, "%s CPUs, expected %d" % (got.group(1), self.cpus)
        for pattern in self.also:
            if not re.search(pattern, text, re.M):
                return False, "no match for %r" % pattern
        return True, ""


KTAP_TIMESTAMP = re.compile(r"^\[\s*[\d.]+\]\s?")     # a printk time stamp, if any


def parse_ktap(text):
    """Parses KTAP from serial text. Returns (docs, failed): docs is one [plan, results] per
    top-level "KTAP version" header (plan None if missing; results the top-level
    (ok, number, name) lines), failed the names of `not ok` lines at any depth. A result
    marked `# SKIP` counts as ok."""
    docs, failed = [], []
    for raw in text.split("\n"):
        line = KTAP_TIMESTAMP.sub("", raw.rstrip())
        if re.match(r"^KTAP version \d+$", line):
            docs.append([None, []])
            continue
        if not docs:
            continue
        m = re.match(r"^(\s*)(not ok|ok) (\d+)\s*-?\s*(.*)$", line)
        if m:
            name = m.group(4)
            ok = m.group(2) == "ok" or re.search(r"#\s*SKIP", name, re.I) is not None
            if not ok:
                failed.append(name)
            if not m.group(1):
                docs[-1][1].append((ok, int(m.group(3)), name))
            continue
        p = re.match(r"^1\.\.(\d+)$", line)
        if p and docs[-1][0] is None:
            docs[-1][0] = int(p.group(1))
    return docs, failed


@dataclass
class Ktap:
    """An in-kernel KTAP suite runs to completion: every result ok, exit status 1; and the
    serial text matches each regex of `also`."""
    timeout: float = 120.0
    also: tuple = ()

    def judge(self, m):
        status = m.wait_exit(self.timeout)
        text = m.serial_text()
        if status is None:
            return False, "timeout after %gs (hang)" % self.timeout
        trouble = _trouble(text)
        if trouble:
            return False, trouble
        docs, failed = parse_ktap(text)
        if not docs:
            return False, "no KTAP header; " + _describe_exit(m, status)
        if failed:
            return False, "not ok: " + ", ".join(failed[:5])
        for plan, results in docs:
            if plan is None or len(results) != plan:
                return False, "plan 1..%s but %d results" % (plan, len(results))
        if sum(len(results) for _, results in docs) == 0:
            return False, "no test ran (1..0)"
        if status != EXIT_PASS:
            return False, _describe_exit(m, status) + ", expected %d" % EXIT_PASS
        for pattern in self.also:
            if not re.search(pattern, text, re.M):
                return False, "no line matches %r" % pattern
        return True, ""


@dataclass
class Panic:
    """The kernel panics on purpose: the panic line (matching `reason` when given) and, on
    QEMU, exit status 7."""
    reason: str = ""
    timeout: float = 60.0

    def judge(self, m):
        rx = "%s.*%s" % (re.escape(PANIC), self.reason)
        if m.config.boot == "bochs":
            found = m.wait_for(rx, self.timeout)
            return (True, "") if found else (False, "no panic line matching %r" % rx)
        status = m.wait_exit(self.timeout)
        if status is None:
            return False, "timeout after %gs (hang)" % self.timeout
        text = m.serial_text()
        if FAULT in text:
            return False, _trouble(text)
        if not re.search(rx, text):
            return False, "no panic line matching %r; %s" % (rx, _describe_exit(m, status))
        if status != EXIT_PANIC:
            return False, _describe_exit(m, status) + ", expected %d" % EXIT_PANIC
        return True, ""


@dataclass
class Fault:
    """An unexpected kernel exception on purpose: the `KERNEL FAULT: ` report naming
    `exception` (e.g. "page fault"), the register dump, then the panic line and, on QEMU,
    exit status 7. With `symbol`, the report's RIP must be named {symbol+0x..../0x....}
    (include/ksyms.h)."""
    exception: str
    timeout: float = 60.0
    symbol: str = ""

    def judge(self, m):
        status = m.wait_exit(self.timeout)
        if status is None:
            return False, "timeout after %gs (hang)" % self.timeout
        text = m.serial_text()
        report = re.search(r"%s: %s .*\n(?:.*\n)*?.*RIP: .*\n" % (
            re.escape(FAULT), re.escape(self.exception)), text)
        if not report:
            return False, "no %r report with registers; %s" % (
                FAULT + ": " + self.exception, _describe_exit(m, status))
        if not re.search(r"%s: fatal %s in kernel mode" % (re.escape(PANIC),
                                                           re.escape(self.exception)), text):
            return False, "no panic line after the fault report"
        if self.symbol and not re.search(r"RIP: [0-9a-f]{4}:[0-9a-f]{16} \{%s\+0x[0-9a-f]+/0x"
                                         r"[0-9a-f]+\}" % re.escape(self.symbol), text):
            return False, "the report's RIP is not named %s+off/len" % self.symbol
        if status != EXIT_PANIC:
            return False, _describe_exit(m, status) + ", expected %d" % EXIT_PANIC
        return True, ""


@dataclass
class Script:
    """Any other check: `fn(machine)` drives the running machine (serial, monitor, QMP) and
    returns (ok, reason); e.g. wait for ready, inject with machine.monitor().cmd("mce ..."),
    then wait for the kernel's report."""
    fn: object
    timeout: float = 60.0

    def judge(self, m):
        return self.fn(m)


@dataclass
class UserPrograms:
    """/init runs the row's programs (its command line must be `run=` + their names, see
    `run_list()`) and each ends as `expected` says: {name: N} with N >= 0 wants
    "init: NAME exited N", N < 0 wants "init: NAME killed by signal -N" (subprocess's
    convention). Also required: init's summary "init: done, K of N programs exited 0" with the
    right K and N, no other verdict line, no panic and no kernel fault. Waits at most
    `timeout` seconds for the summary (a hang fails, naming the program that was running)."""
    expected: dict
    timeout: float = 120.0

    def run_list(self):
        return "run=" + ",".join(self.expected)

    def judge(self, m):
        rx = r"^.*(init: done, \d+ of \d+ programs exited 0|%s|%s)" % (
            re.escape(PANIC), re.escape(FAULT))
        found = m.wait_for(rx, self.timeout)
        time.sleep(0.2)          # let a fault report after the summary arrive
        text = m.serial_text()
        trouble = _trouble(text)
        if trouble:
            return False, trouble
        verdicts = re.findall(r"^init: (\S+) (?:exited (\d+)|killed by signal (\d+))$", text, re.M)
        got = {name: int(code) if code else -int(sig) for name, code, sig in verdicts}
        if not found:
            if m.exit_status() is not None:
                return False, _describe_exit(m, m.exit_status()) + " before init finished"
            running = next((p for p in self.expected if p not in got), "?")
            return False, "timeout after %gs (hang) while %s ran" % (self.timeout, running)
        for name, want in self.expected.items():
            if name not in got:
                return False, "no verdict for %s" % name
            if got[name] != want:
                return False, "%s %s, expected %s" % (name, _verdict(got[name]), _verdict(want))
        if set(got) != set(self.expected) or len(verdicts) != len(self.expected):
            return False, "unexpected verdict lines: %r" % (verdicts,)
        done = re.search(r"^init: done, (\d+) of (\d+) programs exited 0$", text, re.M)
        zero = sum(1 for v in self.expected.values() if v == 0)
        if not done or (int(done.group(1)), int(done.group(2))) != (zero, len(self.expected)):
            return False, "summary %r, expected %d of %d" % (
                done.group(0) if done else None, zero, len(self.expected))
        return True, ""


def _verdict(code):
    return "exited %d" % code if code >= 0 else "killed by signal %d" % -code


# ---- tests ----

@dataclass
class Test:
    """One row of the test table."""
    name: str
    boot: str = "direct"
    smp: int = 1
    cmdline: str = ""
    expect: object = field(default_factory=Ready)
    mem: str = "256M"
    cpu: str = "max,vendor=GenuineIntel"
    extra: tuple = ()
    qmp: bool = False
    ktest: bool = False
    serial_in: bool = False

    def config(self):
        return Config(boot=self.boot, smp=self.smp, mem=self.mem, cmdline=self.cmdline,
                      cpu=self.cpu, extra=self.extra, qmp=self.qmp, ktest=self.ktest,
                      serial_in=self.serial_in)


@dataclass
class Result:
    name: str
    ok: bool
    reason: str = ""
    log: str = ""
    seconds: float = 0.0
    tail: str = ""


def run_test(test, keep_logs=False, log_dir=LOG_DIR, images=None):
    """Boots one test's machine (from `images`, a snapshot_images result, when given) and
    judges it; returns a Result. Never raises."""
    start = time.monotonic()
    m = Machine(test.name, test.config(), log_dir, images)
    try:
        m.start()
        ok, reason = test.expect.judge(m)
    except Exception as e:              # a broken harness or setup is a failure too
        ok, reason = False, "%s: %s" % (type(e).__name__, e)
    finally:
        m.stop()
    res = Result(test.name, ok, reason, str(m.serial_log), time.monotonic() - start)
    if ok and not keep_logs:
        for f in m.log_files():
            f.unlink(missing_ok=True)
    elif not ok:
        res.tail = failure_tail(m)
    return res


def failure_tail(m):
    """The last lines of a failed run's serial log (or of the emulator's own output)."""
    text = re.sub(r"\x1b(\[[0-9;=?]*[A-Za-z]|[()][0-9A-Za-z]|[=>])", "", m.serial_text())
    lines = text.rstrip("\n").split("\n")
    lines = [ln for ln in lines if ln.strip()][-TAIL_LINES:]
    if not lines:
        lines = _read(m.log_dir / (m.name + ".stderr")).rstrip("\n").split("\n")[-TAIL_LINES:]
    return "\n".join(lines)


def _expected_seconds(test):
    return getattr(test.expect, "timeout", 30.0) * (3 if test.boot == "bochs" else 1)


def run_tests(tests, jobs=None, keep_logs=False, on_result=None):
    """Runs tests in parallel (longest first); calls on_result(Result) as each ends and
    returns the Results in table order."""
    jobs = jobs or os.cpu_count() or 2
    order = sorted(tests, key=_expected_seconds, reverse=True)
    lock = threading.Lock()

    snapshot = tempfile.mkdtemp(prefix="mcrk-images-")
    try:
        images = snapshot_images(snapshot, [i for i in (KERNEL_ELF, KTEST_ELF, KERNEL_ISO,
                                                        INITRD) if i.exists()])
    except OSError:
        images = {}     # each test then copies (and reports) what it needs itself

    def one(test):
        res = run_test(test, keep_logs, images=images)
        if on_result:
            with lock:
                on_result(res)
        return res

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            done = dict(zip((t.name for t in order), pool.map(one, order)))
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)
    return [done[t.name] for t in tests]


def format_result(res):
    """The one-line report of a result, plus the log tail of a failure."""
    if res.ok:
        return "ok   %s (%.1fs)" % (res.name, res.seconds)
    log = res.log[len(str(ROOT)) + 1:] if res.log.startswith(str(ROOT) + "/") else res.log
    out = "FAIL %s (%s, log: %s)" % (res.name, res.reason, log)
    if res.tail:
        out += "\n" + "\n".join("     | " + ln for ln in res.tail.split("\n"))
    return out


# ---- choosing rows: by name, and KTEST rows also by the in-kernel tests they run ----

KTEST_DIR = ROOT / "tests" / "ktest"
KTEST_ENDS_THE_RUN = ("panic", "fault")   # suites that test=all leaves out (runner.c)


def ktest_names():
    """Every in-kernel test as "suite.name", from the KTEST(suite, name) lines in tests/ktest/."""
    names = []
    for path in sorted(KTEST_DIR.rglob("*.c")):
        names += ["%s.%s" % m for m in
                  re.findall(r"^KTEST\((\w+),\s*(\w+)\)", path.read_text(), re.M)]
    return names


def ktest_covered(cmdline, names):
    """The in-kernel tests that a command line's test=ITEM,... runs, as tests/ktest/runner.c
    chooses them: an item is all (but the suites that end the run), a suite, or suite.name."""
    m = re.findall(r"(?:^|\s)test=(\S*)", cmdline)
    items = m[-1].split(",") if m else []
    return [n for n in names
            if any(i == n or i == n.split(".")[0] or
                   (i == "all" and n.split(".")[0] not in KTEST_ENDS_THE_RUN) for i in items)]


def _ktest_items(hits, names):
    """The shortest test= list that runs exactly `hits`: whole suites where all of a suite's
    tests are hit, single tests otherwise."""
    items = []
    for suite in dict.fromkeys(n.split(".")[0] for n in hits):
        of_suite = [n for n in names if n.split(".")[0] == suite]
        items += [suite] if all(n in hits for n in of_suite) else [n for n in of_suite
                                                                   if n in hits]
    return ",".join(items)


def run_programs(cmdline):
    """The programs a command line's run=PROG[:ARG],... has /init run (user/, demo/, bench/)."""
    m = re.findall(r"(?:^|\s)run=(\S*)", cmdline)
    return [p.split(":")[0] for p in m[-1].split(",")] if m else []


def _narrow_ktest(t, pats, names):
    """t if it matches through its in-kernel tests (a KTAP row reduced to those), else None."""
    hits = [n for n in ktest_covered(t.cmdline, names) if any(p in n.lower() for p in pats)]
    if not hits:
        return None
    if not isinstance(t.expect, Ktap):
        return t                       # a row that ends the run (panic, fault) runs whole
    cmdline = re.sub(r"(^|\s)test=\S*", lambda m: m.group(1) + "test=" +
                     _ktest_items(hits, names), t.cmdline)
    return dataclasses.replace(t, name=_narrowed_name(t, pats), cmdline=cmdline)


def _narrow_programs(t, pats):
    """t if it matches through the programs it runs (a UserPrograms row reduced to those),
    else None."""
    hits = [p for p in run_programs(t.cmdline) if any(q in p.lower() for q in pats)]
    if not hits:
        return None
    if not isinstance(t.expect, UserPrograms):
        return t
    expect = dataclasses.replace(t.expect, expected={p: v for p, v in t.expect.expected.items()
                                                     if p in hits})
    return dataclasses.replace(t, name=_narrowed_name(t, pats), cmdline=expect.run_list(),
                               expect=expect)


def _narrowed_name(t, pats):
    return t.name + "-only-" + "-".join(re.sub(r"[^a-z0-9_.-]", "_", p) for p in pats)


def select(tests, patterns):
    """The rows that match any of the patterns (all rows when none is given). A pattern
    matches, ignoring case, a row whose name contains it; or a row that runs an in-kernel
    test ("suite.name", test=) or a program (run=) whose name contains it. A row of KTAP
    suites or of user programs then runs only the matching tests or programs, under its name
    plus "-only-PATTERN"; any other row runs whole."""
    if not patterns:
        return list(tests)
    pats = [p.lower() for p in patterns]
    names = ktest_names()
    chosen = []
    for t in tests:
        if any(p in t.name.lower() for p in pats):
            chosen.append(t)
            continue
        row = (_narrow_ktest(t, pats, names) if t.ktest else None) or _narrow_programs(t, pats)
        if row:
            chosen.append(row)
    return chosen


def main(argv=None):
    ap = argparse.ArgumentParser(description="MCRK QEMU/Bochs test driver")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the tests in tests/qemu/tests.py")
    r = sub.add_parser("run", help="run tests (all, or those matching a pattern)")
    r.add_argument("-j", "--jobs", type=int, default=None)
    r.add_argument("--keep-logs", action="store_true")
    r.add_argument("patterns", nargs="*")
    b = sub.add_parser("boot", help="boot once, copy the serial console to stdout")
    b.add_argument("--boot", default="direct", choices=["direct", "bios", "uefi", "bochs"])
    b.add_argument("--smp", type=int, default=2)
    b.add_argument("--mem", default="256M")
    b.add_argument("--append", default="")
    b.add_argument("--timeout", type=float, default=60.0)
    b.add_argument("--until", default=None,
                   help="stop once the serial output matches this regex (e.g. 'init: done')")
    b.add_argument("--initrd", default=None,
                   help="boot (directly) with this initrd instead of build/initrd.cpio")
    b.add_argument("--ktest", action="store_true",
                   help="boot the test build (build/mcrk-test.elf), e.g. with --append test=mce")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).parent))
    if args.cmd == "list":
        from tests import TESTS
        for t in TESTS:
            print("%-22s %-7s smp%d  %-14r %s" % (t.name, t.boot, t.smp, t.cmdline, t.expect))
        return 0
    if args.cmd == "run":
        from tests import TESTS
        chosen = select(TESTS, args.patterns)
        results = run_tests(chosen, args.jobs, args.keep_logs,
                            lambda res: print(format_result(res), flush=True))
        failed = sum(not r.ok for r in results)
        print("%d passed, %d failed" % (len(results) - failed, failed))
        return 1 if failed or not results else 0
    try:
        return boot_interactive(args)
    except (FileNotFoundError, ValueError) as e:
        print("driver: %s" % e, file=sys.stderr)
        return 2


def boot_interactive(args):
    """`boot`: one machine, serial copied to stdout until it exits, the timeout, or (with
    --until) the output matches a regex."""
    cfg = Config(boot=args.boot, smp=args.smp, mem=args.mem, cmdline=args.append,
                 ktest=args.ktest, extra=("-initrd", args.initrd) if args.initrd else ())
    until = re.compile(args.until, re.M) if getattr(args, "until", None) else None
    with Machine("manual", cfg) as m:
        if args.boot != "bochs":
            print("monitor: socat - UNIX-CONNECT:%s/mon" % m.sock_dir, flush=True)
        shown, deadline = 0, time.monotonic() + args.timeout
        while time.monotonic() < deadline and m.exit_status() is None:
            text = m.serial_text()
            sys.stdout.write(text[shown:])
            sys.stdout.flush()
            shown = len(text)
            if until and until.search(text):
                break
            time.sleep(POLL_S)
        sys.stdout.write(m.serial_text()[shown:])
        status = m.exit_status()
    if until and status is None and until.search(m.serial_text()):
        print("\n[stopped: the output matched %r]" % args.until)
        return 0
    print("\n[exit status: %s]" % ("timeout" if status is None else status))
    return 0 if status in (None, EXIT_PASS) else 1


if __name__ == "__main__":
    sys.exit(main())
