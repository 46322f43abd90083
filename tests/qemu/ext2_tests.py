"""ext2 rows: the image scripts/mkext2.py makes at build time (build/ext2.img, mke2fs -d) is
copied for each row (build/ext2-rows/NAME.img), attached as a virtio-blk disk, mounted by
user/ext2.c, and after the row's last boot `e2fsck -fn` must find the copy clean. A row may
boot several times over the same copy (a clean shutdown, then a boot that finds the files).
"""

import dataclasses
import shutil
import subprocess

from driver import BUILD, LOG_DIR, Machine, Test, UserPrograms
from mf_hmp_tests import VICTIM_WAIT_S, _victim

IMAGE = BUILD / "ext2.img"
ROWS = BUILD / "ext2-rows"
E2FSCK = shutil.which("e2fsck") or "/usr/sbin/e2fsck"
DEBUGFS = shutil.which("debugfs") or "/usr/sbin/debugfs"


def ext2_disk(path, dev="vda", snapshot=False, blkdebug=None):
    """QEMU arguments for a virtio-blk disk over path (under blkdebug's rules if given)."""
    if blkdebug:
        source = "file.driver=blkdebug,file.config=%s,file.image.filename=%s" % (blkdebug, path)
    else:
        source = "file=%s" % path
    return ("-drive", "if=none,id=%s,format=raw,%s%s" % (dev, source,
                                                        ",snapshot=on" if snapshot else ""),
            "-device", "virtio-blk-pci,drive=%s,disable-legacy=on" % dev)


def _block_of(path, page):
    """The block of page `page` of file `path` in the image (debugfs bmap)."""
    r = subprocess.run([DEBUGFS, "-R", "bmap %s %d" % (path, page), str(IMAGE)],
                       capture_output=True, text=True)
    return int(r.stdout.split()[0])


class IoErrorTest(Test):
    """The ext2 row under blkdebug: reads of page 3 and writes of page 5 of /pattern-100k fail
    with EIO (their sectors found with debugfs when the row starts)."""

    def config(self):
        ROWS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(IMAGE, self.expect.image)
        rules = ""
        for event, page in (("read_aio", 3), ("write_aio", 5)):
            rules += '[inject-error]\nevent = "%s"\nerrno = "5"\nsector = "%d"\n\n' % (
                event, _block_of("/pattern-100k", page) * 8)
        (ROWS / (self.name + ".blkdebug")).write_text(rules)
        return super().config()


