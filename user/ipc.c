/* SysV shared memory and semaphores with Linux 6.1's answers (ipc/shm.c, ipc/sem.c), the way
 * mce-test's tinjpage and page-poisoning use them and then some: keys, IPC_CREAT|IPC_EXCL,
 * IPC_STAT/IPC_SET/IPC_RMID (a removed segment lives until its last detach), SHM_RDONLY,
 * SHM_RND, fork sharing, permissions for another user; semaphores set and read, semop that
 * waits (woken by another process, ended by a signal with EINTR, by a timeout with EAGAIN, by
 * IPC_RMID with EIDRM), IPC_NOWAIT, SEM_UNDO at exit, and the errors. Runs unchanged on Linux
 * as root. */
#define _GNU_SOURCE
#include "utest.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PG 4096
#define KEY 0x4d43524b /* "MCRK" */

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int maps_has(const char *what)
{
	static char buf[65536];
	int n = utest_read_file("/proc/self/maps", buf, sizeof(buf));
	return n > 0 && strstr(buf, what) != NULL;
}

/* Run fn in a child as user 65534 (nobody); its exit status (0: all its checks held). */
static int as_nobody(int (*fn)(int), int id)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(setgid(65534) || setuid(65534) ? 99 : fn(id));
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int nobody_shm(int id)
{
	int bad = 0;
	bad += shmget(KEY, PG, 0600) != -1 || errno != EACCES;
	bad += shmat(id, NULL, 0) != (void *)-1 || errno != EACCES;
	bad += shmctl(id, IPC_RMID, NULL) != -1 || errno != EPERM;
	struct shmid_ds ds;
	bad += shmctl(id, IPC_STAT, &ds) != -1 || errno != EACCES;
	return bad;
}

static void test_shm_keys(void)
{
	int id = shmget(KEY, 3 * PG, IPC_CREAT | IPC_EXCL | 0600);
	CHECK(id >= 0);
	CHECK(shmget(KEY, PG, IPC_CREAT | IPC_EXCL | 0600) == -1 && errno == EEXIST);
	CHECK(shmget(KEY, PG, 0) == id && shmget(KEY, 0, IPC_CREAT) == id);
	CHECK(shmget(KEY, 4 * PG, 0) == -1 && errno == EINVAL); /* bigger than the segment */
	CHECK(shmget(KEY + 1, PG, 0) == -1 && errno == ENOENT);
	CHECK(shmget(IPC_PRIVATE, 0, IPC_CREAT) == -1 && errno == EINVAL);
	CHECK(shmat(id + 1, NULL, 0) == (void *)-1 && errno == EINVAL);
	CHECK(shmctl(-1, IPC_STAT, NULL) == -1 && errno == EINVAL);
	CHECK(as_nobody(nobody_shm, id) == 0);
	struct shmid_ds ds;
	CHECK(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_segsz == 3 * PG && ds.shm_nattch == 0);
	CHECK((ds.shm_perm.mode & 0777) == 0600 && ds.shm_cpid == getpid());
	CHECK(ds.shm_perm.__key == KEY && ds.shm_perm.uid == getuid());
	ds.shm_perm.mode = 0644;
	CHECK(shmctl(id, IPC_SET, &ds) == 0);
	CHECK(shmctl(id, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & 0777) == 0644);
	CHECK(shmctl(id, 1234, &ds) == -1 && errno == EINVAL);
	CHECK(shmctl(id, IPC_RMID, NULL) == 0 && shmget(KEY, PG, 0) == -1 && errno == ENOENT);
}

