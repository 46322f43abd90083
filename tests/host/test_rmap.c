/* Host tests of the reverse map (kernel/mm/rmap.c) through the address-space code: the API on
 * its own, a fork tree torn down in random order, execve-style replacement, and a randomized
 * run of 12k operations (fork, exit, exec, mmap of private/shared/file memory, partial munmap,
 * mprotect, read and write faults, poison markers) that after every step compares the rmap of
 * every frame with a brute-force scan of all fake page tables (vt_check), and every page of
 * every mm with a model of what that mm last wrote there (COW isolation). */
#include "unit.h"
#include "fake_arch.h"
#include "fake_mmu.h"
#include "vm_testlib.h"
#include "../../include/kerrno.h"
#include "../../include/rmap.h"
#include <stdio.h>
#include <string.h>

#define BASE 0x20000000ull
#define PG(i) (BASE + (uint64_t)(i)*PAGE_SIZE)
#define RW (PT_READ | PT_WRITE)
#define WORDS (PAGE_SIZE / 8)

struct pair {
	struct mm *mm;
	vaddr_t va;
};

struct collect {
	struct pair p[16];
	int n, stop_at;
};

static int collect_fn(struct mm *mm, vaddr_t va, void *arg)
{
	struct collect *c = arg;
	if (c->n < 16)
		c->p[c->n] = (struct pair){mm, va};
	c->n++;
	return c->n == c->stop_at ? 42 : 0;
}

static bool has(const struct collect *c, struct mm *mm, vaddr_t va)
{
	for (int i = 0; i < c->n && i < 16; i++)
		if (c->p[i].mm == mm && c->p[i].va == va)
			return true;
	return false;
}

TEST(rmap_api)
{
	vt_start();
	struct page *pg = frame_alloc(0, PG_USER);
	struct mm *a = (struct mm *)0x1000, *b = (struct mm *)0x2000; /* never dereferenced */
	REQUIRE(pg);
	CHECK_EQ(rmap_add(pg, a, PG(1)), 0);
	CHECK_EQ(rmap_add(pg, b, PG(1)), 0);
	CHECK_EQ(rmap_add(pg, a, PG(7)), 0);
	CHECK_EQ(rmap_count(pg), 3);
	CHECK_EQ(pg->mapcount, 3);
	CHECK_EQ(rmap_nr_entries(), 3);
	struct collect c = {.n = 0, .stop_at = 0};
	CHECK_EQ(rmap_walk(pg, collect_fn, &c), 0);
	CHECK_EQ(c.n, 3);
	CHECK(has(&c, a, PG(1)) && has(&c, b, PG(1)) && has(&c, a, PG(7)));
	c = (struct collect){.n = 0, .stop_at = 2};
	CHECK_EQ(rmap_walk(pg, collect_fn, &c), 42); /* stops at the first non-zero */
	CHECK_EQ(c.n, 2);
	CHECK_EQ(rmap_remove(pg, b, PG(7)), -ENOENT);
	CHECK_EQ(rmap_remove(pg, a, PG(1)), 0);
	CHECK_EQ(rmap_remove(pg, a, PG(1)), -ENOENT);
	c = (struct collect){.n = 0, .stop_at = 0};
	rmap_walk(pg, collect_fn, &c);
	CHECK_EQ(c.n, 2);
	CHECK(has(&c, b, PG(1)) && has(&c, a, PG(7)) && !has(&c, a, PG(1)));
	CHECK_EQ(rmap_remove(pg, a, PG(7)), 0);
	CHECK_EQ(rmap_remove(pg, b, PG(1)), 0);
	CHECK_EQ(rmap_count(pg), 0);
	CHECK(pg->priv == NULL);
	frame_free(pg, 0);
	vt_check_clean();
}

static int count_fn(struct mm *mm, vaddr_t va, void *arg)
{
	(void)mm;
	(void)va;
	(*(int *)arg)++;
	return 0;
}

/* A parent, 3 children, 2 grandchildren each; writes break COW here and there; then every mm
 * exits in a scrambled order, with the full check after every step. */
