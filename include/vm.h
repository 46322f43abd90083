/* User address spaces: struct mm (one per process image) holds a page table (struct arch_pt) and
 * a balanced tree of VMAs, each a page-aligned range [start, end) with one protection and one
 * backing: private anonymous (zero-filled on demand) or a file (the pages of its page cache,
 * include/pagecache.h: a shared mapping maps them and writes reach the file; a private one
 * maps them read-only and copies a page on the first write). Shared anonymous memory is a
 * file too, as on Linux: an unlinked tmpfs file of the mapping's size (shmem_zero_setup), so
 * forked children share its pages. fork makes private pages copy-on-write.
 * Every user frame is anchored in the reverse map (include/rmap.h), which finds its PTEs.
 *
 * Frame references: a user frame's refcount is the number of PTEs that map it plus one while
 * a page cache holds it plus any temporary reference (memory_failure); its mapcount is
 * the number of PTEs that map it. Poisoned pages are left in PTEs as non-present markers.
 *
 * Locks: mm->lock (a spinlock, never taken with interrupts off or in #MC/NMI context) guards
 * the VMA tree, the page table and the brk fields. The full lock order is in kernel/mm/rmap.c. */
#pragma once
#include "arch/mmu.h"
#include "list.h"
#include "spinlock.h"
#include "types.h"

/* mmap flags: Linux x86-64 values. */
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_TYPE 0x0f
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_GROWSDOWN 0x0100
#define MAP_DENYWRITE 0x0800
#define MAP_EXECUTABLE 0x1000
#define MAP_LOCKED 0x2000
#define MAP_NORESERVE 0x4000
#define MAP_POPULATE 0x8000
#define MAP_NONBLOCK 0x10000
#define MAP_STACK 0x20000
#define MAP_HUGETLB 0x40000
#define MAP_FIXED_NOREPLACE 0x100000
/* With MAP_HUGETLB: log2 of the page size in bits 26..31 (MAP_HUGE_2MB = 21 << 26), 0 for the
 * default. */
#define MAP_HUGE_SHIFT 26
#define MAP_HUGE_MASK 0x3fu

/* VMA flags (struct vma.flags). */
#define VM_SHARED 0x01	  /* MAP_SHARED: writes are seen by every mapper */
#define VM_ANON 0x02	  /* anonymous memory (zero-filled) */
#define VM_FILE 0x04	  /* backed by a file's page cache (vma->file) */
#define VM_LOCKED 0x08	  /* MAP_LOCKED: populated at mmap time */
#define VM_STACK 0x10	  /* MAP_STACK, or the initial stack */
#define VM_GROWSDOWN 0x20 /* MAP_GROWSDOWN (recorded; automatic growth is not implemented) */
#define VM_BRK 0x40	  /* the heap that brk moves */
#define VM_HUGEPAGE 0x80   /* MADV_HUGEPAGE: huge pages even when enabled is "madvise" */
#define VM_NOHUGEPAGE 0x100 /* MADV_NOHUGEPAGE: never huge pages */
#define VM_MAYWRITE 0x200  /* PROT_WRITE may be given (not a shared mapping of a read-only fd) */
#define VM_HUGETLB 0x400   /* hugetlb pages: MAP_HUGETLB or a hugetlbfs file (kernel/mm/hugetlb_map.c) */
#define VM_DONTCOPY 0x800  /* MADV_DONTFORK: fork leaves it out of the child */
#define VM_WIPEONFORK 0x1000 /* MADV_WIPEONFORK: the child gets it empty (zero-filled) */
#define VM_DONTDUMP 0x2000 /* MADV_DONTDUMP (a core dump would leave it out) */
#define VM_RAND_READ 0x4000 /* MADV_RANDOM (a read-ahead hint) */
#define VM_SEQ_READ 0x8000  /* MADV_SEQUENTIAL (a read-ahead hint) */

