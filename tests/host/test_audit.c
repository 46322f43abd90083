/* Host tests of the consistency checks the injection campaign reads (docs/campaign.md): the
 * allocator audit and the frame accounting (kernel/mm/frame_audit.c), the address-space check
 * (kernel/mm/vm_check.c) against the brute-force oracle of vm_testlib.c, and the frame-state
 * files (kernel/mm/mf_debug.c). Each check passes on a healthy system that went through
 * forks, copy-on-write, shared memory and memory failures, and finds each kind of planted
 * inconsistency. */
#include "unit.h"
#include "fake_arch.h"
#include "fake_task.h"
#include "vm_testlib.h"
#include "../../include/kmalloc.h"
#include "../../include/memory_failure.h"
#include "../../include/pagecache.h"
#include "../../include/rmap.h"
#include "../../include/task.h"
#include "../../include/vfs.h"
#include "../../kernel/mm/mf_priv.h"
#include "../../kernel/mm/vm_priv.h"
#include <stdlib.h>
#include <string.h>

#define BASE 0x20000000ull
#define PG(i) (BASE + (uint64_t)(i)*PAGE_SIZE)
#define RW (PT_READ | PT_WRITE)

static const struct vfs_node_ops *node_ops(const char *path, void **priv)
{
	for (int i = fake_nodes - 1; i >= 0; i--) {
		if (!strcmp(fake_node_path[i], path)) {
			*priv = fake_node_priv[i];
			return fake_node_ops[i];
		}
	}
	return NULL;
}

/* The number after "key " in a generated file's text, or -1. */
static long node_value(const char *path, const char *key)
{
	void *priv;
	const struct vfs_node_ops *ops = node_ops(path, &priv);
	char *text;
	size_t len;
	if (!ops || !ops->gen || ops->gen(priv, &text, &len))
		return -1;
	long v = -1;
	size_t k = strlen(key);
	for (char *p = text; p && p < text + len; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, k) && p[k] == ' ')
			v = strtol(p + k + 1, NULL, 10);
	kfree(text);
	return v;
}

static void setup(void)
{
	vt_setup();
	fake_cpu_count = 2;
	memory_failure_init(); /* the frame-state files */
	frame_audit_init();
	vm_check_init();
}

static uint64_t audit_errors(void)
{
	uint64_t errors = 99;
	CHECK_EQ(frame_audit(&errors), 0);
	return errors;
}

static uint64_t check_errors(void)
{
	uint64_t errors = 99;
	CHECK_EQ(vm_check(&errors), 0);
	return errors;
}

/* Address spaces that went through fork, copy-on-write, shared memory and poisoning; NULL
 * (after a failed check) when one could not be made. */
static struct mm *busy_world(struct mm **child)
{
	struct mm *p = mm_create();
	if (!p)
		return NULL;
	CHECK_EQ(
	    vm_mmap(p, PG(0), 8 * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0),
	    PG(0));
	CHECK_EQ(
	    vm_mmap(p, PG(16), 4 * PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, NULL, 0),
	    PG(16));
	for (int i = 0; i < 8; i++)
		CHECK_EQ(vm_fault(p, PG(i), FAULT_WRITE, true), 0);
	for (int i = 16; i < 20; i++)
		CHECK_EQ(vm_fault(p, PG(i), FAULT_WRITE, true), 0);
	*child = mm_fork(p);
	if (!*child)
		return NULL;
	CHECK_EQ(vm_fault(*child, PG(1), FAULT_WRITE, true), 0); /* COW broken once */
	struct vm_page_info info;
	vm_page_info(p, PG(2), &info);
	CHECK_EQ(memory_failure(info.pfn, MF_SOFTWARE), 0); /* COW-shared, now markers */
	vm_page_info(p, PG(17), &info);
	CHECK_EQ(memory_failure(info.pfn, MF_SOFTWARE), 0); /* kept in the shmem file's cache */
	return p;
}