TEST(rmap_fork_tree)
{
	enum { NMM = 10 };
	struct mm *mms[NMM];
	int n = 0;
	vt_start();
	mms[n++] = mm_create();
	REQUIRE(mms[0]);
	CHECK_EQ(vm_mmap(mms[0], PG(0), 4 * PAGE_SIZE, RW,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, NULL, 0),
		 PG(0));
	for (int i = 0; i < 4; i++)
		((uint64_t *)vt_page(mms[0], PG(i)))[0] = 1000 + i;
	struct page *shared = virt_to_page(vt_page(mms[0], PG(3)));
	REQUIRE(shared);
	for (int c = 0; c < 3; c++) {
		struct mm *child = mm_fork(mms[0]);
		REQUIRE(child);
		mms[n++] = child;
		CHECK(vt_check(mms, n));
		for (int g = 0; g < 2; g++) {
			mms[n++] = mm_fork(child);
			REQUIRE(mms[n - 1]);
			CHECK(vt_check(mms, n));
		}
		CHECK_EQ(vm_fault(child, PG(c), FAULT_WRITE, true), 0);
		CHECK(vt_check(mms, n));
	}
	CHECK_EQ(rmap_count(shared), NMM); /* nobody wrote page 3 */
	int visits = 0;
	rmap_walk(shared, count_fn, &visits);
	CHECK_EQ(visits, NMM);
	for (int i = 0; i < NMM; i++)
		CHECK_EQ(((uint64_t *)vt_page(mms[i], PG(2)))[0], 1002);
	static const int order[NMM] = {4, 0, 9, 1, 7, 2, 8, 3, 6, 5};
	bool gone[NMM] = {false};
	for (int k = 0; k < NMM; k++) {
		struct mm *live[NMM];
		int nl = 0;
		mm_put(mms[order[k]]);
		gone[order[k]] = true;
		for (int i = 0; i < NMM; i++)
			if (!gone[i])
				live[nl++] = mms[i];
		CHECK(vt_check(live, nl));
		for (int i = 0; i < nl; i++)
			CHECK_EQ(((uint64_t *)vt_page(live[i], PG(3)))[0], 1003);
	}
	vt_check_clean();
}

/* execve is mm_put of the old image and a new mm: the old mappings leave the rmap at once. */
TEST(rmap_exec_replaces_image)
{
	vt_start();
	struct mm *p = mm_create();
	REQUIRE(p);
	CHECK_EQ(vm_mmap(p, PG(0), 2 * PAGE_SIZE, RW,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, NULL, 0),
		 PG(0));
	uint64_t f0 = vt_free_frames();
	struct mm *c = mm_fork(p);
	REQUIRE(c);
	CHECK_EQ(rmap_nr_entries(), 4);
	CHECK_EQ(vt_free_frames(), f0 - 1); /* the child's page table; data frames are shared */
	mm_put(c);			    /* the child execs */
	c = mm_create();
	REQUIRE(c);
	struct mm *both[2] = {p, c};
	CHECK_EQ(rmap_nr_entries(), 2);
	CHECK(vt_check(both, 2));
	CHECK_EQ(vm_fault(p, PG(0), FAULT_WRITE, true), 0); /* sole holder again: no copy */
	CHECK_EQ(vt_free_frames(), f0 - 1); /* no copy was made; the old image's frames are gone */
	mm_put(c);
	mm_put(p);
	vt_check_clean();
}

/* ---- the randomized run ---- */

#define WPAGES 48 /* every mapping lives in a window of this many pages */
#define MAXMM 10
#define STEPS_PER_SEED 4000

struct mpage {
	uint8_t mapped, prot, shared, poisoned;
	int64_t fileoff; /* file page: offset in rfile; -1 for anonymous */
	uint64_t tag;	 /* private page: what this mm last wrote (0: never written) */
};

struct tmm {
	struct mm *mm;
	struct mpage pg[WPAGES];
};

