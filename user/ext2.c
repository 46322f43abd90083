/* ext2 on /dev/vda (the image scripts/mkext2.py makes), mounted at /mnt. Modes (argv[1]):
 *   basic          read every file of the image (read and mmap), stat, readdir, statfs; then
 *                  create, write, overwrite, truncate, mkdir, rmdir, unlink, rename, link,
 *                  symlink, chmod, chown, a shared mapping written and msync'd; umount,
 *                  mount again and find it all; umount (the row runs e2fsck -fn after).
 *   persist-write  write files and fsync them, then umount: the row reboots and runs
 *   persist-check  which finds them all.
 *   flush          write a file and never sync it, wait past the flusher's 5 s, leave it
 *                  mounted: the row finds the file's bytes in the image (debugfs) and e2fsck
 *                  clean.
 *   ioerr          the disk (QEMU's blkdebug) fails reads of page 3 and writes of page 5
 *                  of pattern-100k: read, pread and a mapping's touch of page 3 give EIO and
 *                  SIGBUS, the other pages read; a write to page 5 is taken, and its fsync
 *                  says EIO once.
 *   bad            corrupt copies of the superblock, a group descriptor, an inode and a
 *                  directory block on /dev/vdb: each mount fails with EINVAL or EUCLEAN. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "utest.h"

#define MNT "/mnt"
#define EXT2_MAGIC 0xEF53

static uint32_t pat(uint64_t word)
{
	return (uint32_t)(word * 2654435761u);
}

/* Whether the file at path holds the pattern over its size (read, and through mmap). */
static int check_pattern(const char *path, uint64_t size)
{
	static uint32_t buf[4096];
	int fd = open(path, O_RDONLY), ok = fd >= 0;
	uint64_t off = 0;
	while (ok && off < size) {
		ssize_t n = read(fd, buf, sizeof(buf));
		ok = n > 0 && (n % 4 == 0 || off + (uint64_t)n >= size);
		for (ssize_t i = 0; ok && i < n / 4; i++)
			ok = buf[i] == pat(off / 4 + (uint64_t)i);
		off += ok ? (uint64_t)n : 0;
	}
	uint32_t *m = ok ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	for (uint64_t i = 0; m != MAP_FAILED && ok && i < size / 4; i += 997)
		ok = m[i] == pat(i);
	if (m != MAP_FAILED)
		munmap(m, size);
	if (fd >= 0)
		close(fd);
	return ok && m != MAP_FAILED;
}

static int write_pattern(const char *path, uint64_t size, int flags)
{
	static uint32_t buf[4096];
	int fd = open(path, O_WRONLY | O_CREAT | flags, 0644), ok = fd >= 0;
	for (uint64_t off = 0; ok && off < size; off += sizeof(buf)) {
		for (unsigned i = 0; i < 4096; i++)
			buf[i] = pat(off / 4 + i);
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		ok = write(fd, buf, n) == (ssize_t)n;
	}
	ok = ok && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static int file_is(const char *path, const char *text)
{
	char buf[256] = {0};
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) && memcmp(buf, text, (size_t)n) == 0;
}

static void put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

/* Names in directory path (without . and ..). */
static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return d ? n : -1;
}

