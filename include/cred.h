/* Credentials, with Linux's model: every thread has real, effective, saved and filesystem
 * user and group ids and a list of supplementary groups. The effective ids decide what a
 * thread may do, the filesystem ids what files it may touch, the real and saved ids what it
 * may switch back to. The capabilities follow from the ids as on Linux without file
 * capabilities or user namespaces: effective uid 0 holds them all, fsuid 0 the file-system
 * ones (cred_caps); docs/security.md lists what each one guards. kernel/proc/cred.c holds the
 * rules (fork, the set*id transitions, exec of set-ID programs, who may signal or look into
 * whom). */
#pragma once
#include "types.h"

#define NGROUPS_MAX 65536	    /* Linux's limit for setgroups */
#define CRED_INVALID_ID 0xffffffffu /* (uid_t)-1: "unchanged" in set*id, never a valid id */

/* The capabilities MCRK checks, with Linux's numbers (include/uapi/linux/capability.h). */
enum capability {
	CAP_CHOWN = 0,	      /* give a file to another owner or group */
	CAP_DAC_OVERRIDE = 1, /* read, write and run past the mode bits */
	CAP_FOWNER = 3,	      /* act as the owner of any file */
	CAP_FSETID = 4,	      /* keep set-ID bits on write and chmod */
	CAP_KILL = 5,	      /* signal a process of another user */
	CAP_SETGID = 6,	      /* any set*gid transition, setgroups */
	CAP_SETUID = 7,	      /* any set*uid transition */
	CAP_IPC_LOCK = 14,    /* mlock past RLIMIT_MEMLOCK */
	CAP_IPC_OWNER = 15,   /* SysV IPC objects of any mode */
	CAP_SYS_CHROOT = 18,  /* chroot(2) */
	CAP_SYS_PTRACE = 19,  /* look into another user's process (/proc/PID/pagemap, maps) */
	CAP_SYS_ADMIN = 21,   /* inject and offline memory errors, read PFNs; mount, umount */
	CAP_SYS_BOOT = 22,    /* reboot(2) */
	CAP_SYS_NICE = 23,    /* CPU affinity of another user's thread */
	CAP_SYS_RESOURCE = 24, /* raise a hard resource limit; limits of another user */
	CAP_MKNOD = 27	       /* mknod of a device node */
};

#define CAP_FULL_SET 0x000001ffffffffffull /* Linux 6.1's 41 capabilities (CAP_LAST_CAP 40) */
/* The file-system capabilities (Linux's CAP_FS_SET): CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH,
 * FOWNER, FSETID, LINUX_IMMUTABLE, MKNOD, MAC_OVERRIDE. They follow the fsuid. */
#define CAP_FS_SET 0x000000010800021full

/* A thread's capability sets as /proc/PID/status shows them (Linux's cred fields). */
struct cred_caps {
	uint64_t inheritable, permitted, effective, bounding, ambient;
};

/* The shared, immutable list of supplementary groups (sorted, as Linux keeps it); a change
 * builds a new one. */
struct group_info {
	int32_t refs; /* atomic */
	uint32_t n;
	uint32_t gid[];
};

/* One kind of id (user or group): real, effective, saved and filesystem. */
struct cred_ids {
	uint32_t real, eff, saved, fs;
};

struct cred {
	union {
		struct {
			uint32_t uid, euid, suid, fsuid;
		};
		struct cred_ids user; /* the same four, for the rules shared with groups */
	};
	union {
		struct {
			uint32_t gid, egid, sgid, fsgid;
		};
		struct cred_ids group;
	};
	struct group_info *groups; /* NULL: no supplementary groups */
};

/* A thread writes only its own credentials (set*id run in the calling thread, as Linux's
 * syscalls do; libc makes every thread call them). Others read single ids (kill, affinity
 * permission); a torn read is impossible for aligned 32-bit words. */

/* Whether the calling thread has capability cap: in its effective set (cred_caps). Process
 * context. */
bool capable(enum capability cap);
/* The capability sets Linux gives a thread with c's ids when no file has capabilities:
 * permitted is every capability while any of the real, effective and saved uids is 0;
 * effective is every capability while the effective uid is 0, less CAP_FS_SET while the fsuid
 * is not 0, plus CAP_FS_SET (from permitted) while it is (Linux's cap_emulate_setxuid and
 * the fsuid rule of cap_task_fix_setuid); the bounding set is full, inheritable and ambient
 * empty. */
