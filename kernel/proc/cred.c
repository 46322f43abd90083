/* Credentials (include/cred.h): the capability sets and check, the shared supplementary-group
 * lists, and Linux's rules from kernel/sys.c, kernel/signal.c, kernel/ptrace.c, fs/exec.c and
 * security/commoncap.c for the set*id transitions, who may signal, reschedule or look into
 * whom, and what execve of a set-ID program gives. The rules work on a struct cred in place and
 * take the capability as an argument, so the host tests drive them directly. */
#include "cred.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "task.h"

/* S_ISUID, S_ISGID and S_IXGRP, as the mode bits cred_exec gets (vfs_priv.h has them too). */
#define MODE_SUID 04000u
#define MODE_SGID 02000u
#define MODE_XGRP 00010u

void cred_caps(const struct cred *c, struct cred_caps *out)
{
	bool root = c->uid == 0 || c->euid == 0 || c->suid == 0;
	uint64_t permitted = root ? CAP_FULL_SET : 0;
	uint64_t effective = c->euid == 0 ? CAP_FULL_SET : 0;
	if (c->fsuid == 0)
		effective |= permitted & CAP_FS_SET;
	else
		effective &= ~CAP_FS_SET;
	*out = (struct cred_caps){
	    .permitted = permitted, .effective = effective, .bounding = CAP_FULL_SET};
}

bool capable(enum capability cap)
{
	struct cred_caps caps;
	cred_caps(&current_task()->cred, &caps);
	return caps.effective & (1ull << cap);
}

