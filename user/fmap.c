/* Memory mappings of files as Linux 6.1 gives them: MAP_SHARED (writes through the mapping and
 * through write() meet in the same page, in another process too), MAP_PRIVATE (copy on the
 * first write; until then the file's page), msync (MS_SYNC, MS_ASYNC, MS_INVALIDATE, and its
 * EINVAL/ENOMEM), mprotect and mremap of a file mapping, SIGBUS BUS_ADRERR for a page past
 * the end of the file and after a truncate, mmap's errors (EBADF, EACCES, ENODEV, EINVAL),
 * /dev/zero mappings, /proc/self/maps naming the file (" (deleted)" once it is), and
 * remap_file_pages as Linux emulates it. */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PS 4096
#define ERR(call, e) (errno = 0, (call) == -1 && errno == (e))
#define MFAIL(call, e) (errno = 0, (call) == MAP_FAILED && errno == (e))

static char path[64];
static sigjmp_buf env;
static volatile int bus_code;
static void *volatile bus_addr;

static void on_bus(int sig, siginfo_t *si, void *ctx)
{
	(void)sig, (void)ctx;
	bus_code = si->si_code;
	bus_addr = si->si_addr;
	siglongjmp(env, 1);
}

/* Touch p (read or write); 0 when it worked, else the SIGBUS si_code. */
static int touch(volatile char *p, int write)
{
	bus_code = 0;
	if (sigsetjmp(env, 1) == 0) {
		if (write)
			*p = 'w';
		else
			(void)*p;
	}
	return bus_code;
}

static int make_file(size_t size, char fill)
{
	char b[PS];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	memset(b, fill, sizeof(b));
	for (size_t done = 0; done < size; done += PS)
		if (write(fd, b, size - done < PS ? size - done : PS) < 0)
			return -1;
	return fd;
}

static void test_shared(void)
{
	int fd = make_file(2 * PS, 'a');
	char *m = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED && m[0] == 'a' && m[PS] == 'a');
	m[10] = 'M';
	char b[16];
	CHECK(pread(fd, b, 1, 10) == 1 && b[0] == 'M'); /* the mapping's write is the file's */
	CHECK(pwrite(fd, "W", 1, PS + 5) == 1 &&
	      m[PS + 5] == 'W'); /* and write()'s the mapping's */
	pid_t pid = fork();	 /* another process's write through its copy of the mapping */
	if (pid == 0) {
		m[20] = 'C';
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(m[20] == 'C' && pread(fd, b, 1, 20) == 1 && b[0] == 'C');
	CHECK(msync(m, 2 * PS, MS_SYNC) == 0 && msync(m, PS, MS_ASYNC) == 0);
	CHECK(msync(m, PS, MS_INVALIDATE) == 0);
	CHECK(ERR(msync(m + 1, PS, MS_SYNC), EINVAL));
	CHECK(ERR(msync(m, PS, MS_SYNC | MS_ASYNC), EINVAL));
	CHECK(ERR(msync(m, PS, 8), EINVAL));
	char *hole = mmap(NULL, 3 * PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(munmap(hole + PS, PS) == 0); /* a range with a hole in it */
	CHECK(ERR(msync(hole, 3 * PS, MS_SYNC), ENOMEM) &&
	      ERR(msync(hole, 3 * PS, MS_ASYNC), ENOMEM));
	munmap(hole, 3 * PS);
	CHECK(msync(m, 0, MS_SYNC) == 0);
	/* mprotect: read-only, then writable again */
	CHECK(mprotect(m, PS, PROT_READ) == 0 && mprotect(m, PS, PROT_READ | PROT_WRITE) == 0);
	m[30] = 'P';
	/* mremap: grow past the end of the file (the new page is past it: SIGBUS) */
	char *g = mremap(m, 2 * PS, 3 * PS, MREMAP_MAYMOVE);
	CHECK(g != MAP_FAILED && g[30] == 'P' && g[PS + 5] == 'W');
	CHECK(touch(g + 2 * PS, 0) == BUS_ADRERR && bus_addr == g + 2 * PS);
	CHECK(ftruncate(fd, 3 * PS) == 0 && touch(g + 2 * PS, 1) == 0); /* now it is inside */
	CHECK(pread(fd, b, 1, 2 * PS) == 1 && b[0] == 'w');
	/* truncate takes pages away from every mapping: SIGBUS, not stale data */
	CHECK(ftruncate(fd, PS) == 0);
	CHECK(touch(g + PS, 0) == BUS_ADRERR && touch(g, 0) == 0);
	CHECK(munmap(g, 3 * PS) == 0);
	close(fd);
}

static void test_private(void)
{
	int fd = make_file(PS + 100, 'p');
	char *m = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED && m[0] == 'p' && m[PS + 99] == 'p' && m[PS + 100] == 0);
	CHECK(pwrite(fd, "F", 1, 0) == 1 && m[0] == 'F'); /* not copied yet: the file's page */
	m[1] = 'x';					  /* the first write copies */
	CHECK(pwrite(fd, "G", 1, 2) == 1 && m[2] == 'p');
	char b[4];
	CHECK(pread(fd, b, 2, 0) == 2 && b[1] == 'p'); /* the file never sees it */
	CHECK(touch(m + PS + 200, 1) == 0);	       /* the partial last page is all there */
	close(fd);
	CHECK(m[1] == 'x'); /* the mapping outlives the descriptor */
	munmap(m, 2 * PS);
	/* a private read-only mapping of a file opened read-only may become writable */
	fd = open(path, O_RDONLY);
	m = mmap(NULL, PS, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED && mprotect(m, PS, PROT_READ | PROT_WRITE) == 0);
	m[0] = 'q';
	CHECK(pread(fd, b, 1, 0) == 1 && b[0] == 'F');
	munmap(m, PS);
	close(fd);
}

