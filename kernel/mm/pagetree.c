/* The page cache's index (include/pagecache.h): a radix tree from page offset to entry, 64
 * slots a node, so a lookup reads height = ceil(bits / 6) nodes (3 for a 1 GiB file).
 * A tree of height h has h levels of nodes; level 1 nodes hold entries, higher levels hold
 * child nodes. The root grows a level when an index does not fit and shrinks when only its
 * first slot is used; a node that becomes empty is freed at once. A node is exactly 512
 * bytes (64 pointers), so kmalloc's 512-byte class holds it without waste; emptiness is
 * found by scanning its slots.
 * No locking here: the owner's lock (pc->lock) guards a tree. */
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "pagecache.h"

#define NODE_BITS 6
#define NODE_SLOTS (1u << NODE_BITS)
#define MAX_HEIGHT 11 /* 66 bits: any 64-bit index */

struct node {
	void *slot[NODE_SLOTS];
};

static long nr_nodes;

static unsigned slot_of(uint64_t index, unsigned level)
{
	unsigned shift = (level - 1) * NODE_BITS;
	return shift >= 64 ? 0 : (unsigned)(index >> shift) & (NODE_SLOTS - 1);
}

/* Largest index a tree of height h holds. */
static uint64_t max_index(unsigned h)
{
	return h * NODE_BITS >= 64 ? UINT64_MAX : (1ull << (h * NODE_BITS)) - 1;
}

static struct node *node_new(void)
{
	struct node *n = kzalloc(sizeof(*n));
	if (n)
		__atomic_fetch_add(&nr_nodes, 1, __ATOMIC_RELAXED);
	return n;
}

static void node_free(struct node *n)
{
	kfree(n);
	__atomic_fetch_sub(&nr_nodes, 1, __ATOMIC_RELAXED);
}

static bool node_empty(const struct node *n)
{
	for (unsigned i = 0; i < NODE_SLOTS; i++)
		if (n->slot[i])
			return false;
	return true;
}

long page_tree_nr_nodes(void)
{
	return __atomic_load_n(&nr_nodes, __ATOMIC_RELAXED);
}

void *page_tree_lookup(const struct page_tree *t, uint64_t index)
{
	void *p = t->root;
	if (!t->height || index > max_index(t->height))
		return NULL;
	for (unsigned level = t->height; p && level > 0; level--)
		p = ((struct node *)p)->slot[slot_of(index, level)];
	return p;
}

/* Add levels on top until index fits. 0 or -ENOMEM. */
static int grow(struct page_tree *t, uint64_t index)
{
	while (!t->height || index > max_index(t->height)) {
		if (!t->root) {
			t->height++;
			continue;
		}
		struct node *n = node_new();
		if (!n)
			return -ENOMEM;
		n->slot[0] = t->root;
		t->root = n;
		t->height++;
	}
	return 0;
}

/* Drop root levels whose node only uses slot 0. */
static void shrink(struct page_tree *t)
{
	while (t->height > 1) {
		struct node *r = t->root;
		bool only_first = r->slot[0] != NULL;
		for (unsigned i = 1; i < NODE_SLOTS && only_first; i++)
			only_first = r->slot[i] == NULL;
		if (!only_first)
			return;
		t->root = r->slot[0];
		t->height--;
		node_free(r);
	}
}

/* Walk towards index, recording the nodes met in path[level]; the deepest level reached. */
static unsigned walk(const struct page_tree *t, uint64_t index, struct node **path)
{
	void *p = t->root;
	unsigned level = t->height;
	while (p) {
		path[level] = p;
		if (level == 1)
			return 1;
		p = ((struct node *)p)->slot[slot_of(index, level)];
		level--;
	}
	return level + 1;
}

/* Free the empty nodes on the path to index, from the deepest up, then drop root levels
 * whose node only uses its first slot. */
static void prune(struct page_tree *t, uint64_t index, struct node **path, unsigned deepest)
{
	for (unsigned level = deepest; t->root && level <= t->height; level++) {
		if (!node_empty(path[level]))
			break;
		node_free(path[level]);
		if (level == t->height) {
			t->root = NULL;
			t->height = 0;
			return;
		}
		path[level + 1]->slot[slot_of(index, level + 1)] = NULL;
	}
	shrink(t);
}

int page_tree_store(struct page_tree *t, uint64_t index, void *e)
{
	struct node *path[MAX_HEIGHT + 1];
	int err = grow(t, index);
	if (err)
		return err;
	void **slot = &t->root;
	for (unsigned level = t->height; level > 0; level--) {
		if (!*slot) {
			struct node *n = node_new();
			if (!n) {
				if (t->root)
					prune(t, index, path, walk(t, index, path));
				return -ENOMEM;
			}
			*slot = n;
		}
		slot = &((struct node *)*slot)->slot[slot_of(index, level)];
	}
	*slot = e;
	return 0;
}

void *page_tree_erase(struct page_tree *t, uint64_t index)
{
	struct node *path[MAX_HEIGHT + 1];
	if (!t->height || index > max_index(t->height) || !t->root)
		return NULL;
	if (walk(t, index, path) != 1)
		return NULL;
	void *e = path[1]->slot[slot_of(index, 1)];
	path[1]->slot[slot_of(index, 1)] = NULL;
	if (e)
		prune(t, index, path, 1);
	return e;
}

/* First entry at or after *index below node n (at level), or NULL. */
static void *next_in(const struct node *n, unsigned level, uint64_t *index)
{
	unsigned shift = (level - 1) * NODE_BITS;
	for (unsigned i = slot_of(*index, level); i < NODE_SLOTS; i++) {
		void *e = n->slot[i];
		if (e) {
			if (level == 1)
				return e;
			void *found = next_in(e, level - 1, index);
			if (found)
				return found;
		}
		/* Go on at the start of the next slot. */
		uint64_t span = shift >= 64 ? 0 : 1ull << shift;
		uint64_t next = (*index & ~(span - 1)) + span;
		if (next <= *index || i == NODE_SLOTS - 1)
			return NULL; /* wrapped past the top, or this node is done */
		*index = next;
	}
	return NULL;
}

void *page_tree_next(const struct page_tree *t, uint64_t *index)
{
	if (!t->height || !t->root || *index > max_index(t->height))
		return NULL;
	uint64_t i = *index;
	void *e = next_in(t->root, t->height, &i);
	if (e)
		*index = i;
	return e;
}
