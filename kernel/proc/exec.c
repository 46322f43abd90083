/* execve of static ELF64 x86-64 programs. The program is opened through the VFS (a regular
 * file with an execute bit; -ETXTBSY while it is open for writing, and writes are refused
 * while it runs). The new address space is built completely (segments, stack, heap start)
 * before the old one is dropped, so a failing exec returns an error to a caller that still
 * has its old memory. Read-only segments are private mappings of the file's page cache
 * (every process running the program shares those pages); writable ones are anonymous
 * memory filled from the file. The stack holds argc, argv, envp and the auxiliary vector
 * as the System V x86-64 ABI (and musl's start code) expects. A set-user-ID or set-group-ID
 * program runs with its owner or group as effective id (cred_exec has Linux's rules: not on a
 * nosuid mount, not under no_new_privs); such an exec tells the program so (AT_SECURE) and
 * leaves the process non-dumpable, so its old user cannot look into it through /proc. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "cred.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "proc.h"
#include "sig.h"
#include "task.h"
#include "vfs.h"
#include "vm.h"

#define EI_CLASS 4
#define ELFCLASS64 2
#define EM_X86_64 62
#define ET_EXEC 2
#define ET_DYN 3
#define PT_LOAD 1
#define PT_INTERP 3
#define PF_X 1
#define PF_W 2
#define PF_R 4
#define DYN_BASE 0x555555554000ull /* where a static-pie ET_DYN program goes */
#define STACK_TOP 0x00007ffffffff000ull
#define STACK_SIZE_MIN (128ull << 10)
#define STACK_SIZE_MAX (1ull << 30)
#define STACK_LIM_SECURE (8ull << 20) /* Linux's _STK_LIM: a secure exec's RLIMIT_STACK at most */
#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_EXECFN 31

struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* The program's ELF header and program headers, read from its file. */
struct elf_image {
	struct file *f;
	uint64_t size;
	struct elf64_ehdr eh;
	struct elf64_phdr ph[64];
};

static int read_elf(struct elf_image *img)
{
	const struct elf64_ehdr *e = &img->eh;
	if (vfs_pread(img->f, &img->eh, sizeof(img->eh), 0, false) != sizeof(img->eh) ||
	    memcmp(e->ident, "\177ELF", 4) || e->ident[EI_CLASS] != ELFCLASS64 ||
	    e->machine != EM_X86_64 || (e->type != ET_EXEC && e->type != ET_DYN) ||
	    e->phentsize != sizeof(struct elf64_phdr) || e->phnum == 0 || e->phnum > 64 ||
	    e->phoff > img->size ||
	    img->size - e->phoff < (uint64_t)e->phnum * sizeof(struct elf64_phdr))
		return -ENOEXEC;
	long n = (long)(e->phnum * sizeof(struct elf64_phdr));
	return vfs_pread(img->f, img->ph, (size_t)n, e->phoff, false) == n ? 0 : -ENOEXEC;
}

static unsigned seg_prot(uint32_t flags)
{
	return (flags & PF_R ? PT_READ : 0) | (flags & PF_W ? PT_WRITE : 0) |
	       (flags & PF_X ? PT_EXEC : 0);
}

/* Map one PT_LOAD segment into mm: read-only ones are private mappings of the file's page
 * cache (shared by every process running the program); writable ones are anonymous memory
 * filled later (fill_segments). */
