/* Host tests of the machine-check grading table (kernel/mce/severity.c) and of the per-record
 * decision (kernel/mce/decide.c).
 *
 * The core test walks every combination of the MCi_STATUS bits VAL OVER UC EN MISCV ADDRV PCC
 * S AR, a set of MCACODs, MCG_STATUS MCIP RIPV EIPV, user/kernel mode, kernel fixup, SER on or
 * off, and #MC versus polling, and checks the table's grade against sdm_grade() below: an
 * independent, plain if/else statement of the Intel SDM rules (vol. 3B, 15.9-15.10) as Linux
 * applies them. It shares no code with the table. The same walk checks mce_decide against
 * sdm_action(). Every table row must be hit by the walk. */
#include "unit.h"
#include "mce.h"
#include "kerrno.h"
#include <string.h>

/* The status bits the walk enumerates, in the order of the walk's bit index. */
static const uint64_t walk_bits[] = {
    MCI_STATUS_VAL,   MCI_STATUS_OVER, MCI_STATUS_UC, MCI_STATUS_EN, MCI_STATUS_MISCV,
    MCI_STATUS_ADDRV, MCI_STATUS_PCC,  MCI_STATUS_S,  MCI_STATUS_AR,
};
/* MCACODs: none, data load, instruction fetch, scrub (first, middle and last of the range, and
 * with the filter bit), L3 writeback, a generic cache code, data load with the filter bit, and
 * codes next to the known ones that must not match them. */
static const unsigned walk_codes[] = {0x0,  0x134,  0x150, 0xc0, 0xc5, 0xcf,  0x10c0, 0x17a,
				      0x10, 0x1134, 0x135, 0xbf, 0xd0, 0x17b, 0x0151};

struct facts {
	bool val, over, uc, en, miscv, addrv, pcc, s, ar;
	unsigned code;
	bool ripv, eipv, mcip, user, fixup, ser, mc;
};

/* The SDM's grading, written out as plain decisions. */
static enum mce_grade sdm_grade(const struct facts *f)
{
	unsigned code = f->code & 0xefff; /* bit 12 (report filtering) never matters */
	bool scrub = code >= 0xc0 && code <= 0xcf;
	bool ao_code = scrub || code == 0x17a;
	bool kernel = !f->user;
	bool kernel_fixup_ok = kernel && f->fixup && f->ripv && f->eipv;

	if (!f->val)
		return MCE_NO;
	if (!f->mc) { /* found by polling or CMCI: log, never act at once */
		if (!f->uc)
			return MCE_KEEP;
		if (f->ser && !f->ar && ao_code)
			return MCE_AO;
		return MCE_UCNA;
	}
	if (!f->en)
		return MCE_NO;
	if (f->pcc)
		return MCE_PANIC;
	if (!f->mcip)
		return MCE_PANIC;
	if (!f->ripv && !f->eipv)
		return MCE_PANIC;
	if (kernel && !f->ripv)
		return MCE_PANIC;
	if (!f->ser) { /* pre-SER processors */
		if (!f->uc)
			return MCE_KEEP;
		if (f->over)
			return MCE_PANIC;
		if (kernel && !kernel_fixup_ok)
			return MCE_PANIC;
		return MCE_UC;
	}
	if (!f->uc)
		return f->s ? MCE_SOME : MCE_KEEP;
	if (!f->ar && ao_code)
		return MCE_AO;
	if (!f->s)
		return f->ar ? MCE_PANIC : MCE_UCNA; /* S=0 AR=1 is illegal */
	if (!f->ar)
		return MCE_SOME; /* SRAO with an unknown code: nothing to do */
	/* SRAR */
	if (f->over)
		return MCE_PANIC;
	if (!f->addrv || !f->miscv)
		return MCE_PANIC;
	if (f->ripv && !f->eipv)
		return MCE_KEEP; /* the sibling thread: not the one that consumed the data */
	if (code == 0x134)
		return f->user || kernel_fixup_ok ? MCE_AR : MCE_PANIC;
	if (code == 0x150)
		return f->user ? MCE_AR : MCE_PANIC;
	return MCE_PANIC;
}