static void test_shm_attach(void)
{
	char before[4096], after[4096];
	read_meminfo(before, sizeof(before));
	int id = shmget(IPC_PRIVATE, 2 * PG + 100, IPC_CREAT | 0600);
	char *p = shmat(id, NULL, 0);
	CHECK(id >= 0 && p != (void *)-1);
	if (p == (void *)-1)
		return;
	strcpy(p + PG, "shared");
	CHECK(maps_has("/SYSV00000000 (deleted)"));
	pid_t pid = fork();
	if (pid == 0) { /* the child inherits the attachment and attaches again */
		char *q = shmat(id, NULL, SHM_RDONLY);
		int ok = q != (void *)-1 && !strcmp(q + PG, "shared") && p[PG] == 's';
		p[PG] = 'S';
		_exit(ok && q[PG] == 'S' ? 0 : 1);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(p[PG] == 'S');
	struct shmid_ds ds;
	CHECK(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_nattch == 1 && ds.shm_lpid == pid);
	/* SHM_RDONLY: a write is SIGSEGV */
	pid = fork();
	if (pid == 0) {
		char *q = shmat(id, NULL, SHM_RDONLY);
		q[0] = 1;
		_exit(0);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	/* where: SHM_RND rounds down, an unaligned address without it is EINVAL, and an attach
	 * over a mapping needs SHM_REMAP */
	char *hole = mmap(NULL, 8 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(hole != MAP_FAILED && munmap(hole, 8 * PG) == 0);
	CHECK(shmat(id, hole + 1, 0) == (void *)-1 && errno == EINVAL);
	char *r = shmat(id, hole + 5, SHM_RND);
	CHECK(r == hole && r[PG] == 'S');
	CHECK(shmat(id, hole, 0) == (void *)-1 && errno == EINVAL);
	CHECK(shmat(id, hole, SHM_REMAP) == hole);
	CHECK(shmdt(hole) == 0 && shmdt(hole) == -1 && errno == EINVAL);
	CHECK(shmdt(p + 1) == -1 && errno == EINVAL);
	CHECK(shmdt(before) == -1 && errno == EINVAL); /* not a segment */
	/* IPC_RMID: the key goes, the segment lives while attached, then goes */
	CHECK(shmctl(id, IPC_RMID, NULL) == 0);
	CHECK(shmctl(id, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & 01000) && ds.shm_nattch == 1);
	CHECK(p[PG] == 'S');
	CHECK(shmdt(p) == 0);
	CHECK(shmctl(id, IPC_STAT, &ds) == -1 && errno == EINVAL);
	read_meminfo(after, sizeof(after));
	CHECK(meminfo_value(after, "MemFree:") + 64 >= meminfo_value(before, "MemFree:"));
}

static int sem_add(int id, int num, int op, int flg)
{
	struct sembuf b = {(unsigned short)num, (short)op, (short)flg};
	return semop(id, &b, 1);
}

static int semval(int id, int num) { return semctl(id, num, GETVAL); }

static void on_usr1(int sig) { (void)sig; }

static int nobody_sem(int id)
{
	return (semctl(id, 0, GETVAL) != -1 || errno != EACCES) +
	       (sem_add(id, 0, 1, 0) != -1 || errno != EACCES) +
	       (semctl(id, 0, IPC_RMID) != -1 || errno != EPERM);
}

static void test_sem_values(void)
{
	int id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
	unsigned short all[3] = {1, 2, 3}, got[3];
	CHECK(id >= 0 && semval(id, 0) == 0);
	CHECK(semctl(id, 1, SETVAL, (union semun){.val = 5}) == 0 && semval(id, 1) == 5);
	CHECK(semctl(id, 1, SETVAL, (union semun){.val = 40000}) == -1 && errno == ERANGE);
	CHECK(semctl(id, 3, GETVAL) == -1 && errno == EINVAL);
	CHECK(semctl(id, 0, SETALL, (union semun){.array = all}) == 0);
	CHECK(semctl(id, 0, GETALL, (union semun){.array = got}) == 0 && got[2] == 3);
	CHECK(semctl(id, 0, GETPID) == getpid());
	struct sembuf two[2] = {{0, -1, 0}, {2, 4, 0}};
	CHECK(semop(id, two, 2) == 0 && semval(id, 0) == 0 && semval(id, 2) == 7);
	CHECK(sem_add(id, 0, -1, IPC_NOWAIT) == -1 && errno == EAGAIN);
	struct sembuf wait0[2] = {{1, 1, 0}, {0, -1, IPC_NOWAIT}}; /* all or nothing */
	CHECK(semop(id, wait0, 2) == -1 && errno == EAGAIN && semval(id, 1) == 2);
	CHECK(semop(id, two, 0) == -1 && errno == EINVAL);
	static struct sembuf many[501];
	CHECK(semop(id, many, 501) == -1 && errno == E2BIG);
	CHECK(sem_add(id, 3, 1, 0) == -1 && errno == EFBIG);
	CHECK(semop(id, (struct sembuf *)8, 1) == -1 && errno == EFAULT);
	CHECK(semget(IPC_PRIVATE, 0, IPC_CREAT) == -1 && errno == EINVAL);
	CHECK(semget(IPC_PRIVATE, 40000, IPC_CREAT) == -1 && errno == EINVAL);
	CHECK(as_nobody(nobody_sem, id) == 0);
	struct semid_ds ds;
	CHECK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}) == 0 && ds.sem_nsems == 3);
	CHECK(semctl(id, 0, 1234) == -1 && errno == EINVAL);
	CHECK(semctl(id, 0, IPC_RMID) == 0 && semval(id, 0) == -1 && errno == EINVAL);
	int k = semget(KEY, 2, IPC_CREAT | IPC_EXCL | 0600);
	CHECK(k >= 0 && semget(KEY, 3, 0) == -1 && errno == EINVAL && semget(KEY, 1, 0) == k);
	CHECK(semctl(k, 0, IPC_RMID) == 0);
}

