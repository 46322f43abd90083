/* socket and socketpair, for a kernel with no address family: Linux's argument checks, then
 * -EAFNOSUPPORT for every family, as Linux answers for a family it has not built in. Programs
 * expect exactly that when there is no networking: musl's user and group lookups (getpwnam,
 * initgroups) try nscd over a local socket and fall back to /etc/passwd and /etc/group on
 * EAFNOSUPPORT, but fail on ENOSYS. */
#include "kerrno.h"
#include "syscall.h"

#define SOCK_TYPE_MASK 0xf
#define SOCK_NONBLOCK 04000
#define SOCK_CLOEXEC 02000000
#define SOCK_MAX 11 /* SOCK_PACKET + 1 */
#define AF_MAX 46

static long check_socket(uint64_t family, uint64_t type)
{
	int t = (int)type, f = (int)family;
	if (t & ~SOCK_TYPE_MASK & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	if (f < 0 || f >= AF_MAX)
		return -EAFNOSUPPORT;
	if ((t & SOCK_TYPE_MASK) >= SOCK_MAX)
		return -EINVAL;
	return -EAFNOSUPPORT; /* no family is registered */
}

static long sys_socket(const struct syscall_args *a)
{
	return check_socket(a->arg[0], a->arg[1]);
}
SYSCALL_DEFINE(41, sys_socket);

static long sys_socketpair(const struct syscall_args *a)
{
	return check_socket(a->arg[0], a->arg[1]);
}
SYSCALL_DEFINE(53, sys_socketpair);
