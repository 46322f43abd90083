/* File permissions as Linux 6.1 decides them (the same source passes on Linux run as root on
 * a tmpfs /tmp, with uids 2001 and 2002 and gids 2001 and 2003 unused by others). Run as root, it forks
 * children that take other ids (setgroups, setresgid, setresuid) and checks each rule: a new
 * file's owner, the owner/group/other bits at open, search permission on a directory walked
 * through, write permission on a directory to create or remove in it, the sticky bit of
 * /tmp, chmod by the owner only, chown's rules (the owner gives a group of its own, root
 * anything, the set-user-ID bit goes), access() with the real ids, fsuid 0 passing everything
 * but execute without an x bit; and that a user cannot write, remove or chmod root's files nor
 * mount, chroot or make a device node. */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define A 2001 /* owns the files below; its group is A too */
#define B 2002 /* another user, sometimes in group A */
#define C 2003 /* a second group of A's */
#define DIR_A "/tmp/perms-a"

/* Run fn in a child with uid (and gid, and groups[0..n)); its failures come back as exit. */
static void as(uid_t uid, gid_t gid, const gid_t *groups, size_t n, void (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		if (setgroups(n, groups) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			_exit(99);
		fn();
		_exit(utest_failures);
	}
	int st = -1;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int err_of(int r) { return r < 0 ? errno : 0; }

/* User A makes its files: owned by A, with the modes asked for (umask 0). */
static void a_makes(void)
{
	struct stat st;
	umask(0);
	CHECK(mkdir(DIR_A, 0700) == 0);
	int fd = open(DIR_A "/f", O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && write(fd, "a", 1) == 1);
	close(fd);
	CHECK(stat(DIR_A "/f", &st) == 0 && st.st_uid == A && st.st_gid == A);
	CHECK((st.st_mode & 07777) == 0600);
	fd = open("/tmp/perms-g", O_CREAT | O_WRONLY, 0640);
	CHECK(fd >= 0);
	close(fd);
	fd = open("/tmp/perms-x", O_CREAT | O_WRONLY, 0644); /* no execute bit for anyone */
	CHECK(fd >= 0);
	close(fd);
}

/* User B, not in group A: A's private directory, file and group file are closed to it; the
 * sticky /tmp keeps A's names from it; A's file's mode is A's to change. */
static void b_outsider(void)
{
	CHECK(err_of(open(DIR_A "/f", O_RDONLY)) == EACCES);	 /* no search in DIR_A */
	CHECK(err_of(open(DIR_A, O_RDONLY | O_DIRECTORY)) == EACCES);
	CHECK(err_of(open(DIR_A "/new", O_CREAT | O_WRONLY, 0600)) == EACCES);
	CHECK(err_of(open("/tmp/perms-g", O_RDONLY)) == EACCES); /* other bits: none */
	CHECK(err_of(access("/tmp/perms-g", R_OK)) == EACCES);
	CHECK(err_of(unlink("/tmp/perms-g")) == EPERM);		 /* sticky /tmp */
	CHECK(err_of(rename("/tmp/perms-g", "/tmp/perms-h")) == EPERM);
	CHECK(err_of(chmod("/tmp/perms-g", 0666)) == EPERM);	 /* not the owner */
	int fd = open("/tmp/perms-b", O_CREAT | O_WRONLY, 0600); /* its own: removable */
	CHECK(fd >= 0);
	close(fd);
	CHECK(unlink("/tmp/perms-b") == 0);
}

/* User B in group A: the group bits apply. */
static void b_in_group(void)
{
	CHECK(utest_can_open("/tmp/perms-g", O_RDONLY));
	CHECK(err_of(open("/tmp/perms-g", O_WRONLY)) == EACCES);
	CHECK(access("/tmp/perms-g", R_OK) == 0 && err_of(access("/tmp/perms-g", W_OK)) == EACCES);
}

/* User B against root's files. */
static void b_against_root(void)
{
	CHECK(err_of(open("/bin/hello", O_WRONLY)) == EACCES);
	CHECK(err_of(open("/etc/passwd", O_RDWR)) == EACCES);
	CHECK(utest_can_open("/etc/passwd", O_RDONLY));
	CHECK(err_of(unlink("/bin/hello")) == EACCES);
	CHECK(err_of(mkdir("/bin/perms-dir", 0755)) == EACCES);
	CHECK(err_of(chmod("/bin/hello", 0777)) == EPERM);
	CHECK(err_of(mount("none", "/tmp", "tmpfs", 0, NULL)) == EPERM);
	CHECK(err_of(chroot("/tmp")) == EPERM);
	CHECK(err_of(mknod("/tmp/perms-dev", S_IFCHR | 0666, makedev(1, 3))) == EPERM);
	struct stat st;
	CHECK(stat("/bin/hello", &st) == 0 && (st.st_mode & 07777) == 0755);
}

/* Root: every file opens for reading and writing, every directory is searched, but a file
 * with no execute bit does not run; access() with root's real ids says the same. */
static void root_overrides(void)
{
	CHECK(utest_can_open(DIR_A "/f", O_RDWR));
	CHECK(access(DIR_A "/f", R_OK | W_OK) == 0);
	CHECK(err_of(access("/tmp/perms-x", X_OK)) == EACCES);
	char *const argv[] = {"/tmp/perms-x", NULL};
	CHECK(err_of(execve("/tmp/perms-x", argv, argv + 1)) == EACCES);
}

/* User A and chown: it may give its file a group it is in, not another user nor a group it
 * is not in; lchown changes a link, not what it names. */
static void a_chowns(void)
{
	struct stat st;
	CHECK(err_of(chown("/tmp/perms-g", B, -1)) == EPERM);
	CHECK(err_of(chown("/tmp/perms-g", -1, B)) == EPERM);
	CHECK(chown("/tmp/perms-g", A, C) == 0); /* C is one of its groups */
	CHECK(stat("/tmp/perms-g", &st) == 0 && st.st_uid == A && st.st_gid == C);
	CHECK(chown("/tmp/perms-g", -1, A) == 0);
	CHECK(symlink("/tmp/perms-g", "/tmp/perms-l") == 0);
	CHECK(lchown("/tmp/perms-l", -1, C) == 0);
	CHECK(lstat("/tmp/perms-l", &st) == 0 && st.st_gid == C);
	CHECK(stat("/tmp/perms-l", &st) == 0 && st.st_gid == A);
	CHECK(err_of(fchownat(AT_FDCWD, "/tmp/perms-l", -1, -1, 0x8000)) == EINVAL);
	CHECK(unlink("/tmp/perms-l") == 0);
}

/* Root gives A's setuid file to B: B owns it, and the set-user-ID bit is gone. */
static void root_chowns(void)
{
	struct stat st;
	CHECK(chmod("/tmp/perms-x", 04755) == 0);
	int fd = open("/tmp/perms-x", O_RDONLY);
	CHECK(fd >= 0 && fchown(fd, B, B) == 0);
	close(fd);
	CHECK(stat("/tmp/perms-x", &st) == 0 && st.st_uid == B && st.st_gid == B);
	CHECK((st.st_mode & 07777) == 0755);
	CHECK(chmod("/tmp/perms-x", 0644) == 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const gid_t group_a[] = {A};
	as(A, A, NULL, 0, a_makes);
	as(B, B, NULL, 0, b_outsider);
	as(B, B, group_a, 1, b_in_group);
	as(B, B, NULL, 0, b_against_root);
	root_overrides();
	const gid_t groups_a[] = {A, C};
	as(A, A, groups_a, 2, a_chowns);
	root_chowns();
	CHECK(unlink(DIR_A "/f") == 0 && rmdir(DIR_A) == 0); /* root, in a sticky /tmp */
	CHECK(unlink("/tmp/perms-g") == 0 && unlink("/tmp/perms-x") == 0);
	DONE("perms");
}
