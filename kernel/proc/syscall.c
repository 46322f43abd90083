/* The syscall table: Linux x86-64 numbers, arguments in rdi, rsi, rdx, r10, r8, r9, the
 * result (or -errno) in rax. Unknown numbers return -ENOSYS and are counted per number
 * (the first call of each is logged). The table is the list of what MCRK implements. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "entry.h"
#include "kerrno.h"
#include "kstring.h"
#include "memory_failure.h"
#include "printk.h"
#include "proc.h"
#include "sig.h"
#include "task.h"
#include "vfs.h"
#include "vm.h"

#define A0 r->rdi
#define A1 r->rsi
#define A2 r->rdx
#define A3 r->r10
#define A4 r->r8
#define A5 r->r9
#define NR_MAX 512
#define AT_FDCWD (-100)
#define TIOCGWINSZ 0x5413
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define PR_SET_NAME 15
#define PR_GET_NAME 16
#define PR_MCE_KILL 33
#define PR_MCE_KILL_GET 34
#define PR_MCE_KILL_CLEAR 0
#define PR_MCE_KILL_SET 1
#define PR_MCE_KILL_LATE 0
#define PR_MCE_KILL_EARLY 1
#define PR_MCE_KILL_DEFAULT 2
#define CLONE_SIGCHLD 17
#define IOV_MAX 1024

typedef long (*sys_fn)(struct user_regs *r);

static uint64_t unknown_count[NR_MAX + 1];

void syscall_count_unknown(uint64_t nr)
{
	uint64_t *c = &unknown_count[nr < NR_MAX ? nr : NR_MAX];
	if (__atomic_fetch_add(c, 1, __ATOMIC_RELAXED) == 0)
		printk(KERN_INFO "syscall %lu (by %s) is not implemented: -ENOSYS\n", nr,
		       current_task()->name);
}

static struct mm *mm(void) { return current_task()->mm; }

static long sys_read(struct user_regs *r) { return vfs_read((int)A0, (void *)A1, A2); }
static long sys_write(struct user_regs *r) { return vfs_write((int)A0, (const void *)A1, A2); }
/* pread64: read at an offset without moving the file position. */
static long sys_pread64(struct user_regs *r)
{
	long old = vfs_lseek((int)A0, 0, 1);
	if (old < 0)
		return old;
	long err = vfs_lseek((int)A0, (int64_t)A3, 0);
	if (err < 0)
		return err;
	long n = vfs_read((int)A0, (void *)A1, A2);
	vfs_lseek((int)A0, old, 0);
	return n;
}

static long sys_close(struct user_regs *r) { return vfs_close((int)A0); }
static long sys_lseek(struct user_regs *r) { return vfs_lseek((int)A0, (int64_t)A1, (int)A2); }
static long sys_getdents64(struct user_regs *r) { return vfs_getdents64((int)A0, (void *)A1, A2); }
static long sys_dup2(struct user_regs *r) { return vfs_dup2((int)A0, (int)A1); }
static long sys_dup(struct user_regs *r) { return vfs_fcntl((int)A0, 0 /* F_DUPFD */, 0); }
static long sys_fcntl(struct user_regs *r) { return vfs_fcntl((int)A0, (int)A1, A2); }

static long open_at(int dirfd, const char *upath, int flags)
{
	char path[256];
	long n = arch_strncpy_from_user(path, upath, sizeof(path));
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT; /* "" names nothing, as on Linux */
	if (path[0] != '/' && dirfd != AT_FDCWD)
		return -EBADF; /* only absolute paths or the (root) working directory */
	if (path[0] != '/') {
		memmove(path + 1, path, MIN((size_t)n + 1, sizeof(path) - 1));
		path[0] = '/';
		path[sizeof(path) - 1] = 0;
	}
	return vfs_open(path, flags);
}

static long sys_open(struct user_regs *r) { return open_at(AT_FDCWD, (const char *)A0, (int)A1); }
static long sys_openat(struct user_regs *r) { return open_at((int)A0, (const char *)A1, (int)A2); }

/* readv/writev: one vfs_read/vfs_write per iovec entry, stopping at a short transfer; an
 * error after some bytes moved returns the bytes (as Linux does). musl's stdio uses both. */