/* madvise advice values (Linux's ABI). */
#define MADV_NORMAL 0
#define MADV_RANDOM 1
#define MADV_SEQUENTIAL 2
#define MADV_WILLNEED 3
#define MADV_DONTNEED 4
#define MADV_FREE 8
#define MADV_REMOVE 9
#define MADV_DONTFORK 10
#define MADV_DOFORK 11
#define MADV_MERGEABLE 12
#define MADV_UNMERGEABLE 13
#define MADV_HUGEPAGE 14
#define MADV_NOHUGEPAGE 15
#define MADV_DONTDUMP 16
#define MADV_DODUMP 17
#define MADV_WIPEONFORK 18
#define MADV_KEEPONFORK 19
#define MADV_COLD 20
#define MADV_PAGEOUT 21
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#define MADV_DONTNEED_LOCKED 24
#define MADV_COLLAPSE 25
#define MADV_HWPOISON 100
#define MADV_SOFT_OFFLINE 101

/* Fault access bits for vm_fault: FAULT_READ/WRITE/EXEC from entry.h (the PT_* values). */
#include "entry.h"


/* Top of the area where mmap places mappings without an address (searched downwards). */
#define VM_MMAP_TOP_DEFAULT 0x00007f0000000000ull

struct page;
struct anon_vma;     /* kernel/mm/rmap_priv.h */
struct rmap_object;  /* include/rmap.h */
struct hugetlb_obj;  /* include/hugetlb.h */

/* How a mapping reaches the file behind it (kernel/fs provides these; mm sees the file as an
 * opaque pointer). get/put keep the open file alive while a VMA maps it; put may run under
 * mm->lock and must not sleep. sync is msync(MS_SYNC)'s fsync of [start, end) of the file;
 * name writes the file's path for /proc/self/maps (its length, or < 0); punch frees
 * [off, off + len) of the file as fallocate(PUNCH_HOLE | KEEP_SIZE) (0 or its error), called
 * without mm->lock. */
struct vm_file_ops {
	void (*get)(void *file);
	void (*put)(void *file);
	int (*sync)(void *file, uint64_t start, uint64_t end);
	long (*name)(void *file, char *buf, size_t size);
	int (*punch)(void *file, uint64_t off, uint64_t len); /* MADV_REMOVE; may sleep */
};

#define VM_FILE_READ 0x1  /* the file was opened for reading */
#define VM_FILE_WRITE 0x2 /* and for writing */

/* A file as a mapping backing: its page cache (NULL for a file that cannot be mapped:
 * -ENODEV), the open file and its ops, and how it was opened. */
struct vm_file {
	struct pagecache *pc;
	void *file;
	const struct vm_file_ops *ops;
	unsigned mode; /* VM_FILE_* */
	struct hugetlb_obj *huge; /* a hugetlbfs file: its pages (pc is NULL then) */
};

struct vma {
	vaddr_t start, end;	  /* page-aligned, start < end */
	struct mm *mm;		  /* the address space it belongs to */
	unsigned prot;		  /* PT_* (0 = PROT_NONE) */
	unsigned flags;		  /* VM_* */
	/* The page index of start: in the file (VM_FILE: its byte offset / PAGE_SIZE), in the
	 * else start / PAGE_SIZE when the VMA was made. It moves with start
	 * when the VMA is split, and stays when mremap moves the VMA, so a page's index in its
	 * rmap anchor always gives its address: start + (index - pgoff) pages. */
	uint64_t pgoff;
	struct vm_file file; /* VM_FILE: the file (a reference held while mapped) */
	/* VM_HUGETLB: the object whose runs a shared mapping maps, or the file a private one
	 * copies from (NULL for private anonymous memory); and the huge pages a private mapping
	 * has reserved and not faulted in yet (include/hugetlb.h). */
	struct hugetlb_obj *huge;
	uint64_t huge_resv;
	/* Reverse map (include/rmap.h): the anon_vma that new private pages are anchored in, the
	 * chain entries linking this VMA to it and to its ancestors, and the object it maps (the
	 * file's page cache's). */
	struct anon_vma *anon_vma;
	struct list_node anon_chain;
	struct rmap_object *obj;
	struct list_node obj_link; /* on obj->vmas */
	struct vma *left, *right; /* AVL tree keyed by start (kernel/mm/vma_tree.c) */
	int height;
};

