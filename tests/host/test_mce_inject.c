/* Host tests of the mce-inject text parser (kernel/mce/inject_parse.c), and the mce-test
 * soft-injection cases end to end through grading and decision: every file in the case folder
 * ($MCE_CASES, default ../shared/mce-test-cases from the repository root) must parse, and must
 * give the outcome the folder's README table states. Malformed inputs must fail with a message
 * that names the line. */
#include "unit.h"
#include "mce.h"
#include "kerrno.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RECS 16

static int parse(const char *text, struct mce_inj_record *out, char *err)
{
	return mce_inject_parse(text, strlen(text), out, MAX_RECS, err, 128);
}

TEST(mce_inject_parse_full_record)
{
	struct mce_inj_record r[MAX_RECS];
	char err[128];
	const char *text = "# comment\n"
			   "CPU 3 BANK 2 # trailing comment\n"
			   "STATUS UNCORRECTED SRAR 0x134\n"
			   "MCGSTATUS RIPV MCIP EIPV\n"
			   "ADDR 0x12345000\n"
			   "MISC 0x8c\n"
			   "RIP 0x73:0x1eadbabe\n"
			   "NOBROADCAST IN_PROC\n"
			   "TSC 0x99 TIME 77 SOCKETID 1 APICID 0x10 MCGCAP 0x100010a\n"
			   "PROCESSOR 0:0x806f8\n"
			   "mce\n"
			   "status val 010 S\n"
			   "rip 0x10:<0xffffffff81000000> {do_thing+0x12/0x40}\n"
			   "CPU 1 4\n";

	REQUIRE(parse(text, r, err) == 3);
	CHECK_EQ(r[0].rec.cpu, 3);
	CHECK_EQ(r[0].rec.bank, 2);
	CHECK_EQ(r[0].rec.status, MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_S |
				      MCI_STATUS_AR | MCI_STATUS_ADDRV | MCI_STATUS_MISCV | 0x134);
	CHECK_EQ(r[0].rec.status, 0xbd80000000000134ull | MCI_STATUS_MISCV);
	CHECK_EQ(r[0].rec.mcg_status, 7);
	CHECK_EQ(r[0].rec.addr, 0x12345000);
	CHECK_EQ(r[0].rec.misc, 0x8c);
	CHECK_EQ(r[0].rec.cs, 0x73);
	CHECK_EQ(r[0].rec.ip, 0x1eadbabe);
	CHECK_EQ(r[0].flags, MCE_INJ_NOBROADCAST | MCE_INJ_IN_PROC | MCE_INJ_HAS_RIP);
	CHECK_EQ(r[0].rec.tsc, 0x99);
	CHECK_EQ(r[0].rec.time, 77);
	CHECK_EQ(r[0].rec.socketid, 1);
	CHECK_EQ(r[0].rec.apicid, 0x10);
	CHECK_EQ(r[0].rec.mcg_cap, 0x100010a);
	CHECK_EQ(r[0].rec.cpuid, 0x806f8);
	CHECK_EQ(r[0].line, 2);
	/* MCE starts a record on CPU 0; keywords are case-insensitive; 010 is octal */
	CHECK_EQ(r[1].rec.cpu, 0);
	CHECK_EQ(r[1].rec.status, MCI_STATUS_VAL | MCI_STATUS_S | 8);
	CHECK_EQ(r[1].rec.cs, 0x10);
	CHECK_EQ(r[1].rec.ip, 0xffffffff81000000ull);
	CHECK_EQ(r[1].line, 11);
	/* CPU n b: the bank without its keyword */
	CHECK_EQ(r[2].rec.cpu, 1);
	CHECK_EQ(r[2].rec.bank, 4);
	CHECK_EQ(r[2].rec.status, 0);
	CHECK(err[0] == '\0');
}