static long rw_vec(struct user_regs *r, bool write)
{
	struct {
		uint64_t base, len;
	} iov;
	long total = 0;
	if ((int64_t)A2 < 0 || A2 > IOV_MAX)
		return -EINVAL;
	for (uint64_t i = 0; i < A2; i++) {
		if (arch_copy_from_user(&iov, (const char *)A1 + i * sizeof(iov), sizeof(iov)))
			return total ? total : -EFAULT;
		long n = !iov.len ? 0
			 : write  ? vfs_write((int)A0, (const void *)iov.base, iov.len)
				  : vfs_read((int)A0, (void *)iov.base, iov.len);
		if (n < 0)
			return total ? total : n;
		total += n;
		if ((uint64_t)n < iov.len)
			break;
	}
	return total;
}

static long sys_writev(struct user_regs *r) { return rw_vec(r, true); }
static long sys_readv(struct user_regs *r) { return rw_vec(r, false); }

static long sys_ioctl(struct user_regs *r)
{
	(void)r;
	return -ENOTTY; /* the console is not a terminal MCRK emulates (TIOCGWINSZ included) */
}

static long sys_mmap(struct user_regs *r)
{
	struct vm_file file;
	bool anon = A3 & MAP_ANONYMOUS;
	if (!anon && vfs_file_backing((int)A4, &file))
		return -EBADF;
	return vm_mmap(mm(), A0, A1, (unsigned)A2, (unsigned)A3, anon ? NULL : &file, A5);
}

static long sys_mprotect(struct user_regs *r) { return vm_mprotect(mm(), A0, A1, (unsigned)A2); }
static long sys_munmap(struct user_regs *r) { return vm_munmap(mm(), A0, A1); }
static long sys_brk(struct user_regs *r) { return (long)vm_brk(mm(), A0); }

static long sys_madvise(struct user_regs *r)
{
	switch (A2) {
	case 0: /* MADV_NORMAL */
	case 1: /* MADV_RANDOM */
	case 2: /* MADV_SEQUENTIAL */
	case 3: /* MADV_WILLNEED */
		return (A0 & (PAGE_SIZE - 1)) ? -EINVAL : 0;
	case 4: /* MADV_DONTNEED */
		return vm_madvise_dontneed(mm(), A0, A1);
	default:
		return mf_madvise(mm(), A0, A1, (int)A2);
	}
}

static long sys_rt_sigaction_(struct user_regs *r)
{
	return sys_rt_sigaction((int)A0, (const void *)A1, (void *)A2, A3);
}
static long sys_rt_sigprocmask_(struct user_regs *r)
{
	return sys_rt_sigprocmask((int)A0, (const uint64_t *)A1, (uint64_t *)A2, A3);
}
static long sys_rt_sigreturn_(struct user_regs *r) { return sys_rt_sigreturn(r); }
static long sys_rt_sigpending_(struct user_regs *r) { return sys_rt_sigpending((uint64_t *)A0, A1); }
static long sys_sigaltstack_(struct user_regs *r)
{
	return sys_sigaltstack((const void *)A0, (void *)A1, r->rsp);
}
static long sys_kill_(struct user_regs *r) { return sys_kill((int)A0, (int)A1); }
static long sys_tgkill_(struct user_regs *r) { return sys_tgkill((int)A0, (int)A1, (int)A2); }
static long sys_tkill(struct user_regs *r) { return sys_tgkill((int)A0, (int)A0, (int)A1); }
static long sys_rt_sigqueueinfo_(struct user_regs *r)
{
	return sys_rt_sigqueueinfo((int)A0, (int)A1, (const void *)A2);
}

static long sys_sched_yield(struct user_regs *r)
{
	(void)r;
	schedule();
	return 0;
}

struct ktimespec {
	int64_t sec, nsec;
};

static long sys_nanosleep(struct user_regs *r)
{
	struct ktimespec ts;
	if (arch_copy_from_user(&ts, (const void *)A0, sizeof(ts)))
		return -EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000)
		return -EINVAL;
	uint64_t start = arch_time_ns(), want = (uint64_t)ts.sec * 1000000000ull + (uint64_t)ts.nsec;
	if (!sleep_ns(want))
		return 0;
	uint64_t left = want - MIN(want, arch_time_ns() - start);
	struct ktimespec rem = {(int64_t)(left / 1000000000ull), (int64_t)(left % 1000000000ull)};
	if (A1 && arch_copy_to_user((void *)A1, &rem, sizeof(rem)))
		return -EFAULT;
	return -EINTR;
}

