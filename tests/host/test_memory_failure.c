/* Host tests of kernel/mm/memory_failure.c on the fake arch, fake page tables and fake tasks:
 * every row of the frame-state table (free buddy head, inside a larger free block, in another
 * CPU's per-CPU cache, anonymous private, COW-shared by many address spaces, shared anonymous,
 * clean file page, page table, slab, kernel stack, reserved), already-poisoned and
 * out-of-range frames, the signal each task gets under each kill policy, races in the tests'
 * own terms (poison while being allocated, freed, COW-broken), soft offline, unpoison, the
 * HardwareCorrupted count, the control files, vm.memory_failure_recovery=0 with fake
 * panic, and the /proc/kpageflags word of each kind of frame before and after. "Never
 * reused" is checked by allocation storms that exhaust memory. */
#include "unit.h"
#include "fake_arch.h"
#include "fake_mmu.h"
#include "fake_task.h"
#include "mf_testlib.h"
#include "vm_testlib.h"
#include "../../include/boot_info.h"
#include "../../include/kerrno.h"
#include "../../include/kmalloc.h"
#include "../../include/memory_failure.h"
#include "../../include/rmap.h"
#include "../../include/sig.h"
#include "../../include/task.h"
#include "../../include/vfs.h"
#include "../../kernel/mm/mf_priv.h"
#include "../../kernel/mm/vm_priv.h"
#include <stdlib.h>
#include <string.h>


#define PCP_TRY_MAX 256 /* frames popped to be sure a per-CPU cache was emptied */

static void start(void) { mf_test_start(); }

static struct frame_stats fstats(void)
{
	struct frame_stats s;
	frame_get_stats(&s);
	return s;
}

/* Allocate every free frame (all CPUs' caches drained first, then on CPU `cpu`); false if one
 * of them is bad or poisoned. Frees them again. Returns how many there were in *n. */
static bool storm_avoids(pfn_t bad, uint64_t *n)
{
	static struct page *got[VT_NPFN];
	size_t k = 0;
	bool ok = true;
	struct page *pg;

	for (unsigned c = 0; c < MAX_CPUS; c++)
		frame_drain_cpu(c);
	while ((pg = frame_alloc(0, PG_KERNEL)) != NULL) {
		if (k == VT_NPFN)
			abort();
		got[k++] = pg;
		if (page_to_pfn(pg) == bad || page_poisoned(pg))
			ok = false;
	}
	for (size_t i = 0; i < k; i++)
		frame_free(got[i], 0);
	if (n)
		*n = k;
	return ok;
}

static bool never_reused(pfn_t bad)
{
	uint64_t before = vt_free_frames(), n = 0;
	bool ok = storm_avoids(bad, &n);
	return ok && n == before && vt_free_frames() == before;
}


