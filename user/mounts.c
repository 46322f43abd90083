/* Mounts as Linux 6.1 gives them: the root's /tmp, /dev/shm, /run, /proc and /sys; mount -t
 * tmpfs with size=, nr_inodes= and mode= (and a bad option, type or target), ENOSPC when the
 * size or the inodes run out (and room again after an unlink), statfs's numbers, remount to
 * another size and read-only (EROFS), /proc/mounts and /proc/filesystems in Linux's format,
 * umount2 refusing a busy mount (a working directory, an open file, a mount on top) with
 * EBUSY, MNT_DETACH taking it away at once while an open file keeps working, and umount2's
 * own errors. On MCRK and on Linux as root (in a mount namespace of its own). */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define ERR(call, e) (errno = 0, (call) == -1 && errno == (e))
#define TMPFS_MAGIC 0x01021994

static char mnt[64], buf[4096];

static char *P(const char *name)
{
	static char p[2][128];
	static int i;
	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", mnt, name);
	return p[i];
}

/* Whether /proc/mounts has a line with these fields (NULL: any). */
static int mounts_has(const char *dev, const char *where, const char *type, const char *opts)
{
	FILE *f = fopen("/proc/mounts", "r");
	char d[256], w[256], t[64], o[256], line[600];
	int found = 0, a, b;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%255s %255s %63s %255s %d %d", d, w, t, o, &a, &b) == 6 &&
		    (!dev || !strcmp(d, dev)) && !strcmp(w, where) && !strcmp(t, type) &&
		    (!opts || !strcmp(o, opts)) && a == 0 && b == 0)
			found = 1;
	if (f)
		fclose(f);
	return found;
}

static void test_root_layout(void)
{
	struct stat st;
	struct statfs sf;
	CHECK(stat("/tmp", &st) == 0 && (st.st_mode & 07777) == 01777);
	CHECK(statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC);
	CHECK(stat("/dev/shm", &st) == 0 && (st.st_mode & 07777) == 01777);
	if (on_mcrk()) /* a Linux host's /run is whatever its init made */
		CHECK(statfs("/run", &sf) == 0 && sf.f_type == TMPFS_MAGIC);
	CHECK(statfs("/proc", &sf) == 0 && sf.f_type == 0x9fa0);
	CHECK(statfs("/sys", &sf) == 0 && sf.f_type == 0x62656572);
	CHECK(mounts_has(NULL, "/proc", "proc", NULL) &&
	      mounts_has(NULL, "/dev/shm", "tmpfs", NULL));
	/* /proc/self/mounts: the same text (glibc's and LTP's tools read that one). */
	char a[4096], b[4096];
	int fa = open("/proc/mounts", O_RDONLY), fb = open("/proc/self/mounts", O_RDONLY);
	ssize_t na = fa >= 0 ? read(fa, a, sizeof a) : -1, nb = fb >= 0 ? read(fb, b, sizeof b) : -1;
	CHECK(na > 0 && na == nb && !memcmp(a, b, (size_t)na));
	close(fa);
	close(fb);
	int fd = open("/proc/filesystems", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "nodev\ttmpfs\n") && strstr(buf, "nodev\tproc\n"));
	close(fd);
}

static void test_size_limits(void)
{
	struct statfs sf;
	struct stat st;
	CHECK(mount("demo", mnt, "tmpfs", 0, "size=64k,mode=0700,nr_inodes=8") == 0);
	CHECK(stat(mnt, &st) == 0 && (st.st_mode & 07777) == 0700);
	CHECK(statfs(mnt, &sf) == 0 && sf.f_type == TMPFS_MAGIC && sf.f_blocks == 16 &&
	      sf.f_bfree == 16 && sf.f_files == 8 && sf.f_ffree == 7);
	CHECK(mounts_has("demo", mnt, "tmpfs", "rw,relatime,size=64k,nr_inodes=8,mode=700"));
	/* 16 pages fit, the 17th does not; a write that runs out returns what it wrote */
	int fd = open(P("fill"), O_RDWR | O_CREAT, 0600);
	memset(buf, 1, sizeof(buf));
	for (int i = 0; i < 16; i++)
		CHECK(write(fd, buf, sizeof(buf)) == sizeof(buf));
	CHECK(ERR(write(fd, buf, sizeof(buf)), ENOSPC));
	CHECK(statfs(mnt, &sf) == 0 && sf.f_bfree == 0);
	CHECK(ftruncate(fd, 8 * 4096 + 100) == 0);
	CHECK(lseek(fd, 0, SEEK_END) == 8 * 4096 + 100);
	CHECK(write(fd, buf, sizeof(buf)) == sizeof(buf)); /* room again */
	CHECK(ERR(fallocate(fd, 0, 0, 1 << 20), ENOSPC));
	close(fd);
	/* inodes: the root and 7 more */
	for (int i = 0; i < 6; i++) {
		snprintf(buf, sizeof(buf), "%s/f%d", mnt, i);
		CHECK((fd = open(buf, O_CREAT | O_RDWR, 0600)) >= 0);
		close(fd);
	}
	CHECK(ERR(open(P("one-too-many"), O_CREAT | O_RDWR, 0600), ENOSPC));
	CHECK(ERR(mkdir(P("dir"), 0700), ENOSPC));
	CHECK(unlink(P("f0")) == 0 && mkdir(P("dir"), 0700) == 0);
	/* remount: a bigger size; read-only refuses writes */
	CHECK(mount(NULL, mnt, NULL, MS_REMOUNT, "size=128k") == 0);
	CHECK(statfs(mnt, &sf) == 0 && sf.f_blocks == 32);
	CHECK(ERR(mount(NULL, mnt, NULL, MS_REMOUNT, "size=4k"), EINVAL)); /* below what is used */
	CHECK(mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0);
	CHECK(ERR(open(P("ro"), O_CREAT | O_RDWR, 0600), EROFS));
	CHECK(ERR(open(P("fill"), O_WRONLY), EROFS));
	CHECK(ERR(unlink(P("fill")), EROFS));
	CHECK(ERR(mkdir(P("rodir"), 0700), EROFS));
	CHECK(open(P("fill"), O_RDONLY) >= 0);
	CHECK(statfs(mnt, &sf) == 0 && (sf.f_flags & ST_RDONLY));
	CHECK(mount(NULL, mnt, NULL, MS_REMOUNT, NULL) == 0);
	CHECK(umount2(mnt, 0) == 0 || errno == EBUSY); /* the read-only fd above is still open */
}

