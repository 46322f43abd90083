/* The machine-check grading table.
 *
 * Each row tests MCi_STATUS with a mask and a value, MCG_STATUS likewise, and then the
 * context: #MC or polling, SER present or not, and where the CPU was (user, kernel, kernel at
 * a fixup IP). The first row whose tests all pass grades the record; its message says why and
 * its coverage counter counts the hit. The last row matches everything, so every record gets a
 * grade. The order follows the Intel SDM's reasoning (volume 3B, 15.9 and 15.10): first what
 * makes the record meaningless, then what makes recovery impossible whatever the error (PCC,
 * MCIP clear, no usable IP), then corrected errors, then the SER classes (SRAO, UCNA, SRAR) by
 * their MCACOD, then the pre-SER rules for uncorrected errors. docs/mca.md states it in words.
 *
 * Records found by the poller or CMCI (ctx->in_mc false) never reach the #MC-only rows: nothing
 * is executing on top of the error, so they are logged (corrected: KEEP; uncorrected: UCNA)
 * and known action-optional codes still get AO so their frames are retired. */
#include "kerrno.h"
#include "mce.h"

enum src_match { ANY_SRC, ONLY_MC, ONLY_POLL };
enum ser_match { ANY_SER, NEED_SER, NEED_NO_SER };

struct grade_row {
	uint64_t st_mask, st_value;   /* (status & st_mask) == st_value */
	uint64_t mcg_mask, mcg_value; /* (mcg_status & mcg_mask) == mcg_value */
	uint8_t src;		      /* enum src_match */
	uint8_t ser;		      /* enum ser_match */
	uint8_t where;		      /* bitwise OR of enum mce_where; 0 = anywhere */
	uint8_t grade;		      /* enum mce_grade */
	const char *msg;
};

/* Row-building shorthands: a row is a grade, a message and a list of tests. */
#define RULE(g, m, ...)                                                                            \
	{                                                                                          \
		.grade = MCE_##g, .msg = (m), __VA_ARGS__                                          \
	}
#define ST_SET(bits) .st_mask = (bits), .st_value = (bits)
#define ST_CLEAR(bits) .st_mask = (bits), .st_value = 0
#define ST(mask, value) .st_mask = (mask), .st_value = (value)
#define MCG(mask, value) .mcg_mask = (mask), .mcg_value = (value)
#define IN_MC .src = ONLY_MC
#define IN_POLL .src = ONLY_POLL
#define SER .ser = NEED_SER
#define NOSER .ser = NEED_NO_SER
#define WHERE(w) .where = (w)

#define UC_S (MCI_STATUS_UC | MCI_STATUS_S)
#define UC_S_AR (MCI_STATUS_UC | MCI_STATUS_S | MCI_STATUS_AR)
#define OVER_UC_S_AR (MCI_STATUS_OVER | UC_S_AR)
#define ADDR_MISC (MCI_STATUS_ADDRV | MCI_STATUS_MISCV)
/* A known SRAR code: UC S AR set, OVER clear, address and MISC valid, this MCACOD. */
#define SRAR_CODE(code) ST(OVER_UC_S_AR | ADDR_MISC | MCACOD_CMP_MASK, UC_S_AR | ADDR_MISC | (code))
#define KERNEL_ANY (MCE_IN_KERNEL | MCE_IN_KERNEL_RECOV)