static struct tmm tm[MAXMM];
static int ntm;
static uint64_t rng, next_tag;
static uint64_t rfile_words[WPAGES * WORDS];
static struct vt_file rfile; /* read-only: its pages are shared through its page cache */
static char what[160]; /* the current operation, for failure messages */
/* Operations run, by kind, over all seeds (printed, so a reader sees what was covered). */
enum {
	N_FORK,
	N_EXIT,
	N_EXEC,
	N_MMAP,
	N_MUNMAP,
	N_MPROT,
	N_READ,
	N_WRITE,
	N_FAULTERR,
	N_POISON,
	N_KINDS
};
static long nops[N_KINDS];
static int max_mms;

static uint64_t rnd(void) { return unit_xorshift(&rng); }

static struct mm **live_mms(void)
{
	static struct mm *a[MAXMM];
	for (int i = 0; i < ntm; i++)
		a[i] = tm[i].mm;
	return a;
}

/* Expected first and last word of a private page. */
static uint64_t expect_word(const struct mpage *m, bool last)
{
	if (m->tag)
		return m->tag;
	if (m->fileoff >= 0)
		return rfile_words[m->fileoff / 8 + (last ? WORDS - 1 : 0)];
	return 0;
}

static bool page_ok(struct tmm *t, int s)
{
	struct mpage *m = &t->pg[s];
	struct vm_page_info info;

	vm_page_info(t->mm, PG(s), &info);
	if (!m->mapped || m->poisoned) {
		enum vm_page_state want = m->poisoned && m->mapped ? VM_PAGE_POISON : VM_PAGE_NONE;
		return info.state == want;
	}
	if (info.state == VM_PAGE_NONE)
		return m->shared || !m->tag; /* written private data must never vanish */
	if (info.state != VM_PAGE_PRESENT)
		return false;
	if (m->shared ? info.prot != m->prot : (info.prot | PT_WRITE) != (m->prot | PT_WRITE))
		return false;
	if (m->shared)
		return true;
	uint64_t *w = page_to_virt(pfn_to_page(info.pfn));
	return w[0] == expect_word(m, false) && w[WORDS - 1] == expect_word(m, true);
}

struct layout {
	struct tmm *t;
	bool bad;
};

static int layout_fn(const struct vma *v, void *arg)
{
	struct layout *l = arg;
	for (vaddr_t va = v->start; va < v->end; va += PAGE_SIZE) {
		int64_t s = ((int64_t)va - (int64_t)BASE) / (int64_t)PAGE_SIZE;
		if (s < 0 || s >= WPAGES || !l->t->pg[s].mapped || l->t->pg[s].prot != v->prot ||
		    l->t->pg[s].shared != !!(v->flags & VM_SHARED))
			l->bad = true;
	}
	return 0;
}

/* Model vs reality for every page of every mm, then the brute-force rmap check. */
static bool world_ok(void)
{
	for (int i = 0; i < ntm; i++) {
		struct layout l = {&tm[i], false};
		int covered = 0;
		vm_for_each_vma(tm[i].mm, layout_fn, &l);
		for (int s = 0; s < WPAGES; s++) {
			covered += tm[i].pg[s].mapped;
			if (!page_ok(&tm[i], s)) {
				snprintf(vt_err, sizeof vt_err,
					 "mm slot %d page %d differs from model", i, s);
				return false;
			}
		}
		(void)covered;
		if (l.bad) {
			snprintf(vt_err, sizeof vt_err, "mm slot %d: VMAs differ from model", i);
			return false;
		}
	}
	return vt_check(live_mms(), (size_t)ntm);
}

static void pick_range(int *s, int *n)
{
	*s = (int)(rnd() % WPAGES);
	*n = 1 + (int)(rnd() % 8);
	if (*s + *n > WPAGES)
		*n = WPAGES - *s;
}

static bool range_mapped(struct tmm *t, int s, int n)
{
	for (int k = s; k < s + n; k++)
		if (!t->pg[k].mapped)
			return false;
	return true;
}

static const unsigned prots[] = {0, PT_READ, RW, PT_READ | PT_EXEC, RW | PT_EXEC, RW, RW};

