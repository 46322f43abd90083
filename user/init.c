/* /init: runs each program named on its command line (the kernel passes run=a,b,c as
 * argv[1..]; "prog:arg" passes one argument) one after another, each in a forked child, and
 * reports how it ended:
 *   init: <prog> exited <n>          or   init: <prog> killed by signal <s>
 * then "init: done, <k> of <n> programs exited 0" and waits forever (the tests stop the VM).
 * With no programs it starts /bin/sh (busybox) on the console instead, in a session of its own
 * with the console as its controlling terminal, and starts another when it exits.
 * Like any init it reaps the orphans it adopts, while a program runs and after. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHELL "/bin/sh"

/* The child's side: a new session whose controlling terminal is the console, as stdin,
 * stdout and stderr, then the shell. */
static void exec_shell(void)
{
	setsid();
	int fd = open("/dev/console", O_RDWR);
	if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0) {
		perror("init: the console");
		_exit(126);
	}
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
	char *argv[] = {"sh", NULL};
	char *envp[] = {"PATH=/bin:/sbin", "HOME=/", "TERM=vt100", "PS1=\\w # ", NULL};
	execve(SHELL, argv, envp);
	perror("init: " SHELL);
	_exit(127);
}

/* An interactive shell on the console for as long as the machine runs. */
static _Noreturn void run_shell(void)
{
	if (access(SHELL, X_OK)) {
		printf("init: no %s (build/initrd.cpio was made without busybox-static); "
		       "boot with run=PROGRAM\n", SHELL);
		fflush(stdout);
		for (;;)
			sleep(3600);
	}
	for (;;) {
		printf("init: starting %s on the console\n", SHELL);
		fflush(stdout);
		pid_t pid = fork(), w;
		if (pid == 0)
			exec_shell();
		int status = 0;
		while (pid > 0 && (w = waitpid(-1, &status, 0)) != pid && w > 0)
			;
		if (pid < 0 || (WIFEXITED(status) && WEXITSTATUS(status) >= 126)) {
			printf("init: cannot start %s\n", SHELL);
			for (;;)
				if (waitpid(-1, NULL, 0) < 0)
					sleep(3600);
		}
	}
}

int main(int argc, char **argv)
{
	int ok = 0;
	if (argc == 1)
		run_shell();
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
