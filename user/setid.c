/* Set-user-ID and set-group-ID programs as Linux 6.1 runs them (fs/exec.c, commoncap.c). The
 * initrd holds this program a second time as /bin/setid_root, mode 04755, owner root. Run as
 * user 1000 ("user@setid", or the child the root run starts): /bin/setid_root runs with
 * effective uid 0 and the real uid still 1000, AT_SECURE 1, not dumpable, full capabilities
 * in /proc/self/status, and its parent (the user) may signal it but not open its pagemap or
 * maps; under PR_SET_NO_NEW_PRIVS it runs as the user (AT_SECURE 0, dumpable). A write, an
 * O_TRUNC open or a truncate by the user takes the set-ID bits off its own file (the
 * set-group-ID bit only when group-executable). Run as root, it also copies the program: a
 * set-user-ID copy on a nosuid mount does not raise the user, a set-group-ID copy of group 0
 * gives effective gid 0 when group-executable and nothing otherwise, and root's own write
 * keeps the bits (CAP_FSETID). The same source builds for Linux (install /bin/setid_root). */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define USER 1000
#define GROUP_USERS 100
#define SETID_ROOT "/bin/setid_root"
#define CAP_FULL 0x1ffffffffffull /* Linux 6.1's 41 capabilities */
#define PROBE_FD 3		  /* a probe that holds reports on this descriptor */

/* argv: probe EUID EGID SECURE HOLD. The program as the exec made it: the real ids are the
 * user's, the effective ones EUID and EGID, AT_SECURE and dumpability as expected. With HOLD
 * it reports its failure count on PROBE_FD and waits to be killed; else it exits with it. */
static int probe(char **argv)
{
	uid_t euid = (uid_t)atoi(argv[2]);
	gid_t egid = (gid_t)atoi(argv[3]);
	unsigned long secure = (unsigned long)atoi(argv[4]);
	uid_t r, e, s;
	CHECK(getresuid(&r, &e, &s) == 0 && r == USER && e == euid && s == euid);
	CHECK(getgid() == USER && getegid() == egid);
	CHECK(getauxval(AT_UID) == USER && getauxval(AT_EUID) == euid);
	CHECK(getauxval(AT_GID) == USER && getauxval(AT_EGID) == egid);
	CHECK(getauxval(AT_SECURE) == secure);
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == !secure);
	unsigned long long caps = euid == 0 ? CAP_FULL : 0;
	CHECK(utest_status_hex("CapEff:") == caps && utest_status_hex("CapPrm:") == caps);
	CHECK(utest_status_hex("CapBnd:") == CAP_FULL && utest_status_hex("CapInh:") == 0);
	if (atoi(argv[5])) {
		char n = (char)utest_failures;
		CHECK(write(PROBE_FD, &n, 1) == 1);
		for (;;)
			pause();
	}
	return utest_failures;
}

/* Fork and exec path as a probe expecting euid/egid/secure; with hold, the probe is left
 * running (its pid returned) once it reported on a pipe, else its exit status is checked. */
static pid_t run_probe(const char *path, uid_t euid, gid_t egid, int secure, int hold,
		       int no_new_privs)
{
	char a[3][16];
	int fds[2];
	snprintf(a[0], 16, "%u", euid);
	snprintf(a[1], 16, "%u", egid);
	snprintf(a[2], 16, "%d", secure);
	CHECK(pipe(fds) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], PROBE_FD);
		if (no_new_privs && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
				     prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1))
			_exit(99);
		execl(path, path, "probe", a[0], a[1], a[2], hold ? "1" : "0", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	int st = -1;
	char n = -1;
	if (hold)
		CHECK(read(fds[0], &n, 1) == 1 && n == 0);
	else
		CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fds[0]);
	if (!hold && st)
		printf("setid: %s as probe: status %#x\n", path, st);
	return hold ? pid : 0;
}

static int err_of(int r)
{
	return r < 0 ? errno : 0;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mode & 07777 : 0;
}

