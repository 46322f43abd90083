/* The memory-failure control files from user space (the same source runs on Linux as root, with
 * debugfs mounted and hwpoison_inject loaded):
 *   - /sys/kernel/debug/hwpoison/corrupt-pfn on a FREE frame (a page we touched, read the PFN
 *     of from /proc/self/pagemap, then unmapped): HardwareCorrupted in /proc/meminfo rises by
 *     exactly 4 kB, /proc/kpageflags shows KPF_HWPOISON (bit 19), and an allocation storm in
 *     a child (most of free memory, every page's PFN read back) never gets that frame;
 *     unpoison-pfn brings the count back;
 *   - madvise(MADV_SOFT_OFFLINE): contents intact, no signal, a new PFN, +4 kB; also for a
 *     page shared with a child, a file page, and (soft_offline_page) a shared page that
 *     MADV_DONTNEED left unmapped;
 *   - bad writes to the control files (not numbers, PFNs past memory) fail with EINVAL /
 *     ERANGE (overflow) / ENXIO and change nothing;
 *   - generated files read like seq files: /proc/meminfo and a /proc/sys file kept open across
 *     madvise(MADV_HWPOISON) and a sysctl write, read again at offset 0 (pread, and lseek then
 *     read), show the new values; /proc/kpageflags of the poisoned anonymous page still says
 *     ANON, UPTODATE and SWAPBACKED next to HWPOISON, as Linux 6.1 does;
 *   - (MCRK only) /sys/kernel/debug/hwpoison/last_event lists every mapping of the last event.
 * With the argument "recovery0" (MCRK only: on Linux it would really panic) it instead sets
 * vm.memory_failure_recovery to 0, poisons a page and checks it is still running, for the
 * fake-panic test (mce.fake_panic=1). */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096
#define KPF_UPTODATE 3
#define KPF_LRU 5
#define KPF_MMAP 11
#define KPF_ANON 12
#define KPF_SWAPBACKED 14
#define KPF_HWPOISON 19
#define KPF(b) (1ull << (b))
#define PM_PRESENT (1ull << 63)
#define PM_PFN_MASK ((1ull << 55) - 1)
#define CORRUPT "/sys/kernel/debug/hwpoison/corrupt-pfn"
#define EARLY_KILL "/proc/sys/vm/memory_failure_early_kill"
#define UNPOISON "/sys/kernel/debug/hwpoison/unpoison-pfn"
#define STORM_MARGIN_KB (16 * 1024) /* leave this much free for the kernel during the storm */
#define PM_CHUNK 512		    /* pagemap entries read at a time */

static volatile int sigbus_count;

static void on_sigbus(int sig)
{
	(void)sig;
	sigbus_count++;
}

/* A field of /proc/meminfo in kB, or -1. */
static long meminfo(const char *field)
{
	char buf[4096] = {0}, *p;
	int fd = open("/proc/meminfo", O_RDONLY);
	long v = -1;
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0 && (p = strstr(buf, field)) != NULL)
		sscanf(p + strlen(field), ": %ld", &v);
	return v;
}

static long hwc(void)
{
	return meminfo("HardwareCorrupted");
}

static int write_pfn(const char *path, uint64_t pfn)
{
	char b[32];
	snprintf(b, sizeof b, "%llu\n", (unsigned long long)pfn);
	return utest_write_file(path, b);
}

/* In a child: map and touch most of free memory, read every page's PFN; exit 0 if bad never
 * came up, 1 if it did, 2 if the storm could not run. Returns the child's wait status; the
 * number of pages it saw comes back through a shared page. */