TEST(mce_inject_parse_rip_forms_and_delivery)
{
	struct mce_inj_record r[MAX_RECS];
	char err[128];

	REQUIRE(parse("CPU 0 BANK 4\nSTATUS FATAL S\nRIP 12343434\n", r, err) == 1);
	CHECK_EQ(r[0].rec.ip, 12343434); /* decimal, as the tool reads it */
	CHECK_EQ(r[0].rec.cs, 0);
	CHECK(mce_inj_raises_mc(&r[0])); /* uncorrected, no EXCP/POLL: #MC */
	REQUIRE(parse("CPU 0 BANK 1\nSTATUS CORRECTED\n", r, err) == 1);
	CHECK(!mce_inj_raises_mc(&r[0])); /* corrected: polled */
	REQUIRE(parse("CPU 0 BANK 1\nSTATUS CORRECTED\nEXCP\n", r, err) == 1);
	CHECK(mce_inj_raises_mc(&r[0]));
	REQUIRE(parse("CPU 0 BANK 1\nSTATUS UNCORRECTED\nPOLL HOLD\n", r, err) == 1);
	CHECK(!mce_inj_raises_mc(&r[0]));
	CHECK_EQ(r[0].flags, MCE_INJ_POLL | MCE_INJ_HOLD);
	REQUIRE(parse("CPU 0 BANK 1 IRQBROADCAST NMIBROADCAST MCGSTATUS LMCES 0x10", r, err) == 1);
	CHECK_EQ(r[0].flags, MCE_INJ_IRQBROADCAST | MCE_INJ_NMIBROADCAST);
	CHECK_EQ(r[0].rec.mcg_status, MCG_STATUS_LMCES | 0x10);
	/* ADDR before STATUS keeps ADDRV */
	REQUIRE(parse("CPU 0 BANK 1\nADDR 0x10\nSTATUS UC\n", r, err) == 1);
	CHECK_EQ(r[0].rec.status, MCI_STATUS_UC | MCI_STATUS_ADDRV);
	/* empty input and comment-only input: no records */
	CHECK_EQ(parse("", r, err), 0);
	CHECK_EQ(parse("# nothing\n\n   \t\r\n", r, err), 0);
}

struct bad_case {
	const char *text;
	const char *msg; /* expected message */
};

static const struct bad_case bad_cases[] = {
    {"STATUS UC\n", "line 1: a record must start with CPU or MCE"},
    {"CPU 0 BANK 1\nSTATUS UC\nFROB 3\n", "line 3: unknown keyword 'FROB'"},
    {"CPU\n", "line 2: CPU needs a number"},
    {"CPU x\n", "line 1: CPU needs a number"},
    {"CPU 0 BANK 256\n", "line 1: BANK 0x100 is too large"},
    {"CPU 0\nBANK\n", "line 3: BANK needs a number"},
    {"CPU 0\nADDR 0x\n", "line 2: bad number '0x'"},
    {"CPU 0\nADDR 12ab\n", "line 2: bad number '12ab'"},
    {"CPU 0\nADDR 09\n", "line 2: bad number '09'"},
    {"CPU 0\nMISC 0x10000000000000000\n", "line 2: bad number '0x10000000000000000'"},
    {"CPU 0\nMISC 18446744073709551616\n", "line 2: bad number '18446744073709551616'"},
    {"CPU 0\n\n\nSTATUS UC $\n", "line 4: unexpected character 0x24"},
    {"CPU 0\nRIP 0x10:\n", "line 3: RIP offset needs a number"},
    {"CPU 0\nRIP 0x10000:0x1\n", "line 2: RIP code segment 0x10000 is too large"},
    {"CPU 0\nRIP 0x10:<0x1 \n", "line 3: RIP: '>' expected after the address"},
    {"CPU 0\nRIP 0x10:<0x1> {sym\n", "line 2: RIP: unterminated {symbol}"},
    {"CPU 0\nPROCESSOR 0 0x1\n", "line 2: PROCESSOR needs vendor:cpuid"},
    {"CPU 0\n:\n", "line 2: unexpected ':'"},
    {"CPU 0\nBANK 1 5\n", "line 2: number 0x5 without a keyword"},
    {"CPU 0 BANK 1\nSTATUS UC\0VAL\n", "line 2: unexpected character 0x00"},
};

