/* The campaign's workload: families of processes that hold data with a checksum per 4 KiB
 * page and check every page on every pass, while the agent injects memory errors around them.
 *
 * A family head maps a private region and a shared one (MAP_SHARED|MAP_ANONYMOUS), fills both,
 * and forks its children: they inherit the private pages copy-on-write and the shared pages
 * as they are. Every process then loops: verify every page against its checksum, rewrite a few
 * private pages (breaking copy-on-write), publish its frames to the agent (from its own
 * /proc/self/pagemap), pause (sleeping, or spinning without a syscall). Before some rewrites
 * the page is mapped anew, dropped (MADV_DONTNEED) or write-protected for a moment, so that
 * the kernel's own paths race with memory_failure. A child lives a few hundred passes; then
 * its head forks a new one, so forks and exits keep happening.
 *
 * A process told about a lost page (SIGBUS BUS_MCEERR_AO or _AR) drops that page only
 * (MADV_DONTNEED for a private page; a new shared mapping over a shared one), reports
 *     LOST pid va pfn code region index how
 * and rebuilds the page on its next pass. pfn is the frame its pagemap names for the page (a
 * poisoned page reads as a hwpoison entry) and how says what the pagemap showed (marker,
 * mapped, none: see on_sigbus); the host judges from both whether this telling was owed
 * (docs/campaign.md). A lost page outside the data (stack, heap, program data)
 * cannot be dropped: the process exits with EXIT_VITAL and its head forks a new one. A
 * checksum that does not match while no loss of that page was reported is silent corruption:
 *     MISMATCH pid va index
 * A process without a SIGBUS handler (policy) dies of the signal and is forked again. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "campaign.h"

#define EXIT_VITAL 3  /* lost a page it cannot rebuild */
#define EXIT_ORPHAN 4 /* its head is gone */
#define READER_WAIT_MS 3000
#define PAUSE_MS 3
#define WRITES_PER_PASS 3
#define MADV_HWPOISON_ADVICE 100
#define PM_PRESENT (1ull << 63)
#define PM_SWAP (1ull << 62)
#define PM_PFN_MASK ((1ull << 55) - 1)
#define PM_SWAP_TYPE_BITS 5
#define FILE_PATH "/bin/campaign" /* any initrd file of at least MAX_FILE pages */

struct page_meta {
	uint32_t tag, gen;	/* what the page holds: fill_page(tag, index, gen) */
	uint64_t sum;		/* its checksum */
	volatile uint32_t lost; /* losses reported for this page (the signal handler counts) */
	volatile int pending;	/* dropped by the handler, not yet rebuilt */
};

/* This process. */
static struct mailbox *mb;
static const struct shape *sh;
static struct slot *me;
static struct policy pol;
static int family, member, head_pid;
static char *priv_base, *shared_base, *file_base;
static struct page_meta meta[MAX_PAGES];
static int npages;
static uint32_t passes, losses, mismatches, last_req;
static volatile int reader_index = -1, reader_stop;
static uint64_t rng_state;

/* ---- one-line reports ---- */

static char *put_str(char *p, char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static char *put_num(char *p, char *end, unsigned long v, unsigned base, int neg)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg && p < end)
		*p++ = '-';
	if (base == 16)
		p = put_str(p, end, "0x");
	while (n && p < end)
		*p++ = tmp[--n];
	return p;
}

void say(const char *fmt, ...)
{
	char buf[512], *p = buf, *end = buf + sizeof(buf) - 1;
	va_list ap;
	va_start(ap, fmt);
	for (; *fmt && p < end; fmt++) {
		if (*fmt != '%') {
			*p++ = *fmt;
			continue;
		}
		switch (*++fmt) {
		case 'd': {
			int v = va_arg(ap, int);
			p = put_num(p, end, v < 0 ? -(unsigned long)v : (unsigned long)v, 10,
				    v < 0);
			break;
		}
		case 'u':
			p = put_num(p, end, va_arg(ap, unsigned), 10, 0);
			break;
		case 'x':
			p = put_num(p, end, va_arg(ap, unsigned long), 16, 0);
			break;
		case 's':
			p = put_str(p, end, va_arg(ap, const char *));
			break;
		default:
			*p++ = *fmt;
		}
	}
	va_end(ap);
	*p++ = '\n';
	int saved = errno;
	(void)!write(1, buf, (size_t)(p - buf));
	errno = saved;
}