static long map_segment(struct mm *mm, const struct elf_image *img, const struct elf64_phdr *ph,
			uint64_t base, const struct vm_file *file)
{
	uint64_t va = ph->vaddr + base, start = ALIGN_DOWN(va, PAGE_SIZE);
	uint64_t end = ALIGN_UP(va + ph->memsz, PAGE_SIZE);
	if (ph->filesz > ph->memsz || ph->offset > img->size ||
	    img->size - ph->offset < ph->filesz ||
	    (ph->offset % PAGE_SIZE) != (va % PAGE_SIZE) || end <= start || end > USER_VA_END)
		return -ENOEXEC;
	if (ph->flags & PF_W)
		return vm_mmap(mm, start, end - start, seg_prot(ph->flags) | PT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
	return vm_mmap(mm, start, end - start, seg_prot(ph->flags), MAP_PRIVATE | MAP_FIXED, file,
		       ALIGN_DOWN(ph->offset, PAGE_SIZE));
}

/* After switching to the new space: copy the file part of writable segments in. */
static int fill_segments(const struct elf_image *img, uint64_t base)
{
	for (unsigned i = 0; i < img->eh.phnum; i++) {
		const struct elf64_phdr *ph = &img->ph[i];
		if (ph->type != PT_LOAD || !(ph->flags & PF_W))
			continue;
		uint64_t va = ph->vaddr + base, pg = ALIGN_DOWN(va, PAGE_SIZE);
		uint64_t off = ph->offset - (va - pg), n = ph->filesz + (va - pg);
		if (vfs_pread(img->f, (void *)pg, n, off, true) != (long)n)
			return -EFAULT;
	}
	return 0;
}

struct exec_args {
	char *buf;   /* the strings, back to back */
	size_t used;
	unsigned argc, envc;
	const char *name;
	struct cred_ids user, group; /* the credentials the program runs with (cred_exec) */
	bool secure;	 /* AT_SECURE: the effective ids are not the caller's real ones */
	bool unreadable; /* the caller may run the program but not read it */
};

/* Lay out the initial stack; returns the stack pointer for the program, or 0 on a fault. */
static uint64_t build_stack(const struct exec_args *a, uint64_t phdr, unsigned phnum,
			    uint64_t entry)
{
	const struct cred_ids *u = &a->user, *g = &a->group;
	uint64_t sp = STACK_TOP;
	sp -= ALIGN_UP(a->used, 16);
	uint64_t strings = sp;
	if (arch_copy_to_user((void *)strings, a->buf, a->used))
		return 0;
	uint64_t rnd[2] = {arch_timestamp() * 0x9e3779b97f4a7c15ull, arch_time_ns() ^ 0x5bd1e995};
	sp -= 16;
	uint64_t random = sp;
	if (arch_copy_to_user((void *)random, rnd, sizeof(rnd)))
		return 0;
	uint64_t vec[64 + 2 * 16 + 8];
	unsigned n = 0;
	vec[n++] = a->argc;
	uint64_t p = strings;
	for (unsigned i = 0; i < a->argc + a->envc; i++) {
		if (i == a->argc) {
			vec[n++] = 0;
			current_task()->mm->arg_end = p;
		}
		vec[n++] = p;
		p += strlen(a->buf + (p - strings)) + 1;
	}
	current_task()->mm->arg_start = strings;
	if (!a->envc)
		current_task()->mm->arg_end = p;
	if (a->envc == 0)
		vec[n++] = 0;
	vec[n++] = 0;
	uint64_t aux[][2] = {{AT_PHDR, phdr},	     {AT_PHENT, sizeof(struct elf64_phdr)},
			     {AT_PHNUM, phnum},	     {AT_PAGESZ, PAGE_SIZE},
			     {AT_ENTRY, entry},	     {AT_UID, u->real},
			     {AT_EUID, u->eff},	     {AT_GID, g->real},
			     {AT_EGID, g->eff},	     {AT_CLKTCK, 100},
			     {AT_SECURE, a->secure}, {AT_RANDOM, random},
			     {AT_EXECFN, strings},   {AT_NULL, 0}};
	for (unsigned i = 0; i < ARRAY_SIZE(aux); i++) {
		vec[n++] = aux[i][0];
		vec[n++] = aux[i][1];
	}
	sp = ALIGN_DOWN(sp - n * 8, 16);
	return arch_copy_to_user((void *)sp, vec, n * 8) ? 0 : sp;
}

/* The stack mapped for a new program: RLIMIT_STACK's soft limit (8 MiB by default, and at
 * most that for a secure exec, as Linux resets it), page aligned, at least 128 KiB (Linux's
 * minimum) and at most 1 GiB (MCRK maps it whole; Linux grows it on demand). */
static uint64_t stack_size(bool secure)
{
	uint64_t lim = task_rlimit(RLIMIT_STACK);
	if (secure)
		lim = MIN(lim, STACK_LIM_SECURE);
	return ALIGN_DOWN(MIN(MAX(lim, STACK_SIZE_MIN), STACK_SIZE_MAX), PAGE_SIZE);
}

/* The point of no return: the caller's other threads die, its files and signal actions
 * become its own, and mm replaces its address space. 0, or -errno (mm dropped) when it was
 * killed meanwhile: the pending SIGKILL ends it on its way out. */
static long exec_switch(const char *name, struct mm *mm)
{
	struct task *t = current_task();
	long err = t->group ? task_exec_dethread() : 0;
	if (err) {
		mm_put(mm);
		return err;
	}
	if ((t->fdt && vfs_exec_files(t)) || (t->sig && sig_exec(t))) {
		printk(KERN_ERR "exec: %s: out of memory past the point of no return\n", name);
		mm_put(mm);
		task_exit_group(SIGSEGV); /* as Linux: the old image is gone in part */
	}
	struct mm *old = t->mm;
	if (old)
		task_mm_release(t); /* clear_child_tid, robust list, a vfork parent goes on */
	task_set_mm(t, mm);
	arch_pt_activate(mm->pt);
	if (old)
		mm_put(old);
	return 0;
}

/* Past the point of no return: the task takes the program's credentials. Its memory is
 * dumpable only when the effective ids are the real ones and the program was readable (Linux's
 * begin_new_exec and would_dump); a secure exec keeps RLIMIT_STACK at most 8 MiB. */
static void exec_commit_creds(struct task *t, const struct exec_args *a)
{
	t->cred.user = a->user;
	t->cred.group = a->group;
	bool same = a->user.eff == a->user.real && a->group.eff == a->group.real;
	t->mm->dumpable = same && !a->unreadable;
	if (a->secure && t->group)
		t->group->rlim[RLIMIT_STACK].cur =
		    MIN(t->group->rlim[RLIMIT_STACK].cur, STACK_LIM_SECURE);
}

/* Map every segment of img and the stack into mm; the heap start and the program headers'
 * address in *top and *phdr. */
static long build_mm(struct mm *mm, struct elf_image *img, uint64_t base, bool secure,
		     uint64_t *top, uint64_t *phdr)
{
	const struct elf64_ehdr *eh = &img->eh;
	struct vm_file file, exe;
	long err = vfs_file_vm(img->f, true, &exe); /* -ETXTBSY while open for writing */
	if (err)
		return err;
	mm_set_exe(mm, &exe);
	err = vfs_file_vm(img->f, false, &file);
	for (unsigned i = 0; i < eh->phnum && !err; i++) {
		const struct elf64_phdr *ph = &img->ph[i];
		if (ph->type == PT_INTERP)
			err = -ENOEXEC; /* dynamic programs: not supported, build with -static */
		if (ph->type != PT_LOAD)
			continue;
		long r = map_segment(mm, img, ph, base, &file);
		err = r < 0 ? r : 0;
		*top = MAX(*top, ph->vaddr + base + ph->memsz);
		if (eh->phoff >= ph->offset && eh->phoff < ph->offset + ph->filesz)
			*phdr = ph->vaddr + base + (eh->phoff - ph->offset);
	}
	if (file.ops)
		file.ops->put(file.file);
	if (!err) {
		uint64_t size = stack_size(secure);
		long r = vm_mmap(mm, STACK_TOP - size, size, PT_READ | PT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_STACK, NULL, 0);
		err = r < 0 ? r : 0;
	}
	return err;
}

/* Load the program open at img->f into a new address space and switch the current task to
 * it. On success regs are set for the program's first instruction and 0 is returned; on
 * failure before the switch the old address space is untouched and -errno is returned. */
static long exec_load(struct elf_image *img, struct exec_args *a, struct user_regs *regs)
{
	long err = read_elf(img);
	if (err)
		return err;
	const struct elf64_ehdr *eh = &img->eh;
	uint64_t base = eh->type == ET_DYN ? DYN_BASE : 0, top = 0, phdr = 0;
	struct mm *mm = mm_create();
	if (!mm)
		return -ENOMEM;
	err = build_mm(mm, img, base, a->secure, &top, &phdr);
	if (err) {
		mm_put(mm);
		return err;
	}
	vm_brk_init(mm, ALIGN_UP(top, PAGE_SIZE));
	err = exec_switch(a->name, mm);
	if (err)
		return err;
	struct task *t = current_task();
	exec_commit_creds(t, a);
	uint64_t sp = 0;
	if (!fill_segments(img, base))
		sp = build_stack(a, phdr, eh->phnum, eh->entry + base);
	if (!sp) {
		printk(KERN_ERR "exec: %s: could not set up the new image\n", a->name);
		task_exit_group(SIGSEGV);
	}
	strlcpy(t->name, a->name, sizeof(t->name));
	if (t->group)
		t->group->did_exec = true;
	arch_set_fs_base(&t->ctx, 0);
	arch_regs_init_user(regs, eh->entry + base, sp);
	return 0;
}

#define EXEC_STRINGS_MAX 8192
#define EXEC_ARGS_MAX 64
#define PATH_LEN_MAX 4096 /* PATH_MAX, with the NUL */

static long add_string(struct exec_args *a, const char *s, bool user)
{
	size_t room = EXEC_STRINGS_MAX - a->used;
	long n;
	if (user) {
		n = arch_strncpy_from_user(a->buf + a->used, s, room);
		if (n < 0)
			return n == -ENAMETOOLONG ? -E2BIG : n;
	} else {
		n = (long)strlen(s);
		if ((size_t)n >= room)
			return -E2BIG;
		memcpy(a->buf + a->used, s, (size_t)n + 1);
	}
	a->used += (size_t)n + 1;
	return 0;
}

/* Collect a NULL-terminated vector of strings (user or kernel) into a. */
static long add_vector(struct exec_args *a, const char *const *v, bool user, unsigned *count)
{
	for (unsigned i = 0; v; i++) {
		const char *s;
		if (user) {
			if (arch_copy_from_user(&s, &v[i], sizeof(s)))
				return -EFAULT;
		} else {
			s = v[i];
		}
		if (!s)
			return 0;
		if (a->argc + a->envc >= EXEC_ARGS_MAX)
			return -E2BIG;
		long err = add_string(a, s, user);
		if (err)
			return err;
		(*count)++;
	}
	return 0;
}

/* Whether t's fs context is shared with another process (CLONE_FS without CLONE_THREAD):
 * Linux's LSM_UNSAFE_SHARE, under which a set-ID program does not raise privilege. */
static bool fs_shared(struct task *t)
{
	int sharers = 0;
	if (!t->fs)
		return false;
	if (!t->group)
		return vfs_fs_users(t->fs) > 1;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	for (struct task *th = task_next_thread(t->group, NULL); th;
	     th = task_next_thread(t->group, th))
		sharers += th->fs == t->fs;
	spin_unlock_irqrestore(&sched_lock, f);
	return vfs_fs_users(t->fs) > sharers;
}

/* The credentials the program open at f runs with, into a (committed past the point of no
 * return by exec_commit_creds). */
static void exec_creds(struct file *f, struct exec_args *a)
{
	struct task *t = current_task();
	struct cred c = t->cred;
	uint32_t uid = 0, gid = 0;
	unsigned setid = vfs_exec_setid(f, &uid, &gid);
	unsigned unsafe = (t->no_new_privs ? CRED_EXEC_NO_NEW_PRIVS : 0) |
			  (fs_shared(t) ? CRED_EXEC_SHARED_FS : 0);
	a->secure = cred_exec(&c, setid, uid, gid, unsafe);
	a->user = c.user;
	a->group = c.group;
	a->unreadable = !vfs_file_may_read(f);
}

long task_execve(const char *path, const char *const *argv, const char *const *envp,
		 struct user_regs *regs, bool user)
{
	struct exec_args a = {0};
	struct elf_image *img = kzalloc(sizeof(*img));
	char *kpath = kmalloc(PATH_LEN_MAX);
	long err = img && kpath ? 0 : -ENOMEM;
	if (!err && user) {
		long n = arch_strncpy_from_user(kpath, path, PATH_LEN_MAX);
		err = n < 0 ? n : n == 0 ? -ENOENT : 0;
	} else if (!err) {
		strlcpy(kpath, path, PATH_LEN_MAX);
	}
	int open_err = 0;
	if (!err && !(img->f = vfs_open_exec(kpath, false, &open_err)))
		err = open_err;
	if (!err) {
		img->size = vfs_file_size(img->f);
		exec_creds(img->f, &a);
	}
	if (!err && !(a.buf = kmalloc(EXEC_STRINGS_MAX)))
		err = -ENOMEM;
	if (!err)
		err = add_vector(&a, argv, user, &a.argc);
	if (!err)
		err = add_vector(&a, envp, user, &a.envc);
	const char *slash = kpath ? strrchr(kpath, '/') : NULL;
	a.name = slash ? slash + 1 : kpath;
	if (!err)
		err = exec_load(img, &a, regs);
	if (img && img->f)
		vfs_file_put(img->f);
	kfree(img);
	kfree(kpath);
	kfree(a.buf);
	return err;
}