/* The action mce_decide should take for one record graded g. */
static enum mce_action sdm_action(const struct facts *f, enum mce_grade g, bool addr_ok)
{
	if (g == MCE_PANIC)
		return MCE_ACT_PANIC;
	if (f->mc && !f->ripv && g <= MCE_KEEP)
		return MCE_ACT_PANIC; /* nothing explains the #MC and nothing can resume */
	if (g == MCE_AR)
		return f->user ? MCE_ACT_AR_USER : MCE_ACT_AR_KERNEL;
	if (f->mc && !f->ripv && f->user)
		return MCE_ACT_KILL_TASK;
	if ((g == MCE_AO || g == MCE_UCNA) && addr_ok)
		return MCE_ACT_QUEUE_MF;
	return g == MCE_NO ? MCE_ACT_NONE : MCE_ACT_LOG;
}

static void build(const struct facts *f, struct mce_record *r, struct mce_ctx *c)
{
	bool b[9] = {f->val, f->over, f->uc, f->en, f->miscv, f->addrv, f->pcc, f->s, f->ar};

	memset(r, 0, sizeof(*r));
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 9; i++)
		if (b[i])
			r->status |= walk_bits[i];
	r->status |= f->code | (0x10ull << MCI_STATUS_MSCOD_SHIFT);
	r->mcg_status = (f->ripv ? MCG_STATUS_RIPV : 0) | (f->eipv ? MCG_STATUS_EIPV : 0) |
			(f->mcip ? MCG_STATUS_MCIP : 0);
	r->addr = 0x12345678;
	r->misc = f->code & 1 ? 0x8c : 0x86; /* physical, LSB 12 or 6 */
	r->cs = f->user ? 0x33 : 0x10;
	r->ip = 0x401000;
	c->in_mc = f->mc;
	c->user_mode = f->user;
	c->kernel_fixup = f->fixup;
	c->ser = f->ser;
	c->mcg_status = r->mcg_status;
}

static void unpack(unsigned bits, unsigned ctxbits, unsigned code, struct facts *f)
{
	*f = (struct facts){
	    .val = bits & 1,
	    .over = bits & 2,
	    .uc = bits & 4,
	    .en = bits & 8,
	    .miscv = bits & 16,
	    .addrv = bits & 32,
	    .pcc = bits & 64,
	    .s = bits & 128,
	    .ar = bits & 256,
	    .code = code,
	    .ripv = ctxbits & 1,
	    .eipv = ctxbits & 2,
	    .mcip = ctxbits & 4,
	    .user = ctxbits & 8,
	    .fixup = ctxbits & 16,
	    .ser = ctxbits & 32,
	    .mc = ctxbits & 64,
	};
}

/* Walk everything; return the number of mismatches (and report the first few). */
static int walk_all(void)
{
	int bad = 0;

	for (size_t ci = 0; ci < ARRAY_SIZE(walk_codes); ci++) {
		for (unsigned bits = 0; bits < 512; bits++) {
			for (unsigned cb = 0; cb < 128; cb++) {
				struct facts f;
				struct mce_record r;
				struct mce_ctx c;
				struct mce_decision d;
				const char *msg = NULL;
				enum mce_grade want, got;
				enum mce_action want_act;

				unpack(bits, cb, walk_codes[ci], &f);
				build(&f, &r, &c);
				got = mce_grade(&r, &c, &msg);
				want = sdm_grade(&f);
				mce_decide(&r, 1, &c, &d, NULL);
				want_act = sdm_action(&f, want, mce_addr_usable(&r));
				if (got == want && d.action == want_act && msg)
					continue;
				if (bad++ < 10)
					printf("    status %016llx mcg %llx user %d fixup %d ser "
					       "%d mc %d: "
					       "grade %s (%s) want %s; action %s want %s\n",
					       (unsigned long long)r.status,
					       (unsigned long long)r.mcg_status, f.user, f.fixup,
					       f.ser, f.mc, mce_grade_name(got), msg,
					       mce_grade_name(want), mce_action_name(d.action),
					       mce_action_name(want_act));
			}
		}
	}
	return bad;
}

TEST(mce_grade_exhaustive_matches_sdm)
{
	CHECK_EQ(walk_all(), 0);
}

