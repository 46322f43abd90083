/* /proc files with Linux's formats: meminfo (with HardwareCorrupted, Cached and swap), kmsg (root
 * only), and the text of PID/maps and PID/pagemap (64-bit entries: bit 63 present, bit 62
 * swapped, bits 0-54 the PFN, shown to an opener with CAP_SYS_ADMIN; a poisoned page reads as a
 * swap-type entry, as Linux reports hwpoison entries) for proc_pid.c, which makes the PID
 * directories. */
#include "frame.h"
#include "kerrno.h"
#include "hugetlb.h"
#include "kmalloc.h"
#include "kstring.h"
#include "pagecache.h"
#include "printk.h"
#include "swap.h"
#include "task.h"
#include "vfs_priv.h"
#include "vm.h"

#define PM_PRESENT BIT(63)
#define PM_SWAP BIT(62)
#define PM_PFN_MASK (BIT(55) - 1)
/* Linux's swap type for hwpoison entries is MAX_SWAPFILES, which depends on its config:
 * 32 - 4 (device private) - 3 (migration) - 1 (hwpoison) - 1 (PTE marker) = 23 for 6.1 as
 * Debian builds it. Programs should test bit 62 and the offset (the pfn), not the type. */
#define SWP_HWPOISON_TYPE 23ull
#define PM_SWAP_TYPE_BITS 5
#define PROC_TEXT_MAX 16384

/* What the allocated frames are used for, by one pass over the page array (a snapshot that
 * may be a frame or two off while other CPUs allocate). */
struct frame_census {
	uint64_t kstack, pgtable, slab, user; /* frames (user: anonymous only) */
	uint64_t slab_objects;                /* kmalloc objects live in those slab frames */
};

static void take_census(struct frame_census *c)
{
	memset(c, 0, sizeof(*c));
	for (pfn_t pfn = 0; pfn < frame_max_pfn(); pfn++) {
		const struct page *pg = pfn_to_page(pfn);
		uint32_t fl = pg ? __atomic_load_n(&pg->flags, __ATOMIC_RELAXED) : 0;
		if (fl & (PG_BUDDY | PG_PCP | PG_RESERVED | PG_ISOLATED))
			continue;
		c->kstack += !!(fl & PG_KSTACK);
		c->pgtable += !!(fl & PG_PGTABLE);
		c->user += (fl & (PG_USER | PG_FILE | PG_HUGETLB)) == PG_USER;
		if (fl & PG_SLAB) {
			c->slab++;
			c->slab_objects += pg->slab_inuse;
		}
	}
}

/* Linux's fields and names, plus one of MCRK's own: SlabObjects, the number of live kmalloc
 * objects. Slab frames are object space that kmalloc fills in allocation order, so how many
 * frames hold a given set of objects depends on history; a leak check compares
 * MemFree + Slab and SlabObjects (see docs/tasks.md). And HugePages_Lost: the huge pages the
 * hugetlb pool lost to memory errors (include/hugetlb.h). Pool frames are not AnonPages. */
#define MEMINFO_MAX 2048

static int gen_meminfo(void *priv, char **out, size_t *len)
{
	(void)priv;
	struct frame_stats st;
	struct frame_census c;
	struct swap_stats sw;
	frame_get_stats(&st);
	swap_get_stats(&sw);
	take_census(&c);
	struct hugetlb_stats h;
	hugetlb_get_stats(&h);
	char *b = kmalloc(MEMINFO_MAX);
	if (!b)
		return -ENOMEM;
	uint64_t kb = PAGE_SIZE / 1024;
	*len = (size_t)ksnprintf(b, MEMINFO_MAX,
				 "MemTotal:       %8lu kB\n"
				 "MemFree:        %8lu kB\n"
				 "MemAvailable:   %8lu kB\n"
				 "AnonPages:      %8lu kB\n"
				 "Slab:           %8lu kB\n"
				 "KernelStack:    %8lu kB\n"
				 "PageTables:     %8lu kB\n"
				 "HardwareCorrupted: %5lu kB\n"
				 "Cached:         %8lu kB\n"
				 "SwapCached:     %8lu kB\n"
				 "SwapTotal:      %8lu kB\n"
				 "SwapFree:       %8lu kB\n"
				 "AnonHugePages:  %8lu kB\n"
				 "SlabObjects:    %8lu\n",
				 st.usable * kb, st.free * kb, st.free * kb, c.user * kb, c.slab * kb,
				 c.kstack * kb, c.pgtable * kb, st.poisoned * kb,
				 pagecache_nr_pages() * kb, sw.cached * kb, sw.total * kb, sw.free * kb,
				 thp_anon_bytes() / 1024, c.slab_objects);
	*len += (size_t)ksnprintf(b + *len, MEMINFO_MAX - *len,
				  "HugePages_Total:   %5lu\n"
				  "HugePages_Free:    %5lu\n"
				  "HugePages_Rsvd:    %5lu\n"
				  "HugePages_Surp:    %5lu\n"
				  "HugePages_Lost:    %5lu\n"
				  "Hugepagesize:   %8lu kB\n"
				  "Hugetlb:        %8lu kB\n",
				  h.total, h.free, h.resv, h.surplus, h.lost, HUGETLB_SIZE / 1024,
				  h.total * (HUGETLB_SIZE / 1024));
	*out = b;
	return 0;
}

