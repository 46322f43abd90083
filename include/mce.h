/* Machine-check architecture: the portable grading core.
 *
 * The arch side (MSR reads, the #MC entry, CMCI, the poll timer) reads each valid bank into a
 * struct mce_record and calls into kernel/mce: mce_grade() classifies one record with a
 * first-match table (kernel/mce/severity.c), mce_decide() turns the records of one CPU into one
 * action (panic, queue frames for memory_failure, action-required handling, log), and
 * kernel/mce/format.c prints records the way Linux prints hardware errors. Everything here is a
 * pure function of its arguments (plus lock-free coverage counters), safe in #MC and NMI
 * context. Bit layouts follow the Intel SDM, volume 3B, chapter 15 ("Machine-Check
 * Architecture"); they are declared once here, with named masks and accessors. */
#pragma once
#include "types.h"

/* ---- IA32_MCi_STATUS ----
 * 63 VAL    the bank holds a valid error
 * 62 OVER   a second error arrived while VAL was set (one was lost)
 * 61 UC     uncorrected error
 * 60 EN     the error was enabled in MCi_CTL (signalled)
 * 59 MISCV  MCi_MISC holds extra information (address LSB and mode on Intel)
 * 58 ADDRV  MCi_ADDR holds the error address
 * 57 PCC    processor context corrupt: the interrupted state cannot be trusted
 * 56 S      signalled by #MC (only meaningful with MCG_CAP.SER_P)
 * 55 AR     action required before the interrupted context continues (SER only)
 * 54:53     threshold-based error status (corrected errors, MCG_CAP.TES_P)
 * 52:38     corrected error count
 * 37:32     other information
 * 31:16 MSCOD model-specific error code; 15:0 MCACOD architectural error code */
#define MCI_STATUS_VAL BIT(63)
#define MCI_STATUS_OVER BIT(62)
#define MCI_STATUS_UC BIT(61)
#define MCI_STATUS_EN BIT(60)
#define MCI_STATUS_MISCV BIT(59)
#define MCI_STATUS_ADDRV BIT(58)
#define MCI_STATUS_PCC BIT(57)
#define MCI_STATUS_S BIT(56)
#define MCI_STATUS_AR BIT(55)
#define MCI_STATUS_TBES_SHIFT 53
#define MCI_STATUS_TBES_MASK (3ull << MCI_STATUS_TBES_SHIFT)
#define MCI_STATUS_CEC_SHIFT 38
#define MCI_STATUS_CEC_MASK (0x7fffull << MCI_STATUS_CEC_SHIFT)
#define MCI_STATUS_OTHER_SHIFT 32
#define MCI_STATUS_OTHER_MASK (0x3full << MCI_STATUS_OTHER_SHIFT)
#define MCI_STATUS_MSCOD_SHIFT 16
#define MCI_STATUS_MSCOD_MASK (0xffffull << MCI_STATUS_MSCOD_SHIFT)
#define MCI_STATUS_MCACOD_MASK 0xffffull

/* MCACOD classes the grading needs. Bit 12 of a compound code only says whether corrected
 * reports are filtered, so code comparisons ignore it (MCACOD_CMP_MASK). */
#define MCACOD_FILTER BIT(12)
#define MCACOD_CMP_MASK 0xefffull
#define MCACOD_SCRUB 0x00c0ull	    /* memory scrubbing, 0xC0-0xCF (low nibble: channel) */
#define MCACOD_SCRUB_MASK 0xeff0ull /* compare mask for the scrub range */
#define MCACOD_L3WB 0x017aull	    /* last-level cache explicit writeback */
#define MCACOD_DATA 0x0134ull	    /* data cache unit: data load */
#define MCACOD_INSTR 0x0150ull	    /* instruction fetch unit: instruction fetch */

static inline unsigned mci_status_mcacod(uint64_t status)
{
	return (unsigned)(status & MCI_STATUS_MCACOD_MASK);
}
static inline unsigned mci_status_mscod(uint64_t status)
{
	return (unsigned)((status & MCI_STATUS_MSCOD_MASK) >> MCI_STATUS_MSCOD_SHIFT);
}
static inline unsigned mci_status_cec(uint64_t status)
{
	return (unsigned)((status & MCI_STATUS_CEC_MASK) >> MCI_STATUS_CEC_SHIFT);
}

/* ---- IA32_MCG_STATUS ----
 * 0 RIPV   the IP pushed by #MC can be used to restart the interrupted program
 * 1 EIPV   the IP pushed by #MC points at the instruction that caused the error
 * 2 MCIP   a machine check is in progress (a second #MC now shuts the CPU down)
 * 3 LMCES  the #MC went to this logical CPU only (local machine check) */
