/* Pipes, descriptors, waiting and devices as Linux 6.1 gives them: pipe and pipe2 (flags,
 * EFAULT), writes of PIPE_BUF bytes that never interleave between writers, O_NONBLOCK's
 * EAGAIN, SIGPIPE and EPIPE, a reader that sleeps until a writer in another process writes
 * and one that gets end of file when the last writer goes, F_GETPIPE_SZ/F_SETPIPE_SZ, FIFOs
 * (mknod, open waits for the other end, ENXIO); dup, dup2, dup3, fcntl (F_DUPFD,
 * F_DUPFD_CLOEXEC, F_GETFD/F_SETFD, F_GETFL/F_SETFL) and the shared offset of a duplicated
 * file; 1024 descriptors then EMFILE; poll, ppoll, select and pselect6 with timeouts, bad
 * descriptors, a signal ending the wait and a stop and continue that does not; /dev/null, zero, full, urandom, random and
 * console. On MCRK and on Linux as root. */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ERR(call, e) (errno = 0, (call) == -1 && errno == (e))
#define WRITERS 4
#define ROUNDS 200

static volatile sig_atomic_t got_sig;
static void on_sig(int s)
{
	got_sig = s;
}

/* A child that sends us sig after ms milliseconds (alarm() needs setitimer, which this test
 * does not rely on). Its pid, to reap. */