/* clang-format off */
static const struct grade_row rows[] = {
	/* Meaningless records. */
	RULE(NO, "Invalid", ST_CLEAR(MCI_STATUS_VAL)),
	RULE(KEEP, "Corrected error", IN_POLL, ST_CLEAR(MCI_STATUS_UC)),
	RULE(NO, "Not enabled", IN_MC, ST_CLEAR(MCI_STATUS_EN)),
	/* Nothing can be recovered, whatever the error. */
	RULE(PANIC, "Processor context corrupt", IN_MC, ST_SET(MCI_STATUS_PCC)),
	RULE(PANIC, "MCIP not set in MCA handler", IN_MC, MCG(MCG_STATUS_MCIP, 0)),
	RULE(PANIC, "Neither restart nor error IP", IN_MC,
	     MCG(MCG_STATUS_RIPV | MCG_STATUS_EIPV, 0)),
	RULE(PANIC, "In kernel and no restart IP", IN_MC, WHERE(KERNEL_ANY),
	     MCG(MCG_STATUS_RIPV, 0)),
	/* Corrected errors seen by the #MC handler: left for the poller to log. */
	RULE(KEEP, "Corrected error", IN_MC, NOSER, ST_CLEAR(MCI_STATUS_UC)),
	/* SRAO by code. S is not tested: CMCI may report them with S=0. OVER is harmless. */
	RULE(AO, "Action optional: memory scrubbing error", SER,
	     ST(MCI_STATUS_UC | MCI_STATUS_AR | MCACOD_SCRUB_MASK, MCI_STATUS_UC | MCACOD_SCRUB)),
	RULE(AO, "Action optional: last level cache writeback error", SER,
	     ST(MCI_STATUS_UC | MCI_STATUS_AR | MCACOD_CMP_MASK, MCI_STATUS_UC | MCACOD_L3WB)),
	/* UCNA: uncorrected, not signalled, nothing required. OVER is ignored. */
	RULE(UCNA, "Uncorrected no action required", SER, ST(UC_S_AR, MCI_STATUS_UC)),
	/* Anything else uncorrected that the poller finds is logged, never acted on at once. */
	RULE(UCNA, "Uncorrected error found by polling", IN_POLL, ST_SET(MCI_STATUS_UC)),
	/* From here on only #MC records remain. */
	RULE(PANIC, "Illegal combination (UCNA with AR=1)", IN_MC, SER,
	     ST(UC_S_AR, MCI_STATUS_UC | MCI_STATUS_AR)),
	RULE(KEEP, "Non signaled machine check", IN_MC, SER, ST_CLEAR(MCI_STATUS_S)),
	RULE(PANIC, "Action required with lost events", IN_MC, SER, ST_SET(OVER_UC_S_AR)),
	/* SRAR. The sibling thread of the one that consumed the data sees RIPV=1 EIPV=0. */
	RULE(KEEP, "Action required but unaffected thread is continuable", IN_MC, SER,
	     ST(OVER_UC_S_AR | ADDR_MISC, UC_S_AR | ADDR_MISC),
	     MCG(MCG_STATUS_RIPV | MCG_STATUS_EIPV, MCG_STATUS_RIPV)),
	RULE(AR, "Action required: data load in error recoverable area of kernel", IN_MC, SER,
	     WHERE(MCE_IN_KERNEL_RECOV), SRAR_CODE(MCACOD_DATA)),
	RULE(AR, "Action required: data load error in a user process", IN_MC, SER,
	     WHERE(MCE_IN_USER), SRAR_CODE(MCACOD_DATA)),
	RULE(AR, "Action required: instruction fetch error in a user process", IN_MC, SER,
	     WHERE(MCE_IN_USER), SRAR_CODE(MCACOD_INSTR)),
	RULE(PANIC, "Data load in unrecoverable area of kernel", IN_MC, SER, WHERE(MCE_IN_KERNEL),
	     SRAR_CODE(MCACOD_DATA)),
	RULE(PANIC, "Instruction fetch error in kernel", IN_MC, SER, WHERE(KERNEL_ANY),
	     SRAR_CODE(MCACOD_INSTR)),
	RULE(PANIC, "Action required: unknown MCACOD", IN_MC, SER, ST(OVER_UC_S_AR, UC_S_AR)),
	/* SRAO with a code we do not know: nothing to do. */
	RULE(SOME, "Action optional: unknown MCACOD", IN_MC, SER, ST(OVER_UC_S_AR, UC_S)),
	RULE(SOME, "Action optional with lost events", IN_MC, SER,
	     ST(OVER_UC_S_AR, MCI_STATUS_OVER | UC_S)),
	/* Pre-SER uncorrected errors (with SER every uncorrected record matched above). */
	RULE(PANIC, "Overflowed uncorrected", IN_MC, ST_SET(MCI_STATUS_OVER | MCI_STATUS_UC)),
	RULE(PANIC, "Uncorrected in kernel", IN_MC, WHERE(MCE_IN_KERNEL), ST_SET(MCI_STATUS_UC)),
	RULE(UC, "Uncorrected", IN_MC, ST_SET(MCI_STATUS_UC)),
	/* Catch-all (reached by a signalled corrected error, S=1 UC=0, under SER). */
	RULE(SOME, "No match", ST(0, 0)),
};
/* clang-format on */