#define MCG_STATUS_RIPV BIT(0)
#define MCG_STATUS_EIPV BIT(1)
#define MCG_STATUS_MCIP BIT(2)
#define MCG_STATUS_LMCES BIT(3)

/* ---- IA32_MCG_CAP ----
 * 7:0 Count (number of banks), 8 MCG_CTL_P, 9 MCG_EXT_P, 10 MCG_CMCI_P, 11 MCG_TES_P,
 * 23:16 MCG_EXT_CNT, 24 MCG_SER_P, 25 MCG_EMC_P, 26 MCG_ELOG_P, 27 MCG_LMCE_P */
#define MCG_CAP_COUNT_MASK 0xffull
#define MCG_CAP_CTL_P BIT(8)
#define MCG_CAP_EXT_P BIT(9)
#define MCG_CAP_CMCI_P BIT(10)
#define MCG_CAP_TES_P BIT(11)
#define MCG_CAP_EXT_CNT_SHIFT 16
#define MCG_CAP_EXT_CNT_MASK (0xffull << MCG_CAP_EXT_CNT_SHIFT)
#define MCG_CAP_SER_P BIT(24)
#define MCG_CAP_EMC_P BIT(25)
#define MCG_CAP_ELOG_P BIT(26)
#define MCG_CAP_LMCE_P BIT(27)

static inline unsigned mcg_cap_count(uint64_t cap)
{
	return (unsigned)(cap & MCG_CAP_COUNT_MASK);
}
static inline unsigned mcg_cap_ext_cnt(uint64_t cap)
{
	return (unsigned)((cap & MCG_CAP_EXT_CNT_MASK) >> MCG_CAP_EXT_CNT_SHIFT);
}
static inline bool mcg_cap_ctl_p(uint64_t cap)
{
	return cap & MCG_CAP_CTL_P;
}
static inline bool mcg_cap_ext_p(uint64_t cap)
{
	return cap & MCG_CAP_EXT_P;
}
static inline bool mcg_cap_cmci_p(uint64_t cap)
{
	return cap & MCG_CAP_CMCI_P;
}
static inline bool mcg_cap_tes_p(uint64_t cap)
{
	return cap & MCG_CAP_TES_P;
}
static inline bool mcg_cap_ser_p(uint64_t cap)
{
	return cap & MCG_CAP_SER_P;
}
static inline bool mcg_cap_elog_p(uint64_t cap)
{
	return cap & MCG_CAP_ELOG_P;
}
static inline bool mcg_cap_lmce_p(uint64_t cap)
{
	return cap & MCG_CAP_LMCE_P;
}

/* ---- IA32_MCi_MISC (Intel, when MCi_STATUS.MISCV) ----
 * 5:0 recoverable address LSB: the lowest valid bit of MCi_ADDR (12 = the whole 4 KiB page)
 * 8:6 address mode: 0 segment offset, 1 linear, 2 physical, 3 memory address, 7 generic */
#define MCI_MISC_ADDR_LSB_MASK 0x3full
#define MCI_MISC_ADDR_MODE_SHIFT 6
#define MCI_MISC_ADDR_MODE_MASK (7ull << MCI_MISC_ADDR_MODE_SHIFT)
#define MCI_MISC_ADDR_SEGOFF 0
#define MCI_MISC_ADDR_LINEAR 1
#define MCI_MISC_ADDR_PHYS 2
#define MCI_MISC_ADDR_MEM 3
#define MCI_MISC_ADDR_GENERIC 7

static inline unsigned mci_misc_addr_lsb(uint64_t misc)
{
	return (unsigned)(misc & MCI_MISC_ADDR_LSB_MASK);
}
static inline unsigned mci_misc_addr_mode(uint64_t misc)
{
	return (unsigned)((misc & MCI_MISC_ADDR_MODE_MASK) >> MCI_MISC_ADDR_MODE_SHIFT);
}

/* Where a record came from. */
enum mce_source {
	MCE_SRC_MC,   /* the #MC handler */
	MCE_SRC_POLL, /* the poll timer */
	MCE_SRC_CMCI, /* the CMCI handler */
	MCE_SRC_BOOT, /* left in the banks from before boot */
};