TEST(mce_inject_parse_malformed)
{
	struct mce_inj_record r[MAX_RECS];
	char err[128];

	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const char *t = bad_cases[i].text;
		size_t len = strlen(t);
		int rc;

		if (i == ARRAY_SIZE(bad_cases) - 1)
			len = 27; /* includes the NUL byte and what follows */
		memset(err, 'x', sizeof err);
		rc = mce_inject_parse(t, len, r, MAX_RECS, err, sizeof err);
		CHECK_EQ(rc, -EINVAL);
		CHECK(memchr(err, '\0', sizeof err) != NULL);
		if (strcmp(err, bad_cases[i].msg) != 0) {
			printf("    case %zu: got \"%s\" want \"%s\"\n", i, err, bad_cases[i].msg);
			CHECK(0);
		}
	}
}

TEST(mce_inject_parse_limits)
{
	struct mce_inj_record r[2];
	char err[16];

	/* more records than room */
	CHECK_EQ(mce_inject_parse("CPU 0\nCPU 1\nCPU 2\n", 18, r, 2, err, sizeof err), -E2BIG);
	CHECK(strncmp(err, "line 3: more th", sizeof err) == 0);
	/* a tiny error buffer is still terminated; NULL err is fine */
	CHECK_EQ(mce_inject_parse("CPU 0 FROB", 10, r, 2, err, 4), -EINVAL);
	CHECK(strcmp(err, "lin") == 0);
	CHECK_EQ(mce_inject_parse("CPU 0 FROB", 10, r, 2, NULL, 0), -EINVAL);
	/* the length bounds the input: "CPU 0 BANK 1" cut after "CPU 0" */
	CHECK_EQ(mce_inject_parse("CPU 0 BANK 1", 5, r, 2, err, sizeof err), 1);
	CHECK_EQ(r[0].rec.bank, 0);
}

/* ---- the mce-test case folder ---- */

static const char *cases_dir(void)
{
	const char *d = getenv("MCE_CASES");

	return d && *d ? d : "../shared/mce-test-cases";
}

static char *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	buf = calloc(1, 65536);
	*len = buf ? fread(buf, 1, 65535, f) : 0;
	fclose(f);
	return buf;
}

/* Expected outcome of one case, from the README table. */
struct outcome {
	const char *name;
	const char *panic_msg;	/* NULL: must not panic */
	enum mce_action action; /* when not panicking: the strongest action expected */
	uint64_t pfn;		/* for QUEUE_MF / AR_USER */
};

