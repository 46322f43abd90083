/* The file syscalls as Linux defines them: open/read/lseek/close/dup2/getdents64 on the
 * program's own file and directory (argv[0], so the same binary works from /bin on MCRK and
 * from build/user on Linux), fcntl and close-on-exec across execve, /proc/self/maps through
 * musl's stdio, and the error codes
 * ENOENT, ENOTDIR, EISDIR, EBADF, EINVAL, and ETXTBSY for a write-open of a running program. */
#define _GNU_SOURCE
#include "utest.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static char self[256], dir[256];

/* Every entry of directory path, read with getdents64 in chunks of bufsz bytes, as
 * "name/type;" joined into out. Returns the entry count or -errno. */
static int list_dir(const char *path, size_t bufsz, char *out, size_t outsz)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_DIRECTORY), n = 0;
	if (fd < 0)
		return -errno;
	out[0] = 0;
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, bufsz);
		if (got < 0) {
			close(fd);
			return -errno;
		}
		if (got == 0)
			break;
		for (long off = 0; off < got;) {
			struct linux_dirent64 *d = (void *)(buf + off);
			char one[300];
			snprintf(one, sizeof(one), "%s/%d;", d->d_name, d->d_type);
			strncat(out, one, outsz - strlen(out) - 1);
			n++;
			off += d->d_reclen;
		}
	}
	close(fd);
	return n;
}

/* Whether listing has an entry "name/" (of type type, when type >= 0), exactly once. */
static int has_entry(const char *listing, const char *name, int type)
{
	char key[300];
	int count = 0;
	snprintf(key, sizeof(key), ";%s/", name);
	static char padded[16384 + 2];
	snprintf(padded, sizeof(padded), ";%s", listing);
	for (const char *p = padded; (p = strstr(p, key)); p++) {
		count++;
		if (type >= 0 && atoi(p + strlen(key)) != type)
			return 0;
	}
	return count == 1;
}