static void check_image(void)
{
	struct stat st;
	struct statfs sf;
	char link[256] = {0};
	CHECK(statfs(MNT, &sf) == 0 && sf.f_type == EXT2_MAGIC && sf.f_bsize == 4096);
	char fs[512] = {0};
	int pf = open("/proc/filesystems", O_RDONLY);
	CHECK(pf >= 0 && read(pf, fs, sizeof(fs) - 1) > 0 && strstr(fs, "\n\text2\n"));
	close(pf);
	CHECK(file_is(MNT "/hello.txt", "hello, ext2\n"));
	CHECK(stat(MNT "/hello.txt", &st) == 0 && st.st_nlink == 2 && st.st_size == 12);
	struct stat st2;
	CHECK(stat(MNT "/hard-link", &st2) == 0 && st2.st_ino == st.st_ino);
	CHECK(check_pattern(MNT "/pattern-100k", 100 * 1024));
	CHECK(check_pattern(MNT "/pattern-5m", 5 << 20));
	CHECK(readlink(MNT "/short-link", link, sizeof(link)) == 9 && !strcmp(link, "hello.txt"));
	CHECK(readlink(MNT "/long-link", link, sizeof(link)) == 109);
	CHECK(file_is(MNT "/long-link", "leaf\n"));
	CHECK(file_is(MNT "/sub/deeper/leaf.txt", "leaf\n"));
	CHECK(stat(MNT "/owned.txt", &st) == 0 && st.st_uid == 1000 && (st.st_mode & 07777) == 0600);
	CHECK(stat(MNT "/sub", &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 3);
	CHECK(count_entries(MNT "/empty") == 0);
	CHECK(count_entries(MNT "/sub") == 1);
}

static void change_image(void)
{
	CHECK(write_pattern(MNT "/new-6m", 6 << 20, O_TRUNC)); /* double indirect, new blocks */
	CHECK(mkdir(MNT "/newdir", 0750) == 0);
	for (int i = 0; i < 300; i++) { /* a directory of more than one block */
		char name[64];
		snprintf(name, sizeof(name), MNT "/newdir/file-with-a-long-name-%04d", i);
		put_file(name, name);
	}
	for (int i = 0; i < 300; i += 2) {
		char name[64];
		snprintf(name, sizeof(name), MNT "/newdir/file-with-a-long-name-%04d", i);
		CHECK(unlink(name) == 0);
	}
	CHECK(rename(MNT "/hello.txt", MNT "/sub/hello-moved.txt") == 0);
	CHECK(link(MNT "/sub/hello-moved.txt", MNT "/newdir/third-name") == 0);
	CHECK(symlink("../pattern-100k", MNT "/sub/to-pattern") == 0);
	CHECK(rmdir(MNT "/empty") == 0);
	CHECK(unlink(MNT "/pattern-5m") == 0); /* its blocks go back */
	CHECK(truncate(MNT "/pattern-100k", 50000) == 0);
	CHECK(truncate(MNT "/pattern-100k", 70000) == 0); /* the gap reads zeros */
	CHECK(chmod(MNT "/owned.txt", 0640) == 0 && chown(MNT "/owned.txt", 7, 8) == 0);
	int fd = open(MNT "/mapped", O_RDWR | O_CREAT, 0644);
	CHECK(fd >= 0 && ftruncate(fd, 3 * 4096) == 0);
	char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	if (m != MAP_FAILED) {
		memset(m + 4096, 'm', 4096);
		CHECK(msync(m, 3 * 4096, MS_SYNC) == 0);
		m[2 * 4096] = 'x'; /* written again after write-back: dirty again */
		munmap(m, 3 * 4096);
	}
	close(fd);
	sync();
}

static void check_changes(void)
{
	struct stat st;
	char buf[4096];
	CHECK(check_pattern(MNT "/new-6m", 6 << 20));
	CHECK(count_entries(MNT "/newdir") == 151);
	CHECK(file_is(MNT "/newdir/file-with-a-long-name-0001", MNT "/newdir/file-with-a-long-name-0001"));
	CHECK(access(MNT "/newdir/file-with-a-long-name-0002", F_OK) == -1 && errno == ENOENT);
	CHECK(stat(MNT "/newdir", &st) == 0 && (st.st_mode & 0777) == 0750);
	CHECK(file_is(MNT "/sub/hello-moved.txt", "hello, ext2\n"));
	CHECK(stat(MNT "/newdir/third-name", &st) == 0 && st.st_nlink == 3);
	char link[64] = {0};
	CHECK(readlink(MNT "/sub/to-pattern", link, sizeof(link)) == 15 &&
	      !strcmp(link, "../pattern-100k"));
	CHECK(access(MNT "/empty", F_OK) == -1 && access(MNT "/pattern-5m", F_OK) == -1);
	CHECK(stat(MNT "/pattern-100k", &st) == 0 && st.st_size == 70000);
	int fd = open(MNT "/pattern-100k", O_RDONLY);
	CHECK(pread(fd, buf, 4, 49996) == 4 && *(uint32_t *)buf == pat(49996 / 4));
	CHECK(pread(fd, buf, 4096, 50000) == 4096 && buf[0] == 0 && buf[4095] == 0);
	close(fd);
	CHECK(stat(MNT "/owned.txt", &st) == 0 && st.st_uid == 7 && st.st_gid == 8 &&
	      (st.st_mode & 07777) == 0640);
	fd = open(MNT "/mapped", O_RDONLY);
	CHECK(pread(fd, buf, 4096, 4096) == 4096 && buf[0] == 'm' && buf[4095] == 'm');
	CHECK(pread(fd, buf, 1, 2 * 4096) == 1 && buf[0] == 'x');
	CHECK(pread(fd, buf, 1, 0) == 1 && buf[0] == 0);
	close(fd);
}

static sigjmp_buf jb;
static volatile int bus_code;
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	bus_code = si->si_code;
	siglongjmp(jb, 1);
}