static int storm(uint64_t bad, long *pages_seen)
{
	volatile long *shared =
	    mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -1;
	*shared = 0;
	pid_t pid = fork();
	if (pid == 0) {
		long kb = meminfo("MemFree") - STORM_MARGIN_KB;
		size_t len = kb > 0 ? (size_t)kb * 1024 : 0;
		char *m = len ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				     -1, 0)
			      : MAP_FAILED;
		if (m == MAP_FAILED)
			_exit(2);
		int fd = open("/proc/self/pagemap", O_RDONLY);
		long seen = 0, hit = 0;
		static uint64_t e[PM_CHUNK];
		for (size_t off = 0; off < len; off += PG)
			m[off] = 1;
		for (size_t i = 0; i < len / PG; i += PM_CHUNK) {
			size_t n = len / PG - i < PM_CHUNK ? len / PG - i : PM_CHUNK;
			off_t at = (off_t)(((uintptr_t)m / PG + i) * 8);
			if (pread(fd, e, n * 8, at) != (ssize_t)(n * 8))
				_exit(2);
			for (size_t k = 0; k < n; k++) {
				seen += (e[k] & PM_PRESENT) != 0;
				hit += (e[k] & PM_PRESENT) && (e[k] & PM_PFN_MASK) == bad;
			}
		}
		*shared = seen;
		_exit(hit ? 1 : 0);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	*pages_seen = *shared;
	munmap((void *)shared, PG);
	return st;
}

static void test_corrupt_free_frame(void)
{
	/* Warm up every path used between freeing the frame and poisoning it (code, stack). */
	uint64_t warm = utest_free_frame();
	CHECK(write_pfn(UNPOISON, warm) == -EINVAL); /* not poisoned */
	CHECK(hwc() >= 0);
	(void)utest_kpageflags(warm);
	uint64_t pfn = utest_free_frame();
	CHECK(pfn != 0);
	long before = hwc();
	CHECK(before >= 0);
	CHECK(!(utest_kpageflags(pfn) & (1ull << KPF_HWPOISON)));
	CHECK(write_pfn(CORRUPT, pfn) == 0);
	CHECK(hwc() == before + 4);
	CHECK(utest_kpageflags(pfn) & (1ull << KPF_HWPOISON));
	long seen = 0;
	int st = storm(pfn, &seen);
	printf("mf_files: pfn %#llx poisoned; storm touched %ld pages, status %#x\n",
	       (unsigned long long)pfn, seen, st);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(seen > 1000);
	CHECK(hwc() == before + 4); /* the storm's frames came back; the poisoned one stayed */
	CHECK(write_pfn(UNPOISON, pfn) == 0);
	CHECK(hwc() == before);
	CHECK(!(utest_kpageflags(pfn) & (1ull << KPF_HWPOISON)));
}

/* "Name: value" of generated text, or -1. */
static long field_of(const char *text, const char *field)
{
	const char *p = strstr(text, field);
	long v = -1;
	if (p)
		sscanf(p + strlen(field), ": %ld", &v);
	return v;
}