void cred_caps(const struct cred *c, struct cred_caps *out);
/* Whether c holds gid as its effective or a supplementary group. */
bool cred_in_group(const struct cred *c, uint32_t gid);
/* Whether c holds gid as its filesystem or a supplementary group (Linux's in_group_p: what
 * file permission checks use). */
bool cred_in_fs_group(const struct cred *c, uint32_t gid);
/* dst becomes a copy of src (fork, clone, the boot tasks), sharing its group list. */
void cred_copy(struct cred *dst, const struct cred *src);
/* Drop c's reference to its group list (task teardown). Any context that may kfree. */
void cred_release(struct cred *c);
/* Whether a thread with credentials `from` may signal one with `to` by Linux's uid rule
 * (kill_ok_by_cred): the sender's real or effective uid is the target's real or saved uid,
 * or the sender has CAP_KILL. */
bool cred_may_signal(const struct cred *from, const struct cred *to);
/* Linux's __ptrace_may_access for a thread of another process (the caller checks a thread of
 * its own process first: always allowed). The caller's fsuid and fsgid (fscreds; else its
 * real ids) must be each of the target's real, effective and saved ids, or the caller has
 * CAP_SYS_PTRACE; and a target that is not dumpable needs CAP_SYS_PTRACE too. */
bool cred_may_access(const struct cred *from, const struct cred *to, bool fscreds,
		     bool to_dumpable);
/* execve's new credentials (Linux's bprm_fill_uid and cap_bprm_creds_from_file): a program
 * with S_ISUID (setid_mode, 0 on a nosuid mount) runs with its owner (uid) as effective uid,
 * one with S_ISGID and S_IXGRP with its group (gid) as effective gid; then the saved and
 * filesystem ids become the effective ones. With CRED_EXEC_NO_NEW_PRIVS the set-ID bits are
 * ignored, and an exec that would change the effective ids or gain capabilities while unsafe
 * (no_new_privs, or the fs context shared with another process) keeps the real ids unless
 * the caller has CAP_SETUID. Changes c in place; returns whether the exec is secure
 * (AT_SECURE: the effective ids differ from the real ones the caller had). */
#define CRED_EXEC_NO_NEW_PRIVS 1u
#define CRED_EXEC_SHARED_FS 2u
bool cred_exec(struct cred *c, unsigned setid_mode, uint32_t uid, uint32_t gid, unsigned unsafe);
/* Whether `from` owns the thread with `to` for scheduling (Linux's check_same_owner):
 * same effective uid, or from's effective uid is to's real one. */
bool cred_same_owner(const struct cred *from, const struct cred *to);

/* The set*id transitions of Linux's kernel/sys.c, on c in place. Each takes the ids as the
 * syscall got them (CRED_INVALID_ID: unchanged where the call allows it) and whether the
 * caller has the capability (CAP_SETUID or CAP_SETGID). 0, -EINVAL for an invalid id or
 * -EPERM; c is unchanged on error. */
int cred_setuid(struct cred *c, uint32_t uid, bool cap);
int cred_setreuid(struct cred *c, uint32_t ruid, uint32_t euid, bool cap);
int cred_setresuid(struct cred *c, uint32_t ruid, uint32_t euid, uint32_t suid, bool cap);
int cred_setgid(struct cred *c, uint32_t gid, bool cap);
int cred_setregid(struct cred *c, uint32_t rgid, uint32_t egid, bool cap);
int cred_setresgid(struct cred *c, uint32_t rgid, uint32_t egid, uint32_t sgid, bool cap);
/* setfsuid/setfsgid: always the old id; the new one is taken when it is one of the real,
 * effective, saved or current fs ids, or cap. An invalid id changes nothing. */
uint32_t cred_setfsuid(struct cred *c, uint32_t fsuid, bool cap);
uint32_t cred_setfsgid(struct cred *c, uint32_t fsgid, bool cap);
/* Replace c's supplementary groups by n gids (sorted here). 0, -EINVAL for
 * n > NGROUPS_MAX or an invalid gid, -ENOMEM. */
int cred_set_groups(struct cred *c, const uint32_t *gids, size_t n);