/* ---- pagemap and time ---- */

static int pagemap_fd = -1;

uint64_t pagemap_entry(uintptr_t va)
{
	uint64_t e = 0;
	if (pagemap_fd < 0)
		pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pread(pagemap_fd, &e, 8, (off_t)(va / PG * 8)) != 8)
		return 0;
	return e;
}

uint64_t pagemap_pfn(uint64_t e, int *poisoned)
{
	*poisoned = !(e & PM_PRESENT) && (e & PM_SWAP);
	if (e & PM_PRESENT)
		return e & PM_PFN_MASK;
	return *poisoned ? (e & PM_PFN_MASK) >> PM_SWAP_TYPE_BITS : 0;
}

uint64_t rdtsc_now(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

uint64_t tsc_per_ms(void)
{
	static uint64_t rate;
	if (!rate) {
		struct timespec a, b, nap = {0, 10 * 1000 * 1000};
		clock_gettime(CLOCK_MONOTONIC, &a);
		uint64_t t0 = rdtsc_now();
		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_MONOTONIC, &b);
		uint64_t ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ull +
			      (uint64_t)b.tv_nsec - (uint64_t)a.tv_nsec;
		rate = (rdtsc_now() - t0) * 1000000ull / (ns ? ns : 1);
	}
	return rate ? rate : 1;
}

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* ---- page contents ---- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static void fill_page(volatile uint64_t *p, uint32_t tag, uint32_t idx, uint32_t gen)
{
	uint64_t s = mix(((uint64_t)tag << 32) ^ ((uint64_t)idx << 20) ^ gen) | 1;
	for (int i = 0; i < PG / 8; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		p[i] = s;
	}
}

static uint64_t sum_page(const volatile uint64_t *p)
{
	uint64_t s = 0;
	for (int i = 0; i < PG / 8; i++)
		s = ((s << 5) | (s >> 59)) ^ p[i];
	return s;
}

/* Pages are indexed private first, then shared, then file. */
static int region_of(int i)
{
	return i < sh->priv_pages		       ? REG_PRIVATE
	       : i < sh->priv_pages + sh->shared_pages ? REG_SHARED
						       : REG_FILE;
}

static volatile uint64_t *page_at(int i)
{
	switch (region_of(i)) {
	case REG_PRIVATE:
		return (volatile uint64_t *)(priv_base + (size_t)i * PG);
	case REG_SHARED:
		return (volatile uint64_t *)(shared_base + (size_t)(i - sh->priv_pages) * PG);
	default:
		return (volatile uint64_t *)(file_base +
					     (size_t)(i - sh->priv_pages - sh->shared_pages) * PG);
	}
}

static const char *region_name(int i)
{
	static const char *const names[] = {"?", "private", "shared", "file"};
	return names[region_of(i)];
}

static int index_of(uintptr_t va)
{
	for (int i = 0; i < npages; i++)
		if ((uintptr_t)page_at(i) == (va & ~(uintptr_t)(PG - 1)))
			return i;
	return -1;
}

/* Write page i anew and remember its checksum. A shared page gets back its original contents
 * (the family's other members check it against theirs); a private one a new generation; a
 * file page is not ours to write (the next touch reads the file again). */
static void write_page(int i, int new_gen)
{
	struct page_meta *m = &meta[i];
	if (region_of(i) == REG_FILE)
		return;
	if (new_gen) {
		m->tag = (uint32_t)getpid();
		m->gen++;
	}
	fill_page(page_at(i), m->tag, (uint32_t)i, m->gen);
	m->sum = sum_page(page_at(i));
}

/* ---- losses ---- */

