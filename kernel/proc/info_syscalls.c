/* What the system says about itself: uname, sysinfo and getrandom, with Linux's layouts and
 * checks.
 * uname says "Linux": MCRK runs Linux's x86-64 programs, and programs decide what the kernel
 * offers from sysname and from the version number in release, so MCRK gives the Linux
 * version whose ABI it follows, "6.1.0", with "-mcrk" after it (the way distributions add
 * their suffix): a program (or user/utest.h's on_mcrk) that wants to know it runs on MCRK
 * looks for that suffix; version carries "MCRK" too.
 * getrandom is NOT cryptographic: an xorshift stream seeded from the time-stamp counter. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "frame.h"
#include "kerrno.h"
#include "kstring.h"
#include "proc_priv.h"
#include "sig.h"
#include "syscall.h"

#define UTS_LEN 65
#define UNAME_RELEASE "6.1.0-mcrk"
#define GRND_NONBLOCK 0x1
#define GRND_RANDOM 0x2
#define GRND_INSECURE 0x4
#define RANDOM_CHUNK 256
#define INT_MAX_ 2147483647ull
#define SI_LOAD_SHIFT 16
#define FSHIFT 11

static long sys_uname(const struct syscall_args *a)
{
	char u[6][UTS_LEN];
	memset(u, 0, sizeof(u));
	strlcpy(u[0], "Linux", UTS_LEN);
	strlcpy(u[1], "mcrk", UTS_LEN);
	strlcpy(u[2], UNAME_RELEASE, UTS_LEN);
	strlcpy(u[3], "#1 SMP MCRK", UTS_LEN);
	strlcpy(u[4], "x86_64", UTS_LEN);
	strlcpy(u[5], "(none)", UTS_LEN);
	return arch_copy_to_user((void *)a->arg[0], u, sizeof(u)) ? -EFAULT : 0;
}
SYSCALL_DEFINE(63, sys_uname);

/* Linux's struct sysinfo on x86-64 (112 bytes); memory in bytes (mem_unit 1), as Linux
 * reports it on 64-bit. */
struct ksysinfo {
	int64_t uptime;
	uint64_t loads[3];
	uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
	uint8_t _f[4];
};
_Static_assert(sizeof(struct ksysinfo) == 112, "struct sysinfo");

static long sys_sysinfo(const struct syscall_args *a)
{
	struct ksysinfo si;
	struct frame_stats st;
	uint64_t loads[3], ns = arch_time_ns();
	memset(&si, 0, sizeof(si));
	frame_get_stats(&st);
	sched_loadavg(loads);
	si.uptime = (int64_t)(ns / NS_PER_S + (ns % NS_PER_S ? 1 : 0));
	for (int i = 0; i < 3; i++)
		si.loads[i] = loads[i] << (SI_LOAD_SHIFT - FSHIFT);
	si.totalram = st.usable * PAGE_SIZE;
	si.freeram = st.free * PAGE_SIZE;
	si.procs = (uint16_t)MIN(task_count(), 0xffffu); /* threads, as Linux counts */
	si.mem_unit = 1;
	return arch_copy_to_user((void *)a->arg[0], &si, sizeof(si)) ? -EFAULT : 0;
}
SYSCALL_DEFINE(99, sys_sysinfo);

static uint64_t random_state;

/* The next 64 bits of the stream: a xorshift step over a state mixed with the time-stamp
 * counter. Any context; lock-free (a race only mixes two draws). */
static uint64_t random_u64(void)
{
	uint64_t x = __atomic_load_n(&random_state, __ATOMIC_RELAXED);
	x ^= arch_timestamp() * 0x9e3779b97f4a7c15ull;
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	__atomic_store_n(&random_state, x, __ATOMIC_RELAXED);
	return x * 0x2545f4914f6cdd1dull;
}

/* getrandom(buf, count, flags): count bytes (at most INT_MAX), in chunks; a signal between
 * pages stops it early with what was filled, as Linux. */
static long sys_getrandom(const struct syscall_args *a)
{
	uint64_t flags = a->arg[2], n = MIN(a->arg[1], INT_MAX_), done = 0;
	uint8_t *ubuf = (uint8_t *)a->arg[0];
	if (flags & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if ((flags & (GRND_INSECURE | GRND_RANDOM)) == (GRND_INSECURE | GRND_RANDOM))
		return -EINVAL;
	while (done < n) {
		uint64_t buf[RANDOM_CHUNK / 8];
		for (unsigned i = 0; i < ARRAY_SIZE(buf); i++)
			buf[i] = random_u64();
		size_t k = MIN(n - done, sizeof(buf));
		if (arch_copy_to_user(ubuf + done, buf, k))
			return done ? (long)done : -EFAULT;
		done += k;
		if (done % PAGE_SIZE == 0 && done < n && sig_pending(current_task()))
			break;
	}
	return (long)done;
}
SYSCALL_DEFINE(318, sys_getrandom);
