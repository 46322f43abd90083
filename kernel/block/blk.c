/* The block layer: a registry of devices by name, request checks, a per-device queue for
 * requests the driver cannot take yet, completion, and waits.
 *
 * A request is checked once, at submission (range, frames, poison). The driver takes it
 * when it has a free slot; otherwise it waits on the device's queue and is handed over from
 * the completion of an earlier one, in submission order. The driver reports completion from
 * its interrupt handler with blk_complete, which wakes a process waiting in blk_wait or
 * calls the submitter's done.
 *
 * Poisoned frames: a request whose frame is poisoned before submission is refused with
 * -EIO, so no bad data is written. The frames of a request in flight belong to its
 * submitter and stay allocated, so memory_failure never hands them to the allocator while
 * the device writes into them (a kernel frame is kept poisoned, never freed); when one is
 * poisoned in flight, the request completes with -EIO whatever the device said. Linux makes
 * memory_failure wait instead (lock_page for a page under read, wait_on_page_writeback for
 * one being written); docs/block.md compares the two. */
#include "blk.h"
#include "arch/cpu.h"
#include "cpumask.h"
#include "frame.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"

static struct blk_device *devices[BLK_MAX_DEVICES];
static unsigned ndevices;
static spinlock_t registry_lock = SPINLOCK_INIT;

int blk_register(struct blk_device *d)
{
	irqflags_t f = spin_lock_irqsave(&registry_lock);
	int err = ndevices == BLK_MAX_DEVICES ? -ENOSPC : 0;
	for (unsigned i = 0; i < ndevices && !err; i++)
		if (!strcmp(devices[i]->name, d->name))
			err = -EEXIST;
	if (!err) {
		spin_init(&d->lock);
		list_init(&d->queue);
		devices[ndevices++] = d;
	}
	spin_unlock_irqrestore(&registry_lock, f);
	if (!err)
		printk(KERN_INFO "blk: %s: %lu sectors (%lu MiB)%s\n", d->name, d->sectors,
		       d->sectors >> (20 - BLK_SECTOR_SHIFT), d->read_only ? ", read-only" : "");
	return err;
}

struct blk_device *blk_get(const char *name)
{
	struct blk_device *d = NULL;
	irqflags_t f = spin_lock_irqsave(&registry_lock);
	for (unsigned i = 0; i < ndevices && !d; i++)
		if (!strcmp(devices[i]->name, name))
			d = devices[i];
	spin_unlock_irqrestore(&registry_lock, f);
	return d;
}

struct blk_device *blk_get_nth(unsigned i)
{
	irqflags_t f = spin_lock_irqsave(&registry_lock);
	struct blk_device *d = i < ndevices ? devices[i] : NULL;
	spin_unlock_irqrestore(&registry_lock, f);
	return d;
}

/* Whether any frame of r is poisoned (or not a frame at all). */
static bool frames_poisoned(const struct blk_request *r)
{
	for (unsigned i = 0; i < r->nframes; i++) {
		struct page *pg = pfn_to_page(r->frames[i]);
		if (!pg || page_poisoned(pg))
			return true;
	}
	return false;
}

static int check(const struct blk_device *d, const struct blk_request *r)
{
	if (r->op == BLK_FLUSH)
		return 0;
	if (r->op != BLK_READ && r->op != BLK_WRITE)
		return -EINVAL;
	if (!r->count || r->nframes > BLK_MAX_FRAMES ||
	    r->count > r->nframes * BLK_SECTORS_PER_FRAME)
		return -EINVAL;
	if (r->sector >= d->sectors || r->count > d->sectors - r->sector) {
		printk(KERN_INFO "blk: %s: access beyond end of device (sector %lu + %u > %lu)\n",
		       d->name, r->sector, r->count, d->sectors);
		return -EIO;
	}
	if (r->op == BLK_WRITE && d->read_only)
		return -EROFS;
	if (frames_poisoned(r)) {
		printk(KERN_WARNING "blk: %s: %s of sector %lu refused: a buffer frame is "
				    "poisoned\n",
		       d->name, r->op == BLK_READ ? "read" : "write", r->sector);
		return -EIO;
	}
	return 0;
}

/* Hand queued requests to the driver until it has no room. d->lock held. */
static void run_queue(struct blk_device *d, struct blk_request **failed)
{
	while (!list_empty(&d->queue)) {
		struct blk_request *r = list_first_entry(&d->queue, struct blk_request, link);
		int err = d->ops->submit(d, r);
		if (err == -EBUSY)
			return;
		list_del(&r->link);
		if (err) { /* failed at once: completed by the caller, outside the lock */
			r->status = err;
			r->link.next = (struct list_node *)*failed;
			*failed = r;
		}
	}
}

