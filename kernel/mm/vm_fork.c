/* fork of an address space. The child gets a copy of every VMA (a shared object gains a
 * reference) and of every PTE: shared VMAs map the same frames with the same protection;
 * in private VMAs a writable PTE is write-protected in the parent and mapped read-only in the
 * child, so the first write on either side breaks copy-on-write (vm_fault.c). Each copied PTE
 * raises the frame's refcount and mapcount and adds an rmap entry for the child. Poison
 * markers are copied as markers: the child inherits the loss, as it would have on Linux.
 * On failure the half-built child is destroyed by mm_put, which undoes exactly what was done;
 * parent PTEs already write-protected stay so (their next write just makes them writable). */
#include "kerrno.h"
#include "kmalloc.h"
#include "vm_priv.h"

struct fork_ctx {
	struct mm *parent, *child;
	const struct vma *v;
	bool wrprotected; /* some parent PTE lost write: flush the parent's TLBs */
};

static int fork_pte(vaddr_t va, const struct pte_info *pi, void *arg)
{
	struct fork_ctx *c = arg;
	struct page *pg;
	unsigned prot = pi->prot;
	int err;

	if (!pi->present)
		return arch_pt_set_marker(c->child->pt, va, pi->marker);
	pg = pfn_to_page(pi->pfn);
	if (!pg)
		return 0; /* not a frame we manage: not inherited */
	if (!(c->v->flags & VM_SHARED) && (prot & PT_WRITE)) {
		prot &= ~PT_WRITE;
		arch_pt_protect(c->parent->pt, va, prot);
		c->wrprotected = true;
	}
	upage_get(pg);
	err = vm_install_pte(c->child, va, pg, prot);
	if (err)
		upage_put(pg);
	return err;
}

/* Copy VMA v of parent, and its PTEs, into child. Both locks held. */
static int fork_vma(struct mm *parent, struct mm *child, const struct vma *v)
{
	struct vma *n = kmalloc(sizeof(*n));
	struct fork_ctx c = {parent, child, v, false};
	int err;

	if (!n)
		return -ENOMEM;
	*n = *v;
	vma_get_backing(n);
	vma_tree_insert(&child->vma_root, n);
	child->nr_vmas++;
	err = arch_pt_walk(parent->pt, v->start, v->end, fork_pte, &c);
	if (c.wrprotected)
		arch_pt_flush(parent->pt, v->start, (v->end - v->start) >> PAGE_SHIFT);
	return err;
}

/* fork; see vm.h. Takes parent->lock, then the new child's. Process context. */
struct mm *mm_fork(struct mm *parent)
{
	struct mm *child = mm_create();
	int err = 0;

	if (!child)
		return NULL;
	spin_lock(&parent->lock);
	spin_lock(&child->lock); /* rmap walkers can reach the child as soon as it maps a frame */
	child->brk_start = parent->brk_start;
	child->brk = parent->brk;
	child->mmap_top = parent->mmap_top;
	for (struct vma *v = vma_tree_next(parent->vma_root, 0); v && !err;
	     v = vma_tree_next(parent->vma_root, v->end))
		err = fork_vma(parent, child, v);
	spin_unlock(&child->lock);
	spin_unlock(&parent->lock);
	if (err) {
		mm_put(child);
		return NULL;
	}
	return child;
}