static void do_mount(void);

static void io_errors(void)
{
	char buf[4096];
	struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER};
	sigaction(SIGBUS, &sa, NULL);
	do_mount();
	int fd = open(MNT "/pattern-100k", O_RDWR);
	CHECK(fd >= 0);
	errno = 0;
	CHECK(pread(fd, buf, 100, 3 * 4096 + 8) == -1 && errno == EIO);
	static char two[8192];
	CHECK(pread(fd, two, sizeof(two), 2 * 4096) == 4096); /* stops before the bad page */
	CHECK(pread(fd, buf, 4, 4 * 4096) == 4 && *(uint32_t *)buf == pat(4 * 1024));
	char *m = mmap(NULL, 8 * 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	bus_code = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile char *)(m + 3 * 4096);
	CHECK(bus_code == BUS_ADRERR);
	CHECK(*(uint32_t *)(m + 6 * 4096) == pat(6 * 1024));
	munmap(m, 8 * 4096);
	memset(buf, 'w', sizeof(buf));
	CHECK(pwrite(fd, buf, sizeof(buf), 5 * 4096) == sizeof(buf)); /* in the cache */
	errno = 0;
	CHECK(fsync(fd) == -1 && errno == EIO);
	CHECK(fsync(fd) == 0);
	close(fd);
	CHECK(umount(MNT) == 0);
}

static void do_mount(void)
{
	mkdir(MNT, 0755);
	CHECK(mount("/dev/vda", MNT, "ext2", 0, NULL) == 0);
}

static void persist_write(void)
{
	do_mount();
	CHECK(mkdir(MNT "/kept", 0755) == 0);
	for (int i = 0; i < 20; i++) {
		char name[64];
		snprintf(name, sizeof(name), MNT "/kept/f%d", i);
		CHECK(write_pattern(name, (uint64_t)(i + 1) * 12345, 0)); /* fsync'd */
	}
	CHECK(umount(MNT) == 0);
}

static void persist_check(void)
{
	do_mount();
	for (int i = 0; i < 20; i++) {
		char name[64];
		struct stat st;
		snprintf(name, sizeof(name), MNT "/kept/f%d", i);
		CHECK(stat(name, &st) == 0 && st.st_size == (i + 1) * 12345);
		CHECK(check_pattern(name, (uint64_t)(i + 1) * 12345 / 4 * 4));
	}
	CHECK(umount(MNT) == 0);
}

/* Copy byte range [off, off+n) of /dev/vda over /dev/vdb after changing it with fn. */
static int pread_dev(const char *dev, void *buf, size_t n, off_t off)
{
	int fd = open(dev, O_RDONLY);
	int ok = fd >= 0 && pread(fd, buf, n, off) == (ssize_t)n;
	close(fd);
	return ok;
}