static void test_read_lseek(void)
{
	char b[8];
	int fd = open(self, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(read(fd, b, 4) == 4 && memcmp(b, "\177ELF", 4) == 0);
	off_t size = lseek(fd, 0, SEEK_END);
	CHECK(size > 4096);
	CHECK(read(fd, b, 1) == 0); /* at the end */
	CHECK(lseek(fd, 1, SEEK_SET) == 1);
	CHECK(read(fd, b, 3) == 3 && memcmp(b, "ELF", 3) == 0);
	CHECK(lseek(fd, -2, SEEK_CUR) == 2);
	CHECK(read(fd, b, 2) == 2 && memcmp(b, "LF", 2) == 0);
	errno = 0;
	CHECK(lseek(fd, -100, SEEK_SET) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(lseek(fd, 0, 99) == -1 && errno == EINVAL);
	CHECK(lseek(fd, size + 100, SEEK_SET) == size + 100); /* past the end is allowed */
	CHECK(read(fd, b, 1) == 0);
	CHECK(close(fd) == 0);
	errno = 0;
	CHECK(close(fd) == -1 && errno == EBADF);
	errno = 0;
	CHECK(read(fd, b, 1) == -1 && errno == EBADF);
	errno = 0;
	CHECK(lseek(fd, 0, SEEK_SET) == -1 && errno == EBADF);
	errno = 0;
	CHECK(read(-1, b, 1) == -1 && errno == EBADF);
	errno = 0;
	CHECK(read(100000, b, 1) == -1 && errno == EBADF);
}

static void test_open_errors(void)
{
	char path[300];
	errno = 0;
	CHECK(open("/no/such/file", O_RDONLY) == -1 && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/no-such-program", dir);
	errno = 0;
	CHECK(open(path, O_RDONLY) == -1 && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/x", self);
	errno = 0;
	CHECK(open(path, O_RDONLY) == -1 && errno == ENOTDIR); /* a file used as a directory */
	errno = 0;
	CHECK(open(self, O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR);
	errno = 0;
	CHECK(open(dir, O_WRONLY) == -1 && errno == EISDIR);
	errno = 0;
	CHECK(open(dir, O_RDWR) == -1 && errno == EISDIR);
	/* Writing a running program's file is refused while it runs (ETXTBSY), on both. */
	errno = 0;
	CHECK(open(self, O_WRONLY) == -1 && errno == ETXTBSY);
	errno = 0;
	CHECK(open(self, O_RDWR) == -1 && errno == ETXTBSY);
	if (on_mcrk()) {
		errno = 0;
		CHECK(open("/init", O_WRONLY) == -1 && errno == ETXTBSY);
	}
	int d = open(dir, O_RDONLY);
	CHECK(d >= 0);
	char b[4];
	errno = 0;
	CHECK(read(d, b, sizeof(b)) == -1 && errno == EISDIR);
	close(d);
	/* Trailing and doubled slashes name the same directory. */
	snprintf(path, sizeof(path), "%s//", dir);
	d = open(path, O_RDONLY | O_DIRECTORY);
	CHECK(d >= 0);
	close(d);
}

static void test_dup2(void)
{
	char a[2], b[2];
	int fd = open(self, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(dup2(fd, 10) == 10);
	CHECK(read(fd, a, 2) == 2 && memcmp(a, "\177E", 2) == 0);
	CHECK(read(10, b, 2) == 2 && memcmp(b, "LF", 2) == 0); /* the offset is shared */
	CHECK(dup2(fd, fd) == fd);
	CHECK(close(fd) == 0);
	CHECK(lseek(10, 0, SEEK_SET) == 0); /* still open through the copy */
	CHECK(read(10, a, 2) == 2 && memcmp(a, "\177E", 2) == 0);
	int other = open(self, O_RDONLY);
	CHECK(dup2(other, 10) == 10); /* replaces (closes) the old fd 10 */
	CHECK(lseek(10, 0, SEEK_CUR) == 0);
	close(other);
	close(10);
	errno = 0;
	CHECK(dup2(10, 11) == -1 && errno == EBADF);
	errno = 0;
	CHECK(dup2(0, -1) == -1 && errno == EBADF);
}

static void test_getdents(void)
{
	static char big[16384], small[16384];
	const char *me = strrchr(self, '/') + 1;
	int n = list_dir(dir, 4096, big, sizeof(big));
	CHECK(n >= 3);
	CHECK(has_entry(big, me, DT_REG));
	CHECK(has_entry(big, "hello", DT_REG));
	CHECK(has_entry(big, "segv", DT_REG));
	CHECK(has_entry(big, ".", DT_DIR) && has_entry(big, "..", DT_DIR));
	/* A buffer that holds one entry at a time gives the same listing. */
	CHECK(list_dir(dir, 64, small, sizeof(small)) == n);
	CHECK(strcmp(big, small) == 0);
	/* Too small for any entry: EINVAL. */
	CHECK(list_dir(dir, 8, small, sizeof(small)) == -EINVAL);
	n = list_dir("/", 4096, big, sizeof(big));
	CHECK(n > 0);
	CHECK(has_entry(big, "proc", DT_DIR));
	if (on_mcrk()) { /* Debian's /bin may be a symbolic link */
		CHECK(has_entry(big, "bin", DT_DIR));
		CHECK(has_entry(big, "init", DT_REG));
	}
	int fd = open(self, O_RDONLY);
	errno = 0;
	CHECK(syscall(SYS_getdents64, fd, big, 4096) == -1 && errno == ENOTDIR);
	close(fd);
	errno = 0;
	CHECK(syscall(SYS_getdents64, 99, big, 4096) == -1 && errno == EBADF);
	/* musl's opendir/readdir on top of it. */
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	int seen = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		seen += strcmp(e->d_name, me) == 0;
	CHECK(seen == 1);
	if (d)
		closedir(d);
}

/* FD_CLOEXEC: set by O_CLOEXEC or F_SETFD, cleared by dup2, honoured by execve (we run
 * ourselves again with "--after-exec" to look at what survived). */
#define KEPT_FD 21
#define CLOSED_FD 20

static void test_fcntl_cloexec(void)
{
	int fd = open(self, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
	CHECK(fcntl(fd, F_SETFD, 0) == 0 && fcntl(fd, F_GETFD) == 0);
	int low = dup(fd);
	CHECK(low > fd || low < fd); /* some other descriptor, the lowest free one */
	CHECK(fcntl(fd, F_DUPFD, 25) >= 25);
	int c = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	CHECK(c >= 0 && fcntl(c, F_GETFD) == FD_CLOEXEC);
	errno = 0;
	CHECK(fcntl(99, F_GETFD) == -1 && errno == EBADF);
	CHECK(dup2(fd, CLOSED_FD) == CLOSED_FD && fcntl(CLOSED_FD, F_SETFD, FD_CLOEXEC) == 0);
	CHECK(dup2(fd, KEPT_FD) == KEPT_FD && fcntl(KEPT_FD, F_GETFD) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {self, "--after-exec", NULL};
		execv(self, argv);
		_exit(127);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (int i = 3; i < 32; i++)
		close(i);
}

/* In the exec'd copy: the close-on-exec descriptor is gone, the other one is still open. */
static int after_exec(void)
{
	errno = 0;
	int closed = fcntl(CLOSED_FD, F_GETFD) == -1 && errno == EBADF;
	char b[4];
	int kept = lseek(KEPT_FD, 0, SEEK_SET) == 0 && read(KEPT_FD, b, 4) == 4;
	return closed && kept ? 0 : 1;
}

/* /proc/self/maps through stdio: our code, data and stack each lie in a line with the right
 * permissions. */
static int static_var = 1;

static void test_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	if (!f)
		return;
	char line[512], perms[8];
	int stack_var = 2, code = 0, data = 0, stack = 0, lines = 0;
	unsigned long lo, hi, off;
	while (fgets(line, sizeof(line), f)) {
		lines++;
		if (sscanf(line, "%lx-%lx %7s %lx", &lo, &hi, perms, &off) != 4) {
			printf("bad maps line: %s", line);
			CHECK(0);
			continue;
		}
		uintptr_t c = (uintptr_t)&test_maps, dv = (uintptr_t)&static_var,
			  s = (uintptr_t)&stack_var;
		code |= c >= lo && c < hi && !strcmp(perms, "r-xp");
		data |= dv >= lo && dv < hi && !strcmp(perms, "rw-p");
		stack |= s >= lo && s < hi && !strcmp(perms, "rw-p") && strstr(line, "[stack]");
	}
	fclose(f);
	CHECK(lines >= 3);
	CHECK(code && data && stack);
	(void)static_var;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--after-exec"))
		return after_exec();
	/* init passes an absolute path; from a shell on Linux, resolve it. */
	if (argv[0][0] == '/' || !realpath(argv[0], self))
		snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(dir, sizeof(dir), "%s", self);
	*strrchr(dir, '/') = 0;
	if (!dir[0])
		strcpy(dir, "/");
	test_read_lseek();
	test_open_errors();
	test_dup2();
	test_getdents();
	test_fcntl_cloexec();
	test_maps();
	DONE("vfs");
}