/* One bank's error as the arch side read it (plus the CPU's state at the time). */
struct mce_record {
	uint64_t status;     /* MCi_STATUS */
	uint64_t addr;	     /* MCi_ADDR (0 unless ADDRV) */
	uint64_t misc;	     /* MCi_MISC (0 unless MISCV) */
	uint64_t mcg_status; /* MCG_STATUS of the CPU that read the bank */
	uint64_t mcg_cap;    /* MCG_CAP of that CPU */
	uint64_t ip;	     /* interrupted RIP (0 if unknown, e.g. from polling) */
	uint64_t tsc;	     /* time stamp counter when read */
	uint64_t time;	     /* wall-clock seconds since the epoch, 0 if unknown */
	uint64_t ppin;	     /* protected processor inventory number, 0 if unknown */
	uint32_t cpu;	     /* logical CPU that read the bank */
	uint32_t apicid;     /* its APIC id */
	uint32_t socketid;   /* its package */
	uint32_t cpuid;	     /* CPUID.1:EAX (family/model/stepping signature) */
	uint32_t microcode;  /* microcode revision */
	uint16_t cs;	     /* interrupted CS (0 if unknown) */
	uint8_t bank;	     /* bank number */
	uint8_t cpuvendor;   /* Linux's numbering: 0 Intel, 2 AMD (printed as PROCESSOR v:cpuid) */
	uint8_t source;	     /* enum mce_source */
};

/* A CS selector with RPL 3 is user mode (what mce-inject's "RIP cs:ip" encodes, too). */
static inline bool mce_cs_is_user(uint64_t cs)
{
	return (cs & 3) == 3;
}

/* Grades, ordered by severity: a larger grade is worse. */
enum mce_grade {
	MCE_NO,	   /* not an error (invalid or not enabled): ignore */
	MCE_KEEP,  /* corrected, or not ours to handle here: log only */
	MCE_SOME,  /* something happened that needs no action (e.g. SRAO with unknown code) */
	MCE_UCNA,  /* uncorrected, no action required: log, poison the frame if the address is good
		    */
	MCE_AO,	   /* action optional (SRAO): hand the frame to memory_failure from a worker */
	MCE_UC,	   /* uncorrected without SER, interrupted context can continue */
	MCE_AR,	   /* action required (SRAR): recover before the interrupted context continues */
	MCE_PANIC, /* the system cannot continue */
	MCE_GRADE_COUNT
};

/* What the interrupted context was, as the grading table sees it. */
enum mce_where {
	MCE_IN_USER = 1,	 /* user mode */
	MCE_IN_KERNEL = 2,	 /* kernel mode at an IP without a usable exception fixup */
	MCE_IN_KERNEL_RECOV = 4, /* kernel mode at an IP with a fixup, RIPV and EIPV both set */
};

/* The context a record is graded and decided in. Filled by the arch side per event. */
struct mce_ctx {
	bool in_mc;	   /* inside the #MC handler (false: poll timer, CMCI, boot scan) */
	bool user_mode;	   /* the interrupted context ran in user mode (CS RPL 3) */
	bool kernel_fixup; /* the interrupted kernel IP has an exception-table fixup (user copy) */
	bool ser;	   /* MCG_CAP.SER_P: software error recovery is supported */
	uint64_t mcg_status; /* this CPU's MCG_STATUS on entry (decides when no record explains
			      * a #MC, and whether the interrupted context can restart) */
	/* Policy knobs. */
	bool ignore_ce;	  /* corrected errors are neither logged nor acted on */
	bool panic_on_ce; /* testing: a corrected error panics */
};

/* Grade one record: the first matching row of the grading table decides. Stores the row's
 * message in *msg when msg is not NULL and bumps that row's coverage counter (lock-free).
 * Any context, including #MC/NMI. */
enum mce_grade mce_grade(const struct mce_record *r, const struct mce_ctx *ctx, const char **msg);
/* As mce_grade, also giving the index of the matching row in *row (when not NULL). */
enum mce_grade mce_grade_row_of(const struct mce_record *r, const struct mce_ctx *ctx,
				const char **msg, size_t *row);
/* The context class the table uses for r in ctx (user; kernel; kernel at a fixup with RIPV and
 * EIPV set). Any context. */
enum mce_where mce_where(const struct mce_record *r, const struct mce_ctx *ctx);
/* Short name of a grade ("NO", "KEEP", ..., "PANIC"); "?" for out-of-range values. */
const char *mce_grade_name(enum mce_grade g);