TEST(frame_audit_clean_after_churn_on_every_cpu)
{
	setup();
	static struct page *got[512];
	for (unsigned round = 0; round < 4; round++) {
		fake_cpu_id = round % 2;
		for (int i = 0; i < 512; i++)
			got[i] = frame_alloc(i % 7 == 0 ? 2 : 0, PG_KERNEL);
		for (int i = 0; i < 512; i += 3)
			frame_free(got[i], i % 7 == 0 ? 2 : 0), got[i] = NULL;
		fake_cpu_id = 1 - fake_cpu_id;
		for (int i = 0; i < 512; i++)
			if (got[i])
				frame_free(got[i], i % 7 == 0 ? 2 : 0);
	}
	fake_cpu_id = 1; /* the audit itself allocates on CPU 0: keep out of that cache */
	struct page *held = frame_alloc(0, PG_KERNEL);
	frame_free(held, 0); /* into CPU 1's cache */
	fake_cpu_id = 0;
	CHECK_EQ(memory_failure(page_to_pfn(held), MF_SOFTWARE), 0); /* lazily isolated there */
	CHECK_EQ(audit_errors(), 0);
	CHECK_EQ(node_value("/sys/kernel/debug/mcrk/frame_audit", "cached_isolated"), 1);
	CHECK_EQ(node_value("/sys/kernel/debug/mcrk/frame_audit", "poisoned"), 1);
	CHECK_EQ(node_value("/sys/kernel/debug/mcrk/frame_audit", "errors"), 0);
}

TEST(frame_audit_finds_planted_errors)
{
	setup();
	fake_cpu_id = 1; /* the audit itself allocates on CPU 0: keep out of that cache */
	struct page *pg = frame_alloc(0, PG_KERNEL);
	REQUIRE(pg);
	frame_free(pg, 0); /* on CPU 1's cache */
	fake_cpu_id = 0;
	__atomic_fetch_or(&pg->flags, PG_HWPOISON, __ATOMIC_SEQ_CST);
	CHECK_EQ(audit_errors(), 1); /* a poisoned frame free in a cache, not isolated */
	__atomic_fetch_and(&pg->flags, ~PG_HWPOISON, __ATOMIC_SEQ_CST);
	CHECK_EQ(audit_errors(), 0);
	struct page *lost = frame_alloc(0, PG_KERNEL);
	REQUIRE(lost);
	lost->flags = 0; /* owned by nobody, on no list */
	CHECK_EQ(audit_errors(), 1);
	lost->flags = PG_KERNEL;
	frame_free(lost, 0);
	struct page *iso = frame_alloc(0, PG_KERNEL);
	REQUIRE(iso);
	iso->flags = PG_ISOLATED; /* out for good without poison, and not counted as isolated */
	CHECK(audit_errors() >= 2);
	iso->flags = PG_KERNEL;
	frame_free(iso, 0);
	CHECK_EQ(audit_errors(), 0);
}

TEST(frame_accounting_equation_holds)
{
	setup();
	struct mm *c = NULL, *p = busy_world(&c);
	REQUIRE(p && c);
	const char *f = "/sys/kernel/debug/mcrk/frame_accounting";
	long frames = node_value(f, "frames"), free = node_value(f, "free");
	long poisoned = node_value(f, "poisoned"), in_use = node_value(f, "in_use");
	CHECK_EQ(poisoned, 2);
	CHECK_EQ(node_value(f, "HardwareCorrupted"), poisoned * 4);
	CHECK_EQ(node_value(f, "MemFree"), free * 4);
	CHECK_EQ(free + poisoned + in_use, frames);
	CHECK_EQ(node_value(f, "unaccounted"), 0);
	CHECK_EQ(node_value(f, "poisoned_in_use"), 1); /* the shmem file's cache still holds one */
	long user = node_value(f, "user"), file = node_value(f, "file");
	mm_put(c);
	mm_put(p);
	CHECK_EQ(node_value(f, "user"), user - 7 - 1); /* the parent's, the child's copy */
	CHECK_EQ(node_value(f, "file"), file - 4); /* the shmem file's pages, poisoned one too */
	CHECK_EQ(node_value(f, "poisoned_in_use"), 0);
	CHECK_EQ(node_value(f, "unaccounted"), 0);
}

/* The campaign's leak check counts the page caches' index nodes apart from the other kmalloc
 * objects (docs/campaign.md): dropping a clean page may free its node, and that is no leak. */
TEST(frame_accounting_counts_page_cache_nodes)
{
	setup();
	const char *f = "/sys/kernel/debug/mcrk/frame_accounting";
	long objects = node_value(f, "slab_objects"), nodes = node_value(f, "pagetree_nodes");
	struct pagecache pc;
	struct page *pg;
	REQUIRE(nodes >= 0);
	pagecache_init(&pc, NULL, NULL);
	REQUIRE(pagecache_get(&pc, 7, PC_CREATE, &pg) == 0 && pg);
	CHECK_EQ(node_value(f, "pagetree_nodes"), nodes + 1);
	CHECK_EQ(node_value(f, "slab_objects") - node_value(f, "pagetree_nodes"), objects - nodes);
	CHECK_EQ(pagecache_drop_clean(pg), 0); /* as memory_failure drops a clean page */
	pagecache_put(pg);
	CHECK_EQ(node_value(f, "pagetree_nodes"), nodes);
	CHECK_EQ(node_value(f, "slab_objects"), objects);
	pagecache_destroy(&pc);
}

