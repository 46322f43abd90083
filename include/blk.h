/* The block layer (kernel/block): block devices by name, requests of whole 512-byte sectors
 * into or out of page frames, a queue per device for requests the driver has no room for,
 * completion by the driver's interrupt, errors as negative errno values, and synchronous
 * helpers for process context. Drivers (drivers/virtio_blk.c, drivers/nvme.c) implement
 * struct blk_ops. See docs/block.md. */
#pragma once
#include "list.h"
#include "spinlock.h"
#include "task.h"
#include "types.h"

#define BLK_SECTOR_SIZE 512u
#define BLK_SECTOR_SHIFT 9
#define BLK_SECTORS_PER_FRAME (PAGE_SIZE / BLK_SECTOR_SIZE)
#define BLK_MAX_FRAMES 16 /* 64 KiB per request */
#define BLK_NAME_LEN 16
#define BLK_MAX_DEVICES 8

enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH };

/* One transfer: count sectors from `sector` of the device into (READ) or out of (WRITE)
 * frames[0..nframes), filled from the start of frames[0] onwards; FLUSH moves no data and
 * makes every completed write durable. The submitter owns the frames and keeps them
 * allocated until the request is done. */
struct blk_request {
	enum blk_op op;
	uint64_t sector;
	uint32_t count;
	unsigned nframes;
	pfn_t frames[BLK_MAX_FRAMES];
	/* Called once in IRQ context (or the submitter's, for a request refused at once) with
	 * status set; NULL for requests waited for with blk_wait. */
	void (*done)(struct blk_request *r);
	void *owner; /* the submitter's */
	/* Filled in by the block layer. */
	int status; /* 0 or -errno once complete */
	bool complete;
	struct task *waiter;   /* sleeping in blk_wait */
	struct list_node link; /* on the device's queue while the driver has no room */
	struct blk_device *dev;
	uint16_t tag; /* the driver's: its slot for the request */
};

struct blk_device;
struct blk_ops {
	/* Start r. 0: accepted, the driver will call blk_complete; -EBUSY: no room now (the
	 * block layer retries after the next completion); another -errno: r fails now.
	 * Called with the device's queue lock held and interrupts off. */
	int (*submit)(struct blk_device *d, struct blk_request *r);
};

struct blk_device {
	char name[BLK_NAME_LEN]; /* vda, nvme0n1 */
	uint64_t sectors;	 /* capacity in 512-byte sectors */
	const struct blk_ops *ops;
	void *driver; /* the driver's state */
	bool read_only;
	bool write_cache;	/* writes need a FLUSH to be durable; without, FLUSH is a no-op */
	spinlock_t lock;	/* the queue; taken with interrupts off */
	struct list_node queue; /* accepted by the block layer, not yet by the driver */
	/* Counters (under lock). */
	uint64_t reads, writes, flushes, errors, poisoned;
};

/* Add d (name, sectors and ops filled in) to the registry; prints its size. 0, -EEXIST for a
 * name taken, -ENOSPC when the registry is full. Process context. */
int blk_register(struct blk_device *d);
/* The device named name, or NULL. Any context but #MC/NMI. */
struct blk_device *blk_get(const char *name);
/* The i-th registered device (0..), or NULL past the last. */
struct blk_device *blk_get_nth(unsigned i);

/* Submit r to d without waiting. 0 when queued (r->done, or blk_wait, gives the result);
 * -EINVAL (no sectors, more sectors than frames hold, too many frames), -EIO (beyond the end
 * of the device, as Linux's bio_check_eod; a poisoned frame, so nothing corrupt reaches the
 * disk), -EROFS (a write to a read-only device): r is not submitted and done is not called.
 * Process or IRQ context. */
int blk_submit(struct blk_device *d, struct blk_request *r);
/* The driver reports r finished with status (0 or -errno). A frame found poisoned now makes
 * the request fail with -EIO: data read into it cannot be trusted, and data written from it
 * may have reached the disk corrupted. Then calls r->done or wakes the waiters, and gives
 * queued requests to the driver. IRQ or process context, no driver lock held. */
void blk_complete(struct blk_request *r, int status);
/* Sleep until r (submitted) is complete; returns its status. Process context; the boot
 * task, which must not sleep, waits with interrupts enabled instead. */
int blk_wait(struct blk_request *r);
/* Read, write or flush synchronously: a request over frames[0..nframes) submitted and waited
 * for. 0 or -errno (blk_submit's, or the device's, -EIO for a failed transfer). Process
 * context. */
int blk_rw(struct blk_device *d, enum blk_op op, uint64_t sector, uint32_t count,
	   const pfn_t *frames, unsigned nframes);
/* blkbench=NAME on the command line: print NAME's raw sequential read and write MiB/s
 * (kernel/block/blk_bench.c). Boot, process context, after the drivers. */
void blk_bench_from_boot(const char *cmdline);