static bool page_is(struct mm *mm, vaddr_t va, uint8_t v)
{
	uint8_t *p = vt_page(mm, va);
	if (!p)
		return false;
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* A vm_poison_tell "tell" that counts. */
static void count_tell(void *arg)
{
	++*(int *)arg;
}

static int console_count(const char *s)
{
	int n = 0;
	for (const char *p = fake_console; (p = strstr(p, s)) != NULL; p++)
		n++;
	return n;
}

/* A free buddy head of at least order `min` (caches drained). */
static pfn_t free_head(unsigned min)
{
	vt_free_frames();
	for (pfn_t p = 1; p < VT_NPFN; p++) {
		struct page *pg = pfn_to_page(p);
		if ((pg->flags & PG_BUDDY) && pg->order >= min)
			return p;
	}
	return 0;
}


/* ---- free frames ---- */

TEST(mf_free_buddy_head)
{
	start();
	pfn_t pfn = free_head(1);
	REQUIRE(pfn);
	uint64_t free0 = vt_free_frames();
	CHECK_EQ(memory_failure(pfn, 0), 0);
	struct page *pg = pfn_to_page(pfn);
	CHECK_EQ(pg->flags, PG_HWPOISON | PG_ISOLATED);
	CHECK_EQ(vt_free_frames(), free0 - 1);
	CHECK_EQ(fstats().poisoned, 1);
	CHECK_EQ(fstats().isolated, 1);
	CHECK_EQ(MF_DELTA(recovered), 1);
	CHECK(console_has("frame state: free\n") || console_has("frame state: free ("));
	CHECK(console_has(": recovered ("));
	CHECK(never_reused(pfn));
	CHECK(never_reused(pfn)); /* twice: freeing the storm must not let it back in */
}

/* A frame recovered from a hardware error leaves the direct map (Linux's set_mce_nospec);
 * software poison, and a frame memory_failure could not recover, stay mapped; a frame it
 * cannot unmap (no memory for the split) is still recovered, with a warning. */
TEST(mf_direct_map_only_recovered_hardware_errors)
{
	start();
	pfn_t a = free_head(0), b;
	REQUIRE(a);
	fake_direct_nremoved = 0;
	CHECK_EQ(memory_failure(a, 0), 0);
	CHECK_EQ(fake_direct_nremoved, 1);
	CHECK_EQ(fake_direct_removed[0], a);
	b = free_head(0);
	REQUIRE(b);
	CHECK_EQ(memory_failure(b, MF_SOFTWARE), 0);
	CHECK_EQ(fake_direct_nremoved, 1);
	struct page *k = frame_alloc(0, PG_KERNEL);
	REQUIRE(k);
	CHECK_EQ(memory_failure(page_to_pfn(k), 0), -EFAULT); /* kernel memory: failed */
	CHECK_EQ(fake_direct_nremoved, 1);
	b = free_head(0);
	REQUIRE(b);
	fake_mmu_fail_after = 0;
	CHECK_EQ(memory_failure(b, 0), 0);
	fake_mmu_fail_after = -1;
	CHECK(console_has("could not unmap it from the direct map"));
	CHECK_EQ(pfn_to_page(b)->flags, PG_HWPOISON | PG_ISOLATED);
}

TEST(mf_free_inside_larger_block)
{
	start();
	pfn_t head = free_head(4);
	REQUIRE(head);
	pfn_t pfn = head + 5;
	CHECK_EQ(pfn_to_page(pfn)->flags, 0); /* an ownerless frame inside a free block */
	uint64_t free0 = vt_free_frames();
	CHECK_EQ(memory_failure(pfn, 0), 0);
	CHECK(console_has("frame state: free (inside a buddy block)"));
	CHECK_EQ(pfn_to_page(pfn)->flags, PG_HWPOISON | PG_ISOLATED);
	CHECK_EQ(vt_free_frames(), free0 - 1);
	/* Its neighbours are still free and allocatable, in blocks around the hole. */
	CHECK(pfn_to_page(head)->flags & PG_BUDDY);
	CHECK(pfn_to_page(pfn + 1)->flags & PG_BUDDY);
	CHECK(never_reused(pfn));
}

TEST(mf_free_in_other_cpus_cache)
{
	start();
	fake_cpu_count = 2;
	fake_cpu_id = 1;
	struct page *pg = frame_alloc(0, PG_KERNEL);
	REQUIRE(pg);
	pfn_t pfn = page_to_pfn(pg);
	frame_free(pg, 0); /* into CPU 1's cache */
	CHECK_EQ(pg->flags, PG_PCP);
	CHECK_EQ(pg->pcp_cpu, 1);
	fake_cpu_id = 0;
	uint64_t free0 = fstats().free;
	CHECK_EQ(memory_failure(pfn, 0), 0); /* from CPU 0 */
	CHECK(console_has("frame state: free (per-CPU cache)"));
	CHECK_EQ(pg->flags, PG_PCP | PG_ISOLATED | PG_HWPOISON);
	CHECK_EQ(fstats().free, free0 - 1);
	CHECK_EQ(fstats().isolated, 1);
	/* CPU 1 pops its own cache first: it must drop the frame, not hand it out. */
	fake_cpu_id = 1;
	bool ok = true;
	struct page *got[64];
	int n = 0;
	while (n < 64 && (got[n] = frame_alloc(0, PG_KERNEL)) != NULL)
		ok &= page_to_pfn(got[n++]) != pfn;
	CHECK(ok);
	for (int i = 0; i < n; i++)
		frame_free(got[i], 0);
	CHECK_EQ(pg->flags, PG_ISOLATED | PG_HWPOISON); /* off the cache list for good */
	fake_cpu_id = 0;
	CHECK(never_reused(pfn));
	CHECK_EQ(fstats().isolated, 1);
}

/* ---- anonymous user pages and the kill policy ---- */

/* Each row: the task's prctl policy and the sysctl; whether memory_failure signals it (AO). */
static const struct {
	int policy, sysctl_early;
	bool early;
} policy_rows[] = {
    {MF_KILL_DEFAULT, 0, false}, {MF_KILL_DEFAULT, 1, true}, {MF_KILL_LATE, 0, false},
    {MF_KILL_LATE, 1, false},	  {MF_KILL_EARLY, 0, true},   {MF_KILL_EARLY, 1, true},
};

TEST(mf_anon_private_kill_policies)
{
	for (unsigned r = 0; r < ARRAY_SIZE(policy_rows); r++) {
		start();
		sysctl_memory_failure_early_kill = policy_rows[r].sysctl_early;
		struct mm *mm = dirty_mm(2);
		REQUIRE(mm);
		struct task *t = fake_task_new(10, mm, policy_rows[r].policy, true);
		REQUIRE(t);
		uint64_t free0 = vt_free_frames();
		pfn_t pfn = pfn_at(mm, PG(0));
		struct page *pg = pfn_to_page(pfn);
		CHECK_EQ(memory_failure(pfn, 0), 0);
		CHECK(has_marker(mm, PG(0), pfn));
		CHECK(page_is(mm, PG(1), 0x5a)); /* the other page is intact */
		CHECK_EQ(rmap_count(pg), 0);
		CHECK_EQ(pg->mapcount, 0);
		CHECK_EQ(pg->refcount, 0);
		CHECK_EQ(pg->flags, PG_HWPOISON | PG_ISOLATED);
		CHECK_EQ(vt_free_frames(), free0); /* not returned to the allocator */
		CHECK(vt_check(&mm, 1));
		if (policy_rows[r].early) {
			CHECK(got_sigbus(t, BUS_MCEERR_AO, PG(0)));
			CHECK_EQ(MF_DELTA(signalled_ao), 1);
		} else {
			CHECK(no_signal(t));
			CHECK(console_has("1 mapping(s) found through the rmap, unmapped, poison "
					  "markers left in the PTEs (1 late kill): task "));
		}
		CHECK(no_signal(t)); /* exactly one */
		/* Late or early, touching the marker is BUS_MCEERR_AR at the page. */
		CHECK_EQ(vm_fault(mm, PG(0) + 100, FAULT_READ, true), -EHWPOISON);
		CHECK_EQ(vm_fault(mm, PG(0), FAULT_WRITE, true), -EHWPOISON);
		mf_poison_touched(t, PG(0) + 100);
		CHECK(got_sigbus(t, BUS_MCEERR_AR, PG(0)));
		CHECK_EQ(fstats().poisoned, 1);
		fake_task_free(t);
		mm_put(mm);
		CHECK_EQ(vt_nr_mapped(), 0);
		CHECK_EQ(pg->flags, PG_HWPOISON | PG_ISOLATED);
		CHECK(never_reused(pfn));
	}
}

/* Told once: an early-kill task that touches the page between memory_failure's unmapping and
 * its signals (on another CPU) takes BUS_MCEERR_AR from the touch; memory_failure then sends it
 * no BUS_MCEERR_AO for the same loss, whether its handler dropped the page (the marker is
 * gone) or not (the marker stays, told). Played here by a hook at the first time taken after
 * the task's PTE became a marker: memory_failure times its unmapping before it signals. */
static struct task *touch_task;
static bool touch_drops;
static pfn_t touch_pfn;

static void touch_after_unmap(void)
{
	struct task *t = touch_task;
	if (!t || !has_marker(t->mm, PG(0), touch_pfn))
		return;
	touch_task = NULL; /* once */
	CHECK_EQ(vm_fault(t->mm, PG(0), FAULT_READ, true), -EHWPOISON);
	mf_poison_touched(t, PG(0));
	CHECK(got_sigbus(t, BUS_MCEERR_AR, PG(0))); /* its handler runs ... */
	if (touch_drops)			     /* ... and drops the page, or not */
		CHECK_EQ(vm_madvise(t->mm, PG(0), PAGE_SIZE, MADV_DONTNEED), 0);
}

TEST(mf_told_once_early_task_that_touched_first)
{
	for (int drop = 0; drop < 2; drop++) {
		start();
		struct mm *mm[2] = {dirty_mm(1)};
		REQUIRE(mm[0] && (mm[1] = mm_fork(mm[0])) != NULL);
		struct task *t[2] = {fake_task_new(1, mm[0], MF_KILL_EARLY, true),
				     fake_task_new(2, mm[1], MF_KILL_EARLY, true)};
		pfn_t pfn = pfn_at(mm[0], PG(0));
		touch_task = t[1];
		touch_drops = drop;
		touch_pfn = pfn;
		fake_timestamp_hook = touch_after_unmap;
		CHECK_EQ(memory_failure(pfn, 0), 0);
		fake_timestamp_hook = NULL;
		CHECK(touch_task == NULL); /* the touch happened in the middle */
		CHECK(got_sigbus(t[0], BUS_MCEERR_AO, PG(0))); /* the other one is told now */
		CHECK(no_signal(t[0]));
		CHECK(no_signal(t[1])); /* told once, by its touch */
		CHECK(console_has("(1 AO, 1 told)"));
		CHECK_EQ(MF_DELTA(signalled_ao), 1);
		CHECK(drop ? !has_marker(mm[1], PG(0), pfn) : has_marker(mm[1], PG(0), pfn));
		end_tasks(t, mm, 2);
		CHECK(never_reused(pfn));
	}
}

/* Action required: the consumer gets AR at once even with a late policy; other mappers follow
 * their own policy; an uncaught SIGBUS AR kills. */
TEST(mf_srar_action_required_consumer)
{
	start();
	struct mm *mm[3] = {dirty_mm(1)};
	REQUIRE(mm[0]);
	mm[1] = mm_fork(mm[0]);
	mm[2] = mm_fork(mm[0]);
	REQUIRE(mm[1] && mm[2]);
	struct task *t[3] = {fake_task_new(1, mm[0], MF_KILL_LATE, true),
			     fake_task_new(2, mm[1], MF_KILL_LATE, true),
			     fake_task_new(3, mm[2], MF_KILL_EARLY, false)};
	REQUIRE(t[0] && t[1] && t[2]);
	pfn_t pfn = pfn_at(mm[0], PG(0));
	fake_current = t[0];
	CHECK_EQ(memory_failure(pfn, MF_ACTION_REQUIRED), 0);
	CHECK(got_sigbus(t[0], BUS_MCEERR_AR, PG(0)));
	CHECK(no_signal(t[1]));
	struct ksiginfo i;
	CHECK_EQ(fake_task_take_signal(t[2], &i), -SIGBUS); /* early, SIGBUS not caught: dies */
	for (int k = 0; k < 3; k++)
		CHECK(has_marker(mm[k], PG(0), pfn));
	/* The consumer runs into the same poison again (another CPU got there first). */
	fake_current = t[1];
	CHECK_EQ(memory_failure(pfn, MF_ACTION_REQUIRED), -EHWPOISON);
	CHECK(got_sigbus(t[1], BUS_MCEERR_AR, PG(0)));
	CHECK_EQ(MF_DELTA(already), 1);
	end_tasks(t, mm, 3);
	CHECK(never_reused(pfn));
}

/* The return-to-user hook of an SRAR in user mode, with and without a restartable IP. */
TEST(mf_task_work_srar)
{
	start();
	struct mm *mm = dirty_mm(1);
	REQUIRE(mm);
	struct task *t = fake_task_new(5, mm, MF_KILL_DEFAULT, true);
	REQUIRE(t);
	pfn_t pfn = pfn_at(mm, PG(0));
	fake_current = t;
	mf_task_notify(pfn, LSB, MF_ACTION_REQUIRED, 0);
	CHECK(t->flags & TIF_MF_NOTIFY);
	CHECK_EQ(t->mf_pfn, pfn);
	mf_task_work(t);
	CHECK(got_sigbus(t, BUS_MCEERR_AR, PG(0)));
	CHECK_EQ(pfn_to_page(pfn)->flags, PG_HWPOISON | PG_ISOLATED);
	fake_task_free(t);
	mm_put(mm);

	/* RIPV clear (must kill): the frame is still poisoned and isolated; the task dies. */
	mm = dirty_mm(1);
	REQUIRE(mm);
	t = fake_task_new(6, mm, MF_KILL_DEFAULT, true);
	REQUIRE(t);
	pfn_t pfn2 = pfn_at(mm, PG(0));
	fake_current = t;
	mf_task_notify(pfn2, LSB, MF_ACTION_REQUIRED | MF_MUST_KILL, 0);
	mf_task_work(t);
	struct ksiginfo i;
	/* Dies of SIGBUS (its default action) although it has a handler: it cannot resume. */
	CHECK_EQ(fake_task_take_signal(t, &i), -SIGBUS);
	CHECK_EQ(pfn_to_page(pfn2)->flags, PG_HWPOISON | PG_ISOLATED);
	fake_task_free(t);
	mm_put(mm);
	fake_current = &fake_task_obj;
	CHECK(never_reused(pfn));
	CHECK(never_reused(pfn2));
}

#define NCOW 16

TEST(mf_cow_shared_by_many)
{
	start();
	struct mm *mm[NCOW + 1] = {dirty_mm(2)};
	struct task *t[NCOW + 1] = {0};
	REQUIRE(mm[0]);
	for (int k = 1; k <= NCOW; k++)
		REQUIRE((mm[k] = mm_fork(mm[0])) != NULL);
	for (int k = 0; k <= NCOW; k++)
		REQUIRE((t[k] = fake_task_new(100 + k, mm[k],
					      k % 2 ? MF_KILL_EARLY : MF_KILL_LATE, true)));
	pfn_t pfn = pfn_at(mm[0], PG(0));
	struct page *pg = pfn_to_page(pfn);
	CHECK_EQ(rmap_count(pg), NCOW + 1);
	fake_console_clear();
	CHECK_EQ(memory_failure(pfn, 0), 0);
	CHECK(console_has("detected (action optional), anonymous user page: 17 mapping(s) found "
			  "through the rmap, unmapped, poison markers left in the PTEs (9 late kill, "
			  "8 AO): task 100 ("));
	CHECK(console_has(", ... all in /sys/kernel/debug/hwpoison/last_event"));
	CHECK_EQ(console_count("memory_failure: pfn "), 2); /* traced per event, not per mapping */
	CHECK_EQ(rmap_count(pg), 0);
	CHECK_EQ(pg->mapcount, 0);
	CHECK_EQ(pg->refcount, 0);
	CHECK_EQ(pg->flags, PG_HWPOISON | PG_ISOLATED);
	for (int k = 0; k <= NCOW; k++) {
		CHECK(has_marker(mm[k], PG(0), pfn));
		CHECK(page_is(mm[k], PG(1), 0x5a));
		if (k % 2)
			CHECK(got_sigbus(t[k], BUS_MCEERR_AO, PG(0)));
		CHECK(no_signal(t[k]));
		CHECK_EQ(vm_fault(mm[k], PG(0), FAULT_WRITE, true), -EHWPOISON);
	}
	CHECK_EQ(MF_DELTA(signalled_ao), NCOW / 2);
	CHECK(vt_check(mm, NCOW + 1));
	CHECK(never_reused(pfn)); /* a storm that exhausts memory, while the markers live */
	end_tasks(t, mm, NCOW + 1);
	CHECK_EQ(vt_nr_mapped(), 0);
	CHECK(never_reused(pfn));
}

/* Shared anonymous memory is a shmem file: a dirty page stays in its page cache, poisoned (Linux
 * 6.1's shmem rule, outcome "recovered"), until the file goes with its last mapping. */
TEST(mf_shared_anon_is_dirty_shmem)
{
	start();
	struct mm *mm[2] = {mm_create()};
	REQUIRE(mm[0]);
	CHECK_EQ(vm_mmap(mm[0], PG(0), PAGE_SIZE, RW, ANON_SHARED, NULL, 0), PG(0));
	CHECK_EQ(user_write(mm[0], PG(0), 0x33), 0);
	REQUIRE((mm[1] = mm_fork(mm[0])) != NULL);
	struct task *t[2] = {fake_task_new(1, mm[0], MF_KILL_EARLY, true),
			     fake_task_new(2, mm[1], MF_KILL_LATE, true)};
	REQUIRE(t[0] && t[1]);
	pfn_t pfn = pfn_at(mm[0], PG(0));
	struct page *pg = pfn_to_page(pfn);
	unsigned removed = fake_direct_nremoved;
	CHECK_EQ(memory_failure(pfn, 0), 0);
	CHECK_EQ(fake_direct_nremoved, removed + 1); /* recovered: out of the direct map too */
	CHECK_EQ(MF_DELTA(recovered), 1);
	CHECK(console_has("dirty file page: recovered"));
	CHECK(has_marker(mm[0], PG(0), pfn) && has_marker(mm[1], PG(0), pfn));
	CHECK(got_sigbus(t[0], BUS_MCEERR_AO, PG(0)));
	CHECK(no_signal(t[1]));
	CHECK_EQ(pg->refcount, 1); /* the page cache's */
	CHECK(pg->mapping != NULL);
	CHECK_EQ(pg->flags & (PG_USER | PG_FILE | PG_DIRTY | PG_HWPOISON),
		 PG_USER | PG_FILE | PG_DIRTY | PG_HWPOISON);
	CHECK_EQ(vm_fault(mm[1], PG(0), FAULT_READ, true), -EHWPOISON);
	CHECK(never_reused(pfn));
	end_tasks(t, mm, 2);
	CHECK_EQ(pg->flags & (PG_HWPOISON | PG_ISOLATED), PG_HWPOISON | PG_ISOLATED); /* the file
									     went */
	CHECK(never_reused(pfn));
}

/* A mapper whose address space is already exiting (its last reference gone, its teardown
 * not yet run) is left to that exit: the frame is still dealt with, not "failed". */
TEST(mf_shared_anon_mapper_exiting)
{
	start();
	struct mm *mm[2] = {mm_create()};
	REQUIRE(mm[0]);
	CHECK_EQ(vm_mmap(mm[0], PG(0), PAGE_SIZE, RW, ANON_SHARED, NULL, 0), PG(0));
	CHECK_EQ(user_write(mm[0], PG(0), 0x33), 0);
	REQUIRE((mm[1] = mm_fork(mm[0])) != NULL);
	struct task *t[2] = {fake_task_new(1, mm[0], MF_KILL_EARLY, true),
			     fake_task_new(2, mm[1], MF_KILL_EARLY, true)};
	REQUIRE(t[0] && t[1]);
	pfn_t pfn = pfn_at(mm[0], PG(0));
	__atomic_store_n(&mm[1]->refcount, 0, __ATOMIC_RELEASE); /* exiting: mm_tryget fails */
	CHECK_EQ(memory_failure(pfn, 0), 0);
	CHECK_EQ(MF_DELTA(recovered), 1); /* a dirty shmem page, kept poisoned in its cache */
	CHECK_EQ(MF_DELTA(failed), 0);
	CHECK(has_marker(mm[0], PG(0), pfn));
	CHECK(got_sigbus(t[0], BUS_MCEERR_AO, PG(0)));
	CHECK(no_signal(t[1])); /* past telling */
	__atomic_store_n(&mm[1]->refcount, 1, __ATOMIC_RELEASE); /* its exit goes on */
	end_tasks(t, mm, 2);
	CHECK(never_reused(pfn));
}

static uint8_t file_bytes[2 * PAGE_SIZE];

TEST(mf_clean_file_page_dropped)
{
	start();
	for (unsigned i = 0; i < sizeof(file_bytes); i++)
		file_bytes[i] = (uint8_t)(i * 7 + 3);
	struct vt_file vf;
	vt_file_init(&vf, file_bytes, sizeof(file_bytes), VM_FILE_READ);
	struct mm *mm = mm_create();
	REQUIRE(mm);
	CHECK_EQ(vm_mmap(mm, PG(0), 2 * PAGE_SIZE, PT_READ, MAP_PRIVATE | MAP_FIXED, &vf.vf, 0),
		 PG(0));
	struct task *t = fake_task_new(7, mm, MF_KILL_EARLY, true);
	REQUIRE(t);
	CHECK_EQ(vm_fault(mm, PG(1), FAULT_READ, true), 0);
	pfn_t pfn = pfn_at(mm, PG(1));
	struct page *pg = pfn_to_page(pfn);
	REQUIRE(pfn);
	CHECK_EQ(pg->flags, PG_USER | PG_FILE | PG_UPTODATE);
	CHECK_EQ(memory_failure(pfn, 0), 0);
	CHECK(console_has("clean file page: recovered"));
	CHECK(pg->mapping == NULL); /* out of the cache: the next touch reads it again */
	CHECK(no_signal(t)); /* even an early-kill task loses nothing */
	struct vm_page_info info;
	vm_page_info(mm, PG(1), &info);
	CHECK_EQ(info.state, VM_PAGE_NONE); /* dropped: no marker */
	CHECK_EQ(pg->flags, PG_HWPOISON | PG_ISOLATED);
	CHECK_EQ(vm_fault(mm, PG(1), FAULT_READ, true), 0); /* re-read */
	pfn_t again = pfn_at(mm, PG(1));
	CHECK(again && again != pfn);
	uint8_t *p = vt_page(mm, PG(1));
	CHECK(p && memcmp(p, file_bytes + PAGE_SIZE, PAGE_SIZE) == 0);
	CHECK(vt_check(&mm, 1));
	/* A consumer of the frame's poison whose event comes second (two CPUs loaded it at
	 * once): its page was dropped meanwhile, so its load runs again on the file's bytes
	 * read anew. Nothing was consumed: no signal, and no SIGBUS at address 0. */
	fake_current = t;
	CHECK_EQ(memory_failure(pfn, MF_ACTION_REQUIRED), -EHWPOISON);
	fake_current = &fake_task_obj;
	CHECK(no_signal(t));
	CHECK(console_has("consumed it but maps it no more: nothing to tell"));
	fake_task_free(t);
	mm_put(mm);
	vt_file_release(&vf);
	CHECK(never_reused(pfn));
}

/* ---- kernel-owned frames ---- */

static pfn_t pgtable_frame_of(struct arch_pt *pt)
{
	for (pfn_t p = 0; p < VT_NPFN; p++) {
		struct page *pg = pfn_to_page(p);
		if ((pg->flags & PG_PGTABLE) && pg->priv == pt)
			return p;
	}
	return 0;
}

TEST(mf_page_table_frame)
{
	start();
	struct mm *mm = dirty_mm(1);
	REQUIRE(mm);
	pfn_t pfn = pgtable_frame_of(mm->pt);
	REQUIRE(pfn);
	CHECK_EQ(memory_failure(pfn, 0), -EFAULT);
	CHECK_EQ(MF_DELTA(failed), 1);
	CHECK(console_has("frame state: page-table"));
	CHECK(console_has("page-table page: failed"));
	CHECK_EQ(pfn_to_page(pfn)->flags, PG_PGTABLE | PG_HWPOISON);
	CHECK(never_reused(pfn));
	mm_put(mm); /* the table is freed: it must stay out */
	CHECK_EQ(pfn_to_page(pfn)->flags, PG_ISOLATED | PG_HWPOISON);
	CHECK(never_reused(pfn));
	CHECK_EQ(fstats().poisoned, 1);
}

TEST(mf_slab_frame)
{
	start();
	void *obj = kmalloc(200);
	REQUIRE(obj);
	struct page *pg = virt_to_page(obj);
	pfn_t pfn = page_to_pfn(pg);
	CHECK(pg->flags & PG_SLAB);
	CHECK_EQ(memory_failure(pfn, 0), -EFAULT);
	CHECK(console_has("frame state: kernel heap"));
	CHECK(console_has("kernel heap page: failed"));
	CHECK(page_poisoned(pg));
	kfree(obj);
	if (pg->slab_inuse == 0)
		CHECK_EQ(pg->flags, PG_ISOLATED | PG_HWPOISON);
	CHECK(never_reused(pfn));
}

/* A poisoned slab that still has live objects is retired: kmalloc never hands out another
 * object from that frame, the live ones stay usable, and the last kfree keeps it out. */
TEST(mf_slab_with_live_objects_is_retired)
{
	start();
	void *a = kmalloc(200), *b = kmalloc(200);
	REQUIRE(a && b);
	struct page *pg = virt_to_page(a);
	REQUIRE(virt_to_page(b) == pg);
	pfn_t pfn = page_to_pfn(pg);
	CHECK_EQ(memory_failure(pfn, 0), -EFAULT);
	kfree(b); /* a free object in a poisoned slab */
	void *got[64];
	int n = 0, from_bad = 0;
	for (; n < 64 && (got[n] = kmalloc(200)); n++)
		from_bad += virt_to_page(got[n]) == pg;
	CHECK_EQ(from_bad, 0);
	while (n--)
		kfree(got[n]);
	kfree(a);
	CHECK(never_reused(pfn));
}

/* A user frame poisoned after it was allocated but before a fault mapped it is refused:
 * the fault takes a fresh frame instead. */
TEST(mf_fresh_user_frame_poisoned_before_mapping)
{
	start();
	struct mm *mm = dirty_mm(1);
	REQUIRE(mm);
	struct page *pg = frame_alloc(0, PG_USER);
	REQUIRE(pg);
	__atomic_fetch_or(&pg->flags, PG_HWPOISON, __ATOMIC_SEQ_CST);
	CHECK_EQ(vm_install_pte(mm, 0x10000000, pg, PT_READ | PT_WRITE), -EHWPOISON);
	CHECK_EQ(rmap_count(pg), 0);
	frame_free(pg, 0);
	CHECK(never_reused(page_to_pfn(pg)));
	mm_put(mm);
}

TEST(mf_kernel_stack_frame)
{
	start();
	struct page *stk = frame_alloc(KSTACK_ORDER, PG_KSTACK);
	REQUIRE(stk);
	pfn_t pfn = page_to_pfn(stk) + 1; /* a tail frame of the stack */
	uint64_t free0 = vt_free_frames();
	CHECK_EQ(memory_failure(pfn, 0), -EFAULT);
	CHECK(console_has("frame state: kernel stack"));
	CHECK(console_has("kernel stack page: failed"));
	frame_free(stk, KSTACK_ORDER);
	CHECK_EQ(vt_free_frames(), free0 + (1u << KSTACK_ORDER) - 1); /* the rest come back */
	CHECK_EQ(pfn_to_page(pfn)->flags, PG_ISOLATED | PG_HWPOISON);
	CHECK(never_reused(pfn));
}

TEST(mf_generic_kernel_frame_freed_later)
{
	start();
	struct page *pg = frame_alloc(0, PG_KERNEL);
	REQUIRE(pg);
	pfn_t pfn = page_to_pfn(pg);
	CHECK_EQ(memory_failure(pfn, 0), -EFAULT);
	CHECK(console_has("frame state: kernel\n") || console_has("kernel page: failed"));
	uint64_t free0 = vt_free_frames();
	frame_free(pg, 0); /* the owner frees it: quarantined, not reused */
	CHECK_EQ(vt_free_frames(), free0);
	CHECK_EQ(pg->flags, PG_ISOLATED | PG_HWPOISON);
	CHECK(never_reused(pfn));
}

TEST(mf_reserved_frame)
{
	start();
	CHECK_EQ(memory_failure(0, 0), -EBUSY);
	CHECK(console_has("reserved page: ignored"));
	CHECK_EQ(MF_DELTA(ignored), 1);
	CHECK_EQ(pfn_to_page(0)->flags, PG_RESERVED | PG_HWPOISON);
	CHECK_EQ(fstats().poisoned, 1);
	CHECK(never_reused(0));
}

TEST(mf_already_poisoned_and_out_of_range)
{
	start();
	pfn_t pfn = free_head(0);
	CHECK_EQ(memory_failure(pfn, 0), 0);
	CHECK_EQ(memory_failure(pfn, 0), -EHWPOISON);
	CHECK_EQ(memory_failure(pfn, MF_SOFTWARE), -EHWPOISON);
	CHECK_EQ(MF_DELTA(already), 2);
	CHECK(console_has("already poisoned: nothing more to do"));
	CHECK_EQ(fstats().poisoned, 1);
	CHECK_EQ(memory_failure(VT_NPFN, 0), -ENXIO);
	CHECK_EQ(memory_failure(~(pfn_t)0 >> 12, 0), -ENXIO);
	CHECK_EQ(memory_failure(~(pfn_t)0, MF_ACTION_REQUIRED), -ENXIO);
	CHECK_EQ(fstats().poisoned, 1);
}

/* ---- races, in the tests' own terms ---- */

TEST(mf_race_poisoned_while_being_allocated)
{
	start();
	/* memory_failure's first step (the poison bit) has happened, the rest not yet: the
	 * allocator must not hand any of these out, wherever they sit. */
	pfn_t head = free_head(3);
	REQUIRE(head);
	pfn_t inner = head + 3, whole = head;
	struct page *c = frame_alloc(0, PG_KERNEL);
	REQUIRE(c);
	pfn_t cached = page_to_pfn(c);
	frame_free(c, 0); /* on CPU 0's cache */
	__atomic_fetch_or(&pfn_to_page(inner)->flags, PG_HWPOISON, __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&pfn_to_page(cached)->flags, PG_HWPOISON, __ATOMIC_SEQ_CST);
	/* Pop the cache before anything is drained. */
	struct page *got[PCP_TRY_MAX];
	int n = 0;
	bool ok = true;
	while (n < PCP_TRY_MAX && (got[n] = frame_alloc(0, PG_KERNEL)) != NULL)
		ok &= page_to_pfn(got[n++]) != cached;
	CHECK(ok);
	for (int i = 0; i < n; i++)
		frame_free(got[i], 0);
	/* Large blocks must not cover a poisoned frame either. */
	struct page *big = frame_alloc(3, PG_KERNEL);
	while (big && page_to_pfn(big) != whole) {
		CHECK(!(page_to_pfn(big) <= inner && inner < page_to_pfn(big) + 8));
		big = frame_alloc(3, PG_KERNEL); /* leaked on purpose: the world is rebuilt */
	}
	CHECK(big == NULL);
	CHECK(storm_avoids(inner, NULL));
	CHECK(storm_avoids(cached, NULL));
	CHECK_EQ(pfn_to_page(inner)->flags, PG_HWPOISON | PG_ISOLATED);
	CHECK_EQ(pfn_to_page(cached)->flags, PG_HWPOISON | PG_ISOLATED);
	CHECK_EQ(fstats().isolated, 2);
	CHECK_EQ(memory_failure(inner, 0), -EHWPOISON);
}

TEST(mf_race_freed_by_owner)
{
	start();
	struct mm *mm = dirty_mm(1);
	REQUIRE(mm);
	struct task *t = fake_task_new(8, mm, MF_KILL_LATE, true);
	pfn_t pfn = pfn_at(mm, PG(0));
	struct page *pg = pfn_to_page(pfn);
	/* A temporary reference (e.g. a user copy in flight) keeps the frame while it is
	 * unmapped; its holder drops it afterwards. */
	upage_get(pg);
	CHECK_EQ(memory_failure(pfn, 0), 0);
	CHECK(console_has("delayed"));
	CHECK_EQ(pg->flags, PG_USER | PG_HWPOISON);
	uint64_t free0 = vt_free_frames();
	upage_put(pg);
	CHECK_EQ(vt_free_frames(), free0);
	CHECK_EQ(pg->flags, PG_ISOLATED | PG_HWPOISON);
	CHECK(never_reused(pfn));
	fake_task_free(t);
	mm_put(mm);
	/* munmap of a poisoned, still-mapped page (poison bit set, unmap not done yet). */
	mm = dirty_mm(1);
	REQUIRE(mm);
	pfn = pfn_at(mm, PG(0));
	__atomic_fetch_or(&pfn_to_page(pfn)->flags, PG_HWPOISON, __ATOMIC_SEQ_CST);
	CHECK_EQ(vm_munmap(mm, PG(0), PAGE_SIZE), 0);
	CHECK_EQ(pfn_to_page(pfn)->flags, PG_ISOLATED | PG_HWPOISON);
	CHECK(never_reused(pfn));
	mm_put(mm);
}

TEST(mf_race_cow_broken)
{
	start();
	struct mm *mm[2] = {dirty_mm(1)};
	REQUIRE(mm[0]);
	REQUIRE((mm[1] = mm_fork(mm[0])) != NULL);
	struct task *t[2] = {fake_task_new(1, mm[0], MF_KILL_LATE, true),
			     fake_task_new(2, mm[1], MF_KILL_LATE, true)};
	pfn_t pfn = pfn_at(mm[0], PG(0));
	struct page *pg = pfn_to_page(pfn);
	/* The poison bit is set, the rmap walk has not reached the child: its COW write must
	 * fail, never copy the poisoned frame into a fresh one. The fault tells the child (the
	 * caller sends BUS_MCEERR_AR), so it leaves the marker memory_failure would have left,
	 * marked told: memory_failure will find the child done and signal it no more. */
	__atomic_fetch_or(&pg->flags, PG_HWPOISON, __ATOMIC_SEQ_CST);
	CHECK_EQ(vm_fault(mm[1], PG(0), FAULT_WRITE, true), -EHWPOISON);
	CHECK(has_marker(mm[1], PG(0), pfn));
	int tells = 0;
	CHECK(!vm_poison_tell(mm[1], PG(0), pfn, false, count_tell, &tells));
	CHECK_EQ(tells, 0);
	CHECK_EQ(pfn_at(mm[0], PG(0)), pfn);
	CHECK_EQ(rmap_count(pg), 1);
	/* Finish the recovery (clear the bit so memory_failure runs its full course). */
	__atomic_fetch_and(&pg->flags, ~PG_HWPOISON, __ATOMIC_SEQ_CST);
	CHECK_EQ(memory_failure(pfn, 0), 0);
	CHECK(has_marker(mm[0], PG(0), pfn) && has_marker(mm[1], PG(0), pfn));
	CHECK_EQ(vm_fault(mm[1], PG(0), FAULT_WRITE, true), -EHWPOISON);
	CHECK_EQ(vm_fault(mm[0], PG(0), FAULT_READ, true), -EHWPOISON);
	/* A COW pair where the child already broke COW keeps its own good copy. */
	struct mm *a = dirty_mm(1), *b;
	REQUIRE(a && (b = mm_fork(a)) != NULL);
	CHECK_EQ(user_write(b, PG(0), 0x66), 0);
	pfn_t pa = pfn_at(a, PG(0)), pb = pfn_at(b, PG(0));
	CHECK(pa != pb);
	CHECK_EQ(memory_failure(pa, 0), 0);
	CHECK(page_is(b, PG(0), 0x66));
	CHECK(has_marker(a, PG(0), pa));
	mm_put(a);
	mm_put(b);
	end_tasks(t, mm, 2);
	CHECK(never_reused(pfn));
	CHECK(never_reused(pa));
}

/* ---- soft offline and unpoison ---- */

TEST(mf_soft_offline_user_page)
{
	start();
	struct mm *mm[4] = {dirty_mm(2)};
	struct task *t[4];
	REQUIRE(mm[0]);
	for (int k = 1; k < 4; k++)
		REQUIRE((mm[k] = mm_fork(mm[0])) != NULL);
	for (int k = 0; k < 4; k++)
		REQUIRE((t[k] = fake_task_new(20 + k, mm[k], MF_KILL_EARLY, true)));
	pfn_t old = pfn_at(mm[0], PG(0));
	struct page *pg = pfn_to_page(old);
	uint64_t free0 = vt_free_frames();
	CHECK_EQ(soft_offline_frame(old, NULL), 0);
	pfn_t new = pfn_at(mm[0], PG(0));
	CHECK(new &&new != old);
	for (int k = 0; k < 4; k++) {
		CHECK_EQ(pfn_at(mm[k], PG(0)), new);
		CHECK(page_is(mm[k], PG(0), 0x5a));
		CHECK(no_signal(t[k]));
	}
	CHECK_EQ(rmap_count(pg), 0);
	CHECK_EQ(rmap_count(pfn_to_page(new)), 4);
	/* Retired at once, before any cache is drained: not left free with a poison bit. */
	CHECK_EQ(pg->flags, PG_HWPOISON | PG_SWPOISON | PG_ISOLATED);
	CHECK_EQ(unpoison_frame(old), 0);
	CHECK_EQ(memory_failure(old, MF_SOFTWARE), 0); /* a free frame again: poisoned again */
	CHECK_EQ(vt_free_frames(), free0 - 1); /* one fresh frame in, the old one out for good */
	CHECK_EQ(fstats().poisoned, 1);
	CHECK(vt_check(mm, 4));
	CHECK(never_reused(old));
	/* Writes still break COW normally on the new frame. */
	CHECK_EQ(user_write(mm[2], PG(0), 0x11), 0);
	CHECK(page_is(mm[1], PG(0), 0x5a));
	/* The soft-offlined frame is software poison and unused: unpoison returns it. */
	CHECK_EQ(unpoison_frame(old), 0);
	CHECK_EQ(fstats().poisoned, 0);
	CHECK_EQ(pg->flags & (PG_HWPOISON | PG_SWPOISON | PG_ISOLATED), 0);
	end_tasks(t, mm, 4);
}

TEST(mf_soft_offline_shared_anon_and_free)
{
	start();
	struct mm *mm[2] = {mm_create()};
	REQUIRE(mm[0]);
	CHECK_EQ(vm_mmap(mm[0], PG(0), PAGE_SIZE, RW, ANON_SHARED, NULL, 0), PG(0));
	CHECK_EQ(user_write(mm[0], PG(0), 0x42), 0);
	REQUIRE((mm[1] = mm_fork(mm[0])) != NULL);
	pfn_t old = pfn_at(mm[0], PG(0));
	CHECK_EQ(soft_offline_frame(old, NULL), 0);
	pfn_t new = pfn_at(mm[1], PG(0));
	CHECK(new != old &&pfn_at(mm[0], PG(0)) == new);
	CHECK(page_is(mm[1], PG(0), 0x42));
	CHECK_EQ(user_write(mm[1], PG(0), 0x43), 0); /* still shared after the move */
	CHECK(page_is(mm[0], PG(0), 0x43));
	CHECK_EQ(pfn_to_page(old)->flags, PG_HWPOISON | PG_SWPOISON | PG_ISOLATED);
	CHECK(vt_check(mm, 2));
	mm_put(mm[0]);
	mm_put(mm[1]);
	CHECK(never_reused(old));
	/* A free frame: taken out at once. */
	pfn_t f = free_head(2) + 1;
	uint64_t free0 = vt_free_frames();
	CHECK_EQ(soft_offline_frame(f, NULL), 0);
	CHECK_EQ(vt_free_frames(), free0 - 1);
	CHECK_EQ(fstats().poisoned, 2);
	CHECK(never_reused(f));
	CHECK_EQ(soft_offline_frame(f, NULL), 0); /* already done */
	CHECK_EQ(soft_offline_frame(VT_NPFN, NULL), -ENXIO);
	/* Kernel memory cannot move: -EIO as on Linux, and nothing changes. */
	struct page *k = frame_alloc(0, PG_KERNEL);
	CHECK_EQ(soft_offline_frame(page_to_pfn(k), NULL), -EIO);
	CHECK(!page_poisoned(k));
	frame_free(k, 0);
}

/* A clean file page moves as a file page (PG_FILE kept, the file's bytes on the new frame,
 * the page cache's slot on the copy); a shared anonymous page that no PTE maps any more (MADV_DONTNEED in its only mapper) is
 * held by its object's slot alone: the slot follows, and the next touch finds the bytes. */
TEST(mf_soft_offline_file_page_and_unmapped_shmem)
{
	start();
	for (unsigned i = 0; i < sizeof(file_bytes); i++)
		file_bytes[i] = (uint8_t)(i * 5 + 1);
	struct vt_file vf;
	vt_file_init(&vf, file_bytes, sizeof(file_bytes), VM_FILE_READ);
	struct mf_soft_report r;
	struct mm *mm[1] = {mm_create()};
	REQUIRE(mm[0]);
	CHECK_EQ(vm_mmap(mm[0], PG(0), 2 * PAGE_SIZE, PT_READ | PT_WRITE, MAP_PRIVATE | MAP_FIXED,
			 &vf.vf, 0), PG(0));
	CHECK_EQ(vm_fault(mm[0], PG(1), FAULT_READ, true), 0);
	pfn_t old = pfn_at(mm[0], PG(1));
	REQUIRE(old);
	CHECK_EQ(soft_offline_frame(old, &r), 0);
	CHECK(!strcmp(r.what, "clean file page moved"));
	pfn_t new = pfn_at(mm[0], PG(1));
	CHECK(new && new != old && new == r.new_pfn);
	CHECK_EQ(pfn_to_page(new)->flags & (PG_USER | PG_FILE), PG_USER | PG_FILE);
	CHECK_EQ(pfn_to_page(old)->flags, PG_HWPOISON | PG_SWPOISON | PG_ISOLATED);
	CHECK(pfn_to_page(new)->mapping == &vf.pc && pfn_to_page(old)->mapping == NULL);
	uint8_t *p = vt_page(mm[0], PG(1));
	CHECK(p && memcmp(p, file_bytes + PAGE_SIZE, PAGE_SIZE) == 0);
	CHECK_EQ(user_write(mm[0], PG(1), 0x77), 0); /* a private write copies the file page */
	CHECK(page_is(mm[0], PG(1), 0x77));
	CHECK(vt_check(mm, 1));
	CHECK_EQ(vm_munmap(mm[0], PG(0), 2 * PAGE_SIZE), 0);
	vt_file_release(&vf);

	CHECK_EQ(vm_mmap(mm[0], PG(0), PAGE_SIZE, RW, ANON_SHARED, NULL, 0), PG(0));
	CHECK_EQ(user_write(mm[0], PG(0), 0x42), 0);
	old = pfn_at(mm[0], PG(0));
	CHECK_EQ(vm_madvise(mm[0], PG(0), PAGE_SIZE, MADV_DONTNEED), 0);
	CHECK_EQ(pfn_at(mm[0], PG(0)), 0);
	CHECK_EQ(rmap_count(pfn_to_page(old)), 0);
	CHECK_EQ(soft_offline_frame(old, &r), 0);
	CHECK(!strcmp(r.what, "dirty file page moved")); /* a shmem file's, no PTE maps it */
	CHECK(page_poisoned(pfn_to_page(old)));
	CHECK_EQ(vm_fault(mm[0], PG(0), FAULT_READ, true), 0); /* not SIGBUS: the copy is there */
	CHECK_EQ(pfn_at(mm[0], PG(0)), r.new_pfn);
	CHECK(page_is(mm[0], PG(0), 0x42));
	CHECK(vt_check(mm, 1));
	mm_put(mm[0]);
	CHECK(never_reused(old));
}

/* What soft offline says it did, for each kind of frame. */
TEST(mf_soft_offline_reports)
{
	start();
	struct mf_soft_report r;
	struct mm *mm[1] = {dirty_mm(1)};
	REQUIRE(mm[0]);
	pfn_t old = pfn_at(mm[0], PG(0));
	CHECK_EQ(soft_offline_frame(old, &r), 0);
	CHECK(!strcmp(r.what, "anonymous user page moved"));
	CHECK_EQ(r.new_pfn, pfn_at(mm[0], PG(0)));
	CHECK_EQ(soft_offline_frame(old, &r), 0);
	CHECK(!strcmp(r.what, "already poisoned: nothing to do"));
	CHECK_EQ(r.new_pfn, MF_NO_PFN);
	pfn_t f = free_head(0);
	CHECK_EQ(soft_offline_frame(f, &r), 0);
	CHECK(!strcmp(r.what, "free frame taken out of the allocator"));
	CHECK_EQ(soft_offline_frame(VT_NPFN + 5, &r), -ENXIO);
	CHECK(!strcmp(r.what, "not a RAM frame MCRK describes"));
	void *obj = kmalloc(64);
	pfn_t slab = page_to_pfn(virt_to_page(obj));
	CHECK_EQ(soft_offline_frame(slab, &r), -EIO);
	CHECK(!strcmp(r.what, "kernel heap"));
	CHECK(!page_poisoned(pfn_to_page(slab)));
	kfree(obj);
	CHECK_EQ(soft_offline_frame(0, &r), -EIO); /* pfn 0 stays reserved */
	CHECK(!strcmp(r.what, "reserved"));
	/* A user frame whose last reference just went (its free is under way): not touched. */
	struct page *dying = frame_alloc(0, PG_USER);
	REQUIRE(dying);
	dying->refcount = 0;
	uint64_t free0 = vt_free_frames();
	CHECK_EQ(soft_offline_frame(page_to_pfn(dying), &r), -EBUSY);
	CHECK(!strcmp(r.what, "user page being freed: left alone"));
	CHECK_EQ(dying->refcount, 0);
	CHECK(!page_poisoned(dying));
	CHECK_EQ(vt_free_frames(), free0); /* no copy taken */
	dying->refcount = 1;
	frame_free(dying, 0);
	CHECK(vt_check(mm, 1));
	mm_put(mm[0]);
}

/* Another CPU's writer, run at every TLB flush during a soft offline: it writes seq_next at
 * offset seq_next of the page at WRITER_VA as hardware would, through the PTE as it is now.
 * A write the PTE does not allow faults; the fault is retried after the offline (replayed). */
#define WRITER_VA PG(0)
static struct mm *writer_mm;
static unsigned seq_next, seq_faulted[64], nfaulted;

static void writer_on_flush(struct arch_pt *pt, vaddr_t va)
{
	struct pte_info pi;
	(void)pt, (void)va;
	if (seq_next >= 64 || arch_pt_get(writer_mm->pt, WRITER_VA, &pi) || !pi.present)
		return;
	if (pi.prot & PT_WRITE)
		((uint8_t *)page_to_virt(pfn_to_page(pi.pfn)))[seq_next] = (uint8_t)seq_next;
	else
		seq_faulted[nfaulted++] = seq_next;
	seq_next++;
}

/* The same replayed after the offline, through a real write fault. */
static void writer_replay(void)
{
	for (unsigned i = 0; i < nfaulted; i++) {
		CHECK_EQ(vm_fault(writer_mm, WRITER_VA, FAULT_WRITE, true), 0);
		((uint8_t *)vt_page(writer_mm, WRITER_VA))[seq_faulted[i]] = (uint8_t)seq_faulted[i];
	}
}

/* No write is lost while soft offline moves a page: a writer on another CPU that writes at
 * every moment the move lets another CPU run (each TLB flush) either reaches the page through
 * a PTE that still may write (before the copy) or faults and retries after the switch; every
 * one of its writes is in the page afterwards. Private (one and two mappers) and shared. */
TEST(mf_soft_offline_loses_no_concurrent_write)
{
	for (int shared = 0; shared < 2; shared++)
		for (int forked = 0; forked < 2; forked++) {
			start();
			struct mm *mm[2] = {mm_create(), NULL};
			REQUIRE(mm[0]);
			CHECK_EQ(vm_mmap(mm[0], PG(0), PAGE_SIZE, RW, shared ? ANON_SHARED : ANON_PRIV,
					 NULL, 0), PG(0));
			CHECK_EQ(user_write(mm[0], PG(0), 0xee), 0);
			if (forked)
				REQUIRE((mm[1] = mm_fork(mm[0])) != NULL);
			writer_mm = mm[0];
			seq_next = nfaulted = 0;
			fake_mmu_on_flush = writer_on_flush;
			pfn_t old = pfn_at(mm[0], PG(0));
			struct mf_soft_report rep;
			CHECK_EQ(soft_offline_frame(old, &rep), 0);
			fake_mmu_on_flush = NULL;
			CHECK(seq_next > 0);
			/* Settled: writable unless a private page is shared by fork (COW). */
			struct pte_info pi;
			REQUIRE(arch_pt_get(mm[0]->pt, PG(0), &pi) == 0);
			CHECK(pi.pfn == rep.new_pfn && !!(pi.prot & PT_WRITE) == (shared || !forked));
			writer_replay();
			if (shared || !forked) /* its writes went to the copy, not to a third frame */
				CHECK_EQ(pfn_at(mm[0], PG(0)), rep.new_pfn);
			uint8_t *p = vt_page(mm[0], PG(0));
			CHECK(pfn_at(mm[0], PG(0)) != old);
			for (unsigned i = 0; i < seq_next; i++)
				CHECK_EQ(p[i], i);
			for (unsigned i = seq_next; i < PAGE_SIZE; i++)
				CHECK_EQ(p[i], 0xee);
			CHECK_EQ(pfn_to_page(old)->flags & PG_MOVING, 0);
			CHECK(vt_check(mm, forked ? 2 : 1));
			mm_put(mm[0]);
			if (mm[1])
				mm_put(mm[1]);
		}
}

/* While PG_MOVING is set no PTE gets write access: a write fault is retried (answer 0, the PTE
 * unchanged), mprotect keeps write off, a shared object's new mapping is read-only. Once it is
 * clear, the same write fault makes the page writable again without copying it. */
TEST(mf_moving_frame_gets_no_write_access)
{
	start();
	struct mm *mm[1] = {mm_create()};
	REQUIRE(mm[0]);
	CHECK_EQ(vm_mmap(mm[0], PG(0), PAGE_SIZE, RW, ANON_PRIV, NULL, 0), PG(0));
	CHECK_EQ(vm_mmap(mm[0], PG(1), PAGE_SIZE, RW, ANON_SHARED, NULL, 0), PG(1));
	CHECK_EQ(user_write(mm[0], PG(0), 1), 0);
	CHECK_EQ(user_write(mm[0], PG(1), 2), 0);
	struct mm *child = mm_fork(mm[0]); /* holds the shared page so its slot keeps it */
	REQUIRE(child);
	CHECK_EQ(user_write(mm[0], PG(0), 1), 0); /* the fork made it COW: the parent's again */
	for (int i = 0; i < 2; i++) {
		pfn_t pfn = pfn_at(mm[0], PG(i));
		struct page *pg = pfn_to_page(pfn);
		struct pte_info pi;
		CHECK_EQ(vm_wrprotect_page(mm[0], PG(i), pfn), 0);
		__atomic_fetch_or(&pg->flags, PG_MOVING, __ATOMIC_RELAXED);
		CHECK_EQ(vm_fault(mm[0], PG(i), FAULT_WRITE, true), 0);
		REQUIRE(arch_pt_get(mm[0]->pt, PG(i), &pi) == 0);
		CHECK(pi.present && pi.pfn == pfn && !(pi.prot & PT_WRITE));
		CHECK_EQ(vm_mprotect(mm[0], PG(i), PAGE_SIZE, RW), 0);
		REQUIRE(arch_pt_get(mm[0]->pt, PG(i), &pi) == 0);
		CHECK(!(pi.prot & PT_WRITE));
		__atomic_fetch_and(&pg->flags, ~PG_MOVING, __ATOMIC_RELAXED);
		CHECK_EQ(vm_fault(mm[0], PG(i), FAULT_WRITE, true), 0);
		REQUIRE(arch_pt_get(mm[0]->pt, PG(i), &pi) == 0);
		CHECK(pi.pfn == pfn && (pi.prot & PT_WRITE));
		CHECK_EQ(vm_wrprotect_page(mm[0], PG(i), pfn + 1), -ENOENT);
	}
	/* A first touch of the shared object's page while it moves maps it read-only. */
	pfn_t spfn = pfn_at(child, PG(1));
	struct page *spg = pfn_to_page(spfn);
	vm_unmap_page(child, PG(1), spfn);
	__atomic_fetch_or(&spg->flags, PG_MOVING, __ATOMIC_RELAXED);
	CHECK_EQ(vm_fault(child, PG(1), FAULT_READ, true), 0);
	struct pte_info pi;
	REQUIRE(arch_pt_get(child->pt, PG(1), &pi) == 0);
	CHECK(pi.present && pi.pfn == spfn && !(pi.prot & PT_WRITE));
	__atomic_fetch_and(&spg->flags, ~PG_MOVING, __ATOMIC_RELAXED);
	struct mm *all[2] = {mm[0], child};
	CHECK(vt_check(all, 2));
	mm_put(child);
	mm_put(mm[0]);
}

TEST(mf_unpoison_rules_and_accounting)
{
	start();
	pfn_t hw = free_head(0), sw;
	CHECK_EQ(memory_failure(hw, 0), 0);
	sw = free_head(0);
	CHECK_EQ(memory_failure(sw, MF_SOFTWARE), 0);
	CHECK_EQ(fstats().poisoned, 2);
	uint64_t free0 = vt_free_frames();
	CHECK_EQ(unpoison_frame(hw), -EINVAL); /* real hardware poison stays */
	CHECK_EQ(unpoison_frame(sw), 0);
	CHECK_EQ(unpoison_frame(sw), -EINVAL); /* no longer poisoned */
	CHECK_EQ(fstats().poisoned, 1);
	CHECK_EQ(vt_free_frames(), free0 + 1);
	/* It is a normal free frame again: a storm does get it. */
	CHECK(!storm_avoids(sw, NULL));
	CHECK(storm_avoids(hw, NULL));
	/* Software poison of a frame in use: -EBUSY until its owner frees it. */
	struct page *k = frame_alloc(0, PG_KERNEL);
	pfn_t kp = page_to_pfn(k);
	CHECK_EQ(memory_failure(kp, MF_SOFTWARE), -EFAULT);
	CHECK_EQ(unpoison_frame(kp), -EBUSY);
	frame_free(k, 0);
	CHECK_EQ(unpoison_frame(kp), 0);
	CHECK_EQ(k->flags & (PG_HWPOISON | PG_SWPOISON | PG_ISOLATED), 0);
	/* A software-poisoned user page: busy while a shared object holds it. */
	struct mm *mm = mm_create();
	REQUIRE(mm);
	CHECK_EQ(vm_mmap(mm, PG(0), PAGE_SIZE, RW, ANON_SHARED, NULL, 0), PG(0));
	CHECK_EQ(user_write(mm, PG(0), 1), 0);
	pfn_t up = pfn_at(mm, PG(0));
	CHECK_EQ(memory_failure(up, MF_SOFTWARE), 0);
	CHECK_EQ(unpoison_frame(up), -EBUSY);
	mm_put(mm);
	CHECK_EQ(unpoison_frame(up), 0);
	CHECK_EQ(unpoison_frame(VT_NPFN), -ENXIO);
	CHECK_EQ(fstats().poisoned, 1);
	/* Poison in a per-CPU cache, unpoisoned before the owner met it. */
	struct page *c = frame_alloc(0, PG_KERNEL);
	frame_free(c, 0);
	CHECK_EQ(memory_failure(page_to_pfn(c), MF_SOFTWARE), 0);
	CHECK_EQ(unpoison_frame(page_to_pfn(c)), 0);
	CHECK_EQ(c->flags, PG_PCP);
	CHECK_EQ(fstats().isolated, 1);
	CHECK_EQ(fstats().poisoned, 1);
}

/* ---- policy knobs and control files ---- */

TEST(mf_recovery_off_fake_panic)
{
	start();
	sysctl_memory_failure_recovery = 0;
	mf_set_fake_panic(true);
	pfn_t pfn = free_head(0);
	char want[96];
	snprintf(want, sizeof want, "memory_failure: fake panic: Memory failure on frame %#lx",
		 (long)pfn);
	CHECK_EQ(memory_failure(pfn, 0), 0); /* reported, then carried on */
	CHECK(console_has(want));
	CHECK_EQ(pfn_to_page(pfn)->flags, PG_HWPOISON | PG_ISOLATED);
	CHECK(never_reused(pfn));
	mf_set_fake_panic(false);
	sysctl_memory_failure_recovery = 1;
}

static int node(const char *path)
{
	for (int i = fake_nodes - 1; i >= 0; i--)
		if (!strcmp(fake_node_path[i], path))
			return i;
	return -1;
}

static long node_write(const char *path, const char *s)
{
	int i = node(path);
	if (i < 0)
		return -999;
	return fake_node_ops[i]->write(fake_node_priv[i], s, strlen(s));
}

TEST(mf_control_files)
{
	start();
	if (node("/sys/kernel/debug/hwpoison/corrupt-pfn") < 0)
		memory_failure_init();
	REQUIRE(node("/sys/kernel/debug/hwpoison/corrupt-pfn") >= 0);
	const char *corrupt = "/sys/kernel/debug/hwpoison/corrupt-pfn";
	const char *unpoison = "/sys/kernel/debug/hwpoison/unpoison-pfn";
	CHECK_EQ(node_write(corrupt, "abc"), -EINVAL);
	CHECK_EQ(node_write(corrupt, ""), -EINVAL);
	CHECK_EQ(node_write(corrupt, "99999999999999999999999"), -ERANGE);
	CHECK_EQ(node_write(corrupt, "12abc"), -EINVAL);
	CHECK_EQ(node_write(unpoison, "0x7fffffffffff"), -ENXIO);
	CHECK_EQ(node_write(corrupt, "4096"), -ENXIO);
	CHECK_EQ(node_write(corrupt, "0xffffffffffff"), -ENXIO);
	CHECK_EQ(node_write(unpoison, "x1"), -EINVAL);
	CHECK_EQ(fstats().poisoned, 0);
	pfn_t pfn = free_head(0);
	char buf[32];
	snprintf(buf, sizeof buf, "%#lx\n", (long)pfn);
	CHECK_EQ(node_write(corrupt, buf), (long)strlen(buf));
	CHECK_EQ(fstats().poisoned, 1);
	CHECK_EQ(node_write(corrupt, buf), (long)strlen(buf)); /* again: accepted, no change */
	CHECK_EQ(fstats().poisoned, 1);
	CHECK(never_reused(pfn));
	CHECK_EQ(node_write(unpoison, buf), (long)strlen(buf));
	CHECK_EQ(fstats().poisoned, 0);
	CHECK_EQ(node_write("/proc/sys/vm/memory_failure_early_kill", "2"), -EINVAL);
	CHECK_EQ(node_write("/proc/sys/vm/memory_failure_early_kill", "1\n"), 2);
	CHECK_EQ(sysctl_memory_failure_early_kill, 1);
	CHECK_EQ(node_write("/proc/sys/vm/memory_failure_recovery", "-1"), -EINVAL);
	CHECK_EQ(sysctl_memory_failure_recovery, 1);
	sysctl_memory_failure_early_kill = 0;
}

static long write_addr(const char *path, uint64_t addr)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%#llx\n", (unsigned long long)addr);
	long r = node_write(path, buf);
	return r == (long)strlen(buf) ? 0 : r;
}