/* Drop page i: the next touch gets a fresh page. */
static void drop_page(int i)
{
	void *va = (void *)page_at(i);
	if (region_of(i) == REG_SHARED)
		mmap(va, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	else
		madvise(va, PG,
			MADV_DONTNEED); /* a private copy of a file page: the file's again */
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	uintptr_t va = (uintptr_t)si->si_addr & ~(uintptr_t)(PG - 1);
	int poisoned, i = index_of(va);
	uint64_t e = pagemap_entry(va), pfn = pagemap_pfn(e, &poisoned);
	/* marker: the page holds memory_failure's poison marker; mapped: the frame is still
	 * mapped (poisoned while memory_failure has not yet reached this address space);
	 * none: nothing is mapped (a shared page whose frame the shared object holds poisoned,
	 * or a signal about a page already dropped). */
	const char *how = poisoned ? "marker" : (e & PM_PRESENT) ? "mapped" : "none";
	if (i < 0) {
		say("LOST %d %x %x %d vital -1 %s", getpid(), va, pfn, si->si_code, how);
		_exit(EXIT_VITAL);
	}
	drop_page(i);
	meta[i].lost++;
	meta[i].pending = 1;
	losses++;
	if (i == reader_index)
		reader_stop = 1;
	say("LOST %d %x %x %d %s %d %s", getpid(), va, pfn, si->si_code, region_name(i), i, how);
}

/* Rebuild page i if the handler dropped it. */
static void settle(int i)
{
	if (meta[i].pending) {
		meta[i].pending = 0;
		write_page(i, region_of(i) == REG_PRIVATE);
	}
}

/* ---- requests from the agent ---- */

void reader_spin(volatile void *page, uint64_t deadline, volatile int *stop, uint64_t pfn,
		 uint64_t magic);
/* Read the page in a loop until *stop or the TSC passes the deadline, with the page's frame in
 * r12 and READER_MAGIC in r13, so that the host, with the VM stopped, can tell from the
 * registers that a CPU is in this loop on that frame (docs/campaign.md, SRAR). */
__asm__(".text\n.globl reader_spin\nreader_spin:\n"
	"\tpush %r12\n\tpush %r13\n"
	"\tmov %rcx, %r12\n\tmov %r8, %r13\n\tmov %rdx, %r9\n"
	"1:\tmov (%rdi), %rax\n"
	"\tcmpl $0, (%r9)\n\tjne 2f\n"
	"\trdtsc\n\tshl $32, %rdx\n\tor %rdx, %rax\n\tcmp %rsi, %rax\n\tjb 1b\n"
	"2:\tpop %r13\n\tpop %r12\n\tret\n"
	".globl reader_spin_end\nreader_spin_end:\n");
extern const char reader_spin_end[];

static void answer(uint32_t seq, int ans)
{
	me->ans = ans;
	__atomic_store_n(&me->ans_seq, seq, __ATOMIC_RELEASE);
}

static void serve_reader(uint32_t seq, int i)
{
	settle(i);
	(void)*page_at(i);
	int poisoned;
	uint64_t pfn = pagemap_pfn(pagemap_entry((uintptr_t)page_at(i)), &poisoned);
	if (!pfn || poisoned) {
		answer(seq, ANS_FAILED);
		return;
	}
	reader_stop = 0;
	reader_index = i;
	me->ans_pfn = pfn;
	answer(seq, ANS_READY);
	reader_spin(page_at(i), rdtsc_now() + READER_WAIT_MS * tsc_per_ms(), &reader_stop, pfn,
		    READER_MAGIC);
	reader_index = -1;
	answer(seq, reader_stop ? ANS_GOT_AR : ANS_TIMEOUT);
}

static void serve_requests(void)
{
	uint32_t seq = __atomic_load_n(&me->req_seq, __ATOMIC_ACQUIRE);
	if (seq == last_req)
		return;
	last_req = seq;
	int i = me->req_page;
	if (i < 0 || i >= npages) {
		answer(seq, ANS_FAILED);
	} else if (me->req_op == REQ_MADVISE) {
		int poisoned;
		settle(i);
		/* The frame poisoned: the page may have moved since it was published (COW). */
		me->ans_pfn = pagemap_pfn(pagemap_entry((uintptr_t)page_at(i)), &poisoned);
		int err = madvise((void *)page_at(i), PG, MADV_HWPOISON_ADVICE);
		answer(seq, err ? ANS_FAILED : ANS_DONE);
	} else if (me->req_op == REQ_SRAR) {
		serve_reader(seq, i);
	}
}

/* ---- the passes ---- */

static void verify_page(int i)
{
	uint32_t lost;
	uint64_t sum;
	do {
		serve_requests();
		lost = meta[i].lost;
		settle(i);
		sum = sum_page(page_at(i));
	} while (meta[i].lost != lost);
	if (sum != meta[i].sum) {
		mismatches++;
		say("MISMATCH %d %x %d", getpid(), (unsigned long)page_at(i), i);
		write_page(i, region_of(i) == REG_PRIVATE);
		meta[i].sum = sum_page(page_at(i)); /* report it once */
	}
}

/* Before a rewrite, sometimes change the mapping under the page first, so that munmap,
 * MADV_DONTNEED and mprotect race with memory_failure's walk as a program's would. */
static void churn(int i)
{
	void *va = (void *)page_at(i);
	switch (rnd(8)) {
	case 0: /* a new page over the old one */
		mmap(va, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		     0);
		break;
	case 1:
		madvise(va, PG, MADV_DONTNEED);
		break;
	case 2:
		mprotect(va, PG, PROT_READ);
		(void)*page_at(i);
		mprotect(va, PG, PROT_READ | PROT_WRITE);
		break;
	}
}

/* Rewrite a few pages of the upper half of the private region (copy-on-write breaks there);
 * the lower half stays as the head wrote it, shared copy-on-write by the whole family. */
static void rewrite_some(void)
{
	int half = sh->priv_pages / 2;
	for (int k = 0; k < WRITES_PER_PASS && sh->priv_pages > half; k++) {
		int i = half + (int)rnd((uint32_t)(sh->priv_pages - half));
		uint32_t lost;
		do {
			lost = meta[i].lost;
			settle(i);
			churn(i);
			write_page(i, 1);
		} while (meta[i].lost != lost);
	}
}

static void publish(void)
{
	for (int i = 0; i < npages; i++) {
		int poisoned;
		uint64_t pfn = pagemap_pfn(pagemap_entry((uintptr_t)page_at(i)), &poisoned);
		me->pfn[i] = poisoned ? 0 : pfn;
	}
}

static void pause_between(void)
{
	if (pol.spin) {
		uint64_t end = rdtsc_now() + PAUSE_MS * tsc_per_ms();
		while (rdtsc_now() < end)
			serve_requests();
	} else {
		struct timespec t = {0, PAUSE_MS * 1000 * 1000};
		nanosleep(&t, NULL);
		serve_requests();
	}
}

/* One full pass over every page. */
static void pass(void)
{
	for (int i = 0; i < npages; i++)
		verify_page(i);
	passes++;
	me->pass = passes;
}

/* ---- a process's life ---- */

/* A second thread beside the main one. It has no kill policy of its own (sysctl's, late),
 * so memory_failure tells the main thread, the first with early kill (docs/memory_failure.md),
 * and only the main thread runs the SIGBUS handler; the process it is part of dies, exits and
 * forks with more than one thread. It touches none of the data: it spins or sleeps. */
static void *companion(void *arg)
{
	(void)arg;
	prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0);
	__atomic_store_n(&me->companion, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
	for (;;) {
		uint64_t end = rdtsc_now() + PAUSE_MS * tsc_per_ms();
		struct timespec t = {0, PAUSE_MS * 1000 * 1000};
		if (pol.spin)
			while (rdtsc_now() < end)
				;
		else
			nanosleep(&t, NULL);
	}
	return NULL;
}

/* Start the companion thread if the policy asks; its thread id, or 0. */
static int start_companion(void)
{
	pthread_t t;
	me->companion = 0;
	if (!pol.thread || pthread_create(&t, NULL, companion, NULL))
		return 0;
	while (!__atomic_load_n(&me->companion, __ATOMIC_ACQUIRE))
		sched_yield();
	return me->companion;
}

static void take_slot(int f, int m)
{
	family = f;
	member = m;
	me = &mb->slot[f * MAX_MEMBERS + m];
	pol = sh->policy[f][m];
	passes = losses = mismatches = 0;
	last_req = __atomic_load_n(&me->req_seq, __ATOMIC_ACQUIRE);
	rng_state = mix((uint64_t)getpid() << 16 | 0x5eed) | 1;
	pagemap_fd = -1; /* a forked child must open its own pagemap */
	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, pol.early ? PR_MCE_KILL_EARLY : PR_MCE_KILL_LATE, 0, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	if (pol.handler) {
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	}
	sigaction(SIGBUS, &sa, NULL);
	me->npages = npages;
	for (int i = 0; i < npages; i++) {
		me->va[i] = (uintptr_t)page_at(i);
		me->region[i] = (uint8_t)region_of(i);
	}
	publish();
	int tid = start_companion();
	me->pid = getpid();
	say("START %d %d %d %s %s %s thread=%d", getpid(), f, m, pol.early ? "early" : "late",
	    pol.handler ? "handler" : "nohandler", pol.spin ? "spin" : "sleep", tid);
}

static void leave(const char *why, int code)
{
	say("EXIT %d %d %d %u %u %u %s", getpid(), family, member, passes, losses, mismatches, why);
	_exit(code);
}

/* A child's life: passes until its lifetime is over, the agent stops the run (one more full
 * pass first, so that every late-kill page it maps is touched) or its head is gone. */
static void child_main(int f, int m)
{
	take_slot(f, m);
	for (;;) {
		pass();
		if (mb->stop) {
			pass();
			leave("stop", 0);
		}
		if (getppid() != head_pid)
			leave("orphan", EXIT_ORPHAN);
		if ((int)passes >= sh->lifetime)
			leave("lifetime", 0);
		rewrite_some();
		publish();
		pause_between();
	}
}

static pid_t fork_child(int f, int m)
{
	pid_t pid = fork();
	if (pid == 0)
		child_main(f, m);
	return pid;
}

static void *map_region(int pages, int flags)
{
	if (!pages)
		return NULL;
	void *p =
	    mmap(NULL, (size_t)pages * PG, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		say("CAMPAIGN error family %d cannot map its data (%d)", family, errno);
		_exit(2);
	}
	return p;
}

/* A private read-only mapping of the first pages of an initrd file (FILE_PATH): clean file
 * pages, which memory_failure drops and the next touch reads again. Their checksums come from
 * read(), not from the mapping, so a page read back wrong is caught. */
static char *map_file(int pages)
{
	if (!pages)
		return NULL;
	int fd = open(FILE_PATH, O_RDONLY);
	static uint64_t buf[PG / 8];
	for (int i = 0; i < pages; i++) {
		ssize_t n = fd < 0 ? -1 : read(fd, buf, PG);
		if (n < 0) {
			say("CAMPAIGN error family %d cannot read %s (%d)", family, FILE_PATH,
			    errno);
			_exit(2);
		}
		memset((char *)buf + n, 0, PG - (size_t)n);
		meta[sh->priv_pages + sh->shared_pages + i].sum = sum_page(buf);
	}
	void *p = mmap(NULL, (size_t)pages * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		say("CAMPAIGN error family %d cannot map %s (%d)", family, FILE_PATH, errno);
		_exit(2);
	}
	return p;
}

/* Reap the children that ended and fork their successors (none once the run stops). */
static void supervise(pid_t *kids)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int m = 1; m < sh->members; m++) {
			if (kids[m] != pid)
				continue;
			mb->slot[family * MAX_MEMBERS + m].pid = 0;
			kids[m] = mb->stop ? 0 : fork_child(family, m);
			say("RESTART %d %d %d %d %d", family, m, pid,
			    WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status), kids[m]);
		}
	}
}