/* One row of the grading table as seen from outside (for /sys, debug dumps and tests). */
struct mce_grade_row_info {
	const char *msg;
	enum mce_grade grade;
	uint64_t hits; /* how many records this row has graded since boot or the last reset */
};
/* Number of rows in the grading table (the last one matches everything). */
size_t mce_grade_rows(void);
/* Describe row i into *out. Returns 0, or -EINVAL if i is out of range. Any context. */
int mce_grade_row(size_t i, struct mce_grade_row_info *out);
/* Zero every row's coverage counter. Not concurrently with grading if exact counts matter. */
void mce_grade_reset_coverage(void);

/* ---- physical address (kernel/mce/addr.c) ---- */

/* A decoded error address: the page-aligned-or-finer physical address and its granularity. */
struct mce_paddr {
	paddr_t addr; /* MCi_ADDR with the bits below lsb cleared */
	pfn_t pfn;    /* addr >> PAGE_SHIFT */
	unsigned lsb; /* lowest valid address bit (for si_addr_lsb) */
};
/* Highest physical address bit the architecture allows (MAXPHYADDR is at most 52). */
#define MCE_PADDR_BITS 52
/* Decode r's address. Returns 0 and fills *out when it is usable (ADDRV and MISCV set, MISC
 * address mode physical, LSB <= PAGE_SHIFT); -ENOENT if ADDRV or MISCV is clear, -EINVAL if
 * the mode is not physical, -ERANGE if the LSB is coarser than a page. Any context. */
int mce_addr_decode(const struct mce_record *r, struct mce_paddr *out);
/* True when mce_addr_decode would succeed. Any context. */
bool mce_addr_usable(const struct mce_record *r);
/* Whether the record reports a memory error, by the Intel compound error codes of MCACOD (bit
 * 12, the filter bit, ignored): memory controller (0000 1MMM CCCC), cache hierarchy (0001 RRRR
 * TTLL) or generic cache hierarchy (0000 0000 11LL). A bus or interconnect error (bit 11) is
 * not, whatever its lower bits say. As Linux's mce_is_memory_error on Intel. Any context. */
bool mce_is_memory_error(const struct mce_record *r);

/* ---- decision (kernel/mce/decide.c) ---- */

/* What to do, ordered by precedence (a larger action overrides a smaller one). */
enum mce_action {
	MCE_ACT_NONE,	   /* nothing valid (or ignored by policy) */
	MCE_ACT_LOG,	   /* log the record(s) only */
	MCE_ACT_QUEUE_MF,  /* log; queue the frame(s) for memory_failure on a kernel worker */
	MCE_ACT_KILL_TASK, /* user mode without RIPV: the interrupted task cannot resume: SIGBUS */
	MCE_ACT_AR_KERNEL, /* SRAR in the kernel at a fixup IP: the user copy fails with -EFAULT,
			    * the frame goes to memory_failure from a worker */
	MCE_ACT_AR_USER,   /* SRAR in user mode: memory_failure(pfn, MF_ACTION_REQUIRED) before
			    * returning to user mode, the current task signalled (killed if
			    * the address is unusable or must_kill is set) */
	MCE_ACT_PANIC,	   /* panic with msg */
	MCE_ACT_COUNT
};

/* The action one record asks for on its own (see mce_decide for the whole event). */
struct mce_verdict {
	enum mce_grade grade;
	const char *msg;	/* the grading row's message */
	enum mce_action action; /* NONE, LOG, QUEUE_MF, AR_KERNEL, AR_USER or PANIC */
	bool addr_ok;		/* paddr is valid */
	struct mce_paddr paddr;
};

/* The decision for one CPU's records in one event. Whatever the action (short of PANIC), the
 * caller also queues the frame of every record whose verdict is MCE_ACT_QUEUE_MF and logs every
 * record whose verdict is MCE_ACT_LOG or above. */
struct mce_decision {
	enum mce_action action;
	enum mce_grade worst; /* worst grade among the records (MCE_NO if none) */
	int idx;	      /* the deciding record: the first with the largest action; -1 when
			       * none (no records, or a rule about the whole event decided) */
	const char *msg;      /* reason: the deciding record's grading message, or the rule's */
	bool addr_ok;	      /* paddr is the deciding record's usable address (AR: the frame) */
	struct mce_paddr paddr;
	bool must_kill;	  /* AR_USER with RIPV clear: the task cannot resume even if recovered */
	unsigned n_queue; /* records whose own action is MCE_ACT_QUEUE_MF */
	unsigned n_log;	  /* records to log (action LOG or above) */
};

