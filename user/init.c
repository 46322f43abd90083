/* /init: runs each program named on its command line (the kernel passes run=a,b,c as
 * argv[1..]; "prog:arg" passes one argument; "user@prog" runs it as that user, a name from
 * /etc/passwd or a number, with the user's groups from /etc/group) one after another, each
 * in a forked child, and reports how it ended (NAME is "user@prog" for one run as a user):
 *   init: <prog> exited <n>          or   init: <prog> killed by signal <s>
 * then "init: done, <k> of <n> programs exited 0" and waits forever (the tests stop the VM).
 * With no programs it starts /bin/sh (busybox) on the console instead, in a session of its own
 * with the console as its controlling terminal, and starts another when it exits.
 * Like any init it reaps the orphans it adopts, while a program runs and after. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
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

/* setgroups to gid and every group of /etc/group that lists name (initgroups without its
 * nscd query, which needs /dev/null when there is no socket). */
static int set_groups_of(const char *name, gid_t gid)
{
	gid_t list[64] = {gid};
	int n = 1;
	struct group *g;
	setgrent();
	while ((g = getgrent()) && n < 64)
		for (char **m = g->gr_mem; *m; m++)
			if (!strcmp(*m, name) && g->gr_gid != gid) {
				list[n++] = g->gr_gid;
				break;
			}
	endgrent();
	return setgroups(n, list);
}

/* In the child: become `who` (a user name or a number) for good, as login does: groups,
 * then gid, then uid. 0, or -1 with a message. */
static int become(const char *who)
{
	char *end;
	unsigned long n = strtoul(who, &end, 10);
	struct passwd *pw = *end ? getpwnam(who) : getpwuid((uid_t)n);
	uid_t uid = pw ? pw->pw_uid : (uid_t)n;
	gid_t gid = pw ? pw->pw_gid : (gid_t)n;
	if (*end && !pw) {
		printf("init: no user %s in /etc/passwd\n", who);
		return -1;
	}
	if ((pw ? set_groups_of(pw->pw_name, gid) : setgroups(0, NULL)) || setgid(gid) ||
	    setuid(uid)) {
		printf("init: cannot become %s: %s\n", who, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int ok = 0;
	if (argc == 1)
		run_shell();
	printf("init: running %d program(s)\n", argc - 1);
	for (int i = 1; i < argc; i++) {
		char path[256], who[64] = "", *arg = strchr(argv[i], ':'), *prog;
		if (arg)
			*arg++ = 0;
		if ((prog = strchr(argv[i], '@')))
			snprintf(who, sizeof(who), "%.*s", (int)(prog++ - argv[i]), argv[i]);
		else
			prog = argv[i];
		snprintf(path, sizeof(path), "%s%s", prog[0] == '/' ? "" : "/bin/", prog);
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			printf("init: fork failed\n");
			continue;
		}
		if (pid == 0) {
			char *cargv[] = {path, arg, NULL};
			if (who[0] && become(who)) {
				fflush(stdout);
				_exit(126);
			}
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