/* /sys/devices/system/memory/{soft,hard}_offline_page: a physical address (any byte of the
 * frame), Linux's answers: EINVAL for anything but a number (overflow too), ENXIO past RAM,
 * EIO for kernel memory (soft), EBUSY for it (hard), EHWPOISON for a second hard offline. */
TEST(mf_offline_page_files)
{
	start();
	if (node("/sys/devices/system/memory/soft_offline_page") < 0)
		memory_failure_init();
	const char *soft = "/sys/devices/system/memory/soft_offline_page";
	const char *hard = "/sys/devices/system/memory/hard_offline_page";
	REQUIRE(node(soft) >= 0 && node(hard) >= 0);
	for (int i = 0; i < 2; i++) {
		const char *f = i ? hard : soft;
		CHECK_EQ(node_write(f, "abc"), -EINVAL);
		CHECK_EQ(node_write(f, ""), -EINVAL);
		CHECK_EQ(node_write(f, "99999999999999999999999"), -EINVAL);
		CHECK_EQ(node_write(f, "0x1000 "), -EINVAL);
		CHECK_EQ(write_addr(f, (uint64_t)VT_NPFN << PAGE_SHIFT), -ENXIO);
	}
	CHECK_EQ(fstats().poisoned, 0);
	struct mm *mm[1] = {dirty_mm(1)};
	REQUIRE(mm[0]);
	pfn_t user = pfn_at(mm[0], PG(0));
	CHECK_EQ(write_addr(soft, ((uint64_t)user << PAGE_SHIFT) + 0x123), 0);
	CHECK(pfn_at(mm[0], PG(0)) != user && page_is(mm[0], PG(0), 0x5a));
	CHECK_EQ(write_addr(soft, (uint64_t)user << PAGE_SHIFT), 0); /* already: fine */
	pfn_t f = free_head(0);
	CHECK_EQ(write_addr(hard, (uint64_t)f << PAGE_SHIFT), 0);
	CHECK_EQ(write_addr(hard, (uint64_t)f << PAGE_SHIFT), -EHWPOISON);
	CHECK_EQ(fstats().poisoned, 2);
	struct page *k = frame_alloc(0, PG_KERNEL);
	CHECK_EQ(write_addr(soft, (uint64_t)page_to_pfn(k) << PAGE_SHIFT), -EIO);
	CHECK(!page_poisoned(k));
	CHECK_EQ(write_addr(hard, (uint64_t)page_to_pfn(k) << PAGE_SHIFT), -EBUSY);
	CHECK(page_poisoned(k)); /* kept poisoned: never reused once freed */
	frame_free(k, 0);
	CHECK(never_reused(page_to_pfn(k)));
	mm_put(mm[0]);
}

