/* Host tests of the machine-check address decoding (kernel/mce/addr.c) and of the event
 * decision (kernel/mce/decide.c): several records, the whole-event rules, policy knobs and the
 * monarch's merge. The single-record decision is also checked exhaustively in
 * test_mce_grade.c. */
#include "unit.h"
#include "mce.h"
#include "kerrno.h"
#include <string.h>

#define ADDRV MCI_STATUS_ADDRV
#define MISCV MCI_STATUS_MISCV

static struct mce_record rec_addr(uint64_t status, uint64_t addr, uint64_t misc)
{
	return (struct mce_record){.status = status, .addr = addr, .misc = misc};
}

TEST(mce_addr_usable_needs_addrv_and_miscv)
{
	struct mce_paddr pa = {0};
	struct mce_record r = rec_addr(MCI_STATUS_VAL, 0x12345678, 0x8c);

	CHECK_EQ(mce_addr_decode(&r, &pa), -ENOENT);
	r.status |= ADDRV;
	CHECK_EQ(mce_addr_decode(&r, &pa), -ENOENT);
	CHECK(!mce_addr_usable(&r));
	r.status = MCI_STATUS_VAL | MISCV;
	CHECK_EQ(mce_addr_decode(&r, &pa), -ENOENT);
	r.status |= ADDRV;
	CHECK_EQ(mce_addr_decode(&r, &pa), 0);
	CHECK(mce_addr_usable(&r));
	CHECK_EQ(pa.addr, 0x12345000);
	CHECK_EQ(pa.pfn, 0x12345);
	CHECK_EQ(pa.lsb, 12);
}

TEST(mce_addr_mode_must_be_physical)
{
	struct mce_paddr pa;

	for (unsigned mode = 0; mode < 8; mode++) {
		struct mce_record r = rec_addr(ADDRV | MISCV, 0x1000, (mode << 6) | 12);

		CHECK_EQ(mce_addr_decode(&r, &pa), mode == MCI_MISC_ADDR_PHYS ? 0 : -EINVAL);
	}
}

TEST(mce_addr_lsb_masks_and_limits)
{
	struct mce_paddr pa;

	for (unsigned lsb = 0; lsb < 64; lsb++) {
		struct mce_record r = rec_addr(ADDRV | MISCV, 0xffffffffffffffffull, 0x80 | lsb);
		int rc = mce_addr_decode(&r, &pa);

		if (lsb > 12) {
			CHECK_EQ(rc, -ERANGE);
			continue;
		}
		CHECK_EQ(rc, 0);
		CHECK_EQ(pa.lsb, lsb);
		/* bits below lsb cleared, bits above 51 (reserved) cleared */
		CHECK_EQ(pa.addr, ((1ull << 52) - 1) & ~((1ull << lsb) - 1));
		CHECK_EQ(pa.pfn, ((1ull << 52) - 1) >> 12);
	}
	/* mce-test's SRAO files: ADDR 0x1234 MISC 0x8c -> frame 1 */
	struct mce_record r = rec_addr(ADDRV | MISCV, 0x1234, 0x8c);
	REQUIRE(mce_addr_decode(&r, &pa) == 0);
	CHECK_EQ(pa.addr, 0x1000);
	CHECK_EQ(pa.pfn, 1);
	/* a cache-line granular address keeps its low bits down to the LSB */
	r = rec_addr(ADDRV | MISCV, 0xabcdef, 0x86);
	REQUIRE(mce_addr_decode(&r, &pa) == 0);
	CHECK_EQ(pa.addr, 0xabcdc0);
	CHECK_EQ(pa.pfn, 0xabc);
	CHECK_EQ(pa.lsb, 6);
}

static const uint64_t SRAR_DATA = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_S |
				  MCI_STATUS_AR | ADDRV | MISCV | 0x134;
static const uint64_t SRAO_SCRUB =
    MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_S | ADDRV | MISCV | 0xc0;
static const uint64_t CORRECTED = MCI_STATUS_VAL | MCI_STATUS_EN;
static const uint64_t MC_RIPV_EIPV = MCG_STATUS_MCIP | MCG_STATUS_RIPV | MCG_STATUS_EIPV;

