/* memory_failure of shared memory (docs/memory_failure.md): MAP_SHARED|MAP_ANONYMOUS memory,
 * a memfd and a SysV shared memory segment are each a shmem file, as on Linux, so a written
 * page that breaks follows Linux 6.1's shmem rule (outcome "recovered"):
 *   - the page is mapped by this process and by two early-kill children, one spinning without
 *     syscalls and one sleeping: each child gets SIGBUS BUS_MCEERR_AO at the page, lsb 12;
 *     this process (late kill) gets BUS_MCEERR_AR when it touches it; the other pages keep
 *     their bytes; HardwareCorrupted rises by 4 kB;
 *   - the page stays in the object, poisoned: a child forked afterwards, the same mapping
 *     after MADV_DONTNEED, and a new mapping of the object all get BUS_MCEERR_AR at the touch;
 *     a memfd's read and write of it give EIO, and a hole punched over it releases it (zeros
 *     again, the frame stays out); an mremap moves the poisoned page's marker with it;
 *   - madvise(MADV_SOFT_OFFLINE) of a page moves its bytes to a new frame that every sharer
 *     sees (a forked child writes, we read), no signal, +4 kB HardwareCorrupted;
 *   - unpoison-pfn of the poisoned page while the object still holds it is refused with EBUSY,
 *     as Linux 6.1's unpoison_memory refuses a page someone holds or a page cache has
 *     ("Unpoison: Someone grabs the hwpoison page"); once the object is gone, it succeeds.
 * Each page is poisoned with madvise(MADV_HWPOISON), or with the argument "corrupt" through
 * /sys/kernel/debug/hwpoison/corrupt-pfn at its frame from /proc/self/pagemap. The same source
 * runs on Linux as root (corrupt-pfn and unpoison-pfn need debugfs and hwpoison_inject). */
#define _GNU_SOURCE
#include "utest.h"
#include "mf_page.h"
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096
#define NPAGES 3
#define SIZE (NPAGES * PG)

enum kind { ANON, MEMFD, SYSV, NKINDS };
static const char *const kind_names[NKINDS] = {"MAP_SHARED|MAP_ANONYMOUS", "memfd", "SysV shm"};

/* One shared memory object mapped at p (NPAGES pages); fd for a memfd, id for a segment. */
struct obj {
	enum kind kind;
	char *p;
	int fd, id;
};

/* A new object of the kind, mapped, page i filled with 'a' + i (so every page is dirty). */
static struct obj obj_new(enum kind kind)
{
	struct obj o = {kind, MAP_FAILED, -1, -1};
	if (kind == ANON) {
		o.p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	} else if (kind == MEMFD) {
		o.fd = memfd_create("mf_shmem", MFD_CLOEXEC);
		if (o.fd >= 0 && ftruncate(o.fd, SIZE) == 0)
			o.p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, o.fd, 0);
	} else {
		o.id = shmget(IPC_PRIVATE, SIZE, IPC_CREAT | 0600);
		o.p = o.id >= 0 ? shmat(o.id, NULL, 0) : MAP_FAILED;
		if (o.p == (char *)-1)
			o.p = MAP_FAILED;
	}
	CHECK(o.p != MAP_FAILED);
	if (o.p == MAP_FAILED)
		exit(1);
	for (int i = 0; i < NPAGES; i++)
		memset(o.p + i * PG, 'a' + i, PG);
	return o;
}

/* A second mapping of the same object (MAP_SHARED|MAP_ANONYMOUS has none but its forks'). */
static char *obj_map_again(const struct obj *o)
{
	char *q = MAP_FAILED;
	if (o->kind == MEMFD)
		q = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, o->fd, 0);
	else if (o->kind == SYSV)
		q = shmat(o->id, NULL, SHM_RDONLY);
	return q == (char *)-1 ? MAP_FAILED : q;
}