static bool op_mmap(struct tmm *t)
{
	int s, n, kind = (int)(rnd() % 4); /* 0,1: private anon; 2: shared anon; 3: file */
	unsigned prot = prots[rnd() % ARRAY_SIZE(prots)];
	pick_range(&s, &n);
	uint64_t off = (rnd() % (WPAGES - (unsigned)n + 1)) * PAGE_SIZE;
	unsigned flags = MAP_FIXED | (kind == 2 ? MAP_SHARED : MAP_PRIVATE);
	flags |= kind == 3 ? 0 : MAP_ANONYMOUS;
	snprintf(what, sizeof what, "mmap %d+%d prot %u kind %d", s, n, prot, kind);
	long r = vm_mmap(t->mm, PG(s), (uint64_t)n * PAGE_SIZE, prot, flags,
			 kind == 3 ? &rfile.vf : NULL, kind == 3 ? off : 0);
	if (r != (long)PG(s))
		return false;
	nops[N_MMAP]++;
	for (int k = 0; k < n; k++)
		t->pg[s + k] =
		    (struct mpage){1,
				   (uint8_t)prot,
				   kind == 2,
				   0,
				   kind == 3 ? (int64_t)(off + (uint64_t)k * PAGE_SIZE) : -1,
				   0};
	return true;
}

static bool op_munmap(struct tmm *t)
{
	int s, n;
	pick_range(&s, &n);
	snprintf(what, sizeof what, "munmap %d+%d", s, n);
	if (vm_munmap(t->mm, PG(s), (uint64_t)n * PAGE_SIZE) != 0)
		return false;
	nops[N_MUNMAP]++;
	for (int k = s; k < s + n; k++)
		t->pg[k] = (struct mpage){0, 0, 0, 0, -1, 0};
	return true;
}

static bool op_mprotect(struct tmm *t)
{
	int s, n;
	unsigned prot = prots[rnd() % ARRAY_SIZE(prots)];
	pick_range(&s, &n);
	bool full = range_mapped(t, s, n);
	snprintf(what, sizeof what, "mprotect %d+%d prot %u (mapped %d)", s, n, prot, full);
	int r = vm_mprotect(t->mm, PG(s), (uint64_t)n * PAGE_SIZE, prot);
	if (r != (full ? 0 : -ENOMEM))
		return false;
	nops[N_MPROT]++;
	for (int k = s; full && k < s + n; k++)
		t->pg[k].prot = (uint8_t)prot;
	return true;
}

/* A random page of t, preferring (9 times in 10) one that the model says is mapped. */
static int pick_page(struct tmm *t)
{
	int s = (int)(rnd() % WPAGES);

	for (int tries = 0; tries < 16 && !t->pg[s].mapped && rnd() % 10; tries++)
		s = (int)(rnd() % WPAGES);
	return s;
}

static bool op_touch(struct tmm *t, bool write)
{
	int s = pick_page(t);
	struct mpage *m = &t->pg[s];
	unsigned access = write ? FAULT_WRITE : FAULT_READ;
	int want = 0;

	if (!m->mapped)
		want = -EFAULT;
	else if (!m->prot || (write && !(m->prot & PT_WRITE)))
		want = -EACCES;
	else if (m->poisoned)
		want = -EHWPOISON;
	snprintf(what, sizeof what, "%s page %d", write ? "write" : "read", s);
	if (vm_fault(t->mm, PG(s) + rnd() % PAGE_SIZE, access, true) != want)
		return false;
	nops[want ? N_FAULTERR : write ? N_WRITE : N_READ]++;
	if (want || !write)
		return want || page_ok(t, s);
	uint64_t *w = vt_page(t->mm, PG(s));
	if (!w)
		return false;
	w[0] = w[WORDS - 1] = ++next_tag;
	if (!m->shared)
		m->tag = next_tag;
	return true;
}

static bool op_poison(struct tmm *t)
{
	int s = pick_page(t);
	struct vm_page_info info;

	vm_page_info(t->mm, PG(s), &info);
	for (int tries = 0; tries < 8 && info.state != VM_PAGE_PRESENT; tries++) {
		s = pick_page(t);
		vm_page_info(t->mm, PG(s), &info);
	}
	snprintf(what, sizeof what, "poison page %d (state %d)", s, info.state);
	if (info.state != VM_PAGE_PRESENT)
		return vm_set_poison(t->mm, PG(s), 1) == -ENOENT;
	if (vm_set_poison(t->mm, PG(s), info.pfn) != 0)
		return false;
	t->pg[s].poisoned = 1;
	nops[N_POISON]++;
	return true;
}