TEST(mf_madvise_hwpoison)
{
	start();
	struct mm *mm = dirty_mm(3);
	REQUIRE(mm);
	struct task *t = fake_task_new(9, mm, MF_KILL_LATE, true);
	pfn_t p0 = pfn_at(mm, PG(0)), p1 = pfn_at(mm, PG(1));
	fake_current = t;
	CHECK_EQ(mf_madvise(mm, PG(0), 2 * PAGE_SIZE, 100), 0);
	CHECK(has_marker(mm, PG(0), p0) && has_marker(mm, PG(1), p1));
	CHECK(page_is(mm, PG(2), 0x5a));
	CHECK_EQ(pfn_to_page(p0)->flags, PG_HWPOISON | PG_SWPOISON | PG_ISOLATED);
	CHECK(no_signal(t));					 /* late: told on touch */
	CHECK_EQ(mf_madvise(mm, PG(0), PAGE_SIZE, 100), 0); /* already: fine */
	CHECK_EQ(mf_madvise(mm, PG(0) + 1, PAGE_SIZE, 100), -EINVAL);
	CHECK_EQ(mf_madvise(mm, PG(0), PAGE_SIZE, 4), -EINVAL);
	CHECK_EQ(mf_madvise(mm, PG(7), PAGE_SIZE, 100), -EFAULT); /* nothing mapped */
	pfn_t p2 = pfn_at(mm, PG(2));
	CHECK_EQ(mf_madvise(mm, PG(2), PAGE_SIZE, 101), 0);
	CHECK(pfn_at(mm, PG(2)) != p2 && page_is(mm, PG(2), 0x5a));
	CHECK_EQ(fstats().poisoned, 3);
	fake_task_free(t);
	fake_current = &fake_task_obj;
	mm_put(mm);
	CHECK(never_reused(p0) && never_reused(p1) && never_reused(p2));
}