static const struct outcome outcomes[] = {
    {"non-panic/corrected", NULL, MCE_ACT_LOG, 0},
    {"non-panic/corrected_hold", NULL, MCE_ACT_LOG, 0},
    {"non-panic/corrected_no_en", NULL, MCE_ACT_LOG, 0},
    {"non-panic/corrected_over", NULL, MCE_ACT_LOG, 0},
    {"panic/fatal", "Processor context corrupt", 0, 0},
    {"panic/fatal_eipv", "Processor context corrupt", 0, 0},
    {"panic/fatal_irq", "Processor context corrupt", 0, 0},
    {"panic/fatal_over", "Processor context corrupt", 0, 0},
    {"panic/fatal_ripv", "Processor context corrupt", 0, 0},
    {"panic/fatal_userspace", "Processor context corrupt", 0, 0},
    {"panic/fatal_timeout", "Processor context corrupt", 0, 0},
    {"panic/fatal_timeout_ripv", "Processor context corrupt", 0, 0},
    {"panic/fatal_no_en", MCE_MSG_UNKNOWN_SOURCE, 0, 0},
    {"panic_noser/uc_over", "Overflowed uncorrected", 0, 0},
    {"panic_noser/uc_over_corrected", "Overflowed uncorrected", 0, 0},
    {"panic_noser/uc_over_timeout", "Overflowed uncorrected", 0, 0},
    {"panic_npcc/fatal_severity", "Processor context corrupt", 0, 0},
    {"panic_npcc/uncorrected", "In kernel and no restart IP", 0, 0},
    {"panic_npcc/uncorrected_timeout", "In kernel and no restart IP", 0, 0},
    {"panic_npcc/uc_no_mcip", "MCIP not set in MCA handler", 0, 0},
    {"panic_npcc/uc_no_mcip_timeout", "MCIP not set in MCA handler", 0, 0},
    {"panic_npcc/uc_no_eripv", "Neither restart nor error IP", 0, 0},
    {"panic_npcc/uc_no_eripv_timeout", "Neither restart nor error IP", 0, 0},
    {"panic_npcc/unknown", MCE_MSG_UNKNOWN_SOURCE, 0, 0},
    {"panic_ucr/s0_ar1", "Illegal combination (UCNA with AR=1)", 0, 0},
    {"panic_ucr/srar_over", "Action required with lost events", 0, 0},
    {"panic_ucr/srar_unkown", "Action required: unknown MCACOD", 0, 0},
    {"panic_ucr/srar_no_en", MCE_MSG_UNKNOWN_SOURCE, 0, 0},
    {"panic_ucr/srao_mem_scrub_noripv", "Neither restart nor error IP", 0, 0},
    {"panic_ucr/srao_ewb_noripv", "Neither restart nor error IP", 0, 0},
    {"poll_ucr/ucna", NULL, MCE_ACT_QUEUE_MF, 1},
    {"poll_ucr/ucna_over", NULL, MCE_ACT_QUEUE_MF, 1},
    {"poll_ucr/srar_poll", NULL, MCE_ACT_LOG, 0},
    {"poll_ucr/fatal_poll", NULL, MCE_ACT_LOG, 0},
    {"poll_noser/uc_poll", NULL, MCE_ACT_LOG, 0},
    {"recoverable_ucr/srao_corrected", NULL, MCE_ACT_LOG, 0},
    {"recoverable_ucr/srao_ewb", NULL, MCE_ACT_QUEUE_MF, 1},
    {"recoverable_ucr/srao_mem_scrub", NULL, MCE_ACT_QUEUE_MF, 1},
    {"recoverable_ucr/srao_no_en", NULL, MCE_ACT_NONE, 0},
    {"recoverable_ucr/srao_over", NULL, MCE_ACT_LOG, 0},
    {"recoverable_ucr/srao_ucna", NULL, MCE_ACT_LOG, 0},
    {"recoverable_ucr/srao_unknown", NULL, MCE_ACT_LOG, 0},
    {"recoverable_ucr/srar_usr_dcu", NULL, MCE_ACT_AR_USER, 0x12345},
    {"recoverable_ucr/srar_usr_dcu_irq", NULL, MCE_ACT_AR_USER, 0x12345},
    {"recoverable_ucr/srar_usr_dcu_nmi", NULL, MCE_ACT_AR_USER, 0x12345},
};

#define SIM_CPUS 4

/* Run one injection event the way mce-inject delivers it: each CPU with a record gets it by
 * #MC or by polling; when the triggering record raises #MC without NOBROADCAST, the other CPUs
 * take a #MC too with MCIP (and RIPV when uncorrected) and empty banks. Fold the per-CPU
 * decisions into *acc. */
static void run_event(struct mce_inj_record **held, const struct mce_inj_record *trigger, bool ser,
		      struct mce_decision *acc)
{
	bool bcast = mce_inj_raises_mc(trigger) && !(trigger->flags & MCE_INJ_NOBROADCAST);

