/* tty: the console as a terminal and /proc/PID, as Linux gives them (the same source checks
 * Linux on a serial console). As a new session's leader it takes /dev/ttyS0 as its controlling
 * terminal by opening it, then checks: isatty and the default termios (canonical, echo, ISIG,
 * ICRNL, ONLCR, ^C ^\ ^? ^U ^D ^Z), TCSETS* round trips, the window size, FIONREAD, poll,
 * raw reads with VMIN/VTIME and O_NONBLOCK, TIOCGPGRP/TIOCSPGRP's rules (ESRCH, EPERM across
 * sessions, ENOTTY without the terminal), SIGTTOU for a background tcsetattr and (with TOSTOP)
 * write, SIGTTIN for a background read, EIO when SIGTTIN is ignored, /dev/tty, TIOCSCTTY's
 * EPERM, TIOCNOTTY; and /proc: the PID directories in the listing, /proc/self, stat's and
 * status's fields for a process with two threads, task/TID, cmdline. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "utest.h"

static int tty_fd = -1;

static void check_termios(void)
{
	struct termios t;
	CHECK(isatty(tty_fd));
	CHECK(isatty(1) == isatty(1)); /* stdout is whatever init gave: no claim */
	CHECK(tcgetattr(tty_fd, &t) == 0);
	CHECK(t.c_lflag & ICANON && t.c_lflag & ECHO && t.c_lflag & ISIG);
	CHECK(t.c_iflag & ICRNL && t.c_oflag & OPOST && t.c_oflag & ONLCR);
	CHECK(t.c_cc[VINTR] == 3 && t.c_cc[VQUIT] == 034 && t.c_cc[VERASE] == 0177);
	CHECK(t.c_cc[VKILL] == 025 && t.c_cc[VEOF] == 4 && t.c_cc[VSUSP] == 032);
	struct termios raw = t;
	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 2; /* 0.2 s with nothing typed: read returns 0 */
	CHECK(tcsetattr(tty_fd, TCSAFLUSH, &raw) == 0);
	struct termios back;
	CHECK(tcgetattr(tty_fd, &back) == 0);
	CHECK(!(back.c_lflag & ICANON) && back.c_cc[VTIME] == 2);
	char c;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK(read(tty_fd, &c, 1) == 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	CHECK(ms >= 150 && ms < 5000);
	raw.c_cc[VTIME] = 0;
	CHECK(tcsetattr(tty_fd, TCSANOW, &raw) == 0);
	CHECK(read(tty_fd, &c, 1) == 0); /* VMIN 0, VTIME 0: what there is, nothing */
	int fl = fcntl(tty_fd, F_GETFL);
	raw.c_cc[VMIN] = 1;
	CHECK(tcsetattr(tty_fd, TCSADRAIN, &raw) == 0);
	fcntl(tty_fd, F_SETFL, fl | O_NONBLOCK);
	CHECK(read(tty_fd, &c, 1) == -1 && errno == EAGAIN);
	fcntl(tty_fd, F_SETFL, fl);
	CHECK(tcsetattr(tty_fd, TCSANOW, &t) == 0);
	int n = -1;
	CHECK(ioctl(tty_fd, FIONREAD, &n) == 0 && n == 0);
	struct pollfd pfd = {.fd = tty_fd, .events = POLLIN | POLLOUT};
	CHECK(poll(&pfd, 1, 50) == 1 && pfd.revents == POLLOUT); /* nothing typed: not readable */
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 50) == 0);
	struct winsize ws = {.ws_row = 40, .ws_col = 132}, ws2;
	CHECK(ioctl(tty_fd, TIOCSWINSZ, &ws) == 0);
	CHECK(ioctl(tty_fd, TIOCGWINSZ, &ws2) == 0 && ws2.ws_row == 40 && ws2.ws_col == 132);
	CHECK(ioctl(tty_fd, TCGETS, (void *)8) == -1 && errno == EFAULT);
	CHECK(ioctl(tty_fd, 0x54ff, 0) == -1 && errno == ENOTTY);
}

static volatile sig_atomic_t got;
static void on_sig(int sig)
{
	got = sig;
}

