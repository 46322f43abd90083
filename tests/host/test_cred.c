/* Tests of the credential rules (kernel/proc/cred.c) against the cases Linux's kernel/sys.c
 * and kernel/signal.c decide: a root that drops to a user for good, a setuid program that
 * switches between its real and saved ids, seteuid through setreuid (the saved id follows)
 * and through setresuid (it does not), every EPERM leaving the ids unchanged, the invalid id
 * -1, setfsuid's "old value back", supplementary groups kept sorted and shared by fork,
 * who may signal, reschedule and look into whom (kernel/ptrace.c), the capability sets the ids
 * imply (security/commoncap.c), and what exec of a set-ID program gives (fs/exec.c). */
#include "../../include/cred.h"
#include "../../include/kerrno.h"
#include "unit.h"
#include "vm_testlib.h"
#include <string.h>

#define NONE CRED_INVALID_ID

static struct cred ids(uint32_t r, uint32_t e, uint32_t s)
{
	struct cred c = {
	    .uid = r, .euid = e, .suid = s, .fsuid = e, .gid = r, .egid = e, .sgid = s, .fsgid = e};
	return c;
}

static bool uids(const struct cred *c, uint32_t r, uint32_t e, uint32_t s, uint32_t fs)
{
	return c->uid == r && c->euid == e && c->suid == s && c->fsuid == fs;
}

static bool gids(const struct cred *c, uint32_t r, uint32_t e, uint32_t s, uint32_t fs)
{
	return c->gid == r && c->egid == e && c->sgid == s && c->fsgid == fs;
}

TEST(cred_root_drops_to_a_user_for_good)
{
	struct cred c = ids(0, 0, 0);
	CHECK_EQ(cred_setgid(&c, 1000, true), 0);
	CHECK(gids(&c, 1000, 1000, 1000, 1000));
	CHECK_EQ(cred_setuid(&c, 1000, true), 0);
	CHECK(uids(&c, 1000, 1000, 1000, 1000));
	CHECK_EQ(cred_setuid(&c, 0, false), -EPERM);
	CHECK_EQ(cred_setreuid(&c, 0, NONE, false), -EPERM);
	CHECK_EQ(cred_setresuid(&c, NONE, 0, NONE, false), -EPERM);
	CHECK(uids(&c, 1000, 1000, 1000, 1000));
}

TEST(cred_setuid_program_switches_between_real_and_saved)
{
	struct cred c = ids(1000, 2000, 2000); /* a program setuid to user 2000, run by 1000 */
	CHECK_EQ(cred_setuid(&c, 1000, false), 0);
	CHECK(uids(&c, 1000, 1000, 2000, 1000)); /* without the capability only euid moves */
	CHECK_EQ(cred_setuid(&c, 2000, false), 0);
	CHECK(uids(&c, 1000, 2000, 2000, 2000));
	CHECK_EQ(cred_setuid(&c, 3000, false), -EPERM);
	CHECK(uids(&c, 1000, 2000, 2000, 2000));
	struct cred r = ids(1000, 0, 0); /* setuid root: the capability sets all three */
	CHECK_EQ(cred_setuid(&r, 1000, true), 0);
	CHECK(uids(&r, 1000, 1000, 1000, 1000));
}

TEST(cred_seteuid_by_setreuid_moves_the_saved_id)
{
	struct cred c = ids(0, 0, 0);
	CHECK_EQ(cred_setreuid(&c, NONE, 1000, true), 0);
	CHECK(uids(&c, 0, 1000, 1000, 1000));		/* euid != old ruid: suid follows */
	CHECK_EQ(cred_setreuid(&c, NONE, 0, false), 0); /* 0 is still the real id */
	CHECK(uids(&c, 0, 0, 1000, 0));			/* back to the real id: suid stays */
	CHECK_EQ(cred_setreuid(&c, 1000, 1000, true), 0);
	CHECK(uids(&c, 1000, 1000, 1000, 1000));
	struct cred u = ids(1000, 1000, 1000);
	CHECK_EQ(cred_setreuid(&u, 2000, NONE, false), -EPERM);
	CHECK_EQ(cred_setreuid(&u, NONE, 2000, false), -EPERM);
	CHECK(uids(&u, 1000, 1000, 1000, 1000));
	struct cred w = ids(1000, 2000, 3000); /* swap real and effective: allowed */
	CHECK_EQ(cred_setreuid(&w, 2000, 1000, false), 0);
	CHECK(uids(&w, 2000, 1000, 1000, 1000));
}