/* Whether gid is in the sorted supplementary list g (NULL: none). */
static bool in_groups(const struct group_info *g, uint32_t gid)
{
	for (uint32_t lo = 0, hi = g ? g->n : 0; lo < hi;) {
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

bool cred_in_group(const struct cred *c, uint32_t gid)
{
	return c->egid == gid || in_groups(c->groups, gid);
}

bool cred_in_fs_group(const struct cred *c, uint32_t gid)
{
	return c->fsgid == gid || in_groups(c->groups, gid);
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

bool cred_may_access(const struct cred *from, const struct cred *to, bool fscreds, bool to_dumpable)
{
	uint32_t uid = fscreds ? from->fsuid : from->uid, gid = fscreds ? from->fsgid : from->gid;
	struct cred_caps caps;
	cred_caps(from, &caps);
	bool ptrace_cap = caps.effective & (1ull << CAP_SYS_PTRACE);
	bool same = uid == to->uid && uid == to->euid && uid == to->suid && gid == to->gid &&
		    gid == to->egid && gid == to->sgid;
	return (same || ptrace_cap) && (to_dumpable || ptrace_cap);
}

bool cred_exec(struct cred *c, unsigned setid_mode, uint32_t uid, uint32_t gid, unsigned unsafe)
{
	struct cred_caps before, after;
	cred_caps(c, &before);
	bool had_setuid = before.effective & (1ull << CAP_SETUID);
	uint32_t old_uid = c->uid, old_gid = c->gid;
	if (!(unsafe & CRED_EXEC_NO_NEW_PRIVS)) {
		if (setid_mode & MODE_SUID)
			c->euid = uid;
		if ((setid_mode & (MODE_SGID | MODE_XGRP)) == (MODE_SGID | MODE_XGRP))
			c->egid = gid;
	}
	bool setid = c->euid != old_uid || c->egid != old_gid;
	struct cred next = *c;
	next.suid = next.euid; /* the saved uid exec gives, for the capabilities it implies */
	cred_caps(&next, &after);
	bool gains = after.permitted & ~before.permitted;
	if ((setid || gains) && unsafe && (!had_setuid || (unsafe & CRED_EXEC_NO_NEW_PRIVS))) {
		c->euid = c->uid; /* downgrade: no more than the caller had */
		c->egid = c->gid;
	}
	c->suid = c->fsuid = c->euid;
	c->sgid = c->fsgid = c->egid;
	return setid;
}

bool cred_same_owner(const struct cred *from, const struct cred *to)
{
	return from->euid == to->euid || from->euid == to->uid;
}

/* ---- the set*id transitions (kernel/sys.c) ----
 * The user and group rules are the same rules on the four ids of one kind. */

#define UNCHANGED CRED_INVALID_ID

/* Whether id is one a thread without the capability may switch to: real, effective or saved. */
static bool is_own(const struct cred_ids *x, uint32_t id)
{
	return id == x->real || id == x->eff || id == x->saved;
}

/* setuid/setgid. */
static int set_id(struct cred_ids *x, uint32_t id, bool cap)
{
	if (id == UNCHANGED)
		return -EINVAL;
	if (cap)
		x->real = x->saved = id;
	else if (id != x->real && id != x->saved)
		return -EPERM;
	x->eff = x->fs = id;
	return 0;
}

/* setreuid/setregid. */
static int set_re(struct cred_ids *x, uint32_t r, uint32_t e, bool cap)
{
	if (r != UNCHANGED && !cap && r != x->real && r != x->eff)
		return -EPERM;
	if (e != UNCHANGED && !cap && !is_own(x, e))
		return -EPERM;
	uint32_t old_real = x->real;
	if (r != UNCHANGED)
		x->real = r;
	if (e != UNCHANGED)
		x->eff = e;
	/* The saved id follows the effective one whenever the real one is set or the effective
	 * one moves away from the old real one, so a dropped privilege cannot come back. */
	if (r != UNCHANGED || (e != UNCHANGED && e != old_real))
		x->saved = x->eff;
	x->fs = x->eff;
	return 0;
}

/* setresuid/setresgid. */
static int set_res(struct cred_ids *x, uint32_t r, uint32_t e, uint32_t s, bool cap)
{
	uint32_t v[3] = {r, e, s};
	for (int i = 0; i < 3 && !cap; i++)
		if (v[i] != UNCHANGED && !is_own(x, v[i]))
			return -EPERM;
	if (r != UNCHANGED)
		x->real = r;
	if (e != UNCHANGED)
		x->eff = e;
	if (s != UNCHANGED)
		x->saved = s;
	x->fs = x->eff;
	return 0;
}

/* setfsuid/setfsgid: the old value back; the new one taken when allowed. */
static uint32_t set_fs(struct cred_ids *x, uint32_t id, bool cap)
{
	uint32_t old = x->fs;
	if (id != UNCHANGED && (cap || id == old || is_own(x, id)))
		x->fs = id;
	return old;
}

int cred_setuid(struct cred *c, uint32_t uid, bool cap)
{
	return set_id(&c->user, uid, cap);
}
int cred_setgid(struct cred *c, uint32_t gid, bool cap)
{
	return set_id(&c->group, gid, cap);
}

int cred_setreuid(struct cred *c, uint32_t ruid, uint32_t euid, bool cap)
{
	return set_re(&c->user, ruid, euid, cap);
}

int cred_setregid(struct cred *c, uint32_t rgid, uint32_t egid, bool cap)
{
	return set_re(&c->group, rgid, egid, cap);
}

int cred_setresuid(struct cred *c, uint32_t ruid, uint32_t euid, uint32_t suid, bool cap)
{
	return set_res(&c->user, ruid, euid, suid, cap);
}

int cred_setresgid(struct cred *c, uint32_t rgid, uint32_t egid, uint32_t sgid, bool cap)
{
	return set_res(&c->group, rgid, egid, sgid, cap);
}

uint32_t cred_setfsuid(struct cred *c, uint32_t fsuid, bool cap)
{
	return set_fs(&c->user, fsuid, cap);
}

uint32_t cred_setfsgid(struct cred *c, uint32_t fsgid, bool cap)
{
	return set_fs(&c->group, fsgid, cap);
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