static void test_mount_errors(void)
{
	CHECK(ERR(mount("x", mnt, "nosuchfs", 0, NULL), ENODEV));
	CHECK(ERR(mount("x", "/tmp/no/such/dir", "tmpfs", 0, NULL), ENOENT));
	int fd = open("/tmp/mounts-file", O_CREAT | O_RDWR, 0600);
	close(fd);
	CHECK(ERR(mount("x", "/tmp/mounts-file", "tmpfs", 0, NULL), ENOTDIR));
	unlink("/tmp/mounts-file");
	CHECK(ERR(mount("x", mnt, "tmpfs", 0, "bogus=1"), EINVAL));
	CHECK(ERR(mount("x", mnt, "tmpfs", 0, "size=12q"), EINVAL));
	CHECK(ERR(mount("x", mnt, "tmpfs", 0, "mode=9"), EINVAL));
	CHECK(ERR(mount("x", (char *)-4096L, "tmpfs", 0, NULL), EFAULT));
	CHECK(ERR(umount2(mnt, 0x100), EINVAL));
	CHECK(ERR(umount2(mnt, 0), EINVAL)); /* a directory, not a mount */
	CHECK(ERR(umount2(mnt, MNT_EXPIRE | MNT_DETACH), EINVAL));
	CHECK(ERR(umount2("/no/such", 0), ENOENT));
}

static void test_umount_busy(void)
{
	char here[256];
	CHECK(getcwd(here, sizeof(here)) != NULL);
	CHECK(mount("busy", mnt, "tmpfs", 0, NULL) == 0);
	CHECK(chdir(mnt) == 0);
	CHECK(ERR(umount2(mnt, 0), EBUSY)); /* our working directory */
	CHECK(chdir(here) == 0);
	int fd = open(P("open"), O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0 && write(fd, "kept", 4) == 4);
	CHECK(ERR(umount2(mnt, 0), EBUSY)); /* an open file */
	CHECK(mkdir(P("sub"), 0700) == 0 && mount("top", P("sub"), "tmpfs", 0, NULL) == 0);
	close(fd);
	CHECK(ERR(umount2(mnt, 0), EBUSY)); /* a mount on top */
	CHECK(umount2(P("sub"), 0) == 0);
	fd = open(P("open"), O_RDWR);
	/* MNT_DETACH: gone from the tree at once; the open file still works */
	CHECK(umount2(mnt, MNT_DETACH) == 0);
	CHECK(!mounts_has("busy", mnt, "tmpfs", NULL));
	CHECK(ERR(access(P("open"), F_OK), ENOENT));
	char b[8];
	CHECK(pread(fd, b, 4, 0) == 4 && !memcmp(b, "kept", 4) && write(fd, "more", 4) == 4);
	close(fd);
	/* a mount covers what was there, and uncovers it when it goes */
	CHECK(mkdir(P("under"), 0700) == 0);
	CHECK(mount("cover", mnt, "tmpfs", 0, NULL) == 0);
	CHECK(ERR(access(P("under"), F_OK), ENOENT));
	CHECK(umount2(mnt, 0) == 0 && access(P("under"), F_OK) == 0);
	CHECK(rmdir(P("under")) == 0);
}

int main(void)
{
	snprintf(mnt, sizeof(mnt), "/tmp/mnt.%d", getpid());
	CHECK(mkdir(mnt, 0755) == 0);
	test_root_layout();
	test_size_limits();
	while (umount2(mnt, MNT_DETACH) == 0) /* whatever test_size_limits left */
		;
	test_mount_errors();
	test_umount_busy();
	CHECK(rmdir(mnt) == 0);
	DONE("mounts");
}
