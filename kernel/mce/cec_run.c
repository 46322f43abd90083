/* The corrected-error collector at run time (include/mce_cec.h): one array, fed by the
 * machine-check log's drain and by debugfs, acting on frames that reach the threshold.
 *
 * Feeding. The poller and the CMCI handler mark a corrected memory error with a usable
 * address (mce_cec_wants) when they log it, also when storm control keeps it off the console;
 * the drain, in process context, counts it (mce_cec_take). Nothing here runs in #MC context.
 * A frame whose count reaches action_threshold leaves the array and is queued; the drain runs
 * the queue (mce_cec_run_actions) once it has printed the records and let go of the log, so
 * the record that crossed the threshold is on the console before what was done about it.
 * Writing /sys/kernel/debug/ras/cec/pfn counts an error by hand and acts at once.
 *
 * Acting is soft offline through memory_failure's one entry (soft_offline_frame): a user
 * page is copied and its mappers switched, a free frame is taken out, kernel memory cannot
 * move and stays in use (it is listed in the array file, so a frame that keeps failing can
 * be found). Each action is logged: pfn, count, what was done, how long it took.
 *
 * Decay. The timer tick queues a work item every decay_interval; the item spring-cleans the
 * array. Linux's interval is 1 h to 30 days (24 h by default); decay_interval_ms (MCRK) goes
 * down to a tick so that a test can watch entries age.
 *
 * Files, Linux's, in /sys/kernel/debug/ras/cec/: action_threshold, decay_interval (seconds),
 * pfn, array; MCRK's: decay_interval_ms. Lock: cec_lock (process context only) guards the
 * array, the action queue and the list of unmovable frames; soft offline runs without it. */
#include "arch/cpu.h"
#include "boot_info.h"
#include "ctl.h"
#include "kerrno.h"
#include "kstring.h"
#include "mce_cec.h"
#include "mce_core.h"
#include "memory_failure.h"
#include "printk.h"
#include "spinlock.h"
#include "work.h"

#define NS_PER_MS 1000000ull
#define MS_PER_S 1000ull
#define DECAY_MIN_MS 10ull /* one timer tick */
#define ACTIONS_MAX 32	   /* frames at the threshold waiting for soft offline */
#define UNMOVABLE_MAX 16   /* kernel frames remembered after reaching the threshold */
#define CEC_DIR "/sys/kernel/debug/ras/cec/"

struct action {
	pfn_t pfn;
	unsigned count;
	uint64_t t0; /* timestamp when the count reached the threshold */
};

struct unmovable {
	pfn_t pfn;
	const char *what;
	uint32_t times;
};

static struct mce_cec cec;
static spinlock_t cec_lock = SPINLOCK_INIT;
static bool cec_on;
static uint64_t decay_ms = MCE_CEC_DECAY_DEFAULT_S * MS_PER_S;
static uint64_t next_decay_ns = UINT64_MAX; /* no decay before init */
static uint64_t dfs_pfn;		    /* the last pfn written to the pfn file */
static struct action actions[ACTIONS_MAX];
static unsigned nactions;
static struct unmovable unmovable[UNMOVABLE_MAX];
static unsigned nunmovable;
static uint64_t offlined, unmovable_count, failed, actions_lost;

static void decay_work_fn(void *arg);
static struct work decay_work = {.fn = decay_work_fn, .name = "ras-cec-decay"};

bool mce_cec_wants(const struct mce_record *r, const struct mce_verdict *v)
{
	return __atomic_load_n(&cec_on, __ATOMIC_ACQUIRE) && (r->status & MCI_STATUS_VAL) &&
	       !(r->status & MCI_STATUS_UC) && v->addr_ok && mce_is_memory_error(r) &&
	       (r->source == MCE_SRC_POLL || r->source == MCE_SRC_CMCI);
}

/* Count one error with cec_lock held; a frame at the threshold joins the action queue. */
static bool count_locked(pfn_t pfn)
{
	unsigned count;

	if (!mce_cec_count_error(&cec, pfn, &count))
		return false;
	if (nactions == ACTIONS_MAX)
		actions_lost++;
	else
		actions[nactions++] = (struct action){pfn, count, arch_timestamp()};
	return true;
}

bool mce_cec_take(pfn_t pfn)
{
	bool reached;

	if (!__atomic_load_n(&cec_on, __ATOMIC_ACQUIRE))
		return false;
	spin_lock(&cec_lock);
	reached = count_locked(pfn);
	spin_unlock(&cec_lock);
	return !reached;
}

/* Remember a kernel frame that reached the threshold and could not move. cec_lock held. */
static void note_unmovable(pfn_t pfn, const char *what)
{
	unsigned i;

	unmovable_count++;
	for (i = 0; i < nunmovable && unmovable[i].pfn != pfn; i++)
		;
	if (i == nunmovable && nunmovable < UNMOVABLE_MAX)
		unmovable[nunmovable++] = (struct unmovable){pfn, what, 0};
	if (i < nunmovable)
		unmovable[i].times++;
}