/* After the walk every row has graded something: no dead rows in the table. */
TEST(mce_grade_every_row_covered)
{
	struct mce_grade_row_info info;
	size_t n = mce_grade_rows();

	mce_grade_reset_coverage();
	for (size_t i = 0; i < n; i++) {
		REQUIRE(mce_grade_row(i, &info) == 0);
		CHECK_EQ(info.hits, 0);
	}
	REQUIRE(walk_all() == 0);
	for (size_t i = 0; i < n; i++) {
		REQUIRE(mce_grade_row(i, &info) == 0);
		if (info.hits == 0)
			printf("    row %zu \"%s\" never hit\n", i, info.msg);
		CHECK(info.hits > 0);
		CHECK(info.msg != NULL && info.msg[0] != '\0');
		CHECK((unsigned)info.grade < MCE_GRADE_COUNT);
	}
	CHECK_EQ(mce_grade_row(n, &info), -EINVAL);
	/* The catch-all is last and grades SOME. */
	REQUIRE(mce_grade_row(n - 1, &info) == 0);
	CHECK(strcmp(info.msg, "No match") == 0);
	CHECK_EQ(info.grade, MCE_SOME);
}

/* Grade a record built from words; returns the grade and the message. */
static enum mce_grade grade_of(uint64_t status, uint64_t mcg, bool user, bool fixup, bool ser,
			       bool mc, const char **msg, size_t *row)
{
	struct mce_record r = {.status = status, .mcg_status = mcg, .cs = user ? 0x73 : 0x10};
	struct mce_ctx c = {
	    .in_mc = mc, .user_mode = user, .kernel_fixup = fixup, .ser = ser, .mcg_status = mcg};

	return mce_grade_row_of(&r, &c, msg, row);
}

#define V MCI_STATUS_VAL
#define UC MCI_STATUS_UC
#define EN MCI_STATUS_EN
#define PCC MCI_STATUS_PCC
#define S MCI_STATUS_S
#define AR MCI_STATUS_AR
#define OVER MCI_STATUS_OVER
#define ADDR (MCI_STATUS_ADDRV | MCI_STATUS_MISCV)
#define RIPV MCG_STATUS_RIPV
#define EIPV MCG_STATUS_EIPV
#define MCIP MCG_STATUS_MCIP

struct msg_case {
	uint64_t status, mcg;
	bool user, fixup, ser, mc;
	enum mce_grade grade;
	const char *msg;
};