TEST(cred_seteuid_by_setresuid_keeps_the_saved_id)
{
	struct cred c = ids(0, 0, 0);
	CHECK_EQ(cred_setresuid(&c, NONE, 1000, NONE, true), 0);
	CHECK(uids(&c, 0, 1000, 0, 1000));
	CHECK_EQ(cred_setresuid(&c, NONE, 0, NONE, false), 0);
	CHECK(uids(&c, 0, 0, 0, 0));
	CHECK_EQ(cred_setresuid(&c, 1, 2, 3, true), 0);
	CHECK(uids(&c, 1, 2, 3, 2));
	CHECK_EQ(cred_setresuid(&c, 3, 1, 2, false), 0); /* a permutation is always allowed */
	CHECK(uids(&c, 3, 1, 2, 1));
	CHECK_EQ(cred_setresuid(&c, NONE, NONE, 4, false), -EPERM);
	CHECK(uids(&c, 3, 1, 2, 1));
	CHECK_EQ(cred_setresuid(&c, NONE, NONE, NONE, false), 0);
	CHECK(uids(&c, 3, 1, 2, 1));
}

TEST(cred_group_transitions_mirror_the_user_ones)
{
	struct cred c = ids(100, 200, 200);
	CHECK_EQ(cred_setgid(&c, 100, false), 0);
	CHECK(gids(&c, 100, 100, 200, 100));
	CHECK_EQ(cred_setgid(&c, 300, false), -EPERM);
	CHECK_EQ(cred_setregid(&c, NONE, 200, false), 0);
	CHECK(gids(&c, 100, 200, 200, 200));
	CHECK_EQ(cred_setregid(&c, 300, NONE, false), -EPERM);
	CHECK_EQ(cred_setresgid(&c, 200, 100, 100, false), 0);
	CHECK(gids(&c, 200, 100, 100, 100));
	CHECK_EQ(cred_setresgid(&c, NONE, 5, NONE, false), -EPERM);
	CHECK_EQ(cred_setresgid(&c, NONE, 5, NONE, true), 0);
	CHECK(gids(&c, 200, 5, 100, 5));
}

TEST(cred_invalid_id_is_einval_or_unchanged)
{
	struct cred c = ids(0, 0, 0);
	CHECK_EQ(cred_setuid(&c, NONE, true), -EINVAL);
	CHECK_EQ(cred_setgid(&c, NONE, true), -EINVAL);
	CHECK_EQ(cred_setreuid(&c, NONE, NONE, true), 0);
	CHECK(uids(&c, 0, 0, 0, 0));
	CHECK_EQ(cred_setfsuid(&c, NONE, true), 0); /* the usual way to read fsuid */
	CHECK_EQ(c.fsuid, 0);
}

TEST(cred_setfsuid_gives_the_old_value_back)
{
	struct cred c = ids(1000, 1000, 2000);
	CHECK_EQ(cred_setfsuid(&c, 2000, false), 1000); /* the saved id: allowed */
	CHECK_EQ(c.fsuid, 2000);
	CHECK_EQ(cred_setfsuid(&c, 0, false), 2000); /* not one of them: unchanged */
	CHECK_EQ(c.fsuid, 2000);
	CHECK_EQ(cred_setfsuid(&c, 0, true), 2000);
	CHECK_EQ(c.fsuid, 0);
	CHECK_EQ(cred_setfsgid(&c, 2000, false), 1000);
	CHECK_EQ(c.fsgid, 2000);
	CHECK_EQ(cred_setfsgid(&c, 7, false), 2000);
	CHECK_EQ(c.fsgid, 2000);
}

