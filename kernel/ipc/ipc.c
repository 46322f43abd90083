/* What SysV shared memory and semaphores share (ipc_priv.h): the object tables, ids, the
 * key lookup of shmget/semget, and Linux's permission rules (ipc/util.c's ipcperms and
 * ipcctl_obtain_check). */
#include "arch/cpu.h"
#include "ipc.h"
#include "ipc_priv.h"
#include "task.h"

struct ipc_obj *ipc_find_key(struct ipc_table *t, int key)
{
	for (unsigned i = 0; i < IPC_MNI && key != IPC_PRIVATE; i++)
		if (t->slot[i] && t->slot[i]->key == key)
			return t->slot[i];
	return NULL;
}

struct ipc_obj *ipc_find_id(struct ipc_table *t, int id)
{
	unsigned idx = (unsigned)id & ((1u << IPC_SEQ_SHIFT) - 1);
	if (id < 0 || idx >= IPC_MNI)
		return NULL;
	struct ipc_obj *o = t->slot[idx];
	return o && o->id == id ? o : NULL;
}

int ipc_add(struct ipc_table *t, struct ipc_obj *o)
{
	const struct cred *c = &current_task()->cred;
	for (unsigned i = 0; i < IPC_MNI; i++) {
		if (t->slot[i])
			continue;
		o->seq = t->seq++;
		o->id = (int)(((unsigned)o->seq << IPC_SEQ_SHIFT) + i);
		o->uid = o->cuid = c->euid;
		o->gid = o->cgid = c->egid;
		t->slot[i] = o;
		t->used++;
		return o->id;
	}
	return -ENOSPC;
}

void ipc_remove(struct ipc_table *t, struct ipc_obj *o)
{
	unsigned idx = (unsigned)o->id & ((1u << IPC_SEQ_SHIFT) - 1);
	if (idx < IPC_MNI && t->slot[idx] == o) {
		t->slot[idx] = NULL;
		t->used--;
	}
}

int ipc_perms(const struct ipc_obj *o, unsigned flag)
{
	const struct cred *c = &current_task()->cred;
	unsigned want = (flag >> 6) | (flag >> 3) | flag, granted = o->mode;
	if (c->euid == o->cuid || c->euid == o->uid)
		granted >>= 6;
	else if (cred_in_fs_group(c, o->cgid) || cred_in_fs_group(c, o->gid))
		granted >>= 3;
	return (want & ~granted & 07) && !capable(CAP_IPC_OWNER) ? -EACCES : 0;
}

bool ipc_owner(const struct ipc_obj *o)
{
	uint32_t euid = current_task()->cred.euid;
	return euid == o->cuid || euid == o->uid || capable(CAP_SYS_ADMIN);
}

/* An existing object for flags: -EEXIST for IPC_CREAT|IPC_EXCL, the kind's check, then the
 * permission the low mode bits ask for (Linux's ipcget_public). */
static long get_existing(struct ipc_obj *o, int flags, const struct ipc_get_ops *ops, void *arg)
{
	if ((flags & IPC_CREAT) && (flags & IPC_EXCL))
		return -EEXIST;
	int err = ops->more ? ops->more(o, arg) : 0;
	if (!err)
		err = ipc_perms(o, (unsigned)flags & IPC_MODE_BITS);
	return err ? err : o->id;
}

long ipc_get(struct ipc_table *t, int key, int flags, const struct ipc_get_ops *ops, void *arg)
{
	int err;
	struct ipc_obj *fresh = NULL;
	for (;;) {
		spin_lock(&t->lock);
		struct ipc_obj *o = ipc_find_key(t, key);
		long r;
		if (o)
			r = get_existing(o, flags, ops, arg);
		else if (key != IPC_PRIVATE && !(flags & IPC_CREAT))
			r = -ENOENT;
		else if (!fresh)
			r = 1; /* allocate outside the lock, then look again */
		else {
			fresh->key = key;
			fresh->mode = (unsigned)flags & IPC_MODE_BITS;
			r = ipc_add(t, fresh);
			if (r >= 0)
				fresh = NULL;
		}
		spin_unlock(&t->lock);
		if (r != 1) {
			if (fresh)
				ops->discard(fresh);
			return r;
		}
		fresh = ops->prepare(arg, &err);
		if (!fresh)
			return err;
	}
}

void ipc_fill_perm(const struct ipc_obj *o, struct ipc64_perm *out)
{
	*out = (struct ipc64_perm){.key = o->key,
				   .uid = o->uid,
				   .gid = o->gid,
				   .cuid = o->cuid,
				   .cgid = o->cgid,
				   .mode = o->mode,
				   .seq = o->seq};
}

void ipc_set_perm(struct ipc_obj *o, const struct ipc64_perm *in)
{
	o->uid = in->uid;
	o->gid = in->gid;
	o->mode = (o->mode & ~IPC_MODE_BITS) | (in->mode & IPC_MODE_BITS);
}

int64_t ipc_now(void)
{
	return (int64_t)(arch_time_ns() / 1000000000ull);
}

void ipc_init(void)
{
	shm_init();
	sem_init();
}