static char *node_read(const char *path)
{
	int i = node(path);
	char *out = NULL;
	size_t len = 0;
	if (i < 0 || fake_node_ops[i]->gen(fake_node_priv[i], &out, &len))
		return NULL;
	return out; /* kmalloc'd, NUL-terminated */
}

/* The record of the last event lists every mapping and what it was told, with the trace on
 * or off; its trace line names only the first few. */
TEST(mf_last_event_record)
{
	start();
	if (node("/sys/kernel/debug/hwpoison/last_event") < 0)
		memory_failure_init();
	struct mm *mm[NCOW + 1] = {dirty_mm(1)};
	struct task *t[NCOW + 1] = {0};
	REQUIRE(mm[0]);
	for (int k = 1; k <= NCOW; k++)
		REQUIRE((mm[k] = mm_fork(mm[0])) != NULL);
	for (int k = 0; k <= NCOW; k++)
		REQUIRE((t[k] = fake_task_new(200 + k, mm[k],
					      k % 2 ? MF_KILL_EARLY : MF_KILL_LATE, true)));
	pfn_t pfn = pfn_at(mm[0], PG(0));
	CHECK_EQ(memory_failure(pfn, 0), 0);
	char *rec = node_read("/sys/kernel/debug/hwpoison/last_event");
	REQUIRE(rec);
	char want[96];
	snprintf(want, sizeof want, "pfn %#lx: anonymous user page: recovered", (long)pfn);
	CHECK(strstr(rec, want) && strstr(rec, "mappings 17\n"));
	for (int k = 0; k <= NCOW; k++) {
		snprintf(want, sizeof want, "task %d (task%d) at %#lx: %s", 200 + k, 200 + k, (long)PG(0),
			 k % 2 ? "SIGBUS BUS_MCEERR_AO (early kill)"
			       : "late kill: SIGBUS when it touches the page");
		CHECK(strstr(rec, want) != NULL);
	}
	kfree(rec);
	end_tasks(t, mm, NCOW + 1);
}