static pid_t signal_me_later(int sig, int ms)
{
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		usleep((useconds_t)ms * 1000);
		kill(parent, sig);
		_exit(0);
	}
	return pid;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_pipe_basics(void)
{
	int p[2];
	char b[128];
	struct stat st;
	CHECK(pipe(p) == 0);
	CHECK(fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK(write(p[1], "abc", 3) == 3 && read(p[0], b, sizeof(b)) == 3 && !memcmp(b, "abc", 3));
	CHECK(ERR(lseek(p[0], 0, SEEK_SET), ESPIPE));
	CHECK(ERR(pread(p[0], b, 1, 0), ESPIPE));
	CHECK(ERR(write(p[0], "x", 1), EBADF));
	CHECK(ERR(read(p[1], b, 1), EBADF));
	CHECK(fcntl(p[0], F_GETPIPE_SZ) == 65536);
	CHECK(fcntl(p[0], F_SETPIPE_SZ, 5000) == 8192 && fcntl(p[1], F_GETPIPE_SZ) == 8192);
	CHECK(ERR(fcntl(0 > 1 ? 0 : open("/dev/null", O_RDONLY), F_GETPIPE_SZ), EBADF));
	/* non-blocking: EAGAIN both ways; a full pipe takes no more */
	CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0 && fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
	CHECK(ERR(read(p[0], b, 1), EAGAIN));
	char big[8192];
	memset(big, 'q', sizeof(big));
	CHECK(write(p[1], big, sizeof(big)) == 8192);
	CHECK(ERR(write(p[1], "x", 1), EAGAIN));
	/* The pipe is two page-sized slots, both used: a part-read slot is not free, so no
	 * write fits (PIPE_BUF bytes go whole or not at all), as Linux's ring of pages. */
	CHECK(read(p[0], big, 100) == 100);
	CHECK(ERR(write(p[1], big, 4096), EAGAIN));
	CHECK(ERR(write(p[1], big, 5000), EAGAIN));
	CHECK(read(p[0], big, 3996) == 3996);	  /* the first slot is free again */
	CHECK(write(p[1], big, 5000) == 4096);	  /* more than PIPE_BUF: what fits */
	CHECK(ERR(write(p[1], big, 10), EAGAIN)); /* the last slot is full */
	/* the last writer gone: end of file after the data; the last reader gone: EPIPE */
	close(p[1]);
	CHECK(read(p[0], big, sizeof(big)) == 8192 && read(p[0], big, 1) == 0);
	close(p[0]);
	CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
	CHECK(fcntl(p[0], F_GETFD) == FD_CLOEXEC && (fcntl(p[1], F_GETFL) & O_NONBLOCK));
	struct sigaction sa = {.sa_handler = on_sig};
	sigaction(SIGPIPE, &sa, NULL);
	close(p[0]);
	got_sig = 0;
	CHECK(ERR(write(p[1], "x", 1), EPIPE) && got_sig == SIGPIPE);
	close(p[1]);
	signal(SIGPIPE, SIG_DFL);
	CHECK(ERR(pipe2(p, 0x10000), EINVAL));
	CHECK(ERR(pipe((int *)-4096L), EFAULT));
}

/* Writers in several processes write PIPE_BUF-sized records; none is ever split. */
static void test_pipe_atomic(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	for (int w = 0; w < WRITERS; w++) {
		if (fork() == 0) {
			char rec[4096];
			close(p[0]);
			memset(rec, 'A' + w, sizeof(rec));
			for (int i = 0; i < ROUNDS / WRITERS; i++)
				if (write(p[1], rec, sizeof(rec)) != sizeof(rec))
					_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	char rec[4096];
	int records = 0, torn = 0;
	for (;;) {
		size_t got = 0;
		ssize_t n;
		while (got < sizeof(rec) && (n = read(p[0], rec + got, sizeof(rec) - got)) > 0)
			got += (size_t)n;
		if (got == 0)
			break;
		records++;
		for (size_t i = 1; i < got; i++)
			torn += rec[i] != rec[0];
		if (got < sizeof(rec))
			torn++;
	}
	close(p[0]);
	int st, ok = 0;
	while (wait(&st) > 0)
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	CHECK(records == ROUNDS && torn == 0 && ok == WRITERS);
}

/* A blocked reader is woken by a writer in another process; a signal ends a wait. */
static void test_pipe_blocking(void)
{
	int p[2];
	char b[16];
	CHECK(pipe(p) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(100 * 1000);
		_exit(write(p[1], "late", 4) == 4 ? 0 : 1);
	}
	uint64_t t0 = now_ms();
	CHECK(read(p[0], b, sizeof(b)) == 4 && !memcmp(b, "late", 4));
	CHECK(now_ms() - t0 >= 50);
	int st;
	waitpid(pid, &st, 0);
	struct sigaction sa = {.sa_handler = on_sig}; /* no SA_RESTART: the read fails */
	sigaction(SIGALRM, &sa, NULL);
	got_sig = 0;
	pid_t killer = signal_me_later(SIGALRM, 200);
	CHECK(ERR(read(p[0], b, sizeof(b)), EINTR) && got_sig == SIGALRM);
	waitpid(killer, &st, 0);
	sa.sa_flags = SA_RESTART; /* restarted, then the writer's byte arrives */
	sigaction(SIGALRM, &sa, NULL);
	pid = fork();
	if (pid == 0) {
		usleep(1500 * 1000);
		_exit(write(p[1], "R", 1) == 1 ? 0 : 1);
	}
	killer = signal_me_later(SIGALRM, 500);
	CHECK(read(p[0], b, 1) == 1 && b[0] == 'R');
	waitpid(pid, &st, 0);
	waitpid(killer, &st, 0);
	signal(SIGALRM, SIG_DFL);
	close(p[0]);
	close(p[1]);
}

static void test_fifo(void)
{
	char path[64], b[8];
	snprintf(path, sizeof(path), "/tmp/fifo.%d", getpid());
	CHECK(mknod(path, S_IFIFO | 0600, 0) == 0);
	CHECK(ERR(open(path, O_WRONLY | O_NONBLOCK), ENXIO)); /* no reader */
	pid_t pid = fork();
	if (pid == 0) {
		int w = open(path, O_WRONLY); /* waits for the reader */
		_exit(w >= 0 && write(w, "fifo", 4) == 4 ? 0 : 1);
	}
	int r = open(path, O_RDONLY); /* waits for the writer */
	CHECK(r >= 0 && read(r, b, sizeof(b)) == 4 && !memcmp(b, "fifo", 4));
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(read(r, b, 1) == 0);
	close(r);
	int rw = open(path, O_RDWR); /* never waits */
	CHECK(rw >= 0 && write(rw, "x", 1) == 1 && read(rw, b, 1) == 1);
	close(rw);
	CHECK(unlink(path) == 0);
}

static void test_dup_fcntl(void)
{
	int fd = open("/proc/meminfo", O_RDONLY);
	char a[4], b[4];
	CHECK(fd >= 0);
	int d = dup(fd);
	CHECK(d > fd && read(fd, a, 4) == 4 && read(d, b, 4) == 4 && memcmp(a, b, 4) != 0);
	CHECK(dup2(fd, 100) == 100 && lseek(100, 0, SEEK_CUR) == 8); /* one shared offset */
	CHECK(dup2(fd, fd) == fd);
	CHECK(ERR(dup2(fd, -1), EBADF));
	CHECK(ERR(dup2(fd, 1 << 20), EBADF));
	CHECK(ERR(dup2(999, 101), EBADF));
	CHECK(dup3(fd, 101, O_CLOEXEC) == 101 && fcntl(101, F_GETFD) == FD_CLOEXEC);
	CHECK(ERR(dup3(fd, fd, 0), EINVAL));
	CHECK(ERR(syscall(SYS_dup3, fd, 102, O_NONBLOCK), EINVAL)); /* raw: musl uses dup2 */
	CHECK(fcntl(fd, F_DUPFD, 200) == 200 && fcntl(200, F_GETFD) == 0);
	CHECK(fcntl(fd, F_DUPFD_CLOEXEC, 200) == 201 && fcntl(201, F_GETFD) == FD_CLOEXEC);
	CHECK(ERR(fcntl(fd, F_DUPFD, 1 << 20), EINVAL));
	CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK((fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == O_RDONLY);
	CHECK(fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND) == 0);
	CHECK((fcntl(d, F_GETFL) & (O_NONBLOCK | O_APPEND)) ==
	      (O_NONBLOCK | O_APPEND)); /* shared */
	CHECK(ERR(fcntl(fd, 9999), EINVAL));
	CHECK(ERR(fcntl(-1, F_GETFD), EBADF));
	for (int x = 100; x <= 101; x++)
		close(x);
	close(200), close(201), close(d), close(fd);
	CHECK(ERR(close(fd), EBADF));
	/* every descriptor up to the limit, then EMFILE */
	int first = -1, last = -1, n = 0;
	for (;;) {
		int k = open("/dev/null", O_RDONLY);
		if (k < 0) {
			CHECK(errno == EMFILE);
			break;
		}
		first = first < 0 ? k : first;
		last = k;
		n++;
	}
	if (on_mcrk()) /* RLIMIT_NOFILE: 1024 on MCRK; a Linux shell may have set another */
		CHECK(last == 1023);
	CHECK(ERR(dup(0), EMFILE) && ERR(pipe((int[2]){0, 0}), EMFILE));
	for (int k = first; k <= last; k++)
		close(k);
	printf("pipes: %d descriptors opened before EMFILE\n", n);
}

static void test_poll_select(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	struct pollfd pf[3] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {-1, POLLIN, 0}};
	CHECK(poll(pf, 3, 0) == 1 && pf[1].revents == POLLOUT && pf[0].revents == 0);
	uint64_t t0 = now_ms();
	CHECK(poll(pf, 1, 100) == 0 && now_ms() - t0 >= 90);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(poll(pf, 1, -1) == 1 && pf[0].revents == POLLIN);
	struct pollfd bad = {999, POLLIN, 0};
	CHECK(poll(&bad, 1, 0) == 1 && bad.revents == POLLNVAL);
	CHECK(ERR(poll(pf, 100000, 0), EINVAL));
	CHECK(ERR(poll((struct pollfd *)-4096L, 1, 0), EFAULT));
	/* a writer in another process wakes a sleeping poll */
	char c;
	CHECK(read(p[0], &c, 1) == 1);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(100 * 1000);
		_exit(write(p[1], "y", 1) == 1 ? 0 : 1);
	}
	t0 = now_ms();
	CHECK(poll(pf, 1, 5000) == 1 && now_ms() - t0 < 4000);
	int st;
	waitpid(pid, &st, 0);
	CHECK(read(p[0], &c, 1) == 1 && c == 'y');
	/* select: readable, writable, timeout, bad fd */
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	struct timeval tv = {0, 50000};
	CHECK(select(p[1] + 1, &r, &w, NULL, &tv) == 1 && !FD_ISSET(p[0], &r) &&
	      FD_ISSET(p[1], &w));
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){0, 50000};
	CHECK(select(p[0] + 1, &r, NULL, NULL, &tv) == 0);
	FD_SET(900, &r);
	CHECK(ERR(select(901, &r, NULL, NULL, &(struct timeval){0, 0}), EBADF));
	CHECK(ERR(select(-1, NULL, NULL, NULL, NULL), EINVAL));
	struct timeval bad_tv = {0, -1}, long_tv = {0, 1000000}; /* raw: no libc checks */
	CHECK(ERR(syscall(SYS_select, 1, NULL, NULL, NULL, &bad_tv), EINVAL));
	FD_ZERO(&w);
	FD_SET(p[1], &w); /* a microsecond count of a second or more is carried into seconds */
	CHECK(syscall(SYS_select, p[1] + 1, NULL, &w, NULL, &long_tv) == 1);
	/* ppoll and pselect6 with a signal mask: SIGUSR1 blocked outside, let in while waiting */
	struct sigaction sa = {.sa_handler = on_sig};
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, old, empty;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid = fork();
	if (pid == 0) {
		usleep(100 * 1000);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	got_sig = 0;
	struct timespec ts = {5, 0};
	CHECK(ERR(ppoll(pf, 1, &ts, &empty), EINTR) && got_sig == SIGUSR1);
	waitpid(pid, &st, 0);
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK(sigismember(&now, SIGUSR1)); /* the caller's mask is back */
	CHECK(ERR(syscall(SYS_ppoll, pf, 1, &ts, &empty, 4), EINVAL));
	CHECK(ERR(ppoll(pf, 1, &(struct timespec){0, 1000000000}, NULL), EINVAL));
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	CHECK(pselect(p[0] + 1, &r, NULL, NULL, &(struct timespec){0, 10000000}, &empty) == 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
	/* a stop and continue, no handler: the poll goes on waiting (restarted), no EINTR */
	pid = fork();
	if (pid == 0)
		_exit(poll(pf, 1, -1) == 1 && read(p[0], &c, 1) == 1 && c == 'z' ? 0 : 1);
	usleep(100 * 1000);
	CHECK(kill(pid, SIGSTOP) == 0 && waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st));
	CHECK(kill(pid, SIGCONT) == 0);
	usleep(100 * 1000);
	CHECK(write(p[1], "z", 1) == 1);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(p[0]);
	CHECK(poll(&pf[1], 1, 0) == 1 && (pf[1].revents & POLLERR)); /* no reader left */
	close(p[1]);
}

static void test_devices(void)
{
	char b[64];
	int n = open("/dev/null", O_RDWR), z = open("/dev/zero", O_RDWR),
	    f = open("/dev/full", O_RDWR), u = open("/dev/urandom", O_RDONLY),
	    r = open("/dev/random", O_RDONLY), c = open("/dev/console", O_WRONLY);
	CHECK(n >= 0 && z >= 0 && f >= 0 && u >= 0 && r >= 0 && c >= 0);
	CHECK(read(n, b, sizeof(b)) == 0 && write(n, b, sizeof(b)) == sizeof(b));
	memset(b, 1, sizeof(b));
	CHECK(read(z, b, sizeof(b)) == sizeof(b) && b[0] == 0 && b[63] == 0);
	CHECK(write(z, b, 10) == 10);
	CHECK(ERR(write(f, b, 1), ENOSPC) && read(f, b, 8) == 8 && b[7] == 0);
	char x[32], y[32];
	CHECK(read(u, x, 32) == 32 && read(u, y, 32) == 32 && memcmp(x, y, 32) != 0);
	CHECK(read(r, x, 16) == 16);
	CHECK(lseek(n, 100, SEEK_SET) == 0 && lseek(z, 5, SEEK_CUR) == 0);
	CHECK(write(c, "pipes: a line on the console\n", 29) == 29);
	CHECK(ERR(lseek(c, 0, SEEK_SET), ESPIPE));
	struct stat st;
	CHECK(fstat(n, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
	      minor(st.st_rdev) == 3);
	close(n), close(z), close(f), close(u), close(r), close(c);
}

int main(void)
{
	test_pipe_basics();
	test_pipe_atomic();
	test_pipe_blocking();
	test_fifo();
	test_dup_fcntl();
	test_poll_select();
	test_devices();
	DONE("pipes");
}
