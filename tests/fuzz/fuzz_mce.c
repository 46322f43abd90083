/* libFuzzer target for the machine-check core: records -> grade -> decide -> format, and the
 * mce-inject text parser over arbitrary bytes. It aborts on any broken invariant (grade or
 * action out of range, a polled record that panics or acts on a task, a decision that
 * disagrees with its verdicts, formatted text that overruns or is not terminated), and ASan /
 * UBSan catch the rest.
 *
 * Build and run from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *       -DMCRK_HOST -Iinclude tests/fuzz/fuzz_mce.c kernel/mce/severity.c kernel/mce/addr.c \
 *       kernel/mce/decide.c kernel/mce/format.c kernel/mce/inject_parse.c \
 *       kernel/lib/vsnprintf.c -o build/fuzz_mce
 *   mkdir -p build/fuzz_mce_corpus
 *   for f in $(find ../shared/mce-test-cases -type f ! -name README.md); do
 *       printf '\001' | cat - "$f" > "build/fuzz_mce_corpus/$(basename "$f")"; done
 *   (the seeds are the case files in text mode: a leading odd byte, then the text)
 *   build/fuzz_mce -max_total_time=600 build/fuzz_mce_corpus
 *
 * Input layout: byte 0 picks the mode. Even: the rest is up to MAX_RECS records of
 * sizeof(struct mce_record) bytes each, preceded by one context byte (bit 0 in_mc, 1 user,
 * 2 fixup, 3 ser, 4 ignore_ce, 5 panic_on_ce, 6-7 RIPV/EIPV of the CPU's MCG_STATUS).
 * Odd: the rest is mce-inject text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kerrno.h"
#include "mce.h"

#define MAX_RECS 8
#define MAX_INJ 32

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_text(const char *buf, size_t size, int n)
{
	check(n >= 0);
	check(memchr(buf, '\0', size) != NULL);
	check(strlen(buf) == ((size_t)n < size ? (size_t)n : size - 1));
}

static void format_all(const struct mce_record *r, const struct mce_verdict *v)
{
	char big[1024], small[17];
	int n;

	n = mce_format_record(big, sizeof big, r);
	check_text(big, sizeof big, n);
	check(mce_format_record(small, sizeof small, r) == n);
	check_text(small, sizeof small, n);
	n = mce_format_summary(big, sizeof big, r, v);
	check_text(big, sizeof big, n);
	check(mce_format_summary(small, sizeof small, r, v) == n);
}

static void fuzz_records(const uint8_t *data, size_t size)
{
	struct mce_record recs[MAX_RECS];
	struct mce_verdict v[MAX_RECS];
	struct mce_decision d;
	struct mce_ctx c;
	size_t n;
	uint8_t cb;

	if (size < 1)
		return;
	cb = data[0];
	data++;
	size--;
	n = size / sizeof(struct mce_record);
	if (n > MAX_RECS)
		n = MAX_RECS;
	memcpy(recs, data, n * sizeof(struct mce_record));
	c = (struct mce_ctx){.in_mc = cb & 1,
			     .user_mode = cb & 2,
			     .kernel_fixup = cb & 4,
			     .ser = cb & 8,
			     .ignore_ce = cb & 16,
			     .panic_on_ce = cb & 32,
			     .mcg_status = MCG_STATUS_MCIP | ((cb >> 6) & 3)};
	mce_decide(recs, n, &c, &d, v);
	check((unsigned)d.action < MCE_ACT_COUNT && (unsigned)d.worst < MCE_GRADE_COUNT);
	check(d.msg != NULL || d.action == MCE_ACT_NONE);
	check(d.idx >= -1 && d.idx < (int)n);
	for (size_t i = 0; i < n; i++) {
		const char *msg = NULL;

		check((unsigned)v[i].grade <= (unsigned)d.worst);
		check(v[i].action <= d.action || d.action == MCE_ACT_KILL_TASK);
		check(mce_grade(&recs[i], &c, &msg) == v[i].grade && msg != NULL);
		if (!c.in_mc) /* polling never panics or acts on the interrupted task */
			check(v[i].grade <= MCE_AO && (v[i].action <= MCE_ACT_QUEUE_MF ||
						       (c.panic_on_ce && v[i].grade == MCE_KEEP)));
		if (v[i].addr_ok)
			check(v[i].paddr.lsb <= PAGE_SHIFT && v[i].paddr.pfn < (1ull << 40));
		format_all(&recs[i], &v[i]);
	}
}

static void fuzz_text(const uint8_t *data, size_t size)
{
	static struct mce_inj_record out[MAX_INJ];
	char err[64];
	int n = mce_inject_parse((const char *)data, size, out, MAX_INJ, err, sizeof err);

	check(n >= 0 || n == -EINVAL || n == -E2BIG);
	check(memchr(err, '\0', sizeof err) != NULL);
	if (n < 0) {
		check(strncmp(err, "line ", 5) == 0);
		return;
	}
	check(n <= MAX_INJ);
	for (int i = 0; i < n; i++) {
		struct mce_ctx c = {.in_mc = mce_inj_raises_mc(&out[i]),
				    .user_mode = mce_cs_is_user(out[i].rec.cs),
				    .ser = true,
				    .mcg_status = out[i].rec.mcg_status};
		struct mce_verdict v;

		mce_judge(&out[i].rec, &c, &v);
		format_all(&out[i].rec, &v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_text(data + 1, size - 1);
	else
		fuzz_records(data + 1, size - 1);
	return 0;
}