TEST(mce_decide_srar_user_takes_precedence_and_gives_frame)
{
	struct mce_record recs[3] = {
	    {.status = CORRECTED, .mcg_status = MC_RIPV_EIPV, .bank = 0},
	    {.status = SRAO_SCRUB, .addr = 0x7000, .misc = 0x8c, .mcg_status = MC_RIPV_EIPV},
	    {.status = SRAR_DATA, .addr = 0x12345678, .misc = 0x8c, .mcg_status = MC_RIPV_EIPV},
	};
	struct mce_ctx c = {.in_mc = 1, .user_mode = 1, .ser = 1, .mcg_status = MC_RIPV_EIPV};
	struct mce_verdict v[3];
	struct mce_decision d;

	mce_decide(recs, 3, &c, &d, v);
	CHECK_EQ(d.action, MCE_ACT_AR_USER);
	CHECK_EQ(d.worst, MCE_AR);
	CHECK_EQ(d.idx, 2);
	CHECK(d.addr_ok);
	CHECK_EQ(d.paddr.pfn, 0x12345);
	CHECK_EQ(d.paddr.lsb, 12);
	CHECK(!d.must_kill);
	CHECK(strcmp(d.msg, "Action required: data load error in a user process") == 0);
	CHECK_EQ(d.n_queue, 1);
	CHECK_EQ(d.n_log, 3);
	CHECK_EQ(v[0].action, MCE_ACT_LOG);
	CHECK_EQ(v[1].action, MCE_ACT_QUEUE_MF);
	CHECK_EQ(v[1].paddr.pfn, 7);
	CHECK_EQ(v[2].action, MCE_ACT_AR_USER);
	CHECK_EQ(v[0].grade, MCE_KEEP);
	CHECK_EQ(v[1].grade, MCE_AO);
}

TEST(mce_decide_srar_user_without_ripv_must_kill)
{
	uint64_t mcg = MCG_STATUS_MCIP | MCG_STATUS_EIPV;
	struct mce_record r = {
	    .status = SRAR_DATA, .addr = 0x5000, .misc = 0x8c, .mcg_status = mcg};
	struct mce_ctx c = {.in_mc = 1, .user_mode = 1, .ser = 1, .mcg_status = mcg};
	struct mce_decision d;

	mce_decide(&r, 1, &c, &d, NULL);
	CHECK_EQ(d.action, MCE_ACT_AR_USER);
	CHECK(d.must_kill);
	/* without a usable address the AR still stands; the caller kills the task */
	r.misc = 0x4c; /* linear address */
	mce_decide(&r, 1, &c, &d, NULL);
	CHECK_EQ(d.action, MCE_ACT_AR_USER);
	CHECK(!d.addr_ok);
}

TEST(mce_decide_srar_kernel_fixup)
{
	struct mce_record r = {
	    .status = SRAR_DATA, .addr = 0x9000, .misc = 0x8c, .mcg_status = MC_RIPV_EIPV};
	struct mce_ctx c = {.in_mc = 1, .kernel_fixup = 1, .ser = 1, .mcg_status = MC_RIPV_EIPV};
	struct mce_decision d;

	mce_decide(&r, 1, &c, &d, NULL);
	CHECK_EQ(d.action, MCE_ACT_AR_KERNEL);
	CHECK_EQ(d.paddr.pfn, 9);
	c.kernel_fixup = 0;
	mce_decide(&r, 1, &c, &d, NULL);
	CHECK_EQ(d.action, MCE_ACT_PANIC);
	CHECK(strcmp(d.msg, "Data load in unrecoverable area of kernel") == 0);
}

TEST(mce_decide_unknown_source)
{
	struct mce_ctx c = {.in_mc = 1, .ser = 1, .mcg_status = MCG_STATUS_MCIP};
	struct mce_record r = {.status = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_PCC,
			       .mcg_status = MCG_STATUS_MCIP}; /* EN clear: "Not enabled" */
	struct mce_decision d;

	/* nothing in the banks, no RIPV: panic */
	mce_decide(NULL, 0, &c, &d, NULL);
	CHECK_EQ(d.action, MCE_ACT_PANIC);
	CHECK(strcmp(d.msg, MCE_MSG_UNKNOWN_SOURCE) == 0);
	CHECK_EQ(d.idx, -1);
	mce_decide(&r, 1, &c, &d, NULL);
	CHECK_EQ(d.action, MCE_ACT_PANIC);
	CHECK(strcmp(d.msg, MCE_MSG_UNKNOWN_SOURCE) == 0);
	/* with RIPV the interrupted context resumes: nothing to do */
	c.mcg_status |= MCG_STATUS_RIPV;
	r.mcg_status |= MCG_STATUS_RIPV;
	mce_decide(&r, 1, &c, &d, NULL);
	CHECK_EQ(d.action, MCE_ACT_NONE);
	CHECK_EQ(d.worst, MCE_NO);
	/* polling never panics for lack of a cause */
	c = (struct mce_ctx){.ser = 1};
	mce_decide(NULL, 0, &c, &d, NULL);
	CHECK_EQ(d.action, MCE_ACT_NONE);
}