	for (unsigned cpu = 0; cpu < SIM_CPUS; cpu++) {
		const struct mce_inj_record *r = held[cpu];
		struct mce_ctx c = {.ser = ser};
		struct mce_decision d;

		if (trigger->rec.cpu == cpu)
			r = trigger;
		if (r) {
			c.in_mc = mce_inj_raises_mc(r);
			c.user_mode = mce_cs_is_user(r->rec.cs);
			c.mcg_status = r->rec.mcg_status;
			mce_decide(&r->rec, 1, &c, &d, NULL);
		} else if (bcast) {
			c.in_mc = true;
			c.mcg_status = (trigger->rec.mcg_status & MCG_STATUS_MCIP) |
				       (trigger->rec.status & MCI_STATUS_UC ? MCG_STATUS_RIPV : 0);
			mce_decide(NULL, 0, &c, &d, NULL);
		} else {
			continue;
		}
		mce_decision_merge(acc, &d);
		held[cpu] = NULL;
	}
}

/* Parse and run a whole case file; returns the merged decision of all its events. */
static int run_case(const char *path, bool ser, struct mce_decision *acc)
{
	struct mce_inj_record recs[MAX_RECS], *held[SIM_CPUS] = {0};
	char err[128];
	size_t len;
	char *text = read_whole(path, &len);
	int n;

	if (!text)
		return -ENOENT;
	n = mce_inject_parse(text, len, recs, MAX_RECS, err, sizeof err);
	free(text);
	if (n < 0) {
		printf("    %s: %s\n", path, err);
		return n;
	}
	*acc = (struct mce_decision){.action = MCE_ACT_NONE, .worst = MCE_NO, .idx = -1};
	for (int i = 0; i < n; i++) {
		if (recs[i].rec.cpu >= SIM_CPUS)
			return -EINVAL;
		if (recs[i].flags & MCE_INJ_HOLD)
			held[recs[i].rec.cpu] = &recs[i];
		else
			run_event(held, &recs[i], ser, acc);
	}
	return n;
}

TEST(mce_inject_every_case_file_parses)
{
	static const char *const sets[] = {"non-panic",	 "panic",	   "panic_noser",
					   "panic_npcc", "panic_ucr",	   "poll_noser",
					   "poll_ucr",	 "recoverable_ucr"};
	int files = 0;

	for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
		char dir[512];
		DIR *d;
		struct dirent *e;

		snprintf(dir, sizeof dir, "%s/%s", cases_dir(), sets[s]);
		d = opendir(dir);
		if (!d)
			printf("    cannot open %s (set MCE_CASES)\n", dir);
		REQUIRE(d != NULL);
		while ((e = readdir(d)) != NULL) {
			char path[1024], err[128];
			struct mce_inj_record recs[MAX_RECS];
			size_t len;
			char *text;
			int n;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			text = read_whole(path, &len);
			REQUIRE(text != NULL);
			n = mce_inject_parse(text, len, recs, MAX_RECS, err, sizeof err);
			free(text);
			if (n <= 0)
				printf("    %s: %d %s\n", path, n, err);
			CHECK(n > 0);
			files++;
		}
		closedir(d);
	}
	CHECK_EQ(files, ARRAY_SIZE(outcomes));
}

TEST(mce_inject_case_outcomes_match_readme)
{
	for (size_t i = 0; i < ARRAY_SIZE(outcomes); i++) {
		const struct outcome *o = &outcomes[i];
		bool ser = strstr(o->name, "noser") == NULL;
		struct mce_decision d;
		char path[512];
		bool ok;

		snprintf(path, sizeof path, "%s/%s", cases_dir(), o->name);
		REQUIRE(run_case(path, ser, &d) > 0);
		if (o->panic_msg)
			ok = d.action == MCE_ACT_PANIC && d.msg && strcmp(d.msg, o->panic_msg) == 0;
		else
			ok = d.action == o->action &&
			     (o->pfn == 0 || (d.addr_ok && d.paddr.pfn == o->pfn));
		if (!ok)
			printf("    %s: %s \"%s\" pfn %#llx\n", o->name, mce_action_name(d.action),
			       d.msg ? d.msg : "", (unsigned long long)d.paddr.pfn);
		CHECK(ok);
	}
}
