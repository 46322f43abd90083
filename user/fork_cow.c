/* Copy-on-write after fork: 100 children each overwrite and verify their private copy of a
 * buffer the parent filled; the parent's buffer must be intact after they all ran. */
#include "utest.h"
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 100
#define BUF_SIZE (64 * 1024)

static unsigned char buf[BUF_SIZE];

static int child(int n)
{
	for (int i = 0; i < BUF_SIZE; i++)
		if (buf[i] != (unsigned char)(i * 7))
			return 2; /* the copy it inherited is wrong */
	memset(buf, n, BUF_SIZE);
	for (int i = 0; i < BUF_SIZE; i++)
		if (buf[i] != (unsigned char)n)
			return 3;
	return 0;
}

int main(void)
{
	for (int i = 0; i < BUF_SIZE; i++)
		buf[i] = (unsigned char)(i * 7);
	int bad = 0;
	for (int n = 0; n < CHILDREN; n++) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			_exit(child(n + 1));
		int status;
		CHECK(waitpid(pid, &status, 0) == pid);
		bad += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK(bad == 0);
	int intact = 1;
	for (int i = 0; i < BUF_SIZE; i++)
		intact &= buf[i] == (unsigned char)(i * 7);
	CHECK(intact);
	/* All children at once, then reap them in any order. */
	for (int n = 0; n < 20; n++)
		if (fork() == 0)
			_exit(child(n + 1));
	int reaped = 0, status;
	while (wait(&status) > 0)
		reaped += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	CHECK(reaped == 20);
	DONE("fork_cow");
}