/* Restore /dev/vdb from /dev/vda's first 1 MiB, change one little-endian 32-bit or 16-bit
 * field at off, and try to mount it: the errno. */
static int mount_with(off_t off, uint32_t value, int width)
{
	static char buf[1 << 20];
	CHECK(pread_dev("/dev/vda", buf, sizeof(buf), 0));
	memcpy(buf + off, &value, (size_t)width);
	int fd = open("/dev/vdb", O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, buf, sizeof(buf), 0) == sizeof(buf));
	close(fd);
	mkdir("/mnt2", 0755);
	errno = 0;
	if (mount("/dev/vdb", "/mnt2", "ext2", 0, NULL) == 0) {
		umount("/mnt2");
		return 0;
	}
	return errno;
}

static void bad_images(void)
{
	uint32_t gd[8], ino2[32], rootdir;
	CHECK(mount_with(0, 0, 1) == 0); /* an untouched copy mounts */
	CHECK(mount_with(1024 + 56, 0x1234, 2) == EINVAL);	  /* s_magic */
	CHECK(mount_with(1024 + 24, 0, 4) == EINVAL);	  /* s_log_block_size: 1 KiB */
	CHECK(mount_with(1024 + 32, 0, 4) == EUCLEAN);	  /* s_blocks_per_group 0 */
	CHECK(mount_with(1024 + 40, 7, 4) == EUCLEAN);	  /* s_inodes_per_group */
	CHECK(mount_with(1024 + 4, 0x7fffffff, 4) == EINVAL); /* larger than the disk */
	CHECK(mount_with(1024 + 96, 0x40, 4) == EINVAL);	  /* incompat: extents */
	CHECK(mount_with(4096 + 8, 9999999, 4) == EUCLEAN);	  /* bg_inode_table */
	CHECK(pread_dev("/dev/vda", gd, sizeof(gd), 4096));
	/* inode 2 (the root), 256 bytes into the table: its mode, then its first block. */
	off_t root = (off_t)gd[2] * 4096 + 256;
	CHECK(mount_with(root, 0170777, 2) == EUCLEAN);	     /* no such type */
	CHECK(mount_with(root + 40, 99999999, 4) == EUCLEAN); /* block pointer outside */
	CHECK(pread_dev("/dev/vda", ino2, sizeof(ino2), root));
	rootdir = ino2[10];
	CHECK(mount_with((off_t)rootdir * 4096 + 4, 5, 2) == EUCLEAN);	/* rec_len of "." */
	CHECK(mount_with((off_t)rootdir * 4096 + 12 + 4, 4096, 2) == EUCLEAN); /* past the block */
	CHECK(mount_with((off_t)rootdir * 4096 + 12, 100000, 4) == EUCLEAN);   /* inode number */
	CHECK(mount("/dev/null", "/mnt2", "ext2", 0, NULL) == -1 && errno == ENOTBLK);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "basic";
	if (!strcmp(mode, "basic")) {
		do_mount();
		check_image();
		change_image();
		CHECK(umount(MNT) == 0);
		do_mount();
		check_changes();
		CHECK(umount(MNT) == 0);
	} else if (!strcmp(mode, "persist-write")) {
		persist_write();
	} else if (!strcmp(mode, "persist-check")) {
		persist_check();
	} else if (!strcmp(mode, "flush")) {
		do_mount();
		put_file(MNT "/flushed.txt", "written, never synced\n");
		CHECK(mkdir(MNT "/flushed-dir", 0700) == 0);
		sleep(7);
	} else if (!strcmp(mode, "ioerr")) {
		io_errors();
	} else if (!strcmp(mode, "bad")) {
		bad_images();
	} else {
		printf("ext2: unknown mode %s\n", mode);
		return 2;
	}
	DONE("ext2");
}
