/* Machine-check runtime: what MCRK does when the banks report an error (the policy half of the
 * MCA code; include/mce.h is the pure grading core it builds on).
 *
 * The arch side calls in from four places: mce_cpu_setup() while bringing each CPU up (before
 * it sets CR4.MCE), mce_handle_mc() from the #MC handler, mce_poll() from the poll timer and the
 * CMCI handler, and mce_tick() from every timer tick. Records are pushed into per-CPU lock-free
 * rings there and printed by mce_drain() on a kernel worker soon after (deferred work, work.h).
 * docs/mca.md describes the flow, the rendezvous of broadcast machine checks and the knobs. */
#pragma once
#include "mce.h"
#include "types.h"

/* Policy knobs, from the kernel command line (mce.NAME=VALUE); see docs/mca.md. */
struct mce_config {
	uint64_t monarch_timeout_ms; /* how long the rendezvous waits for every CPU */
	uint64_t poll_ms;	     /* poll interval of the corrected-error timer (0: off) */
	bool cmci;		     /* use CMCI when MCG_CAP has CMCI_P */
	bool lmce;		     /* use local machine checks when the platform allows */
	bool ignore_ce;		     /* corrected errors are neither logged nor acted on */
	bool print_all;		     /* print the corrected errors the collector keeps, too */
	bool panic_on_ce;	     /* testing: a corrected error panics */
	bool fake_panic;	     /* testing: report a panic decision and carry on */
	bool fake_cmci;		     /* testing: install the CMCI handler even without CMCI_P */
	bool timeout_panic;	     /* a rendezvous timeout panics by itself */
	bool ser;		     /* testing: 0 grades as if MCG_CAP had no SER_P */
	int no_rendezvous_cpu;	     /* testing: this CPU never joins a rendezvous (-1: none) */
	uint32_t storm_threshold;    /* corrected errors per bank within storm_window_ms ... */
	uint64_t storm_window_ms;    /* ... that switch the bank to storm mode */
	uint64_t storm_quiet_ms;     /* a storm ends after this long without an error */
};
extern struct mce_config mce_cfg;

/* Most banks MCRK handles per CPU (MCG_CAP may say up to 255; the rest are left alone). */
#define MCE_MAX_BANKS 32
/* Messages the runtime decides with (besides the grading table's). */
#define MCE_MSG_TIMEOUT "Timeout: Not all CPUs entered the broadcast exception handler"

/* Read the mce.* knobs from the command line into mce_cfg. Boot CPU, before any CPU's setup. */
void mce_config_parse(const char *cmdline);
/* Print the effective knobs and capabilities once. Process context. */
void mce_config_print(void);

/* Set up MCA on this CPU: decode MCG_CAP, enable MCG_CTL and every MCi_CTL, log (as "left over
 * from before boot") and clear banks that hold an error, claim CMCI banks, enable LMCE. Returns
 * the number of banks handled (0: no MCA). Interrupts off, before CR4.MCE is set. */
unsigned mce_cpu_setup(void);

/* The interrupted context as the #MC entry saw it. */
struct mce_entry {
	uint64_t ip; /* interrupted RIP */
	uint64_t cs; /* interrupted CS (RPL 3: user mode) */
};
/* Handle a machine check on this CPU: read the banks, rendezvous with the other CPUs unless it
 * is a local machine check, decide, log into the ring, clear the banks and MCG_STATUS.MCIP.
 * Panics (unless mce.fake_panic) when the decision says so. Returns the address to resume at
 * (an exception fixup for SRAR in a kernel user copy) or 0 to resume where interrupted.
 * #MC context only: lock-free, no printk except on the way to a panic. */
uint64_t mce_handle_mc(const struct mce_entry *e);

/* Read every bank of this CPU that holds an error and log it (src: MCE_SRC_POLL or
 * MCE_SRC_CMCI; only_owned: CMCI reads just the banks this CPU owns). Returns records taken.
 * IRQ context (timer, CMCI) or process context with interrupts off. */
unsigned mce_poll(enum mce_source src, bool only_owned);
/* Timer tick on this CPU: polls every mce.poll_ms, ends storms, and queues the corrected-error
 * collector's decay when due. IRQ context. */
void mce_tick(void);

/* Print everything the rings hold (records in Linux's format plus a decoded summary, events)
 * and run the hooks the records ask for: a corrected memory error goes to the collector first
 * and is printed only when the collector does not keep it (mce_cec.h) or mce.print_all is on.
 * Then run the collector's soft offlines. Returns entries taken from the rings. Process
 * context, interrupts enabled. */
unsigned mce_drain(void);

/* Apply mce_cfg.cmci on this CPU: claim CMCI banks and enable their CTL2 bit, or give them up
 * (polling then finds their errors). arg is unused (for arch_mca_on_cpu). Interrupts off. */
void mce_cmci_reconfigure(void *arg);

/* ---- control files (kernel/mce/ctlfiles.c) ---- */

/* Register the run-time files (knobs under /sys/devices/system/machinecheck/machinecheck0/,
 * the injector under /sys/kernel/debug/mce-inject/, counters and grading coverage under
 * /sys/kernel/debug/mce/) with the VFS. Boot, process context. */
void mce_ctl_init(void);
/* Format the file at path into buf (NUL-terminated when size > 0). Returns the length the
 * text needs (as snprintf), -ENOENT for an unknown path, -EACCES for a write-only file.
 * Process context. */
