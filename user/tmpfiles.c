/* The file patterns of the hwpoison test programs people already use (mce-test's tinjpage,
 * tsimpleinj, tsoftinj; ras-tools' einj_mem_uc), done the same way without poisoning
 * anything: mkstemp in the working directory and unlink at once, write a page, map it
 * shared, dirty it, msync and fsync; a sparse file made with ftruncate, mapped and written;
 * a private mapping of a file; a file in /tmp opened O_CREAT|O_TRUNC, reopened read-only and
 * mapped; stdio's tmpfile() with fflush and fsync. Each must work on a writable root as on
 * Linux, where these programs stop at "Read-only file system" on a read-only one. */
#define _GNU_SOURCE
#include "utest.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PS 4096

static int tempfd(void)
{
	static int count;
	char buf[32];
	snprintf(buf, sizeof(buf), "./test%d.XXXXXXXX", count++);
	int fd = mkstemp(buf);
	if (fd >= 0)
		CHECK(unlink(buf) == 0);
	return fd;
}

int main(void)
{
	char page[PS];
	/* "file dirty": a written page, mapped shared, dirtied, synced */
	int fd = tempfd();
	CHECK(fd >= 0);
	memset(page, 0xff, PS);
	CHECK(write(fd, page, PS) == PS);
	char *p = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	*p = 1;
	CHECK(msync(p, PS, MS_SYNC) == 0 && fsync(fd) == 0 && fdatasync(fd) == 0);
	CHECK(pread(fd, page, 1, 0) == 1 && page[0] == 1);
	munmap(p, PS);
	close(fd);
	/* "hole file dirty": ftruncate, no write */
	fd = tempfd();
	CHECK(fd >= 0 && ftruncate(fd, PS) == 0);
	p = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && p[100] == 0);
	*p = 1;
	CHECK(msync(p, PS, MS_SYNC) == 0 && fsync(fd) == 0);
	munmap(p, PS);
	close(fd);
	/* tinjpage's TMPDIR files: create, fill, reopen read-only, map */
	char fn[64];
	snprintf(fn, sizeof(fn), "/tmp/~test%d", getpid());
	fd = open(fn, O_RDWR | O_TRUNC | O_CREAT, 0664);
	CHECK(fd >= 0);
	for (int i = 0; i < 4; i++) {
		memset(page, i, PS);
		CHECK(write(fd, page, PS) == PS);
	}
	fsync(fd);
	close(fd);
	fd = open(fn, O_RDONLY);
	p = mmap(NULL, 4 * PS, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	CHECK(p != MAP_FAILED && p[3 * PS] == 3);
	char *q = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PS);
	CHECK(q != MAP_FAILED && q[0] == 1);
	*q = 9; /* a private copy: the file keeps its byte */
	CHECK(p[PS] == 1);
	munmap(p, 4 * PS);
	munmap(q, PS);
	close(fd);
	struct stat st;
	mode_t mask = umask(0);
	umask(mask);
	CHECK(stat(fn, &st) == 0 && st.st_size == 4 * PS && (st.st_mode & 0777) == (0664 & ~mask));
	CHECK(unlink(fn) == 0);
	/* stdio's tmpfile */
	FILE *t = tmpfile();
	CHECK(t != NULL);
	if (t) {
		CHECK(fwrite(page, 1, PS, t) == PS && fflush(t) == 0 && fsync(fileno(t)) == 0);
		rewind(t);
		CHECK(fgetc(t) == 3);
		fclose(t);
	}
	DONE("tmpfiles");
}