/* The messages mce-test's case files expect, with the grade each comes with. */
static const struct msg_case msg_cases[] = {
    {V | UC | EN | PCC | S, MCIP, 0, 0, 1, 1, MCE_PANIC, "Processor context corrupt"},
    {V | UC | EN | S, 0, 0, 0, 1, 1, MCE_PANIC, "MCIP not set in MCA handler"},
    {V | UC | EN | S, MCIP, 0, 0, 1, 1, MCE_PANIC, "Neither restart nor error IP"},
    {V | UC | EN | S, MCIP | EIPV, 0, 0, 1, 1, MCE_PANIC, "In kernel and no restart IP"},
    {V | UC | EN | AR | ADDR, MCIP | RIPV | EIPV, 0, 0, 1, 1, MCE_PANIC,
     "Illegal combination (UCNA with AR=1)"},
    {V | UC | EN | S | AR | OVER, MCIP | EIPV, 1, 0, 1, 1, MCE_PANIC,
     "Action required with lost events"},
    {V | UC | EN | S | AR | MCI_STATUS_ADDRV, MCIP | EIPV, 1, 0, 1, 1, MCE_PANIC,
     "Action required: unknown MCACOD"},
    {V | UC | EN | OVER, MCIP | RIPV | EIPV, 0, 0, 0, 1, MCE_PANIC, "Overflowed uncorrected"},
    {V | UC | EN | S | AR | ADDR | 0x134, MCIP | RIPV | EIPV, 1, 0, 1, 1, MCE_AR,
     "Action required: data load error in a user process"},
    {V | UC | EN | S | AR | ADDR | 0x150, MCIP | EIPV, 1, 0, 1, 1, MCE_AR,
     "Action required: instruction fetch error in a user process"},
    {V | UC | EN | S | AR | ADDR | 0x134, MCIP | RIPV | EIPV, 0, 1, 1, 1, MCE_AR,
     "Action required: data load in error recoverable area of kernel"},
    {V | UC | EN | S | AR | ADDR | 0x134, MCIP | RIPV | EIPV, 0, 0, 1, 1, MCE_PANIC,
     "Data load in unrecoverable area of kernel"},
    {V | UC | EN | S | AR | ADDR | 0x150, MCIP | RIPV | EIPV, 0, 1, 1, 1, MCE_PANIC,
     "Instruction fetch error in kernel"},
    {V | UC | EN | S | AR | ADDR | 0x134, MCIP | RIPV, 1, 0, 1, 1, MCE_KEEP,
     "Action required but unaffected thread is continuable"},
    {V | UC | EN | S | ADDR | 0xc3, MCIP | RIPV, 1, 0, 1, 1, MCE_AO,
     "Action optional: memory scrubbing error"},
    {V | UC | EN | S | ADDR | 0x17a, MCIP | RIPV, 0, 0, 1, 1, MCE_AO,
     "Action optional: last level cache writeback error"},
    {V | UC | EN | ADDR | 0xc0, 0, 0, 0, 1, 0, MCE_AO, "Action optional: memory scrubbing error"},
    {V | UC | EN | ADDR, 0, 0, 0, 1, 0, MCE_UCNA, "Uncorrected no action required"},
    {V | UC | EN | OVER, MCIP | RIPV, 1, 0, 1, 1, MCE_UCNA, "Uncorrected no action required"},
    {V | UC | EN | S | AR, 0, 0, 0, 1, 0, MCE_UCNA, "Uncorrected error found by polling"},
    {V | UC | EN | PCC, 0, 0, 0, 0, 0, MCE_UCNA, "Uncorrected error found by polling"},
    {V | UC | EN | S, MCIP | RIPV, 1, 0, 1, 1, MCE_SOME, "Action optional: unknown MCACOD"},
    {V | UC | EN | S | OVER, MCIP | RIPV, 1, 0, 1, 1, MCE_SOME, "Action optional with lost events"},
    {V | EN, 0, 0, 0, 1, 0, MCE_KEEP, "Corrected error"},
    {V, 0, 0, 0, 0, 0, MCE_KEEP, "Corrected error"},
    {V | EN, MCIP | RIPV, 0, 0, 0, 1, MCE_KEEP, "Corrected error"},
    {V | EN, MCIP | RIPV, 0, 0, 1, 1, MCE_KEEP, "Non signaled machine check"},
    {V | EN | S, MCIP | RIPV, 0, 0, 1, 1, MCE_SOME, "No match"},
    {V | UC | EN, MCIP | RIPV | EIPV, 0, 0, 0, 1, MCE_PANIC, "Uncorrected in kernel"},
    {V | UC | EN, MCIP | RIPV | EIPV, 0, 1, 0, 1, MCE_UC, "Uncorrected"},
    {V | UC | EN, MCIP | RIPV, 1, 0, 0, 1, MCE_UC, "Uncorrected"},
    {V | UC | PCC | S, MCIP, 0, 0, 1, 1, MCE_NO, "Not enabled"},
    {UC | EN | PCC, MCIP, 0, 0, 1, 1, MCE_NO, "Invalid"},
    {UC | EN | PCC, 0, 0, 0, 1, 0, MCE_NO, "Invalid"},
};

TEST(mce_grade_messages)
{
	for (size_t i = 0; i < ARRAY_SIZE(msg_cases); i++) {
		const struct msg_case *k = &msg_cases[i];
		const char *msg = NULL;
		enum mce_grade g =
		    grade_of(k->status, k->mcg, k->user, k->fixup, k->ser, k->mc, &msg, NULL);

		if (g != k->grade || !msg || strcmp(msg, k->msg) != 0)
			printf("    case %zu: got %s \"%s\", want %s \"%s\"\n", i,
			       mce_grade_name(g), msg ? msg : "(null)", mce_grade_name(k->grade),
			       k->msg);
		CHECK_EQ(g, k->grade);
		CHECK(msg && strcmp(msg, k->msg) == 0);
	}
}

TEST(mce_grade_null_msg_and_row_index)
{
	size_t row = 999;
	struct mce_grade_row_info info;

	/* msg may be NULL; row gives the matching row, whose info carries the same message. */
	CHECK_EQ(grade_of(0, 0, 0, 0, 1, 1, NULL, &row), MCE_NO);
	REQUIRE(row < mce_grade_rows());
	REQUIRE(mce_grade_row(row, &info) == 0);
	CHECK(strcmp(info.msg, "Invalid") == 0);
	CHECK_EQ(row, 0);
}

