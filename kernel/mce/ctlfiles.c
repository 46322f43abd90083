/* Run-time control files of the machine-check code, at the paths Linux uses, so that tools and
 * tests written for Linux find them:
 *   /sys/devices/system/machinecheck/machinecheck0/KNOB   the policy knobs (read: the value and
 *       a newline; write: one number by the control-file rules of include/ctl.h; a value out
 *       of range is -EINVAL and changes nothing). Linux's units: check_interval in seconds,
 *       monarch_timeout in microseconds; MCRK's own knobs keep their boot names. print_all
 *       (Linux's) prints the corrected errors the collector keeps off the console. fake_panic
 *       also covers the panic memory_failure decides (vm.memory_failure_recovery=0).
 *   /sys/kernel/debug/mce-inject/{status,misc,addr,mcgstatus,cpu,bank,flags}   Linux's
 *       injector interface: set the fields, then writing "bank" injects one record on "cpu"
 *       through the software injector (kernel/mce/inject.c). flags: "sw" or "hw" (both write
 *       the bank registers; #MC for an uncorrected status, else a poll), "th" (the threshold
 *       interrupt: CMCI here), or mce-inject keywords EXCP POLL CMCI NOBROADCAST.
 *   /sys/kernel/debug/mce-inject/text   (MCRK) a whole mce-inject text, injected as written.
 *   /sys/kernel/debug/mce/counters   "name value" lines of struct mce_stats.
 *   /sys/kernel/debug/mce/severities-coverage   "hits<TAB>message" per grading row, as Linux.
 * The files are one ctl_file table; mce_ctl_show/mce_ctl_store reach a row by path (host-tested)
 * and mce_ctl_init registers the table with the VFS. Everything here runs in process context. */
#include "arch/cpu.h"
#include "arch/mca.h"
#include "ctl.h"
#include "kerrno.h"
#include "kstring.h"
#include "mce_priv.h"
#include "memory_failure.h"
#include "printk.h"

#define MC_DIR "/sys/devices/system/machinecheck/machinecheck0/"
#define INJ_DIR "/sys/kernel/debug/mce-inject/"
#define DBG_DIR "/sys/kernel/debug/mce/"
#define VALUE_MAX CTL_VALUE_MAX /* longest flags word list the injector takes */
#define MS_PER_S 1000ull
#define US_PER_MS 1000ull
#define MAX_INTERVAL_S 86400ull	   /* a day */
#define MAX_MONARCH_US 60000000ull /* a minute */
#define MAX_STORM_MS 3600000ull	   /* an hour */
#define MAX_STORM_THRESHOLD 1000000ull

/* The injector's pending record (the debugfs fields) and its delivery flags. */
static struct {
	uint64_t status, misc, addr, mcgstatus, cpu;
	uint32_t flags;
	char flags_text[VALUE_MAX];
} inj = {.flags_text = "sw"};

static int show_u64(const struct ctl_file *f, struct ctl_buf *b)
{
	uint64_t v = __atomic_load_n((uint64_t *)f->field, __ATOMIC_RELAXED);

	ctl_printf(b, "%llu\n", (unsigned long long)((v + f->unit - 1) / f->unit));
	return 0;
}

static long store_u64(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t v;
	int err = ctl_parse_range(buf, n, 0, f->max, &v);

	if (err)
		return err;
	__atomic_store_n((uint64_t *)f->field, v * f->unit, __ATOMIC_RELAXED);
	return (long)n;
}

/* monarch_timeout is in microseconds; MCRK keeps milliseconds (a write rounds up). */
static int show_us(const struct ctl_file *f, struct ctl_buf *b)
{
	uint64_t ms = __atomic_load_n((uint64_t *)f->field, __ATOMIC_RELAXED);

	ctl_printf(b, "%llu\n", (unsigned long long)(ms * US_PER_MS));
	return 0;
}

static long store_us(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t us;
	int err = ctl_parse_range(buf, n, 0, f->max, &us);

	if (err)
		return err;
	__atomic_store_n((uint64_t *)f->field, (us + US_PER_MS - 1) / US_PER_MS, __ATOMIC_RELAXED);
	return (long)n;
}

static int show_u32(const struct ctl_file *f, struct ctl_buf *b)
{
	ctl_printf(b, "%u\n", __atomic_load_n((uint32_t *)f->field, __ATOMIC_RELAXED));
	return 0;
}

static long store_u32(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t v;
	int err = ctl_parse_range(buf, n, 1, f->max, &v);

	if (err)
		return err;
	__atomic_store_n((uint32_t *)f->field, (uint32_t)v, __ATOMIC_RELAXED);
	return (long)n;
}

/* Booleans read 0 or 1 and take only 0 or 1. unit 0 marks an inverted knob (cmci_disabled). */
static int show_bool(const struct ctl_file *f, struct ctl_buf *b)
{
	bool v = __atomic_load_n((bool *)f->field, __ATOMIC_RELAXED);

	ctl_printf(b, "%d\n", f->unit ? v : !v);
	return 0;
}

