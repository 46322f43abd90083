/* blkbench=NAME on the command line: raw sequential read and write throughput of block
 * device NAME at boot, in 64 KiB requests kept BLK_BENCH_DEPTH deep, printed in MiB/s
 * (bench/run_blkbench.sh). The write pass rewrites what the read pass read, so the disk's
 * content is unchanged; it ends with a flush, which is counted. Figures, never pass/fail. */
#include "arch/cpu.h"
#include "blk.h"
#include "boot_info.h"
#include "frame.h"
#include "kstring.h"
#include "printk.h"

#define BLK_BENCH_DEPTH 8
#define BLK_BENCH_MAX_MIB 64

static struct blk_request reqs[BLK_BENCH_DEPTH];

/* One pass over [0, sectors) with op; returns the nanoseconds, or 0 on an error. */
static uint64_t pass(struct blk_device *d, enum blk_op op, uint64_t sectors, struct page **pg)
{
	const uint32_t per = BLK_MAX_FRAMES * BLK_SECTORS_PER_FRAME;
	uint64_t t0 = arch_time_ns(), next = 0;
	unsigned inflight = 0;
	for (unsigned i = 0; i < BLK_BENCH_DEPTH && next < sectors; i++, next += per, inflight++) {
		reqs[i] = (struct blk_request){
		    .op = op, .sector = next, .count = per, .nframes = BLK_MAX_FRAMES};
		for (unsigned f = 0; f < BLK_MAX_FRAMES; f++)
			reqs[i].frames[f] = page_to_pfn(pg[i]) + f;
		if (blk_submit(d, &reqs[i]))
			return 0;
	}
	for (unsigned i = 0; inflight; i = (i + 1) % BLK_BENCH_DEPTH) {
		if (blk_wait(&reqs[i]))
			return 0;
		inflight--;
		if (next < sectors) {
			reqs[i].sector = next;
			next += per;
			if (blk_submit(d, &reqs[i]))
				return 0;
			inflight++;
		}
	}
	if (op == BLK_WRITE && blk_rw(d, BLK_FLUSH, 0, 0, NULL, 0))
		return 0;
	return arch_time_ns() - t0;
}

static void report(const char *dev, const char *what, uint64_t bytes, uint64_t ns)
{
	if (!ns) {
		printk(KERN_WARNING "blkbench: %s: %s failed\n", dev, what);
		return;
	}
	uint64_t kib_s = bytes * 1000000000ull / ns / 1024;
	printk(KERN_INFO "blkbench: %s: %s %lu MiB in %lu ms: %lu.%02lu MiB/s\n", dev, what,
	       bytes >> 20, ns / 1000000, kib_s / 1024, (kib_s % 1024) * 100 / 1024);
}

/* Runs the benchmark the command line asks for, if any. Boot, process context. */
void blk_bench_from_boot(const char *cmdline)
{
	char name[BLK_NAME_LEN];
	if (!cmdline_get(cmdline, "blkbench", name, sizeof(name)))
		return;
	struct blk_device *d = blk_get(name);
	struct page *pg[BLK_BENCH_DEPTH] = {0};
	bool ok = d != NULL;
	for (unsigned i = 0; i < BLK_BENCH_DEPTH && ok; i++)
		ok = (pg[i] = frame_alloc(4, PG_KERNEL)) != NULL; /* 16 frames: one request */
	if (ok) {
		uint64_t sectors =
		    d->sectors < (BLK_BENCH_MAX_MIB << 11) ? d->sectors : BLK_BENCH_MAX_MIB << 11;
		sectors -= sectors % (BLK_MAX_FRAMES * BLK_SECTORS_PER_FRAME);
		report(name, "sequential read", sectors << BLK_SECTOR_SHIFT,
		       pass(d, BLK_READ, sectors, pg));
		report(name, "sequential write+flush", sectors << BLK_SECTOR_SHIFT,
		       pass(d, BLK_WRITE, sectors, pg));
	} else {
		printk(KERN_WARNING "blkbench: no block device %s, or no memory\n", name);
	}
	for (unsigned i = 0; i < BLK_BENCH_DEPTH; i++)
		if (pg[i])
			frame_free(pg[i], 4);
}