static void stop_family(pid_t *kids, const char *why, int code)
{
	for (int m = 1; m < sh->members; m++) {
		if (kids[m] > 0) {
			if (code)
				kill(kids[m], SIGKILL);
			waitpid(kids[m], NULL, 0);
		}
	}
	leave(why, code);
}

void family_head(struct mailbox *mbox, const struct shape *shape, int f)
{
	static char altstack[4 * PG];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	pid_t kids[MAX_MEMBERS] = {0};
	mb = mbox;
	sh = shape;
	family = f;
	head_pid = getpid();
	sigaltstack(&ss, NULL);
	npages = sh->priv_pages + sh->shared_pages + sh->file_pages;
	memset(meta, 0, sizeof(meta));
	priv_base = map_region(sh->priv_pages, MAP_PRIVATE);
	shared_base = map_region(sh->shared_pages, MAP_SHARED);
	file_base = map_file(sh->file_pages);
	for (int i = 0; i < npages; i++)
		write_page(i, 1);
	take_slot(f, 0);
	say("FAMILY %d %d %x %x %d %d %x %d", f, getpid(), (unsigned long)priv_base,
	    (unsigned long)shared_base, sh->priv_pages, sh->shared_pages, (unsigned long)file_base,
	    sh->file_pages);
	for (int m = 1; m < sh->members; m++)
		kids[m] = fork_child(f, m);
	/* The handler of a vital loss exits at once; so does the head, and takes its children. */
	for (;;) {
		pass();
		supervise(kids);
		if (mb->stop) {
			pass();
			stop_family(kids, "stop", 0);
		}
		rewrite_some();
		publish();
		pause_between();
	}
}