static long store_bool(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t v;
	int err = ctl_parse_range(buf, n, 0, 1, &v);

	if (err)
		return err;
	__atomic_store_n((bool *)f->field, f->unit ? v == 1 : v == 0, __ATOMIC_RELAXED);
	return (long)n;
}

/* cmci_disabled: also switch CMCI on or off on every CPU. */
static long store_cmci_disabled(const struct ctl_file *f, const char *buf, size_t n)
{
	long rc = store_bool(f, buf, n);

	if (rc < 0)
		return rc;
	for (unsigned c = 0; c < arch_cpu_count(); c++)
		arch_mca_on_cpu(c, mce_cmci_reconfigure, NULL, true);
	return rc;
}

/* fake_panic: memory_failure's panic (vm.memory_failure_recovery=0) follows it too. */
static long store_fake_panic(const struct ctl_file *f, const char *buf, size_t n)
{
	long rc = store_bool(f, buf, n);

	if (rc >= 0)
		mf_set_fake_panic(mce_cfg.fake_panic);
	return rc;
}

/* Injector fields: hexadecimal as Linux shows them; any C-style number written. */
static int show_hex(const struct ctl_file *f, struct ctl_buf *b)
{
	ctl_printf(b, "%llx\n", (unsigned long long)*(uint64_t *)f->field);
	return 0;
}

static long store_hex(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t v;
	int err = ctl_parse_range(buf, n, 0, f->max, &v);

	if (err)
		return err;
	*(uint64_t *)f->field = v;
	return (long)n;
}

struct flag_word {
	const char *name;
	uint32_t flags;
};
static const struct flag_word flag_words[] = {
    {"sw", 0},
    {"hw", 0},
    {"th", MCE_INJ_CMCI},
    {"excp", MCE_INJ_EXCP},
    {"poll", MCE_INJ_POLL},
    {"cmci", MCE_INJ_CMCI},
    {"nobroadcast", MCE_INJ_NOBROADCAST},
};

static bool word_eq(const char *w, size_t n, const char *lower)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = w[i] >= 'A' && w[i] <= 'Z' ? (char)(w[i] - 'A' + 'a') : w[i];

		if (c != lower[i])
			return false;
	}
	return lower[i] == '\0';
}

/* flags: space-separated words of flag_words; unknown words (and "df") are -EINVAL. */
static long store_flags(const struct ctl_file *f, const char *buf, size_t n)
{
	char v[VALUE_MAX];
	uint32_t flags = 0;
	const char *p;

	(void)f;
	if (ctl_take_word(buf, n, v, sizeof v))
		return -EINVAL;
	for (p = v; *p;) {
		size_t len = 0, i;

		while (*p == ' ' || *p == '\t')
			p++;
		while (p[len] && p[len] != ' ' && p[len] != '\t')
			len++;
		if (!len)
			break;
		for (i = 0; i < ARRAY_SIZE(flag_words); i++)
			if (word_eq(p, len, flag_words[i].name))
				break;
		if (i == ARRAY_SIZE(flag_words))
			return -EINVAL;
		flags |= flag_words[i].flags;
		p += len;
	}
	inj.flags = flags;
	strlcpy(inj.flags_text, v, sizeof inj.flags_text);
	return (long)n;
}

static int show_flags(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	ctl_printf(b, "%s\n", inj.flags_text);
	return 0;
}

/* bank: check the target, then inject the pending record there. */
static long store_bank(const struct ctl_file *f, const char *buf, size_t n)
{
	struct mce_inj_record r = {.flags = inj.flags};
	uint64_t bank;
	int rc = ctl_parse_u64(buf, n, 0, &bank);

	(void)f;
	if (rc)
		return rc;
	if (bank >= mce_nbanks() || inj.cpu >= arch_cpu_count())
		return -EINVAL;
	r.rec.cpu = (uint32_t)inj.cpu;
	r.rec.bank = (uint8_t)bank;
	r.rec.status = inj.status;
	r.rec.addr = inj.addr;
	r.rec.misc = inj.misc;
	r.rec.mcg_status = inj.mcgstatus;
	printk(KERN_INFO "mce-inject: debugfs: CPU %u bank %u status %#llx (%s)\n", r.rec.cpu,
	       r.rec.bank, (unsigned long long)r.rec.status, inj.flags_text);
	rc = mce_inject_one(&r);
	return rc < 0 ? rc : (long)n;
}

static long store_text(const struct ctl_file *f, const char *buf, size_t n)
{
	int rc;

	(void)f;
	rc = mce_inject_text(buf, strnlen(buf, n));
	if (rc < 0)
		return rc;
	return rc == 0 ? -EINVAL : (long)n;
}

#define PUT(...) ctl_printf(b, __VA_ARGS__)