struct mm {
	struct arch_pt *pt;
	spinlock_t lock;      /* VMA tree, page table, brk */
	int32_t refcount;     /* atomic; destroyed on the last mm_put */
	struct vma *vma_root; /* AVL tree of VMAs */
	uint32_t nr_vmas;
	vaddr_t brk_start, brk;	   /* heap: [brk_start, brk), moved by vm_brk */
	vaddr_t mmap_top;	   /* mmap without an address searches below this */
	struct list_node users;	   /* the tasks running in this space (task.mm_link; kernel/proc
				      links them under sched_lock: memory_failure finds them here) */
	struct vm_file exe;	   /* the program execve loaded (its reference blocks writes) */
	vaddr_t arg_start, arg_end; /* argv's strings on the stack (/proc/PID/cmdline) */
	uint64_t serial;	   /* unique for good: which space a /proc/PID/pagemap open saw */
	uint8_t dumpable;	   /* Linux's SUID_DUMP_*: 1 a user's own, 0 after a set-ID change
				      (who may look into it: cred_may_access); fork copies it */
	struct list_node all_link; /* on the list of every mm (tests, diagnostics) */
};

/* What a page of an address space holds (vm_page_info). */
enum vm_page_state {
	VM_PAGE_NONE,	 /* nothing mapped there (yet) */
	VM_PAGE_PRESENT, /* pfn is mapped with prot */
	VM_PAGE_POISON,	 /* a poison marker for frame pfn: touching it gives -EHWPOISON */
	VM_PAGE_SWAP,	 /* out on swap: swap holds its entry (include/swap.h) */
};

struct vm_page_info {
	enum vm_page_state state;
	pfn_t pfn;
	unsigned prot; /* PTE protection when present (write may be off for a COW page) */
	uint64_t swap; /* VM_PAGE_SWAP: the swap entry */
	bool huge;     /* POISON: part of a hugetlb page lost whole (vm.memory_failure_hugetlb_whole) */
};

/* A new empty address space with refcount 1, or NULL when out of memory. Process context. */
struct mm *mm_create(void);
/* Take a reference on mm (the caller already holds one). Any context but #MC/NMI. */
void mm_get(struct mm *mm);
/* Take a reference if mm is not being destroyed; false if its refcount already reached 0.
 * For rmap walkers, which see mms without owning a reference. Any context but #MC/NMI. */
bool mm_tryget(struct mm *mm);
/* Drop a reference; the last one unmaps everything, frees frames whose refcount reaches 0 and
 * the page tables. The caller guarantees no CPU still runs on mm->pt. Process context. */
void mm_put(struct mm *mm);
/* Copy parent for fork: shared VMAs share frames; private pages become copy-on-write (both
 * PTEs read-only, references raised); poison markers are copied. Takes parent->lock.
 * Returns the child (refcount 1), or NULL when out of memory (nothing leaks). Process context. */
struct mm *mm_fork(struct mm *parent);
/* Number of live address spaces (tests, diagnostics). Any context. */
long vm_nr_mms(void);

/* Map len bytes at addr (a hint, or exact with MAP_FIXED / MAP_FIXED_NOREPLACE) with prot and
 * Linux mmap flags; file is NULL for MAP_ANONYMOUS, else off is a page-aligned byte offset into
 * it (the VMA takes its own reference on the file). Returns the address, or -EINVAL (bad
 * arguments), -EACCES (a file not open for reading, or a shared writable mapping of a file not
 * open for writing), -ENODEV (a file that cannot be mapped), -EEXIST (MAP_FIXED_NOREPLACE
 * overlap), -EPERM (MAP_FIXED below USER_VA_START), -ENOMEM (no room, no memory). Takes
 * mm->lock. Process context. */
long vm_mmap(struct mm *mm, vaddr_t addr, uint64_t len, unsigned prot, unsigned flags,
	     const struct vm_file *file, uint64_t off);