def e2fsck(path):
    """(ok, reason): e2fsck -fn's verdict on the image."""
    r = subprocess.run([E2FSCK, "-fn", str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        tail = " | ".join((r.stdout + r.stderr).strip().splitlines()[-6:])
        return False, "e2fsck -fn exited %d: %s" % (r.returncode, tail)
    return True, ""


def run_list(runs):
    """The command line that has /init run each "prog:arg" of runs."""
    return "run=" + ",".join(runs)


def expected(runs):
    """UserPrograms for runs ("prog:arg" strings; /init names each by prog), all exiting 0."""
    return {r.split(":")[0]: 0 for r in runs}


@dataclasses.dataclass
class Ext2Boots:
    """The first boot runs `runs` (each "prog:arg" must exit 0); each boot of `more` (lists
    of the same) follows on the same image; then e2fsck -fn must pass on the image."""
    runs: tuple
    image: object = None
    more: tuple = ()
    timeout: float = 120.0
    check: object = None   # check(image) -> (ok, reason) after the boots, before e2fsck

    def judge(self, m):
        ok, reason = UserPrograms(expected(self.runs), self.timeout).judge(m)
        for n, runs in enumerate(self.more):
            if not ok:
                break
            m.stop()
            expect = UserPrograms(expected(runs), self.timeout)
            cfg = dataclasses.replace(m.config, cmdline=run_list(runs))
            again = Machine("%s-boot%d" % (m.name, n + 2), cfg, LOG_DIR)
            try:
                again.start()
                ok, reason = expect.judge(again)
                reason = reason and "boot %d: %s" % (n + 2, reason)
            finally:
                again.stop()
        m.stop()
        if ok and self.check:
            ok, reason = self.check(self.image)
        if ok:
            ok, reason = e2fsck(self.image)
        return ok, reason


class Ext2Test(Test):
    """A row over its own fresh copy of the ext2 image, made when the row starts."""

    def config(self):
        ROWS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(IMAGE, self.expect.image)
        return super().config()


def _flushed(image):
    """The file user/ext2.c flush wrote and never synced is on the disk."""
    r = subprocess.run([DEBUGFS, "-R", "cat /flushed.txt", str(image)], capture_output=True,
                       text=True)
    if r.stdout != "written, never synced\n":
        return False, "the flusher did not write /flushed.txt: debugfs says %r" % r.stdout[:80]
    return True, ""


def ext2_row(name, smp, runs, more=(), second_disk=False, timeout=120, check=None):
    """A row over its own copy of the image (a second, unchanged copy as vdb if asked)."""
    image = ROWS / (name + ".img")
    expect = Ext2Boots(tuple(runs), image, tuple(more), timeout, check)
    extra = ext2_disk(image) + (ext2_disk(IMAGE, "vdb", snapshot=True) if second_disk else ())
    return Ext2Test(name, "direct", smp, run_list(runs), expect, extra=extra)


EXT2_TESTS = [
    ext2_row("ext2-basic-smp1", 1, ["ext2:basic"]),
    ext2_row("ext2-basic-smp2", 2, ["ext2:basic"]),
    ext2_row("ext2-persist-smp2", 2, ["ext2:persist-write"], more=(["ext2:persist-check"],)),
    ext2_row("ext2-bad-images", 1, ["ext2:bad"], second_disk=True),
    # Written, never synced, left mounted: the flusher put it on the disk within 5 s.
    ext2_row("ext2-flusher-smp1", 1, ["ext2:flush"], check=_flushed),
    # The disk fails a read and a write (blkdebug): EIO to read and fsync, SIGBUS to a mapping.
    IoErrorTest("ext2-io-error-smp2", "direct", 2, run_list(["ext2:ioerr"]),
                Ext2Boots(("ext2:ioerr",), ROWS / "ext2-io-error-smp2.img"),
                extra=ext2_disk(ROWS / "ext2-io-error-smp2.img",
                                blkdebug=ROWS / "ext2-io-error-smp2.blkdebug")),
    # memory_failure of ext2 page-cache pages (user/mf_ext2.c): a dirty page dropped with EIO
    # for each open file's next fsync, a clean one dropped and read again; by madvise and by
    # corrupt-pfn, at 1 and 2 CPUs, early-kill children spinning and sleeping.
    ext2_row("mf-ext2-smp1", 1, ["mf_ext2"]),
    ext2_row("mf-ext2-smp2", 2, ["mf_ext2"]),
    ext2_row("mf-ext2-corrupt-smp1", 1, ["mf_ext2:corrupt"]),
    ext2_row("mf-ext2-corrupt-smp2", 2, ["mf_ext2:corrupt"]),
]


@dataclasses.dataclass
class VictimExt2:
    """demo/victim.c's ext2 modes under an SRAO from QEMU's monitor (mf_hmp_tests._victim:
    the signal, the frame's outcome "dirty file page: recovered", the record first), then
    e2fsck -fn on the image."""
    image: object
    timeout: float = VICTIM_WAIT_S + 40

    def judge(self, m):
        ok, reason = _victim("exited 0", state="dirty file")(m)
        m.stop()
        if ok:
            ok, reason = e2fsck(self.image)
        return ok, reason


def _srao_row(kill, smp, spin):
    name = "mf-hmp-srao-%s-ext2-smp%d-%s" % (kill, smp, "spin" if spin else "sleep")
    image = ROWS / (name + ".img")
    cmdline = "run=victim:%s-ext2%s%s" % (kill, "-spin" if spin else "",
                                          " mf.trace=0" if kill == "early" else "")
    return Ext2Test(name, "direct", smp, cmdline, VictimExt2(image), extra=ext2_disk(image))


# An SRAO from QEMU's monitor at a dirty ext2 page (demo/victim.c early-ext2, late-ext2):
# early kill gets BUS_MCEERR_AO at once, late kill BUS_MCEERR_AR at its next read; at 1 and 2
# CPUs, the victim spinning without syscalls or sleeping.
EXT2_TESTS += [_srao_row(kill, smp, spin) for kill in ("early", "late") for smp in (1, 2)
               for spin in (True, False)]
