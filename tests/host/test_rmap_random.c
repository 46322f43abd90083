/* The reverse map's randomized oracle: 12k operations (fork, exit, exec, mmap of
 * private/shared/file memory, partial munmap, mprotect, mremap in place, moved and to a fixed
 * address, read and write faults, poison markers) over 3 seeds that after every step compare
 * what rmap_walk finds for every frame with a brute-force scan of all fake page tables and
 * check the anon_vma structure (vt_check in vm_testlib.c), and every page of every mm with a
 * model of what that mm last wrote there (COW isolation, contents kept across mremap). */
#include "unit.h"
#include "fake_arch.h"
#include "fake_mmu.h"
#include "vm_testlib.h"
#include "../../include/kerrno.h"
#include "../../kernel/mm/vm_priv.h"
#include <stdio.h>
#include <string.h>

#define BASE 0x20000000ull
#define PG(i) (BASE + (uint64_t)(i)*PAGE_SIZE)
#define RW (PT_READ | PT_WRITE)
#define WORDS (PAGE_SIZE / 8)

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
	N_MREMAP,
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
	if (m->fileoff >= 0 && m->fileoff < (int64_t)sizeof rfile_words)
		return rfile_words[m->fileoff / 8 + (last ? WORDS - 1 : 0)];
	return 0; /* anonymous, or a file page past the end of the file */
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
	/* A private page may be read-only until copy-on-write; so may a shared one (a shmem file's
	 * page) until its first write dirties it. */
	if ((info.prot | PT_WRITE) != (m->prot | PT_WRITE))
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
	else if (m->fileoff >= (int64_t)sizeof rfile_words)
		want = -ENXIO; /* past the end of the file (a grown mapping): SIGBUS */
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

/* Where mremap(MREMAP_MAYMOVE) puts n pages, as find_gap does with mmap_top at the window's
 * end: the top of the highest gap that fits; -1 when none does inside the window. */
static int model_gap(const struct tmm *t, int n)
{
	int end = WPAGES;
	while (end >= n) {
		int k = end;
		while (k > 0 && !t->pg[k - 1].mapped && end - k < n)
			k--;
		if (end - k == n)
			return k;
		while (k > 0 && t->pg[k - 1].mapped) /* below the mapping under the gap */
			k--;
		end = k;
	}
	return -1;
}

/* Page k (k >= the moved pages) of a mapping grown from the page saved at its start. */
static struct mpage grown_page(const struct mpage *first, int k)
{
	struct mpage m = {1, first->prot, first->shared, 0, -1, 0};
	if (first->fileoff >= 0)
		m.fileoff = first->fileoff + (int64_t)k * PAGE_SIZE;
	return m;
}

/* mremap of [s, s + n) (inside one VMA, or unmapped) to n2 pages: in place, moved by the
 * kernel (MREMAP_MAYMOVE, into the window's highest gap) or to d (MREMAP_FIXED). A shared
 * mapping does not grow (its object has a fixed size). The model follows: PTEs move, pages
 * keep their contents, poison markers move with them, a grown tail is fresh. */
static bool op_mremap(struct tmm *t)
{
	int s = pick_page(t), n = 1 + (int)(rnd() % 6), n2 = 1 + (int)(rnd() % 6);
	int kind = (int)(rnd() % 3), d = (int)(rnd() % WPAGES), to = s;
	struct vma *v = vma_tree_find(t->mm->vma_root, PG(s));
	long want;

	if (v)
		n = MIN(n, (int)((v->end - PG(s)) >> PAGE_SHIFT));
	n = MIN(n, WPAGES - s);
	if (v && t->pg[s].shared)
		n2 = MIN(n2, n);
	unsigned flags = kind == 0 ? 0 : kind == 1 ? MREMAP_MAYMOVE : MREMAP_MAYMOVE | MREMAP_FIXED;
	if (kind == 2) {
		if (d + n2 > WPAGES)
			d = WPAGES - n2;
		to = d;
		want = (s + n > d && d + n2 > s) ? -EINVAL : !v ? -EFAULT : (long)PG(d);
	} else if (n2 <= n) {
		want = (long)PG(s);
	} else if (!v) {
		want = -EFAULT;
	} else if (s + n2 > WPAGES) {
		return true; /* it could grow past the window's end: not a case we model */
	} else {
		bool room = PG(s + n) == v->end;
		for (int k = s + n; room && k < s + n2; k++)
			room = !t->pg[k].mapped;
		if (!room && kind == 1)
			to = model_gap(t, n2);
		if (!room && (kind == 0 || to < 0))
			return true; /* no room (or none inside the window): not a case we model */
		want = (long)PG(to);
	}
	snprintf(what, sizeof what, "mremap %d+%d -> %d pages, flags %u, to %d (vma %d)", s, n, n2,
		 flags, to, v != NULL);
	if (vm_mremap(t->mm, PG(s), (uint64_t)n * PAGE_SIZE, (uint64_t)n2 * PAGE_SIZE, flags,
		      PG(d)) != want)
		return false;
	nops[N_MREMAP]++;
	struct mpage saved[6];
	int moved = MIN(n, n2);
	memcpy(saved, &t->pg[s], (size_t)moved * sizeof(saved[0]));
	if (kind == 2 && want != -EINVAL) /* the target goes first, then the old tail */
		for (int k = d; k < d + n2; k++)
			t->pg[k] = (struct mpage){0, 0, 0, 0, -1, 0};
	if (want < 0 || !v) { /* shrinks and failed fixed moves still unmap what they did */
		for (int k = s + n2; want != -EINVAL && k < s + n; k++)
			t->pg[k] = (struct mpage){0, 0, 0, 0, -1, 0};
		return true;
	}
	for (int k = s; k < s + n; k++)
		t->pg[k] = (struct mpage){0, 0, 0, 0, -1, 0};
	for (int k = 0; k < n2; k++)
		t->pg[to + k] = k < moved ? saved[k] : grown_page(&saved[0], k);
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
		if (tm[i].mm)
			tm[i].mm->mmap_top = PG(WPAGES); /* mremap's moves land in the window */
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
	if (r < 92)
		return op_touch(t, true);
	if (r < 96)
		return op_mremap(t);
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
	tm[0].mm->mmap_top = PG(WPAGES); /* mremap's moves land in the window */
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
		vt_check_clean(); /* no frame, anon_vma or page table left after each run */
	}
	printf("    ops: fork %ld exit %ld exec %ld mmap %ld munmap %ld mprotect %ld mremap %ld "
	       "read %ld write %ld faults refused %ld poison %ld; up to %d mms\n",
	       nops[N_FORK], nops[N_EXIT], nops[N_EXEC], nops[N_MMAP], nops[N_MUNMAP],
	       nops[N_MPROT], nops[N_MREMAP], nops[N_READ], nops[N_WRITE], nops[N_FAULTERR],
	       nops[N_POISON], max_mms);
}