static void obj_unmap(const struct obj *o, char *p)
{
	if (o->kind == SYSV)
		CHECK(shmdt(p) == 0);
	else
		CHECK(munmap(p, SIZE) == 0);
}

static void obj_free(struct obj *o)
{
	obj_unmap(o, o->p);
	if (o->fd >= 0)
		close(o->fd);
	if (o->id >= 0)
		CHECK(shmctl(o->id, IPC_RMID, NULL) == 0);
}

/* A child that maps the page at p (shared, inherited), asks for early kill, says it is ready
 * on ready[1], then spins without syscalls or sleeps. Its SIGBUS handler reports code, lsb
 * and whether si_addr is p in its exit status. */
static pid_t early_child(char *p, int ready[2], int spin)
{
	pid_t pid = fork();
	if (pid)
		return pid;
	prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0);
	(void)*(volatile char *)p;
	if (sigsetjmp(jb, 1)) {
		int ok = got_lsb == 12 && got_addr == p;
		_exit(got_code * 2 + ok); /* AO: 11 */
	}
	if (write(ready[1], "r", 1) != 1)
		_exit(100);
	for (volatile unsigned long n = 0; spin; n++)
		;
	for (;;)
		pause();
}

/* A child forked now touches p: exits with the si_code of its SIGBUS (0: none). */
static int child_touch(char *p)
{
	int st;
	pid_t pid = fork();
	if (pid == 0)
		_exit(touch(p));
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The page stays in the object, poisoned: what its fd says (a memfd's), and a punched hole
 * releasing it. */
static void check_memfd_page(const struct obj *o, long hwc)
{
	char buf[PG];
	CHECK(pread(o->fd, buf, 10, PG + 5) == -1 && errno == EIO);
	CHECK(pwrite(o->fd, "x", 1, PG + 7) == -1 && errno == EIO);
	CHECK(pread(o->fd, buf, PG, 0) == PG && buf[0] == 'a');
	CHECK(fsync(o->fd) == 0);
	CHECK(fallocate(o->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PG, PG) == 0);
	CHECK(pread(o->fd, buf, 3, PG) == 3 && buf[0] == 0 && buf[2] == 0);
	char *q = obj_map_again(o);
	CHECK(q != MAP_FAILED && touch(q + PG) == 0 && q[PG] == 0);
	CHECK(pwrite(o->fd, "new", 3, PG) == 3 && q[PG] == 'n');
	CHECK(hwc_kb() == hwc + 4); /* the frame stays out */
	munmap(q, SIZE);
}

static void test_dirty(enum kind kind)
{
	struct obj o = obj_new(kind);
	char *p = o.p, buf[1];
	int ready[2], st;
	printf("mf_shmem: a written page of %s\n", kind_names[kind]);
	CHECK(pipe(ready) == 0);
	pid_t kids[2] = {early_child(p + PG, ready, 1), early_child(p + PG, ready, 0)};
	for (int i = 0; i < 2; i++)
		CHECK(read(ready[0], buf, 1) == 1);
	long hwc = hwc_kb();
	CHECK(poison(p + PG) == 0);
	for (int i = 0; i < 2; i++) { /* the spinner, then the sleeper */
		CHECK(waitpid(kids[i], &st, 0) == kids[i]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == BUS_MCEERR_AO * 2 + 1);
	}
	CHECK(hwc_kb() == hwc + 4);
	CHECK(touch(p + PG) == BUS_MCEERR_AR && got_addr == p + PG && got_lsb == 12);
	CHECK(touch(p) == 0 && p[0] == 'a' && touch(p + 2 * PG) == 0 && p[2 * PG] == 'c');
	CHECK(child_touch(p + PG) == BUS_MCEERR_AR);
	CHECK(child_touch(p + 2 * PG) == 0);
	CHECK(madvise(p + PG, PG, MADV_DONTNEED) == 0); /* the object still has it, poisoned */
	CHECK(touch(p + PG) == BUS_MCEERR_AR && got_addr == p + PG);
	char *q = obj_map_again(&o);
	if (q != MAP_FAILED) {
		CHECK(touch(q + PG) == BUS_MCEERR_AR && got_addr == q + PG);
		CHECK(touch(q + 2 * PG) == 0 && q[2 * PG] == 'c');
		obj_unmap(&o, q);
	}
	if (kind == MEMFD)
		check_memfd_page(&o, hwc);
	close(ready[0]);
	close(ready[1]);
	obj_free(&o);
	CHECK(hwc_kb() == hwc + 4); /* the object went: the frame stays out for good */
}

/* mremap of MAP_SHARED|MAP_ANONYMOUS memory: the poisoned page's marker and the others' bytes
 * move with it, and a fault of the moved page still finds the object's poisoned page. */
static void test_mremap(void)
{
	struct obj o = obj_new(ANON);
	CHECK(poison(o.p + PG) == 0);
	char *n = mremap(o.p, SIZE, SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, o.p + 16 * PG);
	CHECK(n == o.p + 16 * PG);
	if (n == MAP_FAILED)
		return;
	CHECK(touch(n + PG) == BUS_MCEERR_AR && got_addr == n + PG);
	CHECK(touch(n) == 0 && n[0] == 'a' && n[2 * PG] == 'c');
	CHECK(madvise(n + PG, PG, MADV_DONTNEED) == 0 && touch(n + PG) == BUS_MCEERR_AR);
	munmap(n, SIZE);
}

/* Soft offline moves a shared page: the bytes, and every sharer, go to the new frame. */
static void test_soft_offline(enum kind kind)
{
	struct obj o = obj_new(kind);
	char *p = o.p;
	p[PG + 1] = 'S';
	uint64_t old = pfn_of(p + PG);
	long hwc = hwc_kb();
	CHECK(madvise(p + PG, PG, MADV_SOFT_OFFLINE) == 0);
	CHECK(touch(p + PG) == 0 && p[PG] == 'b' && p[PG + 1] == 'S');
	CHECK(pfn_of(p + PG) != old && old != 0);
	CHECK(hwc_kb() == hwc + 4);
	pid_t pid = fork();
	if (pid == 0) {
		p[PG + 2] = 'T';
		_exit(0);
	}
	CHECK(waitpid(pid, NULL, 0) == pid && p[PG + 2] == 'T');
	obj_free(&o);
}

/* unpoison-pfn of a page the object still holds: Linux 6.1's unpoison_memory refuses a page
 * with other references or a page cache (page_mapping): EBUSY, the page stays poisoned. Once
 * the object went, the frame is isolated and unpoison gives it back. */
static void test_unpoison_refused(enum kind kind)
{
	char b[32];
	struct obj o = obj_new(kind);
	uint64_t pfn = pfn_of(o.p + PG);
	CHECK(madvise(o.p + PG, PG, MADV_HWPOISON) == 0);
	snprintf(b, sizeof(b), "%llu\n", (unsigned long long)pfn);
	long hwc = hwc_kb();
	CHECK(utest_write_file("/sys/kernel/debug/hwpoison/unpoison-pfn", b) == -EBUSY);
	CHECK(touch(o.p + PG) == BUS_MCEERR_AR && hwc_kb() == hwc);
	obj_free(&o); /* the object and its page cache go: the frame is isolated */
	CHECK(utest_write_file("/sys/kernel/debug/hwpoison/unpoison-pfn", b) == 0);
	CHECK(hwc_kb() == hwc - 4);
}

int main(int argc, char **argv)
{
	use_corrupt_pfn = argc > 1 && strcmp(argv[1], "corrupt") == 0;
	struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER};
	sigaction(SIGBUS, &sa, NULL);
	for (enum kind k = 0; k < NKINDS; k++) {
		test_dirty(k);
		test_soft_offline(k);
	}
	test_mremap();
	for (enum kind k = 0; k < NKINDS; k++)
		test_unpoison_refused(k);
	DONE("mf_shmem");
}