/* Files kept open across a memory failure and a sysctl write, read again from offset 0. */
static void test_reread_at_offset_0(void)
{
	char buf[4096];
	int mfd = open("/proc/meminfo", O_RDONLY), sfd = open(EARLY_KILL, O_RDONLY);
	CHECK(mfd >= 0 && sfd >= 0);
	ssize_t n = pread(mfd, buf, sizeof buf - 1, 0);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	long before = field_of(buf, "HardwareCorrupted");
	CHECK(before >= 0);
	CHECK(pread(sfd, buf, sizeof buf, 0) == 2 && !memcmp(buf, "0\n", 2));

	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0);
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 0x5a, PG);
	uint64_t pfn = utest_pfn_of(p);
	CHECK(pfn != 0);
	uint64_t anon = KPF(KPF_ANON) | KPF(KPF_UPTODATE) | KPF(KPF_SWAPBACKED);
	uint64_t f = utest_kpageflags(pfn);
	CHECK((f & (anon | KPF(KPF_MMAP))) == (anon | KPF(KPF_MMAP)) && !(f & KPF(KPF_HWPOISON)));
	CHECK(madvise(p, PG, MADV_HWPOISON) == 0);
	CHECK(utest_write_file(EARLY_KILL, "1\n") == 0);

	/* The same descriptors, read again from offset 0: the values of now. */
	n = pread(mfd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	CHECK(field_of(buf, "HardwareCorrupted") == before + 4);
	CHECK(lseek(mfd, 0, SEEK_SET) == 0);
	n = read(mfd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK(field_of(buf, "HardwareCorrupted") == before + 4);
	CHECK(read(mfd, buf, sizeof buf) == 0); /* then at the end: nothing more */
	CHECK(pread(sfd, buf, sizeof buf, 0) == 2 && !memcmp(buf, "1\n", 2));
	CHECK(utest_write_file(EARLY_KILL, "0\n") == 0);
	CHECK(lseek(sfd, 0, SEEK_SET) == 0 && read(sfd, buf, sizeof buf) == 2 &&
	      !memcmp(buf, "0\n", 2));

	/* What the frame was, next to HWPOISON; out of use, so neither mapped nor on the LRU. */
	f = utest_kpageflags(pfn);
	printf("mf_files: kpageflags of the poisoned anonymous page: %#llx\n",
	       (unsigned long long)f);
	CHECK((f & (anon | KPF(KPF_HWPOISON))) == (anon | KPF(KPF_HWPOISON)));
	CHECK(!(f & (KPF(KPF_MMAP) | KPF(KPF_LRU))));
	munmap(p, PG);
	close(mfd);
	close(sfd);
}

static void test_soft_offline(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	for (int i = 0; i < 2 * PG; i++)
		p[i] = (char)(i * 13 + 1);
	uint64_t old = utest_pfn_of(p);
	long before = hwc();
	sigbus_count = 0;
	CHECK(madvise(p, PG, MADV_SOFT_OFFLINE) == 0);
	uint64_t now = utest_pfn_of(p);
	int same = 1;
	for (int i = 0; i < 2 * PG; i++)
		same &= p[i] == (char)(i * 13 + 1);
	CHECK(same);
	CHECK(sigbus_count == 0);
	CHECK(now != 0 && now != old);
	CHECK(hwc() == before + 4);
	CHECK(utest_kpageflags(old) & (1ull << KPF_HWPOISON));
	printf("mf_files: soft offline moved pfn %#llx -> %#llx\n", (unsigned long long)old,
	       (unsigned long long)now);
	CHECK(write_pfn(UNPOISON, old) == 0);
	CHECK(hwc() == before);
	munmap(p, 2 * PG);
}

/* The other kinds of user page soft offline moves (Linux migrates each): a MAP_SHARED page a
 * forked child maps (the child finds the bytes on the new frame and its writes reach ours), a
 * clean page of a file (still the file's bytes), and a MAP_SHARED page that no PTE maps after
 * MADV_DONTNEED, offlined by its physical address through soft_offline_page (the next touch
 * finds the bytes, no SIGBUS). */
static void test_soft_offline_kinds(void)
{
	volatile char *s = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(s != MAP_FAILED);
	memset((char *)s, 0x3c, PG);
	s[0] = 0;
	sigbus_count = 0;
	pid_t kid = fork();
	if (kid == 0) {
		while (s[0] == 0)
			usleep(1000);
		int same = 1;
		for (int i = 2; i < PG; i++)
			same &= s[i] == 0x3c;
		s[1] = same ? 0x11 : 0x22;
		s[0] = 2;
		_exit(0);
	}
	uint64_t old = utest_pfn_of(s);
	long before = hwc();
	CHECK(madvise((void *)s, PG, MADV_SOFT_OFFLINE) == 0);
	uint64_t now = utest_pfn_of(s);
	CHECK(now != 0 && now != old);
	s[0] = 1;
	int st = 0;
	CHECK(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(s[0] == 2 && s[1] == 0x11);
	CHECK(hwc() == before + 4);
	CHECK(write_pfn(UNPOISON, old) == 0);

	int fd = open("/bin/mf_files", O_RDONLY);
	char file[PG];
	CHECK(fd >= 0 && pread(fd, file, PG, PG) == PG);
	const char *f = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(f != MAP_FAILED && memcmp(f + PG, file, PG) == 0); /* read: now it has a frame */
	old = utest_pfn_of(f + PG);
	CHECK(old != 0);
	CHECK(madvise((void *)(f + PG), PG, MADV_SOFT_OFFLINE) == 0);
	now = utest_pfn_of(f + PG);
	CHECK(now != 0 && now != old && memcmp(f + PG, file, PG) == 0);
	CHECK(write_pfn(UNPOISON, old) == 0);
	munmap((void *)f, 2 * PG);
	close(fd);

	memset((char *)s, 0x5e, PG);
	old = utest_pfn_of(s);
	CHECK(madvise((void *)s, PG, MADV_DONTNEED) == 0);
	char addr[32];
	snprintf(addr, sizeof addr, "%#llx\n", (unsigned long long)old * PG + 8);
	CHECK(utest_write_file("/sys/devices/system/memory/soft_offline_page", addr) == 0);
	CHECK(utest_kpageflags(old) & KPF(KPF_HWPOISON));
	int same = 1;
	for (int i = 0; i < PG; i++)
		same &= s[i] == 0x5e;
	CHECK(same);
	now = utest_pfn_of(s);
	CHECK(now != 0 && now != old);
	CHECK(sigbus_count == 0);
	CHECK(write_pfn(UNPOISON, old) == 0);
	CHECK(hwc() == before);
	munmap((void *)s, PG);
}

static void test_bad_writes(void)
{
	long before = hwc();
	CHECK(utest_write_file(CORRUPT, "abc\n") == -EINVAL);
	CHECK(utest_write_file(CORRUPT, "12abc\n") == -EINVAL);
	CHECK(utest_write_file(CORRUPT, "-1\n") == -EINVAL);
	CHECK(utest_write_file(CORRUPT, "\n") == -EINVAL);
	CHECK(utest_write_file(CORRUPT, "0x7fffffffffff\n") == -ENXIO);
	CHECK(utest_write_file(CORRUPT, "99999999999999999999999\n") == -ERANGE);
	CHECK(utest_write_file(UNPOISON, "abc\n") == -EINVAL);
	CHECK(utest_write_file(UNPOISON, "0x7fffffffffff\n") == -ENXIO);
	CHECK(utest_write_file("/proc/sys/vm/memory_failure_early_kill", "7\n") == -EINVAL);
	CHECK(utest_write_file("/proc/sys/vm/memory_failure_recovery", "x\n") == -EINVAL);
	CHECK(hwc() == before);
}

/* vm.memory_failure_recovery=0: MCRK in fake-panic mode reports the panic and runs on. */
static int recovery0(void)
{
	if (!on_mcrk()) {
		printf("mf_files: recovery0 runs on MCRK only (Linux would panic)\n");
		return 0;
	}
	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0);
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 7;
	uint64_t pfn = utest_pfn_of(p);
	CHECK(utest_write_file("/proc/sys/vm/memory_failure_recovery", "0\n") == 0);
	printf("mf_files: poisoning pfn %#llx with memory_failure_recovery=0\n",
	       (unsigned long long)pfn);
	fflush(stdout);
	CHECK(madvise(p, PG, MADV_HWPOISON) == 0);
	CHECK(utest_write_file("/proc/sys/vm/memory_failure_recovery", "1\n") == 0);
	CHECK(munmap(p, PG) == 0);
	printf("mf_files: still running after the fake panic\n");
	DONE("mf_files");
}

/* MCRK's record of the last event: every mapping of a page four processes share, with the
 * task and address of each, while the trace line names only the first few. */
static void test_last_event(void)
{
	enum { KIDS = 3 };
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t kids[KIDS];
	char want[96], buf[4096] = {0};
	CHECK(p != MAP_FAILED);
	memset(p, 1, PG);
	CHECK(prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0) == 0);
	for (int i = 0; i < KIDS; i++)
		if ((kids[i] = fork()) == 0)
			for (;;)
				pause();
	CHECK(madvise(p, PG, MADV_HWPOISON) == 0);
	int fd = open("/sys/kernel/debug/hwpoison/last_event", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	CHECK(strstr(buf, ": anonymous user page: recovered") && strstr(buf, "mappings 4\n"));
	for (int i = 0; i < KIDS; i++) {
		snprintf(want, sizeof want, "task %d (mf_files) at %p: late kill", kids[i], (void *)p);
		CHECK(strstr(buf, want) != NULL);
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	snprintf(want, sizeof want, "task %d (mf_files) at %p: late kill", getpid(), (void *)p);
	CHECK(strstr(buf, want) != NULL);
	munmap(p, PG);
}

int main(int argc, char **argv)
{
	signal(SIGBUS, on_sigbus);
	if (argc > 1 && !strcmp(argv[1], "recovery0"))
		return recovery0();
	test_bad_writes();
	test_corrupt_free_frame();
	test_soft_offline();
	test_soft_offline_kinds();
	test_reread_at_offset_0();
	if (on_mcrk())
		test_last_event();
	DONE("mf_files");
}