static bool op_lifecycle(int kind)
{
	int i = ntm ? (int)(rnd() % (unsigned)ntm) : 0;

	if (kind == 0 && ntm && ntm < MAXMM) { /* fork */
		snprintf(what, sizeof what, "fork slot %d", i);
		struct mm *c = mm_fork(tm[i].mm);
		if (!c)
			return false;
		tm[ntm] = tm[i];
		tm[ntm++].mm = c;
		nops[N_FORK]++;
		max_mms = MAX(max_mms, ntm);
	} else if (kind == 1 && ntm > 1) { /* exit */
		snprintf(what, sizeof what, "exit slot %d", i);
		mm_put(tm[i].mm);
		tm[i] = tm[--ntm];
		nops[N_EXIT]++;
	} else if (kind == 2 && ntm) { /* exec: a brand-new image in the same slot */
		snprintf(what, sizeof what, "exec slot %d", i);
		mm_put(tm[i].mm);
		memset(&tm[i], 0, sizeof tm[i]);
		for (int s = 0; s < WPAGES; s++)
			tm[i].pg[s].fileoff = -1;
		tm[i].mm = mm_create();
		nops[N_EXEC]++;
		return tm[i].mm != NULL;
	}
	return true;
}

static bool random_step(void)
{
	unsigned r = (unsigned)(rnd() % 100);
	struct tmm *t = &tm[rnd() % (unsigned)ntm];

	if (r < 7)
		return op_lifecycle(0);
	if (r < 12)
		return op_lifecycle(1);
	if (r < 14)
		return op_lifecycle(2);
	if (r < 28)
		return op_mmap(t);
	if (r < 38)
		return op_munmap(t);
	if (r < 48)
		return op_mprotect(t);
	if (r < 68)
		return op_touch(t, false);
	if (r < 96)
		return op_touch(t, true);
	return op_poison(t);
}

static void run_seed(uint64_t seed)
{
	rng = seed;
	ntm = 1;
	memset(tm, 0, sizeof tm);
	for (int s = 0; s < WPAGES; s++)
		tm[0].pg[s].fileoff = -1;
	tm[0].mm = mm_create();
	REQUIRE(tm[0].mm);
	for (int step = 0; step < STEPS_PER_SEED; step++) {
		what[0] = vt_err[0] = 0;
		bool ok = random_step() && world_ok();
		if (!ok) {
			char m[800];
			snprintf(m, sizeof m, "seed %#llx step %d: %s: %s",
				 (unsigned long long)seed, step, what, vt_err);
			unit_fail(__FILE__, __LINE__, m);
			break;
		}
	}
	while (ntm)
		mm_put(tm[--ntm].mm);
}

TEST(rmap_randomized_vs_bruteforce)
{
	static const uint64_t seeds[] = {0x9e3779b97f4a7c15ull, 0x1234567ull, 0xdeadbeefcafeull};
	vt_start();
	for (size_t w = 0; w < ARRAY_SIZE(rfile_words); w++)
		rfile_words[w] = 0xF11E000000000000ull | w;
	for (size_t i = 0; i < ARRAY_SIZE(seeds) && !unit_current_failed; i++) {
		vt_file_init(&rfile, rfile_words, sizeof rfile_words, VM_FILE_READ);
		run_seed(seeds[i]);
		vt_file_release(&rfile);
		vt_check_clean(); /* no frame, rmap entry or page table left after each run */
	}
	printf("    ops: fork %ld exit %ld exec %ld mmap %ld munmap %ld mprotect %ld read %ld "
	       "write %ld"
	       " faults refused %ld poison %ld; up to %d mms\n",
	       nops[N_FORK], nops[N_EXIT], nops[N_EXEC], nops[N_MMAP], nops[N_MUNMAP],
	       nops[N_MPROT], nops[N_READ], nops[N_WRITE], nops[N_FAULTERR], nops[N_POISON],
	       max_mms);
}
