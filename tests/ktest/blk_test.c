/* The block layer and its drivers on the disks the row attaches (tests/qemu/blk_tests.py):
 * every registered device is read and checked against the pattern scripts/mkdisk.py wrote,
 * written and read back, refused out of range, driven from both CPUs at once, and made to
 * fail by QEMU's blkdebug (sector BLKERR_SECTOR) and by a poisoned frame. The image is
 * attached with snapshot=on, so writes never reach the file. */
#include "arch/cpu.h"
#include "arch/smp.h"
#include "blk.h"
#include "frame.h"
#include "kerrno.h"
#include "kstring.h"
#include "ktest.h"
#include "memory_failure.h"

#define PATTERN_MULT 0x9e3779b97f4a7c15ull /* scripts/mkdisk.py */
#define BLKERR_SECTOR 12345		   /* tests/blkdebug.conf */
#define NCONC 32			   /* more requests than a driver has slots */

static uint64_t pattern_word(uint64_t sector, unsigned i)
{
	return i ? sector * PATTERN_MULT + i : sector;
}

/* Whether the count sectors at buf are the image's sectors from `sector` on. */
static bool is_pattern(const void *buf, uint64_t sector, unsigned count)
{
	const uint64_t *w = buf;
	for (unsigned s = 0; s < count; s++)
		for (unsigned i = 0; i < BLK_SECTOR_SIZE / 8; i++)
			if (w[s * 64 + i] != pattern_word(sector + s, i))
				return false;
	return true;
}

static pfn_t alloc_frame(void)
{
	struct page *pg = frame_alloc(0, PG_KERNEL);
	return pg ? page_to_pfn(pg) : 0;
}

static void free_frame(pfn_t pfn)
{
	frame_free(pfn_to_page(pfn), 0);
}

static void *frame_va(pfn_t pfn)
{
	return page_to_virt(pfn_to_page(pfn));
}

/* Every device, or a failure: a row running this suite must attach a disk. */
#define FOR_EACH_DISK(d)                                                                           \
	KT_EXPECT(blk_get_nth(0) != NULL);                                                         \
	for (unsigned i_ = 0; ((d) = blk_get_nth(i_)) != NULL; i_++)

KTEST(blk, read_matches_the_image)
{
	struct blk_device *d;
	pfn_t f[BLK_MAX_FRAMES];
	for (unsigned i = 0; i < BLK_MAX_FRAMES; i++)
		f[i] = alloc_frame();
	FOR_EACH_DISK(d)
	{
		uint64_t starts[] = {0, 1, 4097, d->sectors - 128};
		for (unsigned k = 0; k < ARRAY_SIZE(starts); k++)
			for (unsigned fr = 0; fr < BLK_MAX_FRAMES; fr++) {
				memset(frame_va(f[fr]), 0xa5, PAGE_SIZE);
				KT_EXPECT(blk_rw(d, BLK_READ, starts[k] + fr * 8, 8, &f[fr], 1) ==
					  0);
				KT_EXPECT(is_pattern(frame_va(f[fr]), starts[k] + fr * 8, 8));
			}
		/* one request over all frames: 64 KiB */
		KT_EXPECT(blk_rw(d, BLK_READ, 256, 128, f, BLK_MAX_FRAMES) == 0);
		for (unsigned fr = 0; fr < BLK_MAX_FRAMES; fr++)
			KT_EXPECT(is_pattern(frame_va(f[fr]), 256 + fr * 8, 8));
	}
	for (unsigned i = 0; i < BLK_MAX_FRAMES; i++)
		free_frame(f[i]);
}

KTEST(blk, write_then_read_back)
{
	struct blk_device *d;
	pfn_t w = alloc_frame(), r = alloc_frame();
	FOR_EACH_DISK(d)
	{
		uint8_t *wb = frame_va(w), *rb = frame_va(r);
		for (unsigned i = 0; i < PAGE_SIZE; i++)
			wb[i] = (uint8_t)(i * 7 + d->name[0]);
		KT_EXPECT(blk_rw(d, BLK_WRITE, 2000, 8, &w, 1) == 0);
		KT_EXPECT(blk_rw(d, BLK_FLUSH, 0, 0, NULL, 0) == 0);
		memset(rb, 0, PAGE_SIZE);
		KT_EXPECT(blk_rw(d, BLK_READ, 2000, 8, &r, 1) == 0);
		KT_EXPECT(!memcmp(wb, rb, PAGE_SIZE));
		/* the neighbours are untouched */
		KT_EXPECT(blk_rw(d, BLK_READ, 1992, 8, &r, 1) == 0);
		KT_EXPECT(is_pattern(rb, 1992, 8));
		KT_EXPECT(blk_rw(d, BLK_READ, 2008, 1, &r, 1) == 0);
		KT_EXPECT(is_pattern(rb, 2008, 1));
	}
	free_frame(w);
	free_frame(r);
}

