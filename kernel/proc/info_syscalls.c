/* What the system says about itself and how it ends: uname, sysinfo, getrandom, syslog and
 * reboot, with Linux's layouts and checks.
 * uname says "Linux": MCRK runs Linux's x86-64 programs, and programs decide what the kernel
 * offers from sysname and from the version number in release, so MCRK gives the Linux
 * version whose ABI it follows, "6.1.0", with "-mcrk" after it (the way distributions add
 * their suffix): a program (or user/utest.h's on_mcrk) that wants to know it runs on MCRK
 * looks for that suffix; version carries "MCRK" too.
 * getrandom is NOT cryptographic: include/random.h's xorshift stream. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "cred.h"
#include "frame.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"
#include "proc_priv.h"
#include "random.h"
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
		uint8_t buf[RANDOM_CHUNK];
		size_t k = MIN(n - done, sizeof(buf));
		random_bytes(buf, k);
		if (arch_copy_to_user(ubuf + done, buf, k))
			return done ? (long)done : -EFAULT;
		done += k;
		if (done % PAGE_SIZE == 0 && done < n && sig_pending(current_task()))
			break;
	}
	return (long)done;
}
SYSCALL_DEFINE(318, sys_getrandom);

/* ---- syslog (klogctl) ----
 * Linux's actions over MCRK's 64 KiB log ring: READ_ALL (3) gives the newest text that fits
 * since the last CLEAR, starting at a line; READ_CLEAR (4) then clears; READ (2) takes
 * unread text and moves on, waiting for some when there is none; SIZE_UNREAD (9) and
 * SIZE_BUFFER (10) say how much. The console actions change which levels the console shows:
 * Linux's console_loglevel n shows levels below n, so n maps to MCRK's printk_set_level(n - 1).
 * Lines carry no "<level>" prefix (MCRK's log keeps the time stamp only). */

#define SYSLOG_ACTION_READ 2
#define SYSLOG_ACTION_READ_ALL 3
#define SYSLOG_ACTION_READ_CLEAR 4
#define SYSLOG_ACTION_CLEAR 5
#define SYSLOG_ACTION_CONSOLE_OFF 6
#define SYSLOG_ACTION_CONSOLE_ON 7
#define SYSLOG_ACTION_CONSOLE_LEVEL 8
#define SYSLOG_ACTION_SIZE_UNREAD 9
#define SYSLOG_ACTION_SIZE_BUFFER 10
#define SYSLOG_POLL_NS (10 * 1000 * 1000)

static uint64_t syslog_read_pos, syslog_clear_pos;
static int saved_console_level = -1;

/* Copy log text from *pos to user memory, at most len bytes. Bytes copied or -EFAULT. */
static long syslog_copy(uint64_t *pos, char *ubuf, uint64_t len, bool line_start)
{
	char k[512];
	uint64_t done = 0;
	while (done < len) {
		size_t n = printk_log_read_at(pos, k, MIN(sizeof(k), len - done), line_start && !done);
		if (!n)
			break;
		if (arch_copy_to_user(ubuf + done, k, n))
			return -EFAULT;
		done += n;
	}
	return (long)done;
}

/* READ: unread text, waiting for some (interruptible). */
static long syslog_read(char *ubuf, uint64_t len)
{
	while (__atomic_load_n(&syslog_read_pos, __ATOMIC_ACQUIRE) >= printk_log_pos())
		if (sleep_ns(SYSLOG_POLL_NS))
			return -ERESTARTSYS;
	uint64_t pos = __atomic_load_n(&syslog_read_pos, __ATOMIC_ACQUIRE);
	long n = syslog_copy(&pos, ubuf, len, false);
	__atomic_store_n(&syslog_read_pos, pos, __ATOMIC_RELEASE);
	return n;
}

static long syslog_console(int type, int64_t len)
{
	if (type == SYSLOG_ACTION_CONSOLE_OFF) {
		if (saved_console_level < 0)
			saved_console_level = printk_get_level();
		printk_set_level(0); /* Linux's minimum_console_loglevel 1: emergencies only */
	} else if (type == SYSLOG_ACTION_CONSOLE_ON) {
		if (saved_console_level >= 0)
			printk_set_level(saved_console_level);
		saved_console_level = -1;
	} else {
		if (len < 1 || len > 8)
			return -EINVAL;
		printk_set_level((int)len - 1);
		saved_console_level = -1;
	}
	return 0;
}