/* mf.trace=0: only the outcome line of each event, not every step. */
TEST(mf_trace_knob)
{
	start();
	strcpy(boot_info.cmdline, "quiet mf.trace=0");
	memory_failure_init();
	pfn_t pfn = free_head(0);
	CHECK_EQ(memory_failure(pfn, 0), 0);
	CHECK(console_has(": recovered ("));
	CHECK(!console_has("detected ("));
	CHECK(!console_has("frame state:"));
	CHECK_EQ(memory_failure(pfn, 0), -EHWPOISON);
	CHECK(console_has("already poisoned: nothing more to do"));
	strcpy(boot_info.cmdline, "mf.trace=1");
	memory_failure_init();
	fake_console_clear();
	CHECK_EQ(memory_failure(free_head(0), 0), 0);
	CHECK(console_has("frame state:"));
	boot_info.cmdline[0] = 0;
}

/* ---- /proc/kpageflags: what the frame is, or was before memory_failure took it ---- */

#define KPF(b) ((uint64_t)1 << (b))
enum { KPF_UPTODATE = 3, KPF_LRU = 5, KPF_SLAB = 7, KPF_BUDDY = 10, KPF_MMAP = 11,
       KPF_ANON = 12, KPF_SWAPBACKED = 14, KPF_HWPOISON = 19, KPF_NOPAGE = 20 };