static void test_errors(void)
{
	int ro = open(path, O_RDONLY), wo = open(path, O_WRONLY);
	CHECK(MFAIL(mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES));
	CHECK(MFAIL(mmap(NULL, PS, PROT_READ, MAP_SHARED, wo, 0), EACCES));
	CHECK(MFAIL(mmap(NULL, PS, PROT_READ, MAP_PRIVATE, wo, 0), EACCES));
	char *m = mmap(NULL, PS, PROT_READ, MAP_SHARED, ro, 0);
	CHECK(m != MAP_FAILED && ERR(mprotect(m, PS, PROT_READ | PROT_WRITE), EACCES));
	munmap(m, PS);
	CHECK(MFAIL(mmap(NULL, PS, PROT_READ, MAP_SHARED, 999, 0), EBADF));
	CHECK(MFAIL(mmap(NULL, PS, PROT_READ, MAP_SHARED, ro, 1), EINVAL));
	CHECK(MFAIL(mmap(NULL, 0, PROT_READ, MAP_SHARED, ro, 0), EINVAL));
	int d = open("/tmp", O_RDONLY);
	CHECK(MFAIL(mmap(NULL, PS, PROT_READ, MAP_SHARED, d, 0), ENODEV));
	close(d);
	int p[2];
	CHECK(pipe(p) == 0 && MFAIL(mmap(NULL, PS, PROT_READ, MAP_SHARED, p[0], 0), ENODEV));
	close(p[0]), close(p[1]);
	close(ro);
	close(wo);
	/* /dev/zero: anonymous memory, private or shared */
	int z = open("/dev/zero", O_RDWR);
	char *zp = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
	CHECK(zp != MAP_FAILED && zp[100] == 0);
	zp[100] = 1;
	munmap(zp, PS);
	close(z);
}

/* /proc/self/maps names the file, and says when it was deleted. */
static void test_maps_name(void)
{
	int fd = make_file(PS, 'n');
	char *m = mmap(NULL, PS, PROT_READ, MAP_SHARED, fd, 0);
	char want[128], line[512];
	snprintf(want, sizeof(want), "%lx-", (unsigned long)m);
	int named = 0, deleted = 0;
	for (int round = 0; round < 2; round++) {
		FILE *f = fopen("/proc/self/maps", "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, want, strlen(want))) {
				named += strstr(line, path) != NULL;
				deleted += strstr(line, " (deleted)") != NULL;
			}
		if (f)
			fclose(f);
		if (round == 0)
			CHECK(unlink(path) == 0);
	}
	CHECK(named == 2 && deleted == 1);
	CHECK(m[0] == 'n'); /* a deleted file's pages stay while mapped */
	munmap(m, PS);
	close(fd);
}

/* remap_file_pages (deprecated; Linux 6.1 emulates it with a new mapping of the file): page 0
 * of a shared mapping shows file page 3 afterwards; prot must be 0; a private mapping is
 * refused, shared anonymous memory (a shmem file) is not. */
static void test_remap_file_pages(void)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	char b[PS];
	for (int i = 0; i < 4; i++) {
		memset(b, '0' + i, sizeof(b));
		CHECK(write(fd, b, PS) == PS);
	}
	char *m = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *priv = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char *anon = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED && priv != MAP_FAILED && anon != MAP_FAILED);
	CHECK(remap_file_pages(m, PS, 0, 3, 0) == 0);
	CHECK(m[0] == '3' && m[PS] == '1'); /* page 0 shows file page 3, page 1 is untouched */
	m[1] = 'x'; /* still shared: the write is the file's page 3 */
	CHECK(pread(fd, b, 2, 3 * PS) == 2 && b[1] == 'x');
	CHECK(ERR(remap_file_pages(m, PS, PROT_READ, 1, 0), EINVAL));
	CHECK(ERR(remap_file_pages(priv, PS, 0, 1, 0), EINVAL));
	CHECK(remap_file_pages(anon, PS, 0, 0, 0) == 0); /* shared anonymous: a shmem file */
	CHECK(ERR(remap_file_pages(m, 8 * PS, 0, 0, 0), EINVAL)); /* past the mapping */
	munmap(m, 4 * PS);
	munmap(priv, 4 * PS);
	munmap(anon, PS);
	close(fd);
	unlink(path);
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = on_bus, .sa_flags = SA_SIGINFO};
	sigaction(SIGBUS, &sa, NULL);
	snprintf(path, sizeof(path), "/tmp/fmap.%d", getpid());
	test_shared();
	test_private();
	test_errors();
	test_maps_name();
	test_remap_file_pages();
	DONE("fmap");
}