/* Coverage: how often each row matched. Bumped with relaxed atomics, so any context. */
static uint64_t row_hits[ARRAY_SIZE(rows)];

static const char *const grade_names[MCE_GRADE_COUNT] = {
    [MCE_NO] = "NO", [MCE_KEEP] = "KEEP", [MCE_SOME] = "SOME", [MCE_UCNA] = "UCNA",
    [MCE_AO] = "AO", [MCE_UC] = "UC",	  [MCE_AR] = "AR",     [MCE_PANIC] = "PANIC",
};

enum mce_where mce_where(const struct mce_record *r, const struct mce_ctx *ctx)
{
	const uint64_t both = MCG_STATUS_RIPV | MCG_STATUS_EIPV;

	if (ctx->user_mode)
		return MCE_IN_USER;
	/* A fixup only helps when the IP is exact and restartable. */
	if (ctx->kernel_fixup && (r->mcg_status & both) == both)
		return MCE_IN_KERNEL_RECOV;
	return MCE_IN_KERNEL;
}

static bool row_matches(const struct grade_row *row, const struct mce_record *r,
			const struct mce_ctx *ctx, enum mce_where where)
{
	if ((r->status & row->st_mask) != row->st_value)
		return false;
	if ((r->mcg_status & row->mcg_mask) != row->mcg_value)
		return false;
	if ((row->src == ONLY_MC && !ctx->in_mc) || (row->src == ONLY_POLL && ctx->in_mc))
		return false;
	if ((row->ser == NEED_SER && !ctx->ser) || (row->ser == NEED_NO_SER && ctx->ser))
		return false;
	if (row->where && !(row->where & where))
		return false;
	return true;
}

enum mce_grade mce_grade_row_of(const struct mce_record *r, const struct mce_ctx *ctx,
				const char **msg, size_t *row)
{
	enum mce_where where = mce_where(r, ctx);
	size_t i;

	/* The last row matches everything, so the loop always returns. */
	for (i = 0; i < ARRAY_SIZE(rows) - 1; i++)
		if (row_matches(&rows[i], r, ctx, where))
			break;
	__atomic_fetch_add(&row_hits[i], 1, __ATOMIC_RELAXED);
	if (msg)
		*msg = rows[i].msg;
	if (row)
		*row = i;
	return (enum mce_grade)rows[i].grade;
}

enum mce_grade mce_grade(const struct mce_record *r, const struct mce_ctx *ctx, const char **msg)
{
	return mce_grade_row_of(r, ctx, msg, NULL);
}

const char *mce_grade_name(enum mce_grade g)
{
	if ((unsigned)g >= MCE_GRADE_COUNT)
		return "?";
	return grade_names[g];
}

size_t mce_grade_rows(void)
{
	return ARRAY_SIZE(rows);
}

int mce_grade_row(size_t i, struct mce_grade_row_info *out)
{
	if (i >= ARRAY_SIZE(rows))
		return -EINVAL;
	out->msg = rows[i].msg;
	out->grade = (enum mce_grade)rows[i].grade;
	out->hits = __atomic_load_n(&row_hits[i], __ATOMIC_RELAXED);
	return 0;
}

void mce_grade_reset_coverage(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		__atomic_store_n(&row_hits[i], 0, __ATOMIC_RELAXED);
}