TEST(cred_groups_sorted_shared_and_bounded)
{
	vt_start(); /* the kernel heap the lists live in */
	struct cred c = ids(1000, 1000, 1000);
	uint32_t v[] = {50, 3, 50, 10};
	REQUIRE(cred_set_groups(&c, v, 4) == 0);
	CHECK_EQ(c.groups->n, 4); /* duplicates stay, as Linux's getgroups shows them */
	CHECK(c.groups->gid[0] == 3 && c.groups->gid[1] == 10 && c.groups->gid[3] == 50);
	CHECK(cred_in_group(&c, 10) && cred_in_group(&c, 50) && cred_in_group(&c, 1000));
	CHECK(!cred_in_group(&c, 4) && !cred_in_group(&c, 0));
	struct cred child;
	cred_copy(&child, &c);
	CHECK(child.groups == c.groups && c.groups->refs == 2);
	uint32_t bad[] = {1, NONE};
	CHECK_EQ(cred_set_groups(&child, bad, 2), -EINVAL);
	CHECK(child.groups == c.groups); /* unchanged on error */
	CHECK_EQ(cred_set_groups(&child, v, NGROUPS_MAX + 1), -EINVAL);
	CHECK_EQ(cred_set_groups(&child, NULL, 0), 0);
	CHECK(child.groups == NULL && c.groups->refs == 1);
	CHECK(cred_in_group(&c, 3));
	cred_release(&c);
	cred_release(&child);
	CHECK(c.groups == NULL);
	vt_check_clean(); /* the lists are freed with their last holder */
}

TEST(cred_large_group_list_sorts)
{
	enum { N = 5000 };
	static uint32_t v[N];
	vt_start();
	for (uint32_t i = 0; i < N; i++)
		v[i] = (i * 7919u) % N; /* a permutation */
	struct cred c = ids(0, 0, 0);
	REQUIRE(cred_set_groups(&c, v, N) == 0);
	bool sorted = true;
	for (uint32_t i = 0; i < N; i++)
		sorted &= c.groups->gid[i] == i;
	CHECK(sorted);
	CHECK(cred_in_group(&c, N - 1) && !cred_in_group(&c, N));
	cred_release(&c);
	vt_check_clean();
}

TEST(cred_signal_and_owner_rules)
{
	struct cred user = ids(1000, 1000, 1000), root = ids(0, 0, 0);
	struct cred other = ids(2000, 2000, 2000);
	CHECK(cred_may_signal(&user, &user));
	CHECK(!cred_may_signal(&user, &root));
	CHECK(!cred_may_signal(&user, &other));
	CHECK(cred_may_signal(&root, &other)); /* CAP_KILL */
	struct cred saved_is_mine = ids(2000, 2000, 1000);
	CHECK(cred_may_signal(&user, &saved_is_mine));
	struct cred euid_is_mine = ids(2000, 1000, 2000); /* the target's euid does not count */
	CHECK(!cred_may_signal(&user, &euid_is_mine));
	struct cred setuid_sender = ids(1000, 2000, 2000); /* its euid matches other's real id */
	CHECK(cred_may_signal(&setuid_sender, &other));
	CHECK(cred_same_owner(&user, &euid_is_mine));
	CHECK(!cred_same_owner(&user, &saved_is_mine));
	CHECK(cred_same_owner(&setuid_sender, &other));
}

TEST(cred_capability_sets_follow_the_ids)
{
	struct cred_caps k;
	struct cred root = ids(0, 0, 0), user = ids(1000, 1000, 1000);
	cred_caps(&root, &k);
	CHECK(k.permitted == CAP_FULL_SET && k.effective == CAP_FULL_SET);
	CHECK(k.bounding == CAP_FULL_SET && k.inheritable == 0 && k.ambient == 0);
	cred_caps(&user, &k);
	CHECK(k.permitted == 0 && k.effective == 0 && k.bounding == CAP_FULL_SET);
	struct cred seteuid = ids(0, 1000, 0); /* root that set its euid aside */
	cred_caps(&seteuid, &k);
	CHECK(k.permitted == CAP_FULL_SET && k.effective == 0);
	seteuid.fsuid = 0; /* setfsuid(0): the file-system capabilities come back alone */
	cred_caps(&seteuid, &k);
	CHECK(k.effective == CAP_FS_SET);
	root.fsuid = 1000; /* setfsuid(1000) as root: they go */
	cred_caps(&root, &k);
	CHECK(k.effective == (CAP_FULL_SET & ~CAP_FS_SET));
}