/* remap_file_pages(2) as Linux 6.1 emulates it: [start, start + size) (page-rounded down),
 * inside one shared file mapping, is mapped again at file page pgoff with that mapping's
 * protection, as mmap(MAP_SHARED | MAP_FIXED | MAP_POPULATE) of the same file would (MAP_LOCKED
 * too if it is locked). 0, -EINVAL (prot not 0, an empty or wrapping range or page offset, no
 * shared file mapping there, or the range runs past it), or vm_mmap's errors. Takes
 * mm->lock. Process context. */
long vm_remap_file_pages(struct mm *mm, vaddr_t start, uint64_t size, unsigned prot,
			 uint64_t pgoff);
/* Unmap [addr, addr + len) (rounded up to pages), splitting VMAs that straddle its ends.
 * 0, -EINVAL (misaligned, empty or outside user space), -ENOMEM (no memory to split). */
int vm_munmap(struct mm *mm, vaddr_t addr, uint64_t len);
/* The shmem object behind a MAP_SHARED|MAP_ANONYMOUS mapping of len bytes (kernel/fs/shmem.c,
 * Linux's shmem_zero_setup): a new unlinked tmpfs file named "/dev/zero (deleted)", open for
 * reading and writing, in *out with a reference the caller drops (out->ops->put). 0, -ENOMEM,
 * -EFBIG. Process context. */
int shmem_zero_setup(uint64_t len, struct vm_file *out);
/* Make the internal tmpfs instance shared memory lives in (kernel/fs/shmem.c). Boot, once. */
void shmem_init(void);
/* mremap flags: Linux values. */
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define MREMAP_DONTUNMAP 4

/* Linux mremap: resize [addr, addr + old_len) (rounded up to pages) to new_len, in place
 * (shrinking unmaps the tail; growing needs room above), or with MREMAP_MAYMOVE where there is
 * room, or with MREMAP_FIXED at new_addr (replacing what is there). PTEs move, not pages.
 * old_len 0 maps a shared mapping a second time. Returns the address, or -EINVAL (bad flags or
 * alignment, new_len 0, overlapping ranges, MREMAP_DONTUNMAP which MCRK does not support),
 * -EFAULT (no mapping at addr, or the range runs past it), -ENOMEM (no room without
 * MREMAP_MAYMOVE, or no memory), -EPERM (MREMAP_FIXED below USER_VA_START). Takes mm->lock. */
long vm_mremap(struct mm *mm, vaddr_t addr, uint64_t old_len, uint64_t new_len, uint64_t flags,
	       vaddr_t new_addr);
/* madvise(2) of [start, start + len) with Linux 6.1's rules (kernel/mm/madvise.c says what
 * each advice does). MADV_DONTNEED, for instance, drops the pages and poison markers there,
 * keeping the VMAs: the next touch finds a zeroed page (private anonymous), the
 * shmem file's page (shared anonymous) or the file's page (a private file mapping loses its
 * copies), as on Linux; so a program can replace a page it lost to a memory error. 0,
 * -EINVAL (an unknown advice, misaligned start, a wrapping range, or a VMA the advice does
 * not apply to: VM_LOCKED for DONTNEED, not private anonymous for FREE and WIPEONFORK),
 * -ENOMEM (a hole; the mapped parts are still advised), -EAGAIN (no memory to split a VMA),
 * -EACCES (REMOVE of a mapping that is not shared and writable), -EHWPOISON (POPULATE met a
 * poisoned page), -EPERM (HWPOISON or SOFT_OFFLINE without CAP_SYS_ADMIN). Takes mm->lock;
 * process context. */
long vm_madvise(struct mm *mm, vaddr_t start, uint64_t len, int advice);

/* Transparent huge pages (kernel/mm/thp.c). */
struct thp_stats {
	uint64_t fault_alloc;	 /* faults that mapped a huge entry (Linux's thp_fault_alloc) */
	uint64_t fault_fallback; /* faults that wanted one and mapped 4 KiB */
	uint64_t split;		 /* huge entries split into 512 PTEs (thp_split_pmd) */
	uint64_t reused;	 /* writes that found a read-only huge entry theirs alone */
};
/* Bytes of anonymous memory mapped by huge entries, each run once (AnonHugePages). Any
 * context but #MC/NMI. */
