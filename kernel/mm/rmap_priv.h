/* Private to the reverse map (kernel/mm/rmap.c): the anon_vma and its chain entries. Host tests
 * include it to check the structure against a brute-force scan (tests/host/vm_testlib.c). */
#pragma once
#include "list.h"
#include "spinlock.h"
#include "types.h"

struct vma;

/* The anchor of private anonymous pages: the VMAs that may map them are on avcs. One per VMA
 * that faulted or forked pages of its own; a child's has its parent's as parent, and all the
 * anon_vmas descending from one root (a fork family) share the root's lock. */
struct anon_vma {
	struct anon_vma *root;	 /* the family's first; its lock guards every list in the family */
	struct anon_vma *parent; /* the anon_vma of the parent's VMA at fork (NULL for a root) */
	spinlock_t lock;	 /* used in the root only */
	int32_t refcount;	 /* atomic: chain entries + pages anchored + children */
	uint32_t nr_children;	 /* anon_vmas whose parent this is (root lock) */
	uint32_t nr_active;	 /* VMAs that have it as their own vma->anon_vma (root lock) */
	struct list_node avcs;	 /* anon_vma_chain.same_av of every VMA linked to it */
};

/* One link between a VMA and an anon_vma whose pages it may map: its own and every ancestor's. */
struct anon_vma_chain {
	struct vma *vma;
	struct anon_vma *av;
	struct list_node same_vma; /* on vma->anon_chain, newest first */
	struct list_node same_av;  /* on av->avcs */
};

/* struct page.priv of a page anchored in an anon_vma carries this bit; without it, the page is
 * anchored in a struct rmap_object (or nowhere, when priv is NULL). */
#define RMAP_ANCHOR_ANON 1ul

static inline struct anon_vma *rmap_page_anon(const void *priv)
{
	uintptr_t a = (uintptr_t)priv;
	return (a & RMAP_ANCHOR_ANON) ? (struct anon_vma *)(a - RMAP_ANCHOR_ANON) : NULL;
}