/* Soft offline one frame and log the line that says what happened. */
static void act(const struct action *a)
{
	struct mf_soft_report rep;
	uint64_t start = arch_timestamp();
	int err = soft_offline_frame(a->pfn, &rep);
	uint64_t end = arch_timestamp();
	char moved[48] = "";

	if (rep.new_pfn != MF_NO_PFN)
		ksnprintf(moved, sizeof moved, " to pfn %#lx, old frame retired", rep.new_pfn);
	printk(KERN_WARNING "RAS: Soft-offlining pfn: %#lx (%u corrected errors): %s%s%s (%d); "
			    "took %lu ns, done %lu ns after the threshold was reached\n",
	       a->pfn, a->count, rep.what, moved,
	       err == -EIO ? ": cannot be moved, left in use" : "", err,
	       arch_timestamp_to_ns(end - start), arch_timestamp_to_ns(end - a->t0));
	spin_lock(&cec_lock);
	if (!err)
		offlined++;
	else if (err == -EIO)
		note_unmovable(a->pfn, rep.what);
	else
		failed++;
	spin_unlock(&cec_lock);
}

/* Say once per loss that frames reached the threshold with no room in the action queue. */
static void report_lost(void)
{
	static uint64_t reported;
	uint64_t lost = __atomic_load_n(&actions_lost, __ATOMIC_RELAXED);

	if (lost == reported)
		return;
	reported = lost;
	printk(KERN_ERR "RAS: action queue full: %llu frame(s) reached the threshold and were not "
			"soft-offlined; their next errors count from 1 again\n",
	       (unsigned long long)lost);
}

unsigned mce_cec_run_actions(void)
{
	unsigned done = 0;

	report_lost();
	for (;;) {
		struct action a;

		spin_lock(&cec_lock);
		if (!nactions) {
			spin_unlock(&cec_lock);
			return done;
		}
		a = actions[0];
		memmove(&actions[0], &actions[1], --nactions * sizeof(actions[0]));
		spin_unlock(&cec_lock);
		act(&a);
		done++;
	}
}

/* ---- decay ---- */

static void set_decay_ms(uint64_t ms)
{
	spin_lock(&cec_lock);
	decay_ms = ms;
	__atomic_store_n(&next_decay_ns, arch_time_ns() + ms * NS_PER_MS, __ATOMIC_RELEASE);
	spin_unlock(&cec_lock);
}

void mce_cec_tick(void)
{
	if (arch_time_ns() >= __atomic_load_n(&next_decay_ns, __ATOMIC_ACQUIRE))
		work_queue(&decay_work);
}

static void decay_work_fn(void *arg)
{
	uint64_t now = arch_time_ns();

	(void)arg;
	spin_lock(&cec_lock);
	/* Ticks on several CPUs may queue it more than once per interval: decay only when due. */
	if (now >= __atomic_load_n(&next_decay_ns, __ATOMIC_ACQUIRE)) {
		mce_cec_decay(&cec);
		__atomic_store_n(&next_decay_ns, now + decay_ms * NS_PER_MS, __ATOMIC_RELEASE);
	}
	spin_unlock(&cec_lock);
}

/* ---- files ---- */

static int show_threshold(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	ctl_printf(b, "%u\n", __atomic_load_n(&cec.threshold, __ATOMIC_RELAXED));
	return 0;
}

/* Any number is taken; more than the count can hold means the most it can hold (Linux). */
static long store_threshold(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t v;
	int err = ctl_parse_u64(buf, n, 0, &v);

	(void)f;
	if (err)
		return err;
	spin_lock(&cec_lock);
	cec.threshold = (unsigned)MIN(v, (uint64_t)MCE_CEC_COUNT_MAX);
	spin_unlock(&cec_lock);
	return (long)n;
}

/* decay_interval (seconds, Linux's range) and decay_interval_ms (MCRK): unit is ms per unit. */
static int show_decay(const struct ctl_file *f, struct ctl_buf *b)
{
	uint64_t ms = __atomic_load_n(&decay_ms, __ATOMIC_RELAXED);

	ctl_printf(b, "%llu\n", (unsigned long long)((ms + f->unit - 1) / f->unit));
	return 0;
}

static long store_decay(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t v;
	uint64_t min = f->unit == 1 ? DECAY_MIN_MS : MCE_CEC_DECAY_MIN_S;
	int err = ctl_parse_range(buf, n, min, f->max, &v);

	if (err)
		return err;
	set_decay_ms(v * f->unit);
	return (long)n;
}

static int show_pfn(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	ctl_printf(b, "0x%llx\n", (unsigned long long)__atomic_load_n(&dfs_pfn, __ATOMIC_RELAXED));
	return 0;
}