uint64_t thp_anon_bytes(void);
/* A copy of the counters. Any context but #MC/NMI. */
void thp_get_stats(struct thp_stats *out);
/* Read transparent_hugepage= and register the control files. Boot, process context. */
void thp_init(void);

/* Set the protection of [addr, addr + len), splitting VMAs. A copy-on-write page stays
 * read-only until a write fault breaks COW. 0, -EINVAL, -ENOMEM (a hole in the range, or no
 * memory; nothing changes), -EACCES (write on a shared mapping of a file not open for
 * writing). Takes mm->lock. */
int vm_mprotect(struct mm *mm, vaddr_t addr, uint64_t len, unsigned prot);
/* msync(addr, len, flags) as Linux 6.1's: MS_ASYNC, MS_SYNC (the file's sync op for each
 * shared file mapping in the range), MS_INVALIDATE. 0, -EINVAL (bad flags or alignment),
 * -ENOMEM (a hole in the range), -EBUSY (MS_INVALIDATE on locked memory), or the sync's
 * error. Takes mm->lock (not across the sync). */
int vm_msync(struct mm *mm, vaddr_t addr, uint64_t len, int flags);
/* Record the program exec loaded (mm takes the reference in exe; mm_put drops it). */
void mm_set_exe(struct mm *mm, const struct vm_file *exe);
/* mlock(2) (lock) or munlock(2) of the pages covering [addr, addr + len): the VMAs there get
 * or lose VM_LOCKED (split where the range cuts them), and mlock faults every page in, as
 * MAP_LOCKED does (MCRK never pages anything out, so that is all locking means). 0 (also for
 * len 0), -ENOMEM (a hole in the range, or outside user space, or no memory to split).
 * Takes mm->lock. */
int vm_mlock(struct mm *mm, vaddr_t addr, uint64_t len, bool lock);
/* Set where the heap starts (exec, before the first vm_brk). Takes mm->lock. */
void vm_brk_init(struct mm *mm, vaddr_t start);
/* Move the program break to want (Linux brk): returns the new break, or the current one when
 * want is 0, below the start, collides with a mapping or memory runs out. Takes mm->lock. */
vaddr_t vm_brk(struct mm *mm, vaddr_t want);
/* Call fn on each VMA in address order under mm->lock; stops at and returns fn's first
 * non-zero value. fn must not change mm nor touch user memory (a user-copy fault would take
 * mm->lock again): format into a kernel buffer, copy out afterwards. For /proc/self/maps. */
int vm_for_each_vma(struct mm *mm, int (*fn)(const struct vma *v, void *arg), void *arg);

/* Handle a page fault at va with access FAULT_* (other bits such as FAULT_USER are ignored;
 * user: the fault came from user mode; kernel user-copy faults pass false, same answers).
 * Returns 0 when the access may be retried, -EFAULT when no VMA covers va (SIGSEGV
 * SEGV_MAPERR), -EACCES when the VMA forbids the access (SEGV_ACCERR), -ENOMEM, -ENXIO when
 * va lies past the end of the file the VMA maps, or the file system cannot give the page
 * (SIGBUS BUS_ADRERR, as Linux's VM_FAULT_SIGBUS), or -EHWPOISON when the page holds a
 * poison marker or its frame is poisoned (SIGBUS BUS_MCEERR_AR at va). Takes mm->lock; process context. */
int vm_fault(struct mm *mm, vaddr_t va, unsigned access, bool user);

/* Replace the present PTE at va, which must map pfn, by a poison marker for pfn; drops its
 * mapcount and frame reference. 0 (also when the marker is already there), or
 * -ENOENT if va does not map pfn. Takes mm->lock (call it outside rmap_walk). */
int vm_set_poison(struct mm *mm, vaddr_t va, pfn_t pfn);
/* Tell the owner of mm about the poisoned page at va (pfn, or VM_ANY_PFN) once: when the poison
 * marker there is untold, mark it told and call tell(arg) (which sends the signal); with
 * always, call tell(arg) in any case (a touch of the page must be answered, or the task would
 * fault on it for ever). tell runs with mm->lock held, so a memory_failure telling the task
 * and the task touching the page on another CPU come one wholly before the other: the second
 * finds the marker told, or its signal merges with the first one still pending. Returns
 * whether the marker was untold; false when it was told already or is gone (the task dropped
 * the page). Lock order: mm->lock, then what tell takes (a task's signal lock, the scheduler's
 * lock). Process context. */