/* Grade r and say what it alone asks for; fills *v. Any context, including #MC. */
void mce_judge(const struct mce_record *r, const struct mce_ctx *ctx, struct mce_verdict *v);
/* Decide what one CPU does about its n records (n may be 0: a #MC with nothing in the banks).
 * Fills *d and, when verdicts is not NULL, verdicts[0..n-1] with each record's own verdict.
 * Pure: no side effects beyond the grading coverage counters. Any context, including #MC. */
void mce_decide(const struct mce_record *recs, size_t n, const struct mce_ctx *ctx,
		struct mce_decision *d, struct mce_verdict *verdicts);
/* Fold another CPU's decision into acc (the monarch's view): the larger action wins, then the
 * worse grade; on a tie acc is kept. Any context. */
void mce_decision_merge(struct mce_decision *acc, const struct mce_decision *other);
/* Short name of an action ("none", "log", "queue-memory-failure", ...); "?" if out of range. */
const char *mce_action_name(enum mce_action a);

/* Reasons mce_decide gives when no single record's row explains the outcome. */
#define MCE_MSG_UNKNOWN_SOURCE "Machine check from unknown source"
#define MCE_MSG_NO_RESTART "Interrupted task cannot restart (RIPV clear)"
#define MCE_MSG_PANIC_ON_CE "Corrected error with panic on corrected errors set"

/* ---- log formatting (kernel/mce/format.c) ---- */

/* Prefix of every line, as Linux prints hardware errors. */
#define MCE_HW_ERR "mce: [Hardware Error]: "
/* Format r as the lines Linux prints for a hardware error (so that mcelog --ascii reads them),
 * each ending in '\n', into buf (always NUL-terminated when size > 0). Returns the length the
 * whole text needs, as snprintf does. Any context (no locks, no allocation). */
int mce_format_record(char *buf, size_t size, const struct mce_record *r);
/* Format one decoded summary line: CPU, bank, grade, message, address, action. Returns the
 * length needed, as snprintf does. Any context. */
int mce_format_summary(char *buf, size_t size, const struct mce_record *r,
		       const struct mce_verdict *v);

/* ---- mce-inject text format (kernel/mce/inject_parse.c) ---- */

/* Per-record flags from the mce-inject keywords. */
#define MCE_INJ_EXCP BIT(0)	    /* EXCP: raise #MC */
#define MCE_INJ_POLL BIT(1)	    /* POLL: leave it for the poller */
#define MCE_INJ_IN_IRQ BIT(2)	    /* IN_IRQ: inject from interrupt context */
#define MCE_INJ_IN_PROC BIT(3)	    /* IN_PROC: inject from process context */
#define MCE_INJ_HOLD BIT(4)	    /* HOLD: keep it; the next record without HOLD raises */
#define MCE_INJ_NOBROADCAST BIT(5)  /* NOBROADCAST: other CPUs do not see a machine check */
#define MCE_INJ_IRQBROADCAST BIT(6) /* IRQBROADCAST: reach other CPUs by IPI */
#define MCE_INJ_NMIBROADCAST BIT(7) /* NMIBROADCAST: reach other CPUs by NMI */
#define MCE_INJ_HAS_RIP BIT(8)	    /* a RIP line gave ip (and maybe cs) */
#define MCE_INJ_CMCI BIT(9)	    /* CMCI (MCRK extension): raise the CMCI vector, not #MC */

/* One record of an mce-inject file. rec.cpu/bank/status/mcg_status/addr/misc/ip/cs come from
 * the file (ADDR sets ADDRV, MISC sets MISCV, as the tool does); the rest stays 0 unless the
 * file gives TSC, TIME, SOCKETID, APICID, MCGCAP or PROCESSOR. */
struct mce_inj_record {
	struct mce_record rec;
	uint32_t flags; /* MCE_INJ_* */
	unsigned line;	/* line where the record starts (1-based) */
};

/* Parse len bytes of mce-inject text into out[0..max-1]. Returns the number of records, or
 * -EINVAL on malformed input / -E2BIG if there are more than max records, with a message naming
 * the line in err (err may be NULL; always NUL-terminated when errsize > 0). Never reads past
 * len; NUL bytes are errors. Any context (no allocation). */
int mce_inject_parse(const char *text, size_t len, struct mce_inj_record *out, size_t max,
		     char *err, size_t errsize);
/* Whether the record raises #MC: EXCP says yes, POLL says no; without either, the record raises
 * #MC when it is uncorrected (UC set), as the mce-inject tool does. */
bool mce_inj_raises_mc(const struct mce_inj_record *r);
