/* Private to kernel/ipc: what SysV shared memory (shm.c) and semaphores (sem.c) share, as
 * Linux's ipc/util.c: a table of objects per kind, found by key (shmget, semget) or by id (the
 * rest), and Linux's permission rules on them (ipcperms, the owner check of IPC_SET and
 * IPC_RMID). An id is (sequence << 15) + slot, as Linux makes them, so a removed object's id
 * does not name the next object in its slot.
 * Lock: each table has one spinlock that also guards its objects' fields; nothing sleeps or
 * takes mm->lock under it (a mapping's release may take it under mm->lock). */
#pragma once
#include "cred.h"
#include "kerrno.h"
#include "spinlock.h"
#include "types.h"

#define IPC_PRIVATE 0
#define IPC_CREAT 01000
#define IPC_EXCL 02000
#define IPC_NOWAIT 04000
#define IPC_RMID 0
#define IPC_SET 1
#define IPC_STAT 2
#define IPC_MODE_BITS 0777
#define IPC_MNI 4096	 /* objects of a kind (Linux's SHMMNI; fewer than its SEMMNI) */
#define IPC_SEQ_SHIFT 15 /* Linux's IPCMNI_SHIFT */

/* The common part of every object (Linux's kern_ipc_perm). */
struct ipc_obj {
	int id, key;
	uint32_t uid, gid, cuid, cgid;
	unsigned mode; /* permission bits, and a kind's own flags above them */
	uint16_t seq;
};

struct ipc_table {
	spinlock_t lock;
	uint16_t seq;
	unsigned used;
	struct ipc_obj *slot[IPC_MNI];
};

/* Linux's struct ipc64_perm (48 bytes on x86-64). */
struct ipc64_perm {
	int32_t key;
	uint32_t uid, gid, cuid, cgid, mode;
	uint16_t seq, pad;
	uint64_t unused[2];
};

/* The object with key in t (not IPC_PRIVATE), or NULL. t->lock held. */
struct ipc_obj *ipc_find_key(struct ipc_table *t, int key);
/* The object whose id is id, or NULL. t->lock held. */
struct ipc_obj *ipc_find_id(struct ipc_table *t, int id);
/* Put o (key and mode set) into a free slot, owned by the caller's effective ids: its id, or
 * -ENOSPC when the table is full. t->lock held. */
int ipc_add(struct ipc_table *t, struct ipc_obj *o);
/* Take o out of t (it can no longer be found). t->lock held. */
void ipc_remove(struct ipc_table *t, struct ipc_obj *o);
/* Linux's ipcperms: may the caller have access flag (the 0444/0222 bits wanted) to o? 0 or
 * -EACCES (CAP_IPC_OWNER passes). */
int ipc_perms(const struct ipc_obj *o, unsigned flag);
/* Whether the caller owns o or created it, or has CAP_SYS_ADMIN (IPC_SET, IPC_RMID). */
bool ipc_owner(const struct ipc_obj *o);
/* The common part of shmget/semget (Linux's ipcget): the id of the object key names (checked
 * by more, which may be NULL, then by permission), or of a new one made by make when flags
 * allow; -ENOENT, -EEXIST, -EACCES, -EINVAL, or make's error. make and more run with t->lock
 * held (make gets the object to fill, already allocated by prepare outside it). */
struct ipc_get_ops {
	struct ipc_obj *(*prepare)(void *arg, int *err); /* allocate, unlocked */
	int (*more)(struct ipc_obj *o, void *arg);	 /* an existing object's own check */
	void (*discard)(struct ipc_obj *o);		 /* free an unused prepared one */
};
long ipc_get(struct ipc_table *t, int key, int flags, const struct ipc_get_ops *ops, void *arg);
/* Fill a user ipc64_perm from o. */
void ipc_fill_perm(const struct ipc_obj *o, struct ipc64_perm *out);
/* IPC_SET: owner, group and permission bits from in. */
void ipc_set_perm(struct ipc_obj *o, const struct ipc64_perm *in);
/* Register /proc/sysvipc/shm and /proc/sysvipc/sem (shm.c, sem.c). Boot. */
void shm_init(void);
void sem_init(void);
/* Seconds since the boot (MCRK's epoch for every time it reports). */
int64_t ipc_now(void);