TEST(mf_kpageflags_says_what_the_frame_was)
{
	start();
	const uint64_t anon = KPF(KPF_ANON) | KPF(KPF_UPTODATE) | KPF(KPF_SWAPBACKED);
	struct mm *mm = dirty_mm(2);
	REQUIRE(mm);
	struct task *t = fake_task_new(12, mm, MF_KILL_LATE, true);
	REQUIRE(t);
	pfn_t p0 = pfn_at(mm, PG(0));
	/* In use and mapped: as Linux shows a mapped anonymous page on the LRU. */
	CHECK_EQ(frame_kpageflags(p0), anon | KPF(KPF_LRU) | KPF(KPF_MMAP));
	/* Poisoned and unmapped: Linux 6.1 keeps ANON, UPTODATE, SWAPBACKED next to HWPOISON
	 * (0x85008; DIRTY too when the PTE was dirty, which MCRK does not track), no longer LRU
	 * or MMAP; not a bare 0x80000. */
	CHECK_EQ(memory_failure(p0, MF_SOFTWARE), 0);
	CHECK_EQ(pfn_to_page(p0)->flags & PG_ISOLATED, PG_ISOLATED);
	CHECK_EQ(frame_kpageflags(p0), anon | KPF(KPF_HWPOISON));
	CHECK_EQ(frame_kpageflags(p0), 0x85008);
	/* A free frame poisoned was nothing: HWPOISON alone, as Linux. */
	pfn_t fr = free_head(0);
	CHECK(frame_kpageflags(fr) & KPF(KPF_BUDDY));
	CHECK_EQ(memory_failure(fr, MF_SOFTWARE), 0);
	CHECK_EQ(frame_kpageflags(fr), KPF(KPF_HWPOISON));
	/* Unpoisoned, the poisoned frame forgets what it was: free again, then poisoned while
	 * free it is HWPOISON alone. */
	CHECK_EQ(unpoison_frame(p0), 0);
	CHECK_EQ(frame_kpageflags(p0) & (KPF(KPF_HWPOISON) | KPF(KPF_ANON)), 0);
	CHECK_EQ(memory_failure(p0, MF_SOFTWARE), 0);
	CHECK_EQ(frame_kpageflags(p0), KPF(KPF_HWPOISON));
	/* Kernel heap: SLAB stays, HWPOISON joins it. */
	void *obj = kmalloc(64);
	REQUIRE(obj);
	pfn_t sp = page_to_pfn(virt_to_page(obj));
	CHECK_EQ(frame_kpageflags(sp), KPF(KPF_SLAB));
	CHECK_EQ(memory_failure(sp, MF_SOFTWARE), -EFAULT);
	CHECK_EQ(frame_kpageflags(sp), KPF(KPF_SLAB) | KPF(KPF_HWPOISON));
	CHECK_EQ(frame_kpageflags(VT_NPFN + 5), KPF(KPF_NOPAGE));
	fake_task_free(t);
	fake_current = &fake_task_obj;
	mm_put(mm);
}
