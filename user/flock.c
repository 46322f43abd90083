/* flock(2) with Linux's rules (fs/locks.c): a lock belongs to the open file description, so
 * dup and fork share it and it goes with LOCK_UN or the last close of the description; shared
 * locks coexist, an exclusive one excludes every other description; LOCK_NB gives EWOULDBLOCK;
 * a waiter gets the lock when the holder lets go; a signal ends a wait with EINTR (without
 * SA_RESTART); bad operations EINVAL, bad descriptors EBADF. Runs unchanged on Linux. */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#define PATH "/tmp/flock.test"

static void on_usr1(int sig) { (void)sig; }

/* A child that takes op on its own description of PATH: its exit status is 0 when flock
 * returned want_errno (0: success). */
static pid_t child_lock(int op, int want_errno)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(PATH, O_RDONLY);
		int r = flock(fd, op);
		_exit(want_errno ? !(r == -1 && errno == want_errno) : r != 0);
	}
	return pid;
}

static int status_of(pid_t pid)
{
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	int a = open(PATH, O_RDWR | O_CREAT | O_TRUNC, 0600), b = open(PATH, O_RDONLY);
	CHECK(a >= 0 && b >= 0);
	CHECK(flock(a, LOCK_EX) == 0 && flock(a, LOCK_EX) == 0);
	CHECK(flock(b, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK);
	CHECK(flock(b, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK);
	CHECK(flock(a, LOCK_SH) == 0); /* converted */
	CHECK(flock(b, LOCK_SH | LOCK_NB) == 0);
	CHECK(flock(a, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK); /* b shares it */
	CHECK(flock(b, LOCK_UN) == 0 && flock(a, LOCK_EX | LOCK_NB) == 0);
	int d = dup(a); /* the same description: the same lock */
	CHECK(flock(d, LOCK_EX | LOCK_NB) == 0);
	CHECK(status_of(child_lock(LOCK_EX | LOCK_NB, EWOULDBLOCK)) == 0);
	close(a); /* d still holds the description: still locked */
	CHECK(status_of(child_lock(LOCK_SH | LOCK_NB, EWOULDBLOCK)) == 0);
	close(d); /* the last close releases it */
	CHECK(status_of(child_lock(LOCK_EX | LOCK_NB, 0)) == 0);
	/* a waiter gets the lock once the holder lets go */
	a = open(PATH, O_RDWR);
	CHECK(flock(a, LOCK_EX) == 0);
	pid_t w = child_lock(LOCK_EX, 0);
	usleep(50000);
	CHECK(waitpid(w, NULL, WNOHANG) == 0); /* still waiting */
	CHECK(flock(a, LOCK_UN) == 0);
	CHECK(status_of(w) == 0);
	/* a signal ends a wait (no SA_RESTART): EINTR */
	CHECK(flock(a, LOCK_EX) == 0);
	w = fork();
	if (w == 0) {
		struct sigaction sa = {.sa_handler = on_usr1};
		sigaction(SIGUSR1, &sa, NULL);
		int fd = open(PATH, O_RDONLY);
		_exit(flock(fd, LOCK_SH) == -1 && errno == EINTR ? 0 : 1);
	}
	usleep(50000);
	kill(w, SIGUSR1);
	CHECK(status_of(w) == 0);
	/* a forked child shares the description and its lock */
	w = fork();
	if (w == 0)
		_exit(flock(a, LOCK_UN) != 0);
	CHECK(status_of(w) == 0);
	CHECK(flock(b, LOCK_EX | LOCK_NB) == 0); /* the child's LOCK_UN released it */
	CHECK(flock(b, 0) == -1 && errno == EINVAL);
	CHECK(flock(b, LOCK_SH | LOCK_EX) == -1 && errno == EINVAL);
	CHECK(flock(-1, LOCK_SH) == -1 && errno == EBADF);
	CHECK(flock(1000, LOCK_SH) == -1 && errno == EBADF);
	close(a);
	close(b);
	unlink(PATH);
	DONE("flock");
}
