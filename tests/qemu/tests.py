"""The table of emulator tests that `make test` runs: one row per test.

Each row names the test, how it boots (`direct` = QEMU -kernel with the command line given;
`bios` / `uefi` = the GRUB ISO under SeaBIOS / OVMF; `bochs` = the GRUB ISO in Bochs), the
CPU count, the kernel command line (direct boots only) and what must happen:
  Ready(cpus=N)       the boot reaches `mcrk: ready` and that line says N CPUs
  Ktap()              an in-kernel KTAP suite: every result ok and exit status 1
  Panic(reason)       a deliberate panic: the panic line and exit status 7
  Script(fn)          fn(machine) drives the machine (monitor, QMP) and returns (ok, reason)
Each expectation takes `timeout=` seconds; running past it is a hang and fails the test.
Rows may also set mem=, cpu= (default max,vendor=GenuineIntel), extra= (QEMU args), qmp=.
To add a test, add a row. `python3 tests/qemu/driver.py run NAME` runs the matching rows.
"""

from driver import Ktap, Panic, Ready, Test

TESTS = [
    #    name                boot      smp  cmdline       expect
    Test("boot-direct-smp1", "direct", 1,   "",           Ready(cpus=1)),
    Test("boot-direct-smp2", "direct", 2,   "",           Ready(cpus=2)),
    Test("boot-grub-bios",   "bios",   2,   "",           Ready(cpus=2, timeout=60)),
    Test("boot-grub-uefi",   "uefi",   2,   "",           Ready(cpus=2, timeout=180)),
    Test("ktest-all-smp1",   "direct", 1,   "test=all",   Ktap()),
    Test("ktest-all-smp2",   "direct", 2,   "test=all",   Ktap()),
    Test("ktest-panic",      "direct", 1,   "test=panic", Panic("deliberate")),
    Test("bochs-boot",       "bochs",  2,   "",           Ready(cpus=2, timeout=240)),
]