static long sys_clock_nanosleep(struct user_regs *r)
{
	if (A1 != 0)
		return -EINVAL; /* TIMER_ABSTIME is not supported */
	struct user_regs shifted = *r;
	shifted.rdi = A2;
	shifted.rsi = A3;
	return sys_nanosleep(&shifted);
}

static long sys_clock_gettime(struct user_regs *r)
{
	if (A0 > 11)
		return -EINVAL;
	uint64_t ns = arch_time_ns(); /* no RTC: realtime starts at the epoch at boot */
	struct ktimespec ts = {(int64_t)(ns / 1000000000ull), (int64_t)(ns % 1000000000ull)};
	return arch_copy_to_user((void *)A1, &ts, sizeof(ts)) ? -EFAULT : 0;
}

static long sys_gettimeofday(struct user_regs *r)
{
	uint64_t ns = arch_time_ns();
	int64_t tv[2] = {(int64_t)(ns / 1000000000ull), (int64_t)(ns % 1000000000ull / 1000)};
	return A0 && arch_copy_to_user((void *)A0, tv, sizeof(tv)) ? -EFAULT : 0;
}

static long sys_getpid(struct user_regs *r)
{
	(void)r;
	return current_task()->pid;
}

static long sys_getppid(struct user_regs *r)
{
	(void)r;
	struct task *p = current_task()->parent;
	return p ? p->pid : 0;
}

static long sys_getuid(struct user_regs *r)
{
	(void)r;
	return 0; /* everyone is root */
}

static long sys_fork(struct user_regs *r) { return task_fork(r); }

static long sys_clone(struct user_regs *r)
{
	if ((A0 & ~0xffull) || (A0 & 0xff) != CLONE_SIGCHLD || A1)
		return -EINVAL; /* threads and new stacks are not supported: fork-like clone only */
	return task_fork(r);
}

static long sys_execve(struct user_regs *r)
{
	return task_execve((const char *)A0, (const char *const *)A1, (const char *const *)A2, r,
			   true);
}

static long sys_exit(struct user_regs *r) { task_exit((int)((A0 & 0xff) << 8)); }
static long sys_wait4(struct user_regs *r) { return task_wait4((int)A0, (int *)A1, (int)A2); }

static long sys_uname(struct user_regs *r)
{
	char u[6][65];
	memset(u, 0, sizeof(u));
	strlcpy(u[0], "MCRK", 65);
	strlcpy(u[1], "mcrk", 65);
	strlcpy(u[2], "0.1", 65);
	strlcpy(u[3], "#1 SMP", 65);
	strlcpy(u[4], "x86_64", 65);
	strlcpy(u[5], "(none)", 65);
	return arch_copy_to_user((void *)A0, u, sizeof(u)) ? -EFAULT : 0;
}

static long prctl_mf_kill(uint64_t op, uint64_t policy)
{
	struct task *t = current_task();
	if (op == PR_MCE_KILL_CLEAR) {
		if (policy)
			return -EINVAL;
		t->mf_kill = MF_KILL_DEFAULT;
		return 0;
	}
	if (op != PR_MCE_KILL_SET)
		return -EINVAL;
	if (policy == PR_MCE_KILL_EARLY)
		t->mf_kill = MF_KILL_EARLY;
	else if (policy == PR_MCE_KILL_LATE)
		t->mf_kill = MF_KILL_LATE;
	else if (policy == PR_MCE_KILL_DEFAULT)
		t->mf_kill = MF_KILL_DEFAULT;
	else
		return -EINVAL;
	return 0;
}

