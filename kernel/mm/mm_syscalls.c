/* The memory syscalls of the current task's address space (include/vm.h): mmap, mprotect,
 * munmap, mremap, msync, remap_file_pages, brk, madvise (kernel/mm/madvise.c), mlock and munlock,
 * with Linux x86-64 numbers. mmap keeps to RLIMIT_AS. */
#include "kerrno.h"
#include "memory_failure.h"
#include "syscall.h"
#include "task.h"
#include "vfs.h"
#include "vm.h"

static struct mm *mm(void) { return current_task()->mm; }

static int add_vma_size(const struct vma *v, void *arg)
{
	*(uint64_t *)arg += v->end - v->start;
	return 0;
}

/* Whether mapping len more bytes stays within RLIMIT_AS (Linux's may_expand_vm; a MAP_FIXED
 * mapping that replaces others is counted whole, which errs on the refusing side). */
static bool as_limit_ok(uint64_t len)
{
	uint64_t limit = task_rlimit(RLIMIT_AS), total = 0;
	if (limit == RLIM_INFINITY)
		return true;
	vm_for_each_vma(mm(), add_vma_size, &total);
	return len <= limit && total <= limit - ALIGN_UP(len, PAGE_SIZE);
}

static long sys_mmap(const struct syscall_args *a)
{
	struct vm_file file;
	unsigned flags = (unsigned)a->arg[3];
	bool anon = flags & MAP_ANONYMOUS;
	if (a->arg[5] & (PAGE_SIZE - 1))
		return -EINVAL;
	if (!anon) {
		int r = vfs_mmap_file((int)a->arg[4], &file);
		if (r < 0)
			return r;
		if (r == 1) { /* /dev/zero: anonymous memory, as on Linux */
			anon = true;
			flags |= MAP_ANONYMOUS;
		}
	}
	long r = a->arg[1] && !as_limit_ok(a->arg[1]) ? -ENOMEM : 0;
	if (!r)
		r = vm_mmap(mm(), a->arg[0], a->arg[1], (unsigned)a->arg[2], flags,
			    anon ? NULL : &file, anon ? 0 : a->arg[5]);
	if (!anon)
		file.ops->put(file.file);
	return r;
}
SYSCALL_DEFINE(9, sys_mmap);

static long sys_mprotect(const struct syscall_args *a)
{
	return vm_mprotect(mm(), a->arg[0], a->arg[1], (unsigned)a->arg[2]);
}
SYSCALL_DEFINE(10, sys_mprotect);

static long sys_munmap(const struct syscall_args *a) { return vm_munmap(mm(), a->arg[0], a->arg[1]); }
SYSCALL_DEFINE(11, sys_munmap);

static long sys_mremap(const struct syscall_args *a)
{
	return vm_mremap(mm(), a->arg[0], a->arg[1], a->arg[2], a->arg[3], a->arg[4]);
}
SYSCALL_DEFINE(25, sys_mremap);

static long sys_msync(const struct syscall_args *a)
{
	return vm_msync(mm(), a->arg[0], a->arg[1], (int)a->arg[2]);
}
SYSCALL_DEFINE(26, sys_msync);

static long sys_remap_file_pages(const struct syscall_args *a)
{
	return vm_remap_file_pages(mm(), a->arg[0], a->arg[1], (unsigned)a->arg[2], a->arg[3]);
}
SYSCALL_DEFINE(216, sys_remap_file_pages);

static long sys_brk(const struct syscall_args *a) { return (long)vm_brk(mm(), a->arg[0]); }
SYSCALL_DEFINE(12, sys_brk);

static long sys_madvise(const struct syscall_args *a)
{
	return vm_madvise(mm(), a->arg[0], a->arg[1], (int)a->arg[2]);
}
SYSCALL_DEFINE(28, sys_madvise);

static long sys_mlock(const struct syscall_args *a) { return vm_mlock(mm(), a->arg[0], a->arg[1], true); }
SYSCALL_DEFINE(149, sys_mlock);

static long sys_munlock(const struct syscall_args *a) { return vm_mlock(mm(), a->arg[0], a->arg[1], false); }
SYSCALL_DEFINE(150, sys_munlock);