KTEST(blk, bad_requests_are_refused)
{
	struct blk_device *d;
	pfn_t f = alloc_frame();
	FOR_EACH_DISK(d)
	{
		uint64_t before = d->reads;
		KT_EXPECT(blk_rw(d, BLK_READ, d->sectors, 1, &f, 1) == -EIO);
		KT_EXPECT(blk_rw(d, BLK_READ, d->sectors - 1, 2, &f, 1) == -EIO);
		KT_EXPECT(blk_rw(d, BLK_WRITE, ~0ull - 3, 8, &f, 1) == -EIO);
		KT_EXPECT(blk_rw(d, BLK_READ, 0, 0, &f, 1) == -EINVAL);
		KT_EXPECT(blk_rw(d, BLK_READ, 0, 9, &f, 1) == -EINVAL);
		KT_EXPECT(blk_rw(d, BLK_READ, 0, 8, &f, BLK_MAX_FRAMES + 1) == -EINVAL);
		KT_EXPECT(d->reads == before); /* none reached the device */
	}
	free_frame(f);
}

struct conc {
	struct blk_device *d;
	struct blk_request req[NCONC];
	pfn_t f[NCONC];
	int submit_err[NCONC];
	unsigned first, n;
};

static void submit_some(void *arg)
{
	struct conc *c = arg;
	for (unsigned i = c->first; i < c->first + c->n; i++) {
		c->req[i] = (struct blk_request){.op = BLK_READ,
						 .sector = 8 * i * 3 + 5,
						 .count = 8,
						 .nframes = 1,
						 .frames = {c->f[i]}};
		c->submit_err[i] = blk_submit(c->d, &c->req[i]);
	}
}

KTEST(blk, concurrent_requests_from_every_cpu)
{
	static struct conc c;
	struct blk_device *d;
	for (unsigned i = 0; i < NCONC; i++)
		c.f[i] = alloc_frame();
	FOR_EACH_DISK(d)
	{
		c.d = d;
		memset(c.req, 0, sizeof(c.req));
		memset(c.submit_err, 0, sizeof(c.submit_err));
		for (unsigned i = 0; i < NCONC; i++)
			memset(frame_va(c.f[i]), 0, PAGE_SIZE);
		/* Half from the other CPU (in its IPI handler), half from here, meanwhile. */
		struct conc *half = &c;
		c.first = NCONC / 2;
		c.n = NCONC / 2;
		if (arch_cpu_count() > 1)
			KT_EXPECT(arch_call_on_cpu(1, submit_some, half, false) == 0);
		else
			submit_some(half);
		for (unsigned i = 0; i < NCONC / 2; i++) {
			c.req[i] = (struct blk_request){.op = BLK_READ,
							.sector = 8 * i * 3 + 5,
							.count = 8,
							.nframes = 1,
							.frames = {c.f[i]}};
			c.submit_err[i] = blk_submit(d, &c.req[i]);
		}
		for (unsigned i = 0; i < NCONC; i++) {
			while (!__atomic_load_n(&c.req[i].complete, __ATOMIC_ACQUIRE) &&
			       !c.submit_err[i])
				arch_wait_for_interrupt();
			KT_EXPECT(c.submit_err[i] == 0);
			KT_EXPECT(c.req[i].status == 0);
			KT_EXPECT(is_pattern(frame_va(c.f[i]), 8 * i * 3 + 5, 8));
		}
	}
	for (unsigned i = 0; i < NCONC; i++)
		free_frame(c.f[i]);
}

KTEST(blk, injected_read_error_is_eio)
{
	struct blk_device *d;
	pfn_t f = alloc_frame();
	FOR_EACH_DISK(d)
	{
		uint64_t errs = d->errors;
		KT_EXPECT(blk_rw(d, BLK_READ, BLKERR_SECTOR, 1, &f, 1) == -EIO);
		KT_EXPECT(blk_rw(d, BLK_READ, BLKERR_SECTOR - 4, 8, &f, 1) == -EIO);
		KT_EXPECT(d->errors == errs + 2);
		KT_EXPECT(blk_rw(d, BLK_READ, BLKERR_SECTOR + 1, 1, &f, 1) == 0);
		KT_EXPECT(is_pattern(frame_va(f), BLKERR_SECTOR + 1, 1));
	}
	free_frame(f);
}

/* A poisoned buffer: refused before submission (nothing written), and a frame poisoned while
 * its read is in flight fails the read. Interrupts stay off on this CPU, which takes the
 * completion interrupt, between the submission and the poison, so the completion comes
 * after it. The frames stay poisoned (kernel frames are never reused). */
KTEST(blk, poisoned_buffer_fails_the_request)
{
	struct blk_device *d;
	FOR_EACH_DISK(d)
	{
		pfn_t f = alloc_frame();
		memory_failure(f, MF_SOFTWARE);
		KT_EXPECT(page_poisoned(pfn_to_page(f)));
		uint64_t writes = d->writes;
		KT_EXPECT(blk_rw(d, BLK_WRITE, 3000, 8, &f, 1) == -EIO);
		KT_EXPECT(d->writes == writes);

		pfn_t g = alloc_frame();
		struct blk_request r = {
		    .op = BLK_READ, .sector = 3000, .count = 8, .nframes = 1, .frames = {g}};
		uint64_t poisoned = d->poisoned;
		irqflags_t fl = arch_irq_save();
		int err = blk_submit(d, &r);
		memory_failure(g, MF_SOFTWARE);
		arch_irq_restore(fl);
		KT_EXPECT(err == 0);
		KT_EXPECT(blk_wait(&r) == -EIO);
		KT_EXPECT(d->poisoned == poisoned + 1);
	}
}