static long sys_prctl(struct user_regs *r)
{
	struct task *t = current_task();
	switch (A0) {
	case PR_MCE_KILL:
		return A3 || A4 ? -EINVAL : prctl_mf_kill(A1, A2);
	case PR_MCE_KILL_GET:
		if (A1 || A2 || A3 || A4)
			return -EINVAL;
		return t->mf_kill == MF_KILL_EARLY  ? PR_MCE_KILL_EARLY
		       : t->mf_kill == MF_KILL_LATE ? PR_MCE_KILL_LATE
						      : PR_MCE_KILL_DEFAULT;
	case PR_SET_NAME: {
		char name[16];
		long n = arch_strncpy_from_user(name, (const char *)A1, sizeof(name));
		if (n == -EFAULT)
			return -EFAULT;
		name[15] = 0;
		strlcpy(t->name, name, sizeof(t->name));
		return 0;
	}
	case PR_GET_NAME: {
		char name[16] = {0};
		strlcpy(name, t->name, sizeof(name));
		return arch_copy_to_user((void *)A1, name, sizeof(name)) ? -EFAULT : 0;
	}
	default:
		return -EINVAL;
	}
}

static long sys_arch_prctl(struct user_regs *r)
{
	struct task *t = current_task();
	if (A0 == ARCH_SET_FS) {
		if (A1 >= USER_VA_END)
			return -EPERM;
		arch_set_fs_base(&t->ctx, A1);
		return 0;
	}
	if (A0 == ARCH_GET_FS)
		return arch_copy_to_user((void *)A1, &t->ctx.fs_base, 8) ? -EFAULT : 0;
	return -EINVAL;
}

static long sys_set_tid_address(struct user_regs *r)
{
	current_task()->clear_child_tid = A0;
	return current_task()->pid;
}

static long sys_getrandom(struct user_regs *r)
{
	/* Not cryptographic: a xorshift stream seeded from the time stamp counter. */
	uint64_t x = arch_timestamp() | 1;
	size_t n = MIN(A1, 256), done = 0;
	uint8_t buf[256];
	for (; done < n; done++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		buf[done] = (uint8_t)x;
	}
	return arch_copy_to_user((void *)A0, buf, n) ? -EFAULT : (long)n;
}

static const struct {
	uint16_t nr;
	sys_fn fn;
} table[] = {
	{0, sys_read},          {1, sys_write},         {2, sys_open},
	{3, sys_close},         {8, sys_lseek},         {9, sys_mmap},
	{10, sys_mprotect},     {11, sys_munmap},       {12, sys_brk},
	{13, sys_rt_sigaction_}, {14, sys_rt_sigprocmask_}, {15, sys_rt_sigreturn_},
	{16, sys_ioctl},        {17, sys_pread64},       {19, sys_readv},        {20, sys_writev},       {24, sys_sched_yield},
	{28, sys_madvise},      {32, sys_dup},          {33, sys_dup2},         {35, sys_nanosleep},
	{39, sys_getpid},       {56, sys_clone},        {57, sys_fork},
	{58, sys_fork},         {59, sys_execve},       {60, sys_exit},
	{61, sys_wait4},        {62, sys_kill_},        {63, sys_uname},        {72, sys_fcntl},
	{96, sys_gettimeofday}, {102, sys_getuid},      {104, sys_getuid},
	{107, sys_getuid},      {108, sys_getuid},      {110, sys_getppid},
	{127, sys_rt_sigpending_}, {129, sys_rt_sigqueueinfo_}, {131, sys_sigaltstack_},
	{157, sys_prctl},       {158, sys_arch_prctl},  {186, sys_getpid},
	{200, sys_tkill},       {217, sys_getdents64},  {218, sys_set_tid_address},
	{228, sys_clock_gettime}, {230, sys_clock_nanosleep}, {231, sys_exit},
	{234, sys_tgkill_},     {257, sys_openat},      {318, sys_getrandom},
};

static sys_fn dispatch[NR_MAX];

void syscall_init(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(table); i++)
		dispatch[table[i].nr] = table[i].fn;
}

void syscall_dispatch(struct user_regs *r)
{
	uint64_t nr = r->rax;
	r->error_code = nr; /* kept for syscall restart after a signal */
	if (nr < NR_MAX && dispatch[nr]) {
		r->rax = (uint64_t)dispatch[nr](r);
		return;
	}
	syscall_count_unknown(nr);
	r->rax = (uint64_t)-ENOSYS;
}