struct maps_buf {
	char *b;
	size_t len;
};

static int maps_line(const struct vma *v, void *arg)
{
	struct maps_buf *m = arg;
	char path[256];
	const char *name = (v->flags & VM_STACK) ? "[stack]" : (v->flags & VM_BRK) ? "[heap]" : "";
	if ((v->flags & VM_FILE) && v->file.ops->name(v->file.file, path, sizeof(path)) > 0)
		name = path;
	if (m->len + 128 + sizeof(path) > PROC_TEXT_MAX)
		return 1;
	m->len += (size_t)ksnprintf(m->b + m->len, PROC_TEXT_MAX - m->len,
				    "%08lx-%08lx %c%c%c%c %08lx 00:00 0          %s\n", v->start,
				    v->end, v->prot & PT_READ ? 'r' : '-',
				    v->prot & PT_WRITE ? 'w' : '-', v->prot & PT_EXEC ? 'x' : '-',
				    v->flags & VM_SHARED ? 's' : 'p',
				    (v->flags & VM_FILE) ? v->pgoff << PAGE_SHIFT : 0, name);
	return 0;
}

int procfs_maps_text(struct mm *mm, char **out, size_t *len)
{
	struct maps_buf m = {kmalloc(PROC_TEXT_MAX), 0};
	if (!m.b)
		return -ENOMEM;
	if (mm)
		vm_for_each_vma(mm, maps_line, &m);
	*out = m.b;
	*len = m.len;
	return 0;
}

/* One entry; the frame bits (PFN, or swap type and offset) only when the opener had
 * CAP_SYS_ADMIN, as Linux has shown them since PFNs helped rowhammer attacks; the flags stay
 * for everyone. */
static uint64_t pagemap_entry(struct mm *mm, vaddr_t va, bool show_pfn)
{
	struct vm_page_info pi;
	uint64_t mask = show_pfn ? PM_PFN_MASK : 0;
	if (va >= USER_VA_END || vm_page_info(mm, va, &pi))
		return 0;
	if (pi.state == VM_PAGE_PRESENT)
		return PM_PRESENT | (pi.pfn & mask);
	if (pi.state == VM_PAGE_POISON) /* swap entry: type in bits 0-4, offset (pfn) above */
		return PM_SWAP | (((pi.pfn << PM_SWAP_TYPE_BITS) | SWP_HWPOISON_TYPE) & mask);
	if (pi.state == VM_PAGE_SWAP) /* out on swap: the same layout as swap.h's entries */
		return PM_SWAP | (pi.swap & mask);
	return 0;
}

long procfs_pagemap_read(struct mm *mm, void *buf, size_t n, uint64_t off, bool show_pfn)
{
	if (!mm || (off % 8) || (n % 8))
		return -EINVAL;
	uint64_t *e = buf;
	for (size_t i = 0; i < n / 8; i++)
		e[i] = pagemap_entry(mm, (off / 8 + i) << PAGE_SHIFT, show_pfn);
	return (long)n;
}

/* The kernel log buffer (the last 64 KiB), including lines the console level hid: a
 * snapshot taken when a read starts at offset 0, like `dmesg` (not Linux's blocking /proc/kmsg
 * reader). */
static int gen_kmsg(void *priv, char **out, size_t *len)
{
	(void)priv;
	enum { KMSG_MAX = 64 * 1024 };
	char *b = kmalloc(KMSG_MAX);
	if (!b)
		return -ENOMEM;
	*len = printk_log_read(b, KMSG_MAX);
	*out = b;
	return 0;
}

static const struct vfs_node_ops kmsg_ops = {.gen = gen_kmsg, .root_only = true}; /* 0400 */
static const struct vfs_node_ops meminfo_ops = {.gen = gen_meminfo};

void procfs_init(void)
{
	vfs_register_node("/proc/meminfo", &meminfo_ops, NULL);
	vfs_register_node("/proc/kmsg", &kmsg_ops, NULL);
	proc_pid_init();
	proc_stat_init();
}