/* syslog(type, buf, len). */
static long sys_syslog(const struct syscall_args *a)
{
	int type = (int)a->arg[0];
	char *ubuf = (char *)a->arg[1];
	int64_t len = (int32_t)a->arg[2];
	uint64_t end = printk_log_pos(), oldest = end - MIN(end, (uint64_t)PRINTK_LOG_BYTES);
	bool reads = type == SYSLOG_ACTION_READ || type == SYSLOG_ACTION_READ_ALL ||
		     type == SYSLOG_ACTION_READ_CLEAR;
	if (reads && (!ubuf || len < 0))
		return -EINVAL;
	if (reads && !len)
		return 0;
	if (reads && ((uint64_t)ubuf >= USER_VA_END || (uint64_t)len > USER_VA_END - (uint64_t)ubuf))
		return -EFAULT;
	uint64_t pos = MAX(syslog_clear_pos, end - MIN(end, (uint64_t)len));
	long n;
	switch (type) {
	case 0: case 1: /* close, open */
		return 0;
	case SYSLOG_ACTION_READ:
		return syslog_read(ubuf, (uint64_t)len);
	case SYSLOG_ACTION_READ_ALL:
	case SYSLOG_ACTION_READ_CLEAR:
		n = syslog_copy(&pos, ubuf, (uint64_t)len, pos > oldest);
		if (n >= 0 && type == SYSLOG_ACTION_READ_CLEAR)
			syslog_clear_pos = end;
		return n;
	case SYSLOG_ACTION_CLEAR:
		syslog_clear_pos = end;
		return 0;
	case SYSLOG_ACTION_CONSOLE_OFF: case SYSLOG_ACTION_CONSOLE_ON: case SYSLOG_ACTION_CONSOLE_LEVEL:
		return syslog_console(type, len);
	case SYSLOG_ACTION_SIZE_UNREAD:
		return (long)(end - MAX(syslog_read_pos, oldest));
	case SYSLOG_ACTION_SIZE_BUFFER:
		return PRINTK_LOG_BYTES;
	default:
		return -EINVAL;
	}
}
SYSCALL_DEFINE(103, sys_syslog);

/* ---- reboot ---- */

#define REBOOT_MAGIC1 0xfee1deadu
#define REBOOT_CMD_RESTART 0x01234567u
#define REBOOT_CMD_HALT 0xcdef0123u
#define REBOOT_CMD_CAD_ON 0x89abcdefu
#define REBOOT_CMD_CAD_OFF 0x00000000u
#define REBOOT_CMD_POWER_OFF 0x4321fedcu
#define REBOOT_CMD_RESTART2 0xa1b2c3d4u

static bool reboot_magic_ok(uint32_t m1, uint32_t m2)
{
	/* Linus Torvalds' birthday and his daughters'. */
	return m1 == REBOOT_MAGIC1 && (m2 == 672274793u || m2 == 85072278u || m2 == 369367448u ||
				       m2 == 537993216u);
}

/* reboot(magic1, magic2, cmd, arg): CAP_SYS_BOOT first, then the magic numbers, as Linux. */
static long sys_reboot(const struct syscall_args *a)
{
	char cmd[256];
	if (!capable(CAP_SYS_BOOT))
		return -EPERM;
	if (!reboot_magic_ok((uint32_t)a->arg[0], (uint32_t)a->arg[1]))
		return -EINVAL;
	switch ((uint32_t)a->arg[2]) {
	case REBOOT_CMD_RESTART:
		printk(KERN_EMERG "reboot: Restarting system\n");
		arch_restart();
	case REBOOT_CMD_RESTART2:
		if (arch_strncpy_from_user(cmd, (const char *)a->arg[3], sizeof(cmd)) == -EFAULT)
			return -EFAULT;
		cmd[sizeof(cmd) - 1] = 0;
		printk(KERN_EMERG "reboot: Restarting system with command '%s'\n", cmd);
		arch_restart();
	case REBOOT_CMD_HALT:
		printk(KERN_EMERG "reboot: System halted\n");
		arch_halt_machine();
	case REBOOT_CMD_POWER_OFF:
		printk(KERN_EMERG "reboot: Power down\n");
		arch_power_off();
	case REBOOT_CMD_CAD_ON: case REBOOT_CMD_CAD_OFF:
		return 0; /* Ctrl-Alt-Del means nothing on a serial console */
	default:
		return -EINVAL;
	}
}
SYSCALL_DEFINE(169, sys_reboot);