int mce_ctl_show(const char *path, char *buf, size_t size);
/* Write n bytes to the file at path (a knob takes one number with an optional newline; the
 * injector's "bank" injects). Returns n, -EINVAL for a bad value (nothing changes), -ENOENT,
 * -EACCES for a read-only file, or the injector's error. Process context, interrupts on. */
long mce_ctl_store(const char *path, const char *buf, size_t n);

/* ---- the boot's recovery summary (kernel/mce/summary.c) ---- */

/* What decides whether the machine can recover from memory errors. */
struct mce_recovery_facts {
	uint64_t cap;            /* MCG_CAP of the boot CPU */
	bool has_mca, intel;     /* CPUID MCE+MCA; vendor Intel */
	bool ser_enabled;        /* mce.ser (default 1) */
	bool lmce_on, cmci_on;   /* what the boot CPU's set-up turned on (real CMCI only) */
	int einj;                /* firmware EINJ table: 1 found, 0 not, -1 nobody probed */
	const char *einj_detail; /* the EINJ code's few words, or "" */
};
/* Format "mce: recovery-capable: yes|no (why; banks; LMCE; CMCI; EINJ)\n" into buf
 * (NUL-terminated when size > 0). Returns the length the text needs. Pure. */
int mce_recovery_summary(char *buf, size_t size, const struct mce_recovery_facts *f);
/* The boot CPU's facts (without the EINJ part). After the boot CPU's mce_cpu_setup. */
void mce_recovery_facts_of_boot_cpu(struct mce_recovery_facts *f);
/* Print the summary line. Boot, process context, once the EINJ code (if any) has looked. */
void mce_print_recovery_summary(void);
/* The EINJ code registers report: it writes a few words about the firmware's EINJ table into
 * detail (NUL-terminated, at most size bytes; "" is fine) and returns 1 when the table is
 * there and usable, 0 when not. Called once, by mce_print_recovery_summary, in process
 * context. Register before kernel_main prints the ready line. */
void mce_summary_set_einj(int (*report)(char *detail, size_t size));

/* Run-time counters (all since boot). */
struct mce_stats {
	uint64_t records;		      /* records logged (rings) */
	uint64_t by_grade[MCE_GRADE_COUNT];   /* ... per grade */
	uint64_t by_action[MCE_ACT_COUNT];    /* ... per record action */
	uint64_t by_source[4];		      /* ... per enum mce_source */
	uint64_t mc_events;		      /* #MC handler entries */
	uint64_t mc_skipped;		      /* #MC ignored by mce.no_rendezvous_cpu */
	uint64_t panics, fake_panics;	      /* panic decisions (fake: reported, survived) */
	uint64_t timeouts;		      /* rendezvous that timed out */
	uint64_t polls, cmcis;		      /* poll runs, CMCI interrupts */
	uint64_t storms_begun, storms_ended;  /* storm mode changes (all banks, all CPUs) */
	uint64_t storm_suppressed;	      /* records counted but not logged during storms */
	uint64_t mf_queued;		      /* frames handed to memory_failure_queue */
	uint64_t cec_kept;		      /* records the collector kept off the console */
	uint64_t ar_user, ar_kernel_fixups;   /* SRAR in user mode / at a kernel fixup */
	uint64_t dropped;		      /* ring entries lost (rings full) */
};
/* The live counters (for tests that wait on one to move). Any context; read atomically. */
const struct mce_stats *mce_stats_live_view(void);
/* Snapshot the counters. Any context but #MC (not atomic as a whole). */
void mce_get_stats(struct mce_stats *out);
/* Print the counters. Process context. */
void mce_stats_print(void);
/* Whether bank of cpu is in storm mode. Any context. */
bool mce_bank_in_storm(unsigned cpu, unsigned bank);

/* A record injected with a faked user-mode SRAR context (no task consumed anything): recover
 * the frame as for an action-optional error. Run from mce_drain, process context. */
void mce_user_recovery_hook(pfn_t pfn, unsigned lsb, const struct mce_verdict *v, bool must_kill);

/* ---- software injector (kernel/mce/inject.c) ---- */

/* Run the records of an mce-inject text (see mce_inject_parse) through the banks of the CPUs
 * they name: write MCi_STATUS/ADDR/MISC and MCG_STATUS, then raise #MC (broadcast unless
 * NOBROADCAST), a CMCI, or a poll, as each record's flags say. Prints what it does; the records
 * reach the console through the log drain on a kernel worker, as real errors do. Returns
 * records injected or a negative errno. Process context, interrupts enabled. */
int mce_inject_text(const char *text, size_t len);
/* Inject one record (rec.cpu, rec.bank, status...) with MCE_INJ_* flags. Same context. */
int mce_inject_one(const struct mce_inj_record *r);
struct boot_info;
/* Run the injector as bi's command line asks: mce.inject=module takes boot module 0 as raw
 * mce-inject text; mce.inject=/PATH[,/PATH...] takes those initrd files in order (the initrd
 * must be set up first). Prints "mce-inject: file PATH done (n)" per file and "mce-inject:
 * done" at the end. Process context, once, before the ready line. */
void mce_inject_from_boot(const struct boot_info *bi);
/* The interrupted context an injected #MC should be graded with (mce-inject's RIP cs:ip);
 * consumed by the next #MC on that CPU. Set with interrupts off on that CPU. */
void mce_inject_set_context(uint64_t ip, uint64_t cs);