/* A child in a process group of its own does op in the background; its exit status says. */
static int in_background(int op)
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		struct termios t;
		char c;
		struct sigaction sa = {.sa_handler = on_sig}; /* no SA_RESTART: a restarted call
								 would only be stopped again */
		sigaction(SIGTTOU, &sa, NULL);
		sigaction(SIGTTIN, &sa, NULL);
		tcgetattr(tty_fd, &t); /* reading the settings is allowed from the background */
		if (op == 0) { /* tcsetattr: SIGTTOU to the group, the call fails with EINTR */
			int r = tcsetattr(tty_fd, TCSANOW, &t);
			_exit(r == -1 && errno == EINTR && got == SIGTTOU ? 0 : 2);
		}
		if (op == 1) { /* read: SIGTTIN (the handler runs, the read fails with EINTR) */
			ssize_t r = read(tty_fd, &c, 1);
			_exit(r == -1 && errno == EINTR && got == SIGTTIN ? 0 : 3);
		}
		if (op == 3) { /* write with TOSTOP set (by the parent): SIGTTOU */
			ssize_t r = write(tty_fd, "x", 1);
			_exit(r == -1 && errno == EINTR && got == SIGTTOU ? 0 : 5);
		}
		signal(SIGTTIN, SIG_IGN); /* read with SIGTTIN ignored: EIO */
		_exit(read(tty_fd, &c, 1) == -1 && errno == EIO ? 0 : 4);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static void check_jobctl(void)
{
	pid_t pg = -1;
	CHECK(ioctl(tty_fd, TIOCGPGRP, &pg) == 0 && pg == getpgrp());
	CHECK(tcgetsid(tty_fd) == getsid(0));
	pg = 99999;
	CHECK(ioctl(tty_fd, TIOCSPGRP, &pg) == -1 && errno == ESRCH);
	pg = -3;
	CHECK(ioctl(tty_fd, TIOCSPGRP, &pg) == -1 && errno == EINVAL);
	pg = 1; /* init's group is in another session */
	CHECK(ioctl(tty_fd, TIOCSPGRP, &pg) == -1 && (errno == EPERM || errno == ESRCH));
	CHECK(in_background(0) == 0);
	CHECK(in_background(1) == 0);
	CHECK(in_background(2) == 0);
	struct termios t, tostop;
	CHECK(tcgetattr(tty_fd, &t) == 0);
	tostop = t;
	tostop.c_lflag |= TOSTOP;
	CHECK(tcsetattr(tty_fd, TCSANOW, &tostop) == 0);
	CHECK(in_background(3) == 0);
	CHECK(tcsetattr(tty_fd, TCSANOW, &t) == 0);
	CHECK(ioctl(tty_fd, TIOCSCTTY, 0) == 0); /* already ours: nothing to do */
	int fd = open("/dev/tty", O_RDWR);
	CHECK(fd >= 0 && isatty(fd));
	close(fd);
	pid_t pid = fork();
	if (pid == 0) { /* a new session: no terminal, and it may not take ours */
		setsid();
		int bad = open("/dev/tty", O_RDWR) == -1 && errno == ENXIO ? 0 : 1;
		bad |= ioctl(tty_fd, TIOCSCTTY, 0) == -1 && errno == EPERM ? 0 : 2;
		bad |= ioctl(tty_fd, TIOCGPGRP, &pg) == -1 && errno == ENOTTY ? 0 : 4;
		_exit(bad);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	int n = (int)read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

static void *idle_thread(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static void check_proc(void)
{
	char path[64], buf[4096], link[32];
	pthread_t th;
	CHECK(pthread_create(&th, NULL, idle_thread, NULL) == 0);
	DIR *d = opendir("/proc");
	int me = 0, init = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		me |= atoi(e->d_name) == getpid();
		init |= !strcmp(e->d_name, "1");
	}
	if (d)
		closedir(d);
	CHECK(me && init);
	ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);
	CHECK(n > 0 && atoi((link[n > 0 ? n : 0] = 0, link)) == getpid());
	snprintf(path, sizeof(path), "/proc/%d/stat", getpid());
	CHECK(read_file(path, buf, sizeof(buf)) > 0);
	int pid, ppid, pgrp, sid, tty_nr, tpgid, threads;
	char comm[32], state;
	unsigned flags;
	unsigned long skip;
	long lskip;
	CHECK(sscanf(buf, "%d (%31[^)]) %c %d %d %d %d %d %u %lu %lu %lu %lu %lu %lu %ld %ld %ld %ld %d",
		     &pid, comm, &state, &ppid, &pgrp, &sid, &tty_nr, &tpgid, &flags, &skip, &skip,
		     &skip, &skip, &skip, &skip, &lskip, &lskip, &lskip, &lskip, &threads) == 20);
	CHECK(pid == getpid() && !strcmp(comm, "tty") && state == 'R' && ppid == getppid());
	CHECK(pgrp == getpgrp() && sid == getsid(0) && tpgid == getpgrp() && tty_nr != 0);
	CHECK(threads == 2);
	int fields = 0;
	for (char *p = strrchr(buf, ')'); p && *p; p++)
		fields += *p == ' ';
	CHECK(fields + 2 == 52); /* Linux 6.1's stat has 52 fields: pid, comm and 50 more */
	CHECK(read_file("/proc/self/status", buf, sizeof(buf)) > 0);
	char want[128];
	snprintf(want, sizeof(want), "\nTgid:\t%d\n", getpid());
	CHECK(strstr(buf, "Name:\ttty\n") == buf && strstr(buf, want));
	CHECK(strstr(buf, "\nThreads:\t2\n") && strstr(buf, "\nUid:\t0\t0\t0\t0\n"));
	CHECK(strstr(buf, "\nVmRSS:") && strstr(buf, "\nSigBlk:\t"));
	snprintf(path, sizeof(path), "/proc/%d/task", getpid());
	int tids = 0;
	d = opendir(path);
	while (d && (e = readdir(d)) != NULL)
		tids += atoi(e->d_name) > 0;
	if (d)
		closedir(d);
	CHECK(tids == 2);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", getpid(), getpid());
	CHECK(read_file(path, buf, sizeof(buf)) > 0 && strstr(buf, want));
	n = read_file("/proc/self/cmdline", buf, sizeof(buf));
	CHECK(n > 0 && strstr(buf, "tty") != NULL && buf[n - 1] == 0);
	CHECK(read_file("/proc/999999/stat", buf, sizeof(buf)) == -1 && errno == ENOENT);
	CHECK(open("/proc/self/stat", O_WRONLY) == -1);
}

int main(void)
{
	if (setsid() < 0) {
		printf("tty: setsid failed\n");
		return 1;
	}
	tty_fd = open("/dev/ttyS0", O_RDWR); /* a leader without a terminal takes it */
	CHECK(tty_fd >= 0);
	if (tty_fd < 0)
		DONE("tty");
	check_termios();
	check_jobctl();
	check_proc();
	signal(SIGHUP, SIG_IGN); /* a leader's TIOCNOTTY hangs up its foreground group: us */
	CHECK(ioctl(tty_fd, TIOCNOTTY) == 0);
	CHECK(ioctl(tty_fd, TIOCGPGRP, &(pid_t){0}) == -1 && errno == ENOTTY);
	DONE("tty");
}