TEST(mce_grade_filter_bit_ignored)
{
	const char *msg;

	/* MCACOD bit 12 (corrected-report filtering) does not change the class. */
	CHECK_EQ(grade_of(V | UC | EN | S | AR | ADDR | 0x1134, MCIP | RIPV | EIPV, 1, 0, 1, 1,
			  &msg, NULL),
		 MCE_AR);
	CHECK_EQ(grade_of(V | UC | EN | S | ADDR | 0x117a, MCIP | RIPV, 1, 0, 1, 1, &msg, NULL),
		 MCE_AO);
	/* MSCOD bits do not either. */
	CHECK_EQ(grade_of(V | UC | EN | S | AR | ADDR | 0x134 | (0xffffull << 16),
			  MCIP | RIPV | EIPV, 1, 0, 1, 1, &msg, NULL),
		 MCE_AR);
}

TEST(mce_where_classes)
{
	struct mce_record r = {.mcg_status = RIPV | EIPV};
	struct mce_ctx c = {.in_mc = true};

	CHECK_EQ(mce_where(&r, &c), MCE_IN_KERNEL);
	c.kernel_fixup = true;
	CHECK_EQ(mce_where(&r, &c), MCE_IN_KERNEL_RECOV);
	r.mcg_status = RIPV; /* an inexact IP cannot use the fixup */
	CHECK_EQ(mce_where(&r, &c), MCE_IN_KERNEL);
	c.user_mode = true;
	CHECK_EQ(mce_where(&r, &c), MCE_IN_USER);
	CHECK(mce_cs_is_user(0x73));
	CHECK(mce_cs_is_user(0x33));
	CHECK(!mce_cs_is_user(0x10));
	CHECK(mce_cs_is_user(0x13)); /* RPL 3, whatever the README of mce-test calls it */
}

TEST(mce_grade_names_ordered)
{
	static const char *const names[] = {"NO", "KEEP", "SOME", "UCNA",
					    "AO", "UC",	  "AR",	  "PANIC"};

	for (int g = 0; g < MCE_GRADE_COUNT; g++)
		CHECK(strcmp(mce_grade_name((enum mce_grade)g), names[g]) == 0);
	CHECK(strcmp(mce_grade_name(MCE_GRADE_COUNT), "?") == 0);
	CHECK(MCE_NO < MCE_KEEP && MCE_KEEP < MCE_SOME && MCE_SOME < MCE_UCNA &&
	      MCE_UCNA < MCE_AO && MCE_AO < MCE_UC && MCE_UC < MCE_AR && MCE_AR < MCE_PANIC);
}

TEST(mce_register_accessors)
{
	uint64_t cap = 0x100010a; /* QEMU's MCG_CAP: 10 banks, CTL_P, SER_P */

	CHECK_EQ(mcg_cap_count(cap), 10);
	CHECK(mcg_cap_ctl_p(cap));
	CHECK(mcg_cap_ser_p(cap));
	CHECK(!mcg_cap_cmci_p(cap));
	CHECK(!mcg_cap_lmce_p(cap));
	CHECK(!mcg_cap_ext_p(cap));
	CHECK(!mcg_cap_tes_p(cap));
	CHECK(!mcg_cap_elog_p(cap));
	CHECK(mcg_cap_lmce_p(cap | BIT(27)));
	CHECK(mcg_cap_cmci_p(BIT(10)));
	CHECK_EQ(mcg_cap_ext_cnt(0x00ab0000), 0xab);
	CHECK_EQ(mci_status_mcacod(0xbd80000000100134ull), 0x134);
	CHECK_EQ(mci_status_mscod(0xbd80000000100134ull), 0x10);
	CHECK_EQ(mci_status_cec(0x7fffull << 38), 0x7fff);
	CHECK_EQ(mci_misc_addr_lsb(0x8c), 12);
	CHECK_EQ(mci_misc_addr_mode(0x8c), MCI_MISC_ADDR_PHYS);
	CHECK_EQ(mci_misc_addr_mode(0x4c), MCI_MISC_ADDR_LINEAR);
}
