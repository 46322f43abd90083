/* Credentials (include/cred.h): the capability check, the shared supplementary-group lists,
 * and Linux's rules from kernel/sys.c and kernel/signal.c for the set*id transitions and for
 * who may signal or reschedule whom. The rules work on a struct cred in place and take the
 * capability as an argument, so the host tests drive them directly. */
#include "cred.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "task.h"

bool capable(enum capability cap)
{
	(void)cap; /* every capability is "effective uid 0" */
	return current_task()->cred.euid == 0;
}

bool cred_in_group(const struct cred *c, uint32_t gid)
{
	if (c->egid == gid)
		return true;
	const struct group_info *g = c->groups;
	for (uint32_t lo = 0, hi = g ? g->n : 0; lo < hi;) { /* the list is sorted */
		uint32_t mid = lo + (hi - lo) / 2;
		if (g->gid[mid] == gid)
			return true;
		if (g->gid[mid] < gid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void cred_copy(struct cred *dst, const struct cred *src)
{
	*dst = *src;
	if (dst->groups)
		__atomic_fetch_add(&dst->groups->refs, 1, __ATOMIC_RELAXED);
}

void cred_release(struct cred *c)
{
	if (c->groups && __atomic_sub_fetch(&c->groups->refs, 1, __ATOMIC_ACQ_REL) == 0)
		kfree(c->groups);
	c->groups = NULL;
}

bool cred_may_signal(const struct cred *from, const struct cred *to)
{
	return from->euid == to->suid || from->euid == to->uid || from->uid == to->suid ||
	       from->uid == to->uid || from->euid == 0 /* CAP_KILL */;
}

bool cred_same_owner(const struct cred *from, const struct cred *to)
{
	return from->euid == to->euid || from->euid == to->uid;
}

/* ---- the set*id transitions (kernel/sys.c) ---- */

#define UNCHANGED CRED_INVALID_ID

/* One of the three ids a thread without the capability may switch to. */
static bool is_one_of(uint32_t id, uint32_t a, uint32_t b, uint32_t c)
{
	return id == a || id == b || id == c;
}

int cred_setuid(struct cred *c, uint32_t uid, bool cap)
{
	if (uid == UNCHANGED)
		return -EINVAL;
	if (cap)
		c->uid = c->suid = uid;
	else if (uid != c->uid && uid != c->suid)
		return -EPERM;
	c->euid = c->fsuid = uid;
	return 0;
}

int cred_setreuid(struct cred *c, uint32_t ruid, uint32_t euid, bool cap)
{
	if (ruid != UNCHANGED && !cap && ruid != c->uid && ruid != c->euid)
		return -EPERM;
	if (euid != UNCHANGED && !cap && !is_one_of(euid, c->uid, c->euid, c->suid))
		return -EPERM;
	uint32_t old_ruid = c->uid;
	if (ruid != UNCHANGED)
		c->uid = ruid;
	if (euid != UNCHANGED)
		c->euid = euid;
	/* The saved id follows the effective one whenever the real one is set or the effective
	 * one moves away from the old real one, so a dropped privilege cannot come back. */
	if (ruid != UNCHANGED || (euid != UNCHANGED && euid != old_ruid))
		c->suid = c->euid;
	c->fsuid = c->euid;
	return 0;
}

int cred_setresuid(struct cred *c, uint32_t ruid, uint32_t euid, uint32_t suid, bool cap)
{
	uint32_t v[3] = {ruid, euid, suid};
	for (int i = 0; i < 3 && !cap; i++)
		if (v[i] != UNCHANGED && !is_one_of(v[i], c->uid, c->euid, c->suid))
			return -EPERM;
	if (ruid != UNCHANGED)
		c->uid = ruid;
	if (euid != UNCHANGED)
		c->euid = euid;
	if (suid != UNCHANGED)
		c->suid = suid;
	c->fsuid = c->euid;
	return 0;
}

int cred_setgid(struct cred *c, uint32_t gid, bool cap)
{
	if (gid == UNCHANGED)
		return -EINVAL;
	if (cap)
		c->gid = c->sgid = gid;
	else if (gid != c->gid && gid != c->sgid)
		return -EPERM;
	c->egid = c->fsgid = gid;
	return 0;
}

int cred_setregid(struct cred *c, uint32_t rgid, uint32_t egid, bool cap)
{
	if (rgid != UNCHANGED && !cap && rgid != c->gid && rgid != c->egid)
		return -EPERM;
	if (egid != UNCHANGED && !cap && !is_one_of(egid, c->gid, c->egid, c->sgid))
		return -EPERM;
	uint32_t old_rgid = c->gid;
	if (rgid != UNCHANGED)
		c->gid = rgid;
	if (egid != UNCHANGED)
		c->egid = egid;
	if (rgid != UNCHANGED || (egid != UNCHANGED && egid != old_rgid))
		c->sgid = c->egid;
	c->fsgid = c->egid;
	return 0;
}

int cred_setresgid(struct cred *c, uint32_t rgid, uint32_t egid, uint32_t sgid, bool cap)
{
	uint32_t v[3] = {rgid, egid, sgid};
	for (int i = 0; i < 3 && !cap; i++)
		if (v[i] != UNCHANGED && !is_one_of(v[i], c->gid, c->egid, c->sgid))
			return -EPERM;
	if (rgid != UNCHANGED)
		c->gid = rgid;
	if (egid != UNCHANGED)
		c->egid = egid;
	if (sgid != UNCHANGED)
		c->sgid = sgid;
	c->fsgid = c->egid;
	return 0;
}

/* setfsuid and setfsgid share their rule: *fs becomes id when allowed; the old value back. */
static uint32_t set_fs_id(uint32_t *fs, uint32_t id, uint32_t r, uint32_t e, uint32_t s, bool cap)
{
	uint32_t old = *fs;
	if (id != UNCHANGED && (cap || id == old || is_one_of(id, r, e, s)))
		*fs = id;
	return old;
}

uint32_t cred_setfsuid(struct cred *c, uint32_t fsuid, bool cap)
{
	return set_fs_id(&c->fsuid, fsuid, c->uid, c->euid, c->suid, cap);
}

uint32_t cred_setfsgid(struct cred *c, uint32_t fsgid, bool cap)
{
	return set_fs_id(&c->fsgid, fsgid, c->gid, c->egid, c->sgid, cap);
}

/* ---- supplementary groups ---- */

static void sort_ids(uint32_t *v, size_t n)
{
	for (size_t gap = n / 2; gap > 0; gap /= 2) /* shell sort: up to 65536 ids, no recursion */
		for (size_t i = gap; i < n; i++)
			for (size_t j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
				uint32_t t = v[j];
				v[j] = v[j - gap];
				v[j - gap] = t;
			}
}

int cred_set_groups(struct cred *c, const uint32_t *gids, size_t n)
{
	if (n > NGROUPS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (gids[i] == CRED_INVALID_ID)
			return -EINVAL;
	struct group_info *g = NULL;
	if (n) {
		g = kmalloc(sizeof(*g) + n * sizeof(g->gid[0]));
		if (!g)
			return -ENOMEM;
		g->refs = 1;
		for (size_t i = 0; i < n; i++)
			g->gid[i] = gids[i];
		g->n = (uint32_t)n;
		sort_ids(g->gid, n); /* duplicates stay: getgroups gives back as many as were set */
	}
	cred_release(c);
	c->groups = g;
	return 0;
}