static int show_counters(const struct ctl_file *f, struct ctl_buf *b)
{
	static const char *const src[] = {"mc", "poll", "cmci", "boot"};
	struct mce_stats s;

	(void)f;
	mce_get_stats(&s);
	PUT("records %llu\ndropped %llu\n", (unsigned long long)s.records,
	    (unsigned long long)s.dropped);
	for (int g = 0; g < MCE_GRADE_COUNT; g++)
		PUT("grade_%s %llu\n", mce_grade_name(g), (unsigned long long)s.by_grade[g]);
	for (int a = 0; a < MCE_ACT_COUNT; a++)
		PUT("action_%s %llu\n", mce_action_name(a), (unsigned long long)s.by_action[a]);
	for (size_t i = 0; i < ARRAY_SIZE(src); i++)
		PUT("source_%s %llu\n", src[i], (unsigned long long)s.by_source[i]);
	PUT("mc_events %llu\nmc_skipped %llu\npanics %llu\nfake_panics %llu\ntimeouts %llu\n",
	    (unsigned long long)s.mc_events, (unsigned long long)s.mc_skipped,
	    (unsigned long long)s.panics, (unsigned long long)s.fake_panics,
	    (unsigned long long)s.timeouts);
	PUT("polls %llu\ncmcis %llu\nstorms_begun %llu\nstorms_ended %llu\nstorm_suppressed %llu\n",
	    (unsigned long long)s.polls, (unsigned long long)s.cmcis,
	    (unsigned long long)s.storms_begun, (unsigned long long)s.storms_ended,
	    (unsigned long long)s.storm_suppressed);
	PUT("mf_queued %llu\nar_user %llu\nar_kernel_fixups %llu\ncec_kept %llu\n",
	    (unsigned long long)s.mf_queued, (unsigned long long)s.ar_user,
	    (unsigned long long)s.ar_kernel_fixups, (unsigned long long)s.cec_kept);
	return 0;
}

static int show_coverage(const struct ctl_file *f, struct ctl_buf *b)
{
	struct mce_grade_row_info row;

	(void)f;
	for (size_t i = 0; mce_grade_row(i, &row) == 0; i++)
		PUT("%llu\t%s\n", (unsigned long long)row.hits, row.msg);
	return 0;
}

#define KNOB(name, show_, store_, field_, unit_, max_)                                             \
	{                                                                                          \
		MC_DIR name, show_, store_, field_, unit_, max_                                    \
	}
#define INJ(name, field_, max_)                                                                    \
	{                                                                                          \
		INJ_DIR name, show_hex, store_hex, field_, 1, max_                                 \
	}

static const struct ctl_file ctl_files[] = {
    KNOB("check_interval", show_u64, store_u64, &mce_cfg.poll_ms, MS_PER_S, MAX_INTERVAL_S),
    KNOB("monarch_timeout", show_us, store_us, &mce_cfg.monarch_timeout_ms, 1, MAX_MONARCH_US),
    KNOB("cmci_disabled", show_bool, store_cmci_disabled, &mce_cfg.cmci, 0, 1),
    KNOB("ignore_ce", show_bool, store_bool, &mce_cfg.ignore_ce, 1, 1),
    KNOB("print_all", show_bool, store_bool, &mce_cfg.print_all, 1, 1),
    KNOB("poll_ms", show_u64, store_u64, &mce_cfg.poll_ms, 1, MAX_INTERVAL_S *MS_PER_S),
    KNOB("panic_on_ce", show_bool, store_bool, &mce_cfg.panic_on_ce, 1, 1),
    KNOB("fake_panic", show_bool, store_fake_panic, &mce_cfg.fake_panic, 1, 1),
    KNOB("timeout_panic", show_bool, store_bool, &mce_cfg.timeout_panic, 1, 1),
    KNOB("storm_threshold", show_u32, store_u32, &mce_cfg.storm_threshold, 1, MAX_STORM_THRESHOLD),
    KNOB("storm_window_ms", show_u64, store_u64, &mce_cfg.storm_window_ms, 1, MAX_STORM_MS),
    KNOB("storm_quiet_ms", show_u64, store_u64, &mce_cfg.storm_quiet_ms, 1, MAX_STORM_MS),
    INJ("status", &inj.status, UINT64_MAX),
    INJ("misc", &inj.misc, UINT64_MAX),
    INJ("addr", &inj.addr, UINT64_MAX),
    INJ("mcgstatus", &inj.mcgstatus, UINT64_MAX),
    INJ("cpu", &inj.cpu, MAX_CPUS - 1),
    {INJ_DIR "flags", show_flags, store_flags, NULL, 0, 0},
    {INJ_DIR "bank", NULL, store_bank, NULL, 0, 0},
    {INJ_DIR "text", NULL, store_text, NULL, 0, 0},
    {DBG_DIR "counters", show_counters, NULL, NULL, 0, 0},
    {DBG_DIR "severities-coverage", show_coverage, NULL, NULL, 0, 0},
};

int mce_ctl_show(const char *path, char *buf, size_t size)
{
	return ctl_show(ctl_files, ARRAY_SIZE(ctl_files), path, buf, size);
}

long mce_ctl_store(const char *path, const char *buf, size_t n)
{
	return ctl_store(ctl_files, ARRAY_SIZE(ctl_files), path, buf, n);
}

void mce_ctl_init(void)
{
	ctl_register(ctl_files, ARRAY_SIZE(ctl_files), "mce");
	mce_irq_stats_init();
}