TEST(cred_may_access_needs_all_ids_and_dumpable)
{
	struct cred user = ids(1000, 1000, 1000), root = ids(0, 0, 0);
	struct cred setuid_root = ids(1000, 0, 0), other = ids(2000, 2000, 2000);
	CHECK(cred_may_access(&user, &user, true, true));
	CHECK(!cred_may_access(&user, &user, true, false)); /* not dumpable: CAP_SYS_PTRACE */
	CHECK(!cred_may_access(&user, &root, true, true));
	CHECK(!cred_may_access(&user, &setuid_root, true, true)); /* every id must match */
	CHECK(!cred_may_access(&user, &other, true, true));
	CHECK(cred_may_access(&root, &other, true, false));
	struct cred fs_other = user;
	fs_other.fsuid = fs_other.fsgid = 2000; /* with fscreds the fs ids speak */
	CHECK(cred_may_access(&fs_other, &other, true, true));
	CHECK(!cred_may_access(&fs_other, &other, false, true));
	struct cred group_other = user;
	group_other.gid = 5; /* the target's real gid differs from ours */
	CHECK(!cred_may_access(&user, &group_other, true, true));
}

TEST(cred_exec_of_set_id_programs)
{
	struct cred c = ids(1000, 1000, 1000);
	CHECK(cred_exec(&c, 04000, 0, 0, 0)); /* set-user-ID root: secure */
	CHECK(uids(&c, 1000, 0, 0, 0) && gids(&c, 1000, 1000, 1000, 1000));
	c = ids(1000, 1000, 1000);
	CHECK(cred_exec(&c, 02010, 0, 50, 0)); /* set-group-ID, group-executable */
	CHECK(uids(&c, 1000, 1000, 1000, 1000) && gids(&c, 1000, 50, 50, 50));
	c = ids(1000, 1000, 1000);
	CHECK(!cred_exec(&c, 02000, 0, 50, 0)); /* no group execute: a locking mark */
	CHECK(gids(&c, 1000, 1000, 1000, 1000));
	c = ids(1000, 1000, 1000);
	CHECK(!cred_exec(&c, 04000, 0, 0, CRED_EXEC_NO_NEW_PRIVS));
	CHECK(uids(&c, 1000, 1000, 1000, 1000));
	c = ids(1000, 1000, 1000);
	CHECK(cred_exec(&c, 04000, 0, 0, CRED_EXEC_SHARED_FS)); /* still secure, not raised */
	CHECK(uids(&c, 1000, 1000, 1000, 1000));
	c = ids(0, 0, 0);
	CHECK(!cred_exec(&c, 04000, 0, 0, CRED_EXEC_SHARED_FS)); /* root's own program */
	CHECK(uids(&c, 0, 0, 0, 0));
	c = ids(0, 0, 0);
	CHECK(cred_exec(&c, 04000, 1000, 0, CRED_EXEC_SHARED_FS)); /* CAP_SETUID: no downgrade */
	CHECK(uids(&c, 0, 1000, 1000, 1000));
	c = ids(1000, 0, 0); /* a setuid program that execs a plain one: stays root, secure */
	CHECK(cred_exec(&c, 0, 0, 0, 0) && uids(&c, 1000, 0, 0, 0));
	c = ids(1000, 0, 0);
	CHECK(cred_exec(&c, 0, 0, 0, CRED_EXEC_NO_NEW_PRIVS) && uids(&c, 1000, 1000, 1000, 1000));
	c = ids(1000, 2000, 3000); /* a plain exec makes saved and fs ids the effective ones */
	CHECK(cred_exec(&c, 0, 0, 0, 0) && uids(&c, 1000, 2000, 2000, 2000));
}
