/* Private interface between the files of the machine-check runtime (kernel/mce): the log
 * entries the rings carry, the per-CPU state, and the helpers one file gives another. */
#pragma once
#include "mce_core.h"
#include "ring.h"

/* What a log entry carries. */
enum mce_log_kind {
	MCE_LOG_RECORD,	    /* a graded record: rec + v */
	MCE_LOG_TIMEOUT,    /* the rendezvous timed out: arg CPUs arrived */
	MCE_LOG_STORM_ON,   /* rec.cpu/rec.bank entered storm mode */
	MCE_LOG_STORM_OFF,  /* ... left it */
	MCE_LOG_SKIPPED,    /* mce.no_rendezvous_cpu: this CPU ignored a #MC */
};
#define MCE_LOGF_MUST_KILL BIT(0) /* AR in user mode with RIPV clear */
#define MCE_LOGF_USER_HOOK BIT(1) /* run mce_user_recovery_hook for this record */
#define MCE_LOGF_CEC BIT(2)	  /* a corrected memory error for the collector (mce_cec.h) */
#define MCE_LOGF_QUIET BIT(3)	  /* storm control keeps it off the console: only counted */

struct mce_logent {
	struct mce_record rec;
	struct mce_verdict v;
	const char *text;
	uint64_t arg;
	uint8_t kind;  /* enum mce_log_kind */
	uint8_t flags; /* MCE_LOGF_* */
};

/* Which ring of a CPU: #MC writes one, IRQ-context code (poll, CMCI) the other, so a #MC that
 * interrupts the poller never writes the ring the poller is in the middle of writing. */
enum mce_ring_id { MCE_RING_MC, MCE_RING_IRQ, MCE_RING_COUNT };
#define MCE_RING_SIZE 32

extern struct mce_stats mce_stats_live;
/* Lock-free counter bump. Any context. */
#define MCE_COUNT(field) __atomic_fetch_add(&mce_stats_live.field, 1, __ATOMIC_RELAXED)

/* log.c: set up this CPU's rings (once). Process context, at CPU setup. */
void mce_log_init_cpu(unsigned cpu);
/* log.c: push e into this CPU's ring id, count it, and queue the drain. Any context. */
void mce_log_push(enum mce_ring_id id, const struct mce_logent *e);
/* log.c: log one graded record (counters per grade/action/source). Any context. */
void mce_log_record(enum mce_ring_id id, const struct mce_record *r, const struct mce_verdict *v,
		    uint8_t flags);
/* log.c: hand a record storm control keeps off the console to the collector anyway (not
 * counted as a logged record; the drain counts it in the collector). Any context but #MC. */
void mce_log_quiet(enum mce_ring_id id, const struct mce_record *r, const struct mce_verdict *v);
/* log.c: log an event without a record (cpu/bank in the entry). Any context. */
void mce_log_event(enum mce_ring_id id, enum mce_log_kind kind, unsigned bank, const char *text,
		   uint64_t arg);
/* log.c: report a panic decision under mce.fake_panic; the drain prints "mce: fake panic:
 * <msg>" after the records in the rings. Any context. */
void mce_log_fake_panic(const char *msg);
/* log.c: print one record and its summary with printk (KERN_EMERG on the panic path). */
void mce_print_record(const struct mce_record *r, const struct mce_verdict *v, bool panic);

/* What /proc/interrupts counts per CPU (core.c): #MC entries (MCE), bank scans by the poll
 * timer, a CMCI or the injector (MCP, as Linux's machine_check_poll counts), CMCIs (THR). */
enum mce_cpu_event { MCE_EV_MC, MCE_EV_POLL, MCE_EV_CMCI, MCE_EV_COUNT };
/* core.c: count one event on this CPU. Any context, #MC included (a per-CPU counter only this
 * CPU writes). */
void mce_count_event(enum mce_cpu_event ev);
/* core.c: register the MCE, MCP and THR rows of /proc/interrupts. Boot. */
void mce_irq_stats_init(void);

/* core.c: the grading context for this CPU (knobs, SER) with in_mc and mcg_status set. */
void mce_ctx_init(struct mce_ctx *ctx, bool in_mc, uint64_t mcg_status);
/* core.c: banks handled on this CPU (0 before setup). */
unsigned mce_nbanks(void);
/* core.c: whether this CPU uses CMCI (real or faked) and owns bank. */
bool mce_cmci_owns(unsigned bank);
bool mce_cmci_active(void);
/* core.c: whether LMCE is enabled on this CPU. */
bool mce_lmce_active(void);
/* core.c: read bank of this CPU into r (status, addr, misc and CPU fields). */
void mce_read_bank(unsigned bank, uint64_t mcg_status, enum mce_source src,
		   struct mce_record *r);
/* core.c: clear bank's status (and addr/misc). */
void mce_clear_bank(unsigned bank);

/* poll.c: count a corrected error of bank for storm control; returns true when it should be
 * logged (false: a storm rate-limits it). IRQ or #MC context on this CPU. */
bool mce_storm_note(unsigned bank, enum mce_ring_id id);
/* poll.c: end storms that have been quiet long enough (on this CPU). IRQ context. */
void mce_storm_check(void);

/* inject.c: take the injected interrupted context of this CPU if one is set (ip, cs).
 * #MC context. */
bool mce_inject_take_context(uint64_t *ip, uint64_t *cs);
/* inject.c: whether the injector is between writing this CPU's banks and raising (the poll
 * timer then leaves them alone). Any context. */
bool mce_inject_holds_poll(void);
