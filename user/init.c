/* /init: runs each program named on its command line (the kernel passes run=a,b,c as
 * argv[1..]; "prog:arg" passes one argument) one after another, each in a forked child, and
 * reports how it ended:
 *   init: <prog> exited <n>          or   init: <prog> killed by signal <s>
 * then "init: done, <k> of <n> programs exited 0" and waits forever (the tests stop the VM).
 * Like any init it reaps the orphans it adopts, while a program runs and after. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int ok = 0;
	printf("init: running %d program(s)\n", argc - 1);
	for (int i = 1; i < argc; i++) {
		char path[256], *arg = strchr(argv[i], ':');
		if (arg)
			*arg++ = 0;
		snprintf(path, sizeof(path), "%s%s", argv[i][0] == '/' ? "" : "/bin/", argv[i]);
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			printf("init: fork failed\n");
			continue;
		}
		if (pid == 0) {
			char *cargv[] = {path, arg, NULL};
			execv(path, cargv);
			printf("init: cannot run %s\n", path);
			_exit(127);
		}
		int status;
		pid_t w;
		/* Orphans are adopted by init: reap them too while waiting for the program. */
		while ((w = waitpid(-1, &status, 0)) != pid && w > 0)
			;
		if (w != pid) {
			printf("init: waitpid failed\n");
			continue;
		}
		if (WIFEXITED(status)) {
			printf("init: %s exited %d\n", argv[i], WEXITSTATUS(status));
			ok += WEXITSTATUS(status) == 0;
		} else if (WIFSIGNALED(status)) {
			printf("init: %s killed by signal %d\n", argv[i], WTERMSIG(status));
		}
	}
	printf("init: done, %d of %d programs exited 0\n", ok, argc - 1);
	fflush(stdout);
	for (;;) /* reap orphans as they come; sleep when there are no children at all */
		if (waitpid(-1, NULL, 0) < 0)
			sleep(3600);
}