/* The user's own file loses its set-ID bits when its data changes (file_remove_privs). */
static void user_writes(void)
{
	const char *f = "/tmp/setid-w";
	int fd = open(f, O_CREAT | O_TRUNC | O_RDWR, 0755);
	CHECK(fd >= 0 && fchmod(fd, 06755) == 0 && mode_of(f) == 06755); /* group 1000: ours */
	CHECK(write(fd, "x", 1) == 1 && mode_of(f) == 0755);
	CHECK(fchmod(fd, 06755) == 0 && ftruncate(fd, 0) == 0 && mode_of(f) == 0755);
	CHECK(fchmod(fd, 02745) == 0 && write(fd, "x", 1) == 1);
	CHECK(mode_of(f) == 02745); /* set-group-ID without group execute: a locking mark */
	CHECK(fchmod(fd, 04755) == 0 && write(fd, "", 0) == 0 && mode_of(f) == 04755);
	close(fd);
	CHECK(truncate(f, 0) == 0 && mode_of(f) == 0755);
	CHECK(chmod(f, 04755) == 0);
	fd = open(f, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && mode_of(f) == 0755);
	close(fd);
	CHECK(unlink(f) == 0);
}

static int user_side(void)
{
	CHECK(getuid() == USER && geteuid() == USER);
	pid_t pid = run_probe(SETID_ROOT, 0, USER, 1, 1, 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	CHECK(err_of(open(path, O_RDONLY)) == EACCES); /* no longer the user's to look into */
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	CHECK(err_of(open(path, O_RDONLY)) == EACCES);
	CHECK(pid > 0 && kill(pid, 0) == 0); /* its real uid is still the user's */
	CHECK(kill(pid, SIGKILL) == 0 && waitpid(pid, NULL, 0) == pid);
	run_probe(SETID_ROOT, USER, USER, 0, 0, 1); /* no_new_privs: the bit is ignored */
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0 && prctl(PR_GET_DUMPABLE) == 1);
	CHECK(err_of(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0)) == EINVAL);
	CHECK(err_of(prctl(PR_SET_DUMPABLE, 2, 0, 0, 0)) == EINVAL);
	user_writes();
	DONE("setid user");
}

/* Copy SETID_ROOT to path, owner root and group gid, with mode. */
static void copy_program(const char *path, gid_t gid, mode_t mode)
{
	static char buf[1 << 16];
	int in = open(SETID_ROOT, O_RDONLY), out = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0700);
	ssize_t n;
	CHECK(in >= 0 && out >= 0);
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		CHECK(write(out, buf, (size_t)n) == n);
	CHECK(fchown(out, 0, gid) == 0 && fchmod(out, mode) == 0);
	CHECK(write(out, "", 1) == 1 && mode_of(path) == mode); /* root keeps the bits */
	close(in);
	close(out);
}

/* As the user, in a child: the copies' set-ID bits do what the mount and mode allow. */
static void user_runs_copies(void)
{
	run_probe("/tmp/setid-ns/p", USER, USER, 0, 0, 0); /* nosuid: not raised */
	run_probe("/tmp/setid-u", 0, USER, 1, 0, 0);
	run_probe("/tmp/setid-g", USER, 0, 1, 0, 0);	    /* set-group-ID, group-executable */
	run_probe("/tmp/setid-gx", USER, USER, 0, 0, 0);    /* set-group-ID, no group execute */
}

/* Fork a child that becomes the user for good and runs fn or execs self; check it passed. */
static void as_user(const char *self, void (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		gid_t groups[] = {GROUP_USERS};
		if (setgroups(1, groups) || setresgid(USER, USER, USER) ||
		    setresuid(USER, USER, USER))
			_exit(2);
		if (fn) {
			utest_failures = 0; /* its own count, not the parent's so far */
			fn();
			_exit(utest_failures);
		}
		execl(self, self, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void root_side(const char *self)
{
	struct stat st;
	CHECK(stat(SETID_ROOT, &st) == 0 && st.st_uid == 0 && (st.st_mode & 07777) == 04755);
	as_user(self, NULL);
	CHECK(mkdir("/tmp/setid-ns", 0755) == 0 || errno == EEXIST);
	CHECK(mount("tmpfs", "/tmp/setid-ns", "tmpfs", MS_NOSUID, NULL) == 0);
	copy_program("/tmp/setid-ns/p", 0, 04755);
	copy_program("/tmp/setid-u", 0, 04755);
	copy_program("/tmp/setid-g", 0, 02755);
	copy_program("/tmp/setid-gx", 0, 02745);
	as_user(self, user_runs_copies);
	CHECK(unlink("/tmp/setid-ns/p") == 0 && umount("/tmp/setid-ns") == 0);
	CHECK(rmdir("/tmp/setid-ns") == 0 && unlink("/tmp/setid-u") == 0);
	CHECK(unlink("/tmp/setid-g") == 0 && unlink("/tmp/setid-gx") == 0);
	DONE("setid");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 6 && !strcmp(argv[1], "probe"))
		return probe(argv);
	if (getuid() != 0)
		return user_side();
	root_side(argv[0]);
}