/* A child that blocks on the semaphore; the parent wakes it (+1), signals it (EINTR), or
 * removes the set (EIDRM). */
static void test_sem_wait(void)
{
	int id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600), st;
	signal(SIGUSR1, on_usr1);
	pid_t pid = fork();
	if (pid == 0)
		_exit(sem_add(id, 0, -1, 0) == 0 ? 0 : 1);
	usleep(50000);
	CHECK(sem_add(id, 0, 1, 0) == 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(semval(id, 0) == 0);
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
		sigaction(SIGUSR1, &sa, NULL); /* semop is never restarted (signal(7)) */
		_exit(sem_add(id, 0, -1, 0) == -1 && errno == EINTR ? 0 : 1);
	}
	usleep(50000);
	kill(pid, SIGUSR1);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	struct timespec ts = {0, 20000000};
	struct sembuf dec = {0, -1, 0};
	CHECK(semtimedop(id, &dec, 1, &ts) == -1 && errno == EAGAIN);
	ts.tv_nsec = 2000000000;
	CHECK(semtimedop(id, &dec, 1, &ts) == -1 && errno == EINVAL);
	pid = fork();
	if (pid == 0)
		_exit(sem_add(id, 0, -1, 0) == -1 && errno == EIDRM ? 0 : 1);
	usleep(50000);
	CHECK(semctl(id, 0, IPC_RMID) == 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* SEM_UNDO: what a process changed with it is reversed when it exits. */
static void test_sem_undo(void)
{
	int id = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600), st;
	CHECK(semctl(id, 1, SETVAL, (union semun){.val = 3}) == 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(sem_add(id, 0, 2, SEM_UNDO) || sem_add(id, 1, -1, SEM_UNDO) ||
		      sem_add(id, 0, 1, 0));
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(semval(id, 0) == 1 && semval(id, 1) == 3);
	CHECK(semctl(id, 0, IPC_RMID) == 0);
}

int main(void)
{
	test_shm_keys();
	test_shm_attach();
	test_sem_values();
	test_sem_wait();
	test_sem_undo();
	DONE("ipc");
}
