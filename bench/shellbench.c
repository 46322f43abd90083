/* What a shell costs, in microseconds (figures, never pass/fail; run with
 * `sh bench/run_guest.sh shellbench`, at --smp 1 or 2):
 *   pipe round trip   one byte to the other side through one pipe and back through another,
 *                     between two threads and between two processes
 *   fork+exec+wait    fork, execve of /bin/true (Debian's busybox: a static glibc program) and
 *                     waitpid; beside it the same with /bin/hello (a static musl program)
 * Each figure is the median of ROUNDS runs of a batch. The same source runs on Linux. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define ROUNDS 9
#define TRIPS 500
#define EXECS 20

static int ping[2], pong[2];

/* The other side: echo every byte back until end of file. */
static void echo_loop(void)
{
	char c;
	while (read(ping[0], &c, 1) == 1)
		if (write(pong[1], &c, 1) != 1)
			break;
}

static void *echo_thread(void *arg)
{
	(void)arg;
	echo_loop();
	return NULL;
}

/* Median microseconds of one round trip. */
static double round_trips(void)
{
	uint64_t ns[ROUNDS];
	char c = 'x';
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (int i = 0; i < TRIPS; i++)
			if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
				return -1;
		ns[r] = now_ns() - t0;
	}
	return (double)median(ns, ROUNDS) / 1000.0 / TRIPS;
}

static double pipe_bench(int processes)
{
	pthread_t th;
	pid_t pid = -1;
	if (pipe(ping) || pipe(pong))
		return -1;
	if (processes) {
		pid = fork();
		if (pid == 0) {
			close(ping[1]);
			echo_loop();
			_exit(0);
		}
	} else if (pthread_create(&th, NULL, echo_thread, NULL)) {
		return -1;
	}
	double us = round_trips();
	close(ping[1]);
	if (processes)
		waitpid(pid, NULL, 0);
	else
		pthread_join(th, NULL);
	close(ping[0]), close(pong[0]), close(pong[1]);
	return us;
}

/* Median microseconds of fork, execve of path and waitpid; -1 when it does not run. */
static double exec_bench(const char *path)
{
	uint64_t ns[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (int i = 0; i < EXECS; i++) {
			pid_t pid = fork();
			if (pid == 0) {
				char *argv[] = {(char *)path, NULL};
				int null = open("/dev/null", O_WRONLY);
				dup2(null, 1); /* hello's line stays out of the figures */
				execv(path, argv);
				_exit(127);
			}
			int st;
			if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
				return -1;
		}
		ns[r] = now_ns() - t0;
	}
	return (double)median(ns, ROUNDS) / 1000.0 / EXECS;
}

int main(void)
{
	printf("shellbench: pipe round trip: %.1f us between threads, %.1f us between processes\n",
	       pipe_bench(0), pipe_bench(1));
	printf("shellbench: fork+exec+wait: %.1f us of busybox true (glibc), %.1f us of /bin/hello "
	       "(musl)\n",
	       exec_bench("/bin/true"), exec_bench("/bin/hello"));
	return 0;
}