/* Count one error at the pfn written, as a corrected error there would; act at once. */
static long store_pfn(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t pfn;
	int err = ctl_parse_u64(buf, n, 0, &pfn);

	(void)f;
	if (err)
		return err;
	__atomic_store_n(&dfs_pfn, pfn, __ATOMIC_RELAXED);
	mce_cec_take(pfn);
	mce_cec_run_actions();
	return (long)n;
}

static const char *const gens[] = {"00", "01", "10", "11"};

/* Linux's text first (entries, then its stats), then MCRK's own lines. */
static int show_array(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	spin_lock(&cec_lock);
	ctl_printf(b, "{ n: %u\n", cec.n);
	for (unsigned i = 0; i < cec.n; i++)
		ctl_printf(b, " %3u: [%016llx|%s|%03x]\n", i,
			   (unsigned long long)mce_cec_pfn(cec.e[i]), gens[mce_cec_gen(cec.e[i])],
			   mce_cec_count(cec.e[i]));
	ctl_printf(b, "}\nStats:\nCEs: %llu\nofflined pages: %llu\nFlags: 0x0\n",
		   (unsigned long long)cec.ces, (unsigned long long)offlined);
	ctl_printf(b, "Decay interval: %llu seconds\nDecays: %llu\nAction threshold: %u\n",
		   (unsigned long long)((decay_ms + MS_PER_S - 1) / MS_PER_S),
		   (unsigned long long)cec.decays, cec.threshold);
	ctl_printf(b, "Decay interval ms: %llu\nEvicted: %llu\nReached threshold: %llu\n"
		      "Unmovable: %llu\nFailed: %llu\nActions lost: %llu\n",
		   (unsigned long long)decay_ms, (unsigned long long)cec.evicted,
		   (unsigned long long)cec.reached, (unsigned long long)unmovable_count,
		   (unsigned long long)failed, (unsigned long long)actions_lost);
	for (unsigned i = 0; i < nunmovable; i++)
		ctl_printf(b, "Unmovable pfn %#llx: %s, threshold reached %u time(s)\n",
			   (unsigned long long)unmovable[i].pfn, unmovable[i].what,
			   unmovable[i].times);
	spin_unlock(&cec_lock);
	return 0;
}

static const struct ctl_file cec_files[] = {
    {CEC_DIR "action_threshold", show_threshold, store_threshold, NULL, 0, 0},
    {CEC_DIR "decay_interval", show_decay, store_decay, NULL, MS_PER_S, MCE_CEC_DECAY_MAX_S},
    {CEC_DIR "decay_interval_ms", show_decay, store_decay, NULL, 1,
     MCE_CEC_DECAY_MAX_S * MS_PER_S},
    {CEC_DIR "pfn", show_pfn, store_pfn, NULL, 0, 0},
    {CEC_DIR "array", show_array, NULL, NULL, 0, 0},
};

void mce_cec_get_stats(struct mce_cec_stats *out)
{
	spin_lock(&cec_lock);
	*out = (struct mce_cec_stats){
	    .ces = cec.ces, .decays = cec.decays, .evicted = cec.evicted, .reached = cec.reached,
	    .offlined = offlined, .unmovable = unmovable_count, .failed = failed,
	    .actions_lost = actions_lost, .n = cec.n, .threshold = cec.threshold, .on = cec_on};
	spin_unlock(&cec_lock);
}

void mce_cec_init(const char *cmdline)
{
	static bool registered;
	char v[16];
	bool off = cmdline && cmdline_get(cmdline, "ras", v, sizeof v) &&
		   !strcmp(v, "cec_disable");

	spin_lock(&cec_lock);
	mce_cec_array_init(&cec, MCE_CEC_COUNT_MAX);
	nactions = nunmovable = 0;
	offlined = unmovable_count = failed = actions_lost = dfs_pfn = 0;
	spin_unlock(&cec_lock);
	__atomic_store_n(&cec_on, !off, __ATOMIC_RELEASE);
	if (off) {
		__atomic_store_n(&next_decay_ns, UINT64_MAX, __ATOMIC_RELEASE);
		printk(KERN_INFO "RAS: Correctable Errors collector disabled (ras=cec_disable): "
				 "corrected errors are only logged\n");
		return;
	}
	set_decay_ms(MCE_CEC_DECAY_DEFAULT_S * MS_PER_S);
	if (!registered) {
		registered = true;
		work_register(&decay_work);
		ctl_register(cec_files, ARRAY_SIZE(cec_files), "ras");
	}
	printk(KERN_INFO "RAS: Correctable Errors collector initialized (%u frames, "
			 "action_threshold %u, decay_interval %u s)\n",
	       (unsigned)MCE_CEC_ELEMS, cec.threshold, MCE_CEC_DECAY_DEFAULT_S);
}
