/* The trace and the record of memory_failure events. With the trace on (the default; mf.trace=0
 * turns it off) an event prints two lines, each with the nanoseconds since detection: what was
 * detected and the frame's state (for a user frame, with every mapping found through the rmap
 * in the same line: how many met each fate, and the first MF_TRACE_LIST of them), and the
 * outcome. A line costs
 * about a microsecond to format and log under QEMU even when the console level hides it, so
 * the trace is per event, never per mapping: the last event's every mapping (task, address,
 * what it was told) is kept in a record that /sys/kernel/debug/hwpoison/last_event prints
 * when asked. With the trace off only the outcome line is printed, with the step times.
 * Process context. */
#include "arch/cpu.h"
#include "kstring.h"
#include "mf_priv.h"
#include "printk.h"
#include "spinlock.h"

#define MF_TRACE_LIST 6	       /* mappings named on the trace line */
#define MF_RECORD_MAPPERS 256  /* mappings the record keeps */
#define MF_LINE_MAX 440	       /* a trace line's text (printk takes 512) */
#define LAST_EVENT "/sys/kernel/debug/hwpoison/last_event"

bool mf_trace_steps = true;

static const char *const fate_long[MF_FATE_NR] = {
	[MF_FATE_GONE] = "unmapped meanwhile",
	[MF_FATE_EXITING] = "exiting, nobody to tell",
	[MF_FATE_LATE] = "late kill: SIGBUS when it touches the page",
	[MF_FATE_AO] = "SIGBUS BUS_MCEERR_AO (early kill)",
	[MF_FATE_AR] = "SIGBUS BUS_MCEERR_AR (it consumed the poison)",
	[MF_FATE_KILLED] = "could not be unmapped: SIGKILL",
	[MF_FATE_CLEARED] = "cleared, re-read on next touch",
	[MF_FATE_TOLD] = "told already (it met the page first) or dropped it",
};
static const char *const fate_short[MF_FATE_NR] = {
	[MF_FATE_GONE] = "gone", [MF_FATE_EXITING] = "exiting", [MF_FATE_LATE] = "late kill",
	[MF_FATE_AO] = "AO",	 [MF_FATE_AR] = "AR",	       [MF_FATE_KILLED] = "SIGKILL",
	[MF_FATE_CLEARED] = "cleared", [MF_FATE_TOLD] = "told",
};

/* The last event: its outcome line and its mappings (the first MF_RECORD_MAPPERS). */
static spinlock_t last_lock = SPINLOCK_INIT;
static char last_outcome[MF_LINE_MAX + 32];
static unsigned last_n;
static struct mf_mapper last_v[MF_RECORD_MAPPERS];

uint64_t mf_step(struct mf_event *ev)
{
	uint64_t ns = arch_timestamp_to_ns(arch_timestamp() - ev->t0);
	if (ev->nsteps < MF_MAX_STEPS)
		ev->step_ns[ev->nsteps++] = (uint32_t)MIN(ns, UINT32_MAX);
	return ns;
}

static void record(const struct mf_event *ev, const char *outcome)
{
	unsigned n = MIN(ev->nmappers, (unsigned)MF_RECORD_MAPPERS);
	spin_lock(&last_lock);
	ksnprintf(last_outcome, sizeof(last_outcome), "pfn %#lx: %s", ev->pfn, outcome);
	last_n = ev->nmappers;
	if (n)
		memcpy(last_v, ev->mappers, n * sizeof(last_v[0]));
	spin_unlock(&last_lock);
}

void mf_trace_line(struct mf_event *ev, bool outcome, const char *fmt, ...)
{
	char buf[MF_LINE_MAX], steps[8 * MF_MAX_STEPS] = "";
	va_list ap;
	uint64_t ns = mf_step(ev);
	if (!outcome && !mf_trace_steps)
		return;
	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Silent steps still show on the outcome line, as their times since detection. */
	for (unsigned i = 0, n = 0; outcome && !mf_trace_steps && i + 1 < ev->nsteps; i++)
		n += (unsigned)ksnprintf(steps + n, sizeof(steps) - n, "%s%u", i ? "," : " steps(ns):",
					 ev->step_ns[i]);
	printk(KERN_WARNING "memory_failure: pfn %#lx: %s (+%lu ns)%s\n", ev->pfn, buf, ns, steps);
	if (outcome)
		record(ev, buf);
}

void mf_trace_mappers(struct mf_event *ev, const char *done)
{
	unsigned count[MF_FATE_NR] = {0}, n = ev->nmappers;
	char sums[160], list[MF_LINE_MAX / 2];
	struct ctl_buf sb = {sums, sizeof(sums), 0}, lb = {list, sizeof(list), 0};
	if (!mf_trace_steps) {
		mf_step(ev);
		return;
	}
	sums[0] = list[0] = 0;
	for (unsigned i = 0; i < n; i++)
		count[ev->mappers[i].fate]++;
	for (unsigned f = 0; f < MF_FATE_NR; f++)
		if (count[f])
			ctl_printf(&sb, "%s%u %s", sb.len ? ", " : "", count[f], fate_short[f]);
	unsigned shown = 0;
	for (; shown < n && shown < MF_TRACE_LIST; shown++) { /* whole entries only */
		const struct mf_mapper *m = &ev->mappers[shown];
		size_t at = lb.len;
		ctl_printf(&lb, "%s task %d (%s) %#lx %s", shown ? "," : ":", m->pid, m->comm, m->va,
			   fate_short[m->fate]);
		if (lb.len >= lb.size) {
			list[at] = 0;
			break;
		}
	}
	mf_trace_line(ev, false, "detected (%s%s%s), %s page: %u mapping(s) found through the rmap, "
		      "%s (%s)%s%s", ev->how[0], ev->how[1], ev->how[2], ev->state, n,
		      done, sums,
		      list, shown < n ? ", ... all in " LAST_EVENT : "");
}

int mf_show_last_event(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	spin_lock(&last_lock);
	if (last_outcome[0])
		ctl_printf(b, "%s\nmappings %u\n", last_outcome, last_n);
	for (unsigned i = 0; i < last_n && i < MF_RECORD_MAPPERS; i++)
		ctl_printf(b, "task %d (%s) at %#lx: %s\n", last_v[i].pid, last_v[i].comm,
			   last_v[i].va, fate_long[last_v[i].fate]);
	if (last_n > MF_RECORD_MAPPERS)
		ctl_printf(b, "(%u more not kept)\n", last_n - MF_RECORD_MAPPERS);
	spin_unlock(&last_lock);
	return 0;
}
