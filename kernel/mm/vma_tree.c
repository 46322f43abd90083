/* The VMA tree of an address space: an AVL tree of struct vma keyed by start, linked through
 * the VMAs themselves (no allocation). VMAs never overlap, so ordering by start also orders
 * by end, and lookups by address are O(log n): find (containing), next (first ending above)
 * and prev (last starting below). Insert and remove rebalance on the way back up (recursion
 * depth ~1.44 log2 n: 20 levels for 100k VMAs).
 *
 * Why a tree and not a sorted array: munmap/mprotect split VMAs and musl's malloc maps and
 * unmaps often, so insert and remove should not cost O(n) copying; the tree needs no
 * reallocation either. The caller holds mm->lock for every function here. */
#include "vm_priv.h"

static int height(const struct vma *v)
{
	return v ? v->height : 0;
}

static void fix_height(struct vma *v)
{
	v->height = 1 + MAX(height(v->left), height(v->right));
}

static struct vma *rotate_right(struct vma *v)
{
	struct vma *l = v->left;

	v->left = l->right;
	l->right = v;
	fix_height(v);
	fix_height(l);
	return l;
}

static struct vma *rotate_left(struct vma *v)
{
	struct vma *r = v->right;

	v->right = r->left;
	r->left = v;
	fix_height(v);
	fix_height(r);
	return r;
}

/* Restore the AVL property at v (its subtrees differ in height by at most 2). */
static struct vma *rebalance(struct vma *v)
{
	int bal;

	fix_height(v);
	bal = height(v->left) - height(v->right);
	if (bal > 1) {
		if (height(v->left->left) < height(v->left->right))
			v->left = rotate_left(v->left);
		return rotate_right(v);
	}
	if (bal < -1) {
		if (height(v->right->right) < height(v->right->left))
			v->right = rotate_right(v->right);
		return rotate_left(v);
	}
	return v;
}

static struct vma *avl_insert(struct vma *n, struct vma *v)
{
	if (!n) {
		v->left = v->right = NULL;
		v->height = 1;
		return v;
	}
	if (v->start < n->start)
		n->left = avl_insert(n->left, v);
	else
		n->right = avl_insert(n->right, v);
	return rebalance(n);
}

/* Unlink the leftmost node of subtree n into *min; returns the new subtree. */
static struct vma *remove_min(struct vma *n, struct vma **min)
{
	if (!n->left) {
		*min = n;
		return n->right;
	}
	n->left = remove_min(n->left, min);
	return rebalance(n);
}

static struct vma *avl_remove(struct vma *n, struct vma *v)
{
	struct vma *m;

	if (!n)
		return NULL;
	if (v->start < n->start) {
		n->left = avl_remove(n->left, v);
	} else if (v->start > n->start) {
		n->right = avl_remove(n->right, v);
	} else {
		if (!n->right)
			return n->left;
		n->right = remove_min(n->right, &m);
		m->left = n->left;
		m->right = n->right;
		n->left = n->right = NULL;
		return rebalance(m);
	}
	return rebalance(n);
}

/* Insert v (not overlapping any VMA in the tree). mm->lock held. */
void vma_tree_insert(struct vma **root, struct vma *v)
{
	*root = avl_insert(*root, v);
}

/* Remove v, which is in the tree. mm->lock held. */
void vma_tree_remove(struct vma **root, struct vma *v)
{
	*root = avl_remove(*root, v);
}

/* The VMA containing addr, or NULL. mm->lock held. */
struct vma *vma_tree_find(struct vma *root, vaddr_t addr)
{
	struct vma *v = vma_tree_next(root, addr);

	return v && v->start <= addr ? v : NULL;
}

/* The lowest VMA with end > addr, or NULL. mm->lock held. */
struct vma *vma_tree_next(struct vma *root, vaddr_t addr)
{
	struct vma *best = NULL;

	while (root) {
		if (root->end > addr) {
			best = root;
			root = root->left;
		} else {
			root = root->right;
		}
	}
	return best;
}

/* The highest VMA with start < addr, or NULL. mm->lock held. */
struct vma *vma_tree_prev(struct vma *root, vaddr_t addr)
{
	struct vma *best = NULL;

	while (root) {
		if (root->start < addr) {
			best = root;
			root = root->right;
		} else {
			root = root->left;
		}
	}
	return best;
}

/* Height of the tree, 0 when empty. mm->lock held. */
int vma_tree_height(const struct vma *root)
{
	return height(root);
}