TEST(vm_check_agrees_with_the_oracle)
{
	setup();
	struct mm *c = NULL, *p = busy_world(&c);
	REQUIRE(p && c);
	struct mm *all[2] = {p, c};
	CHECK(vt_check(all, 2));
	CHECK_EQ(check_errors(), 0);
	CHECK_EQ(node_value("/sys/kernel/debug/mcrk/vm_check", "mms"), 2);
	CHECK_EQ(node_value("/sys/kernel/debug/mcrk/vm_check", "markers"), 4); /* 2 pages, 2 mms */
	CHECK_EQ(node_value("/sys/kernel/debug/mcrk/vm_check", "poisoned_mapped"), 0);
	mm_put(c);
	mm_put(p);
}

TEST(vm_check_finds_planted_errors)
{
	setup();
	struct mm *c = NULL, *p = busy_world(&c);
	REQUIRE(p && c);
	struct mm *all[2] = {p, c};
	struct vm_page_info info;
	vm_page_info(p, PG(3), &info); /* COW-shared by both */
	struct page *pg = pfn_to_page(info.pfn);
	/* PTEs out of their frame's anchor's reach: the walk, from the page's index, looks at
	 * the wrong address in every VMA and finds none of them. */
	pg->index++;
	CHECK(!vt_check(all, 2));
	CHECK(check_errors() >= 3); /* two PTEs not found, mapcount 2 but none found */
	pg->index--;
	CHECK_EQ(check_errors(), 0);
	/* A mapcount that counts a PTE that is not there. */
	__atomic_fetch_add(&pg->mapcount, 1, __ATOMIC_RELAXED);
	CHECK(check_errors() >= 1);
	__atomic_fetch_sub(&pg->mapcount, 1, __ATOMIC_RELAXED);
	CHECK_EQ(check_errors(), 0);
	/* A reference nobody accounts for (a leak). */
	upage_get(pg);
	CHECK(check_errors() >= 1);
	upage_put(pg);
	/* A writable PTE to a frame still shared copy-on-write. */
	CHECK_EQ(arch_pt_protect(c->pt, PG(3), RW), 0);
	CHECK(check_errors() >= 1);
	CHECK(!vt_check(all, 2));
	CHECK_EQ(arch_pt_protect(c->pt, PG(3), PT_READ), 0);
	CHECK_EQ(check_errors(), 0);
	mm_put(c);
	mm_put(p);
	vm_check_init(); /* registering twice is refused, nothing else */
}

TEST(mf_debug_frame_state_and_info)
{
	setup();
	struct mm *c = NULL, *p = busy_world(&c);
	REQUIRE(p && c);
	struct task *t = fake_task_new(7, p, MF_KILL_LATE, true);
	REQUIRE(t);
	void *priv;
	const struct vfs_node_ops *st = node_ops("/sys/kernel/debug/mcrk/frame_state", &priv);
	const struct vfs_node_ops *in = node_ops("/sys/kernel/debug/mcrk/frame_info", &priv);
	REQUIRE(st && in);
	struct vm_page_info info;
	vm_page_info(p, PG(0), &info);
	uint8_t b = 0xee;
	CHECK_EQ(st->read(priv, &b, 1, info.pfn), 1);
	CHECK(!strcmp(mf_state_name_at(b), "anonymous user")); /* the row memory_failure takes */
	uint8_t rec[24];
	CHECK_EQ(in->read(priv, rec, sizeof(rec), info.pfn * 24), 24);
	uint32_t flags, min_pid;
	int32_t mapcount;
	uint16_t tasks;
	memcpy(&flags, rec, 4);
	memcpy(&tasks, rec + 6, 2);
	memcpy(&mapcount, rec + 8, 4);
	memcpy(&min_pid, rec + 16, 4);
	CHECK_EQ(flags, PG_USER);
	CHECK_EQ(mapcount, 2); /* the child still shares it copy-on-write */
	CHECK_EQ(tasks, 1);    /* only the parent has a task */
	CHECK_EQ(min_pid, 7);
	vm_page_info(p, PG(2), &info); /* poisoned, out of use */
	CHECK_EQ(st->read(priv, &b, 1, info.pfn), 1);
	CHECK_EQ(b, 0x80 | 0x7f);
	CHECK_EQ(st->read(priv, &b, 1, frame_max_pfn()), 0);
	fake_task_free(t);
	mm_put(c);
	mm_put(p);
}