static void finish(struct blk_request *r);

/* Completes the requests run_queue chained through link.next. */
static void finish_failed(struct blk_request *failed)
{
	while (failed) {
		struct blk_request *next = (struct blk_request *)failed->link.next;
		finish(failed);
		failed = next;
	}
}

int blk_submit(struct blk_device *d, struct blk_request *r)
{
	int err = check(d, r);
	if (err)
		return err;
	r->dev = d;
	r->status = 0;
	r->complete = false;
	r->waiter = NULL;
	if (r->op == BLK_FLUSH && !d->write_cache) { /* write-through: nothing to flush */
		finish(r);
		return 0;
	}
	struct blk_request *failed = NULL;
	irqflags_t f = spin_lock_irqsave(&d->lock);
	list_add_tail(&r->link, &d->queue);
	run_queue(d, &failed);
	spin_unlock_irqrestore(&d->lock, f);
	finish_failed(failed);
	return 0;
}

/* Counts r, marks it complete and tells its submitter. */
static void finish(struct blk_request *r)
{
	struct blk_device *d = r->dev;
	irqflags_t f = spin_lock_irqsave(&d->lock);
	if (r->op == BLK_READ)
		d->reads++;
	else if (r->op == BLK_WRITE)
		d->writes++;
	else
		d->flushes++;
	d->errors += r->status != 0;
	spin_unlock_irqrestore(&d->lock, f);
	void (*done)(struct blk_request *) = r->done;
	if (done) {
		__atomic_store_n(&r->complete, true, __ATOMIC_RELEASE);
		done(r);
		return;
	}
	/* Set under sched_lock, which blk_wait checks under: no wake-up is lost, and r is not
	 * touched once the lock is dropped (the waiter may return and free it then). */
	struct cpumask kick;
	cpumask_zero(&kick);
	irqflags_t s = spin_lock_irqsave(&sched_lock);
	__atomic_store_n(&r->complete, true, __ATOMIC_RELEASE);
	if (r->waiter)
		task_wake_locked(r->waiter, &kick);
	spin_unlock_irqrestore(&sched_lock, s);
	sched_kick_cpus(&kick);
}

void blk_complete(struct blk_request *r, int status)
{
	struct blk_device *d = r->dev;
	if (r->op != BLK_FLUSH && frames_poisoned(r)) {
		printk(KERN_WARNING "blk: %s: %s of sector %lu failed: a buffer frame was "
				    "poisoned during the transfer\n",
		       d->name, r->op == BLK_READ ? "read" : "write", r->sector);
		irqflags_t f = spin_lock_irqsave(&d->lock);
		d->poisoned++;
		spin_unlock_irqrestore(&d->lock, f);
		status = -EIO;
	}
	r->status = status;
	finish(r);
	struct blk_request *failed = NULL;
	irqflags_t f = spin_lock_irqsave(&d->lock);
	run_queue(d, &failed);
	spin_unlock_irqrestore(&d->lock, f);
	finish_failed(failed);
}

int blk_wait(struct blk_request *r)
{
	struct task *t = current_task();
	if (t->is_idle) {
		/* The boot task cannot sleep; the completion interrupt (or the next tick, if it
		 * came just before the halt) ends each wait. */
		while (!__atomic_load_n(&r->complete, __ATOMIC_ACQUIRE))
			arch_wait_for_interrupt();
		irqflags_t f = spin_lock_irqsave(&sched_lock); /* finish is done with r */
		spin_unlock_irqrestore(&sched_lock, f);
		return r->status;
	}
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	r->waiter = t;
	while (!r->complete)
		sleep_until_locked(0);
	r->waiter = NULL;
	spin_unlock_irqrestore(&sched_lock, f);
	return r->status;
}

int blk_rw(struct blk_device *d, enum blk_op op, uint64_t sector, uint32_t count,
	   const pfn_t *frames, unsigned nframes)
{
	struct blk_request r = {.op = op, .sector = sector, .count = count, .nframes = nframes};
	if (nframes > BLK_MAX_FRAMES)
		return -EINVAL;
	for (unsigned i = 0; i < nframes; i++)
		r.frames[i] = frames[i];
	int err = blk_submit(d, &r);
	return err ? err : blk_wait(&r);
}