TEST(mce_decide_user_no_ripv_kills_task)
{
	uint64_t mcg = MCG_STATUS_MCIP | MCG_STATUS_EIPV;
	struct mce_record r = {
	    .status = SRAO_SCRUB, .addr = 0x3000, .misc = 0x8c, .mcg_status = mcg};
	struct mce_ctx c = {.in_mc = 1, .user_mode = 1, .ser = 1, .mcg_status = mcg};
	struct mce_verdict v;
	struct mce_decision d;

	mce_decide(&r, 1, &c, &d, &v);
	CHECK_EQ(d.action, MCE_ACT_KILL_TASK);
	CHECK(strcmp(d.msg, MCE_MSG_NO_RESTART) == 0);
	CHECK_EQ(d.n_queue, 1); /* the frame is still queued */
	CHECK_EQ(v.action, MCE_ACT_QUEUE_MF);
	CHECK_EQ(v.paddr.pfn, 3);
}

TEST(mce_decide_policy_knobs)
{
	struct mce_record r = {.status = CORRECTED, .addr = 0x1000, .misc = 0x8c};
	struct mce_ctx c = {.ser = 1};
	struct mce_decision d;
	struct mce_verdict v;

	mce_decide(&r, 1, &c, &d, &v);
	CHECK_EQ(d.action, MCE_ACT_LOG);
	CHECK_EQ(d.n_log, 1);
	c.ignore_ce = 1;
	mce_decide(&r, 1, &c, &d, &v);
	CHECK_EQ(d.action, MCE_ACT_NONE);
	CHECK_EQ(d.n_log, 0);
	CHECK_EQ(v.grade, MCE_KEEP);
	c.panic_on_ce = 1;
	mce_decide(&r, 1, &c, &d, &v);
	CHECK_EQ(d.action, MCE_ACT_PANIC);
	CHECK(strcmp(d.msg, MCE_MSG_PANIC_ON_CE) == 0);
	/* the knobs concern corrected errors only */
	r.status = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | ADDRV | MISCV;
	mce_decide(&r, 1, &c, &d, &v);
	CHECK_EQ(d.action, MCE_ACT_QUEUE_MF);
	CHECK_EQ(v.grade, MCE_UCNA);
}

TEST(mce_decide_poll_never_acts_on_task)
{
	/* A polled SRAR or PCC record is logged (and its frame queued), never more. */
	struct mce_record recs[2] = {
	    {.status = SRAR_DATA, .addr = 0x4000, .misc = 0x8c, .mcg_status = 0},
	    {.status = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_PCC},
	};
	struct mce_ctx c = {.ser = 1, .user_mode = 1};
	struct mce_decision d;

	mce_decide(recs, 2, &c, &d, NULL);
	CHECK_EQ(d.action, MCE_ACT_QUEUE_MF);
	CHECK_EQ(d.worst, MCE_UCNA);
	CHECK_EQ(d.n_queue, 1);
	CHECK_EQ(d.n_log, 2);
}

TEST(mce_decision_merge_worst_wins)
{
	struct mce_decision a = {.action = MCE_ACT_QUEUE_MF,
				 .worst = MCE_AO,
				 .idx = 0,
				 .msg = "a",
				 .n_queue = 1,
				 .n_log = 1};
	struct mce_decision b = {
	    .action = MCE_ACT_PANIC, .worst = MCE_PANIC, .idx = 3, .msg = "b", .n_log = 2};
	struct mce_decision none = {.action = MCE_ACT_NONE, .worst = MCE_NO, .idx = -1};

	mce_decision_merge(&a, &none);
	CHECK_EQ(a.action, MCE_ACT_QUEUE_MF);
	CHECK(strcmp(a.msg, "a") == 0);
	mce_decision_merge(&a, &b);
	CHECK_EQ(a.action, MCE_ACT_PANIC);
	CHECK(strcmp(a.msg, "b") == 0);
	CHECK_EQ(a.idx, 3);
	CHECK_EQ(a.n_queue, 1);
	CHECK_EQ(a.n_log, 3);
	/* a tie keeps the first */
	struct mce_decision c = b;
	c.msg = "c";
	mce_decision_merge(&a, &c);
	CHECK(strcmp(a.msg, "b") == 0);
}

TEST(mce_action_names)
{
	CHECK(strcmp(mce_action_name(MCE_ACT_NONE), "none") == 0);
	CHECK(strcmp(mce_action_name(MCE_ACT_QUEUE_MF), "queue-memory-failure") == 0);
	CHECK(strcmp(mce_action_name(MCE_ACT_PANIC), "panic") == 0);
	CHECK(strcmp(mce_action_name(MCE_ACT_COUNT), "?") == 0);
	for (int a = 0; a < MCE_ACT_COUNT; a++)
		CHECK(strcmp(mce_action_name((enum mce_action)a), "?") != 0);
}