#define VM_ANY_PFN (~(pfn_t)0)
bool vm_poison_tell(struct mm *mm, vaddr_t va, pfn_t pfn, bool always, void (*tell)(void *arg),
		    void *arg);
/* Make the present PTE at va, which must map pfn, trap (on) or not (the poison emulator).
 * 0 or -ENOENT. Takes mm->lock. */
int vm_trap_page(struct mm *mm, vaddr_t va, pfn_t pfn, bool on);
/* Remove the present PTE at va that maps pfn, leaving nothing (a clean PG_FILE page is re-read
 * on next touch). 0 or -ENOENT. Takes mm->lock. */
int vm_unmap_page(struct mm *mm, vaddr_t va, pfn_t pfn);
/* Take write access away from the present PTE at va, which must map pfn, and flush it from
 * every TLB (soft offline: nobody may write the frame while it is copied; a later write fault
 * gives it back). 0, or -ENOENT if va does not map pfn. Takes mm->lock. */
int vm_wrprotect_page(struct mm *mm, vaddr_t va, pfn_t pfn);
/* Give the present PTE at va, which must map pfn, the protection its VMA allows: write for a
 * shared VMA, or for a private one when this PTE is the page's only holder, the caller's
 * `held` references not counted (soft offline, once every mapper is on the copy, so that a
 * writer does not fault and copy the page again). 0 or -ENOENT. Takes mm->lock. */
int vm_settle_page(struct mm *mm, vaddr_t va, pfn_t pfn, int held);
/* Make va, which must map old_pfn, map new instead with the same protection (soft offline,
 * which moves the page cache's slot itself). The caller keeps its own reference on new,
 * has copied the contents and anchored new where old is (rmap_page_copy_anchor).
 * 0, -ENOENT, -ENOMEM. Takes mm->lock. */
int vm_replace_page(struct mm *mm, vaddr_t va, pfn_t old_pfn, struct page *new);
/* vm.memory_failure_hugetlb_whole (Linux's behaviour): replace every PTE of mm that maps a
 * frame of the 2 MiB hugetlb page holding pfn, around va, by a poison marker for pfn marked
 * HUGE, splitting its huge entry first (which needs no memory). 0, or -ENOENT when va maps
 * none of it. Takes mm->lock. */
int vm_poison_huge(struct mm *mm, vaddr_t va, pfn_t pfn);
/* Register /sys/kernel/debug/mcrk/vm_check (kernel/mm/vm_check.c). Boot, once. */
void vm_check_init(void);
/* Check every address space against the reverse map and the frames with every other CPU
 * still (vm_check.c says what must hold): 0 and the number of inconsistencies in *errors
 * (each logged), or -EBUSY / -ETIMEDOUT / -ENOMEM when it could not run. Process context. */
int vm_check(uint64_t *errors);
/* What a futex shared between processes is keyed by (Linux's get_futex_key): the object and
 * the byte offset in it. */
struct vm_futex_key {
	const void *object;
	uint64_t offset;
};
/* The key of the aligned 32-bit word at va: in a MAP_SHARED anonymous mapping its object and
 * offset, so that every process that maps the page meets there; in a private file page not
 * yet copied the file bytes and offset; in a private page (mm, va), which only the tasks
 * sharing mm can meet. The page is faulted in first, as Linux's get_user_pages:
 * -EFAULT when nothing readable is mapped there or the page is poisoned. Takes mm->lock. */
int vm_futex_key(struct mm *mm, vaddr_t va, struct vm_futex_key *key);
/* Report what the page at va holds (for memory_failure and /proc/self/pagemap). Always 0;
 * *info->state says NONE, PRESENT, POISON or SWAP. Takes mm->lock. */
int vm_page_info(struct mm *mm, vaddr_t va, struct vm_page_info *info);
