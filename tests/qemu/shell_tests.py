"""Rows that drive Debian's busybox shell through the serial line, as a person at the console
would: boot with no run= (so /init starts /bin/sh on the console with it as the controlling
terminal), type a line, and wait for what it prints. Each step's expectation is looked for only
in the text that came after the step was typed, so an earlier line cannot satisfy it; the
typed line's own echo is in that text too, so the patterns are chosen not to match it.

  shell-command    a command and its output (the shell's arithmetic, echo)
  shell-pipeline   three programs joined by pipes
  shell-ctrl-c     ^C ends `sleep 100` (SIGINT to the foreground group; status 130)
  shell-ctrl-z-fg  ^Z stops `sleep 100` (SIGTSTP), `fg` continues it in the foreground
  shell-ps         `ps` lists init, the shell, a background sleep and itself from /proc
  shell-dmesg-mce  a corrected error injected through /sys/kernel/debug/mce-inject, then
                   `dmesg` shows its [Hardware Error] record
  shell-sysctl     `sysctl -w vm.memory_failure_early_kill=1`, read back by sysctl and cat
  shell-top        `top -b -n 1`: the CPU line from /proc/stat, the tasks from /proc/PID
"""

import re
import time

from driver import FAULT, PANIC, Script, Test

PROMPT = r"^/ # "
STEP_TIMEOUT = 30.0


def _wait_after(m, start, pattern, timeout):
    """Waits until the serial text after offset `start` matches `pattern`; the match or None."""
    rx = re.compile(pattern, re.M)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and m.exit_status() is None:
        found = rx.search(m.serial_text()[start:])
        if found:
            return found
        time.sleep(0.05)
    return rx.search(m.serial_text()[start:])


def _shell(steps):
    """A Script that waits for the prompt, then for each (keys, pattern) types keys and waits
    for pattern (None: only a short pause) in what follows."""
    def fn(m):
        if not _wait_after(m, 0, PROMPT, 60):
            return False, "no shell prompt"
        for keys, pattern in steps:
            start = len(m.serial_text())
            m.type(keys)
            if pattern is None:
                time.sleep(0.5)
            elif not _wait_after(m, start, pattern, STEP_TIMEOUT):
                return False, "after typing %r: no %r" % (keys, pattern)
        text = m.serial_text()
        for bad in (PANIC, FAULT):
            if bad in text:
                return False, "the kernel said %r" % bad
        return True, ""
    return fn


def _rows(name, steps, smps=(1, 2), timeout=120):
    return [Test("%s-smp%d" % (name, smp), "direct", smp, "",
                 Script(_shell(steps), timeout=timeout), serial_in=True) for smp in smps]


ECHO = [("echo mcrk-$((6 * 7))\r", r"^mcrk-42$")]
PIPELINE = [("printf 'alpha\\nbeta\\ngamma\\n' | grep -v beta | sed s/a/A/g\r",
             r"^AlphA\ngAmmA$")]
CTRL_C = [("sleep 100\r", None),
          ("\x03", r"\^C"),
          ("echo status=$?\r", r"^status=130$")]
CTRL_Z_FG = [("sleep 100\r", None),
             ("\x1a", r"Stopped\s+sleep 100"),
             ("jobs -l\r", r"Stopped\s+sleep 100"),
             ("fg\r", r"^sleep 100$"),
             ("\x03", r"\^C"),
             ("echo status=$?\r", r"^status=130$")]
PS = [("sleep 77 &\r", None),
      ("ps -o pid,ppid,stat,args\r",
       r"^\s+1\s+0\s+S\s+/init\n\s+2\s+1\s+S\s+sh\n(.*\n)*\s+\d+\s+2\s+S\s+sleep 77\n")]
DMESG_MCE = [("cd /sys/kernel/debug/mce-inject && echo 0x9000000000000017 > status && "
              "echo 0x1234000 > addr && echo 0 > cpu && echo 1 > bank; cd /\r",
              r"KEEP \"Corrected error\""),
             ("dmesg | grep -c 'Hardware Error.*Bank 1: 9000000000000017'\r", r"^1$")]
SYSCTL = [("sysctl -w vm.memory_failure_early_kill=1\r",
           r"^vm\.memory_failure_early_kill = 1$"),
          ("sysctl -n vm.memory_failure_early_kill; cat /proc/sys/vm/memory_failure_early_kill\r",
           r"^1\n1$")]

TOP = [("top -b -n 1 | head -8\r",
        r"^CPU:\s+\d+% usr\s+\d+% sys(.*\n)*\s+1\s+0\s+\S+\s+S\s+\d+.*/init$")]

SHELL_TESTS = (_rows("shell-command", ECHO) + _rows("shell-pipeline", PIPELINE) +
               _rows("shell-ctrl-c", CTRL_C) + _rows("shell-ctrl-z-fg", CTRL_Z_FG) +
               _rows("shell-ps", PS) + _rows("shell-dmesg-mce", DMESG_MCE, smps=(2,)) +
               _rows("shell-sysctl", SYSCTL, smps=(1,)) + _rows("shell-top", TOP, smps=(2,)))
