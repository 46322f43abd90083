/* Host tests of the corrected-error collector (include/mce_cec.h).
 *   The array (kernel/mce/cec.c), pure: counting and the threshold, spring cleaning every
 *   128 errors, decay that lowers generations but forgets nothing by itself, eviction of the
 *   entry that erred least lately when the array is full (and only for a new pfn), the
 *   bound, and a long random run against an independent model of the same rules.
 *   The runtime (kernel/mce/cec_run.c) on the fake MCA registers and the fake memory world:
 *   which records it takes (corrected memory errors with a usable address from poll or CMCI
 *   only), records it keeps off the console until the threshold (mce.print_all shows them),
 *   storm mode still counted, the soft offline at the threshold for a user page, a free
 *   frame and kernel memory with the log line of each, the decay timer, the files under
 *   /sys/kernel/debug/ras/cec/ with Linux's answers, ras=cec_disable, and no memory used
 *   however many frames err. */
#include "../../kernel/mce/mce_priv.h"
#include "arch/mca.h"
#include "ctl.h"
#include "fake_arch.h"
#include "fake_mca.h"
#include "fake_task.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "mce_cec.h"
#include "memory_failure.h"
#include "unit.h"
#include "vfs.h"
#include "vm_testlib.h"
#include "work.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QEMU_CAP 0x100010aull
/* A corrected memory read error (memory controller, channel unspecified) with ADDRV, MISCV. */
#define CE_MEM 0x9c0000000000009full
#define MISC_PHYS_LSB6 0x86ull /* physical address mode, LSB 6 */
#define BANK 1

/* ---- the array ---- */

static struct mce_cec arr;

static unsigned count_of(const struct mce_cec *c, pfn_t pfn)
{
	int i = mce_cec_find(c, pfn);
	return i < 0 ? 0 : mce_cec_count(c->e[i]);
}

static unsigned gen_of(const struct mce_cec *c, pfn_t pfn)
{
	int i = mce_cec_find(c, pfn);
	return i < 0 ? 99 : mce_cec_gen(c->e[i]);
}

static bool add(struct mce_cec *c, pfn_t pfn)
{
	unsigned n;
	return mce_cec_count_error(c, pfn, &n);
}

TEST(cec_array_counts_up_to_the_threshold)
{
	unsigned n = 0;
	mce_cec_array_init(&arr, 3);
	CHECK(!mce_cec_count_error(&arr, 0x629, &n));
	CHECK_EQ(n, 1);
	CHECK_EQ(gen_of(&arr, 0x629), MCE_CEC_GEN_MAX);
	CHECK(!mce_cec_count_error(&arr, 0x629, &n));
	CHECK_EQ(n, 2);
	CHECK(mce_cec_count_error(&arr, 0x629, &n)); /* the third reaches it: the frame leaves */
	CHECK_EQ(n, 3);
	CHECK_EQ(mce_cec_find(&arr, 0x629), -1);
	CHECK_EQ(arr.n, 0);
	CHECK_EQ(arr.reached, 1);
	CHECK(!mce_cec_count_error(&arr, 0x629, &n)); /* erring again starts from 1 */
	CHECK_EQ(n, 1);
	CHECK_EQ(arr.ces, 4);
	/* Linux's clamp and the extremes: the count holds at most 1023; 0 acts on every error. */
	mce_cec_array_init(&arr, 5000);
	CHECK_EQ(arr.threshold, MCE_CEC_COUNT_MAX);
	for (unsigned i = 1; i < MCE_CEC_COUNT_MAX; i++)
		CHECK(!add(&arr, 7));
	CHECK_EQ(count_of(&arr, 7), MCE_CEC_COUNT_MAX - 1);
	CHECK(add(&arr, 7));
	mce_cec_array_init(&arr, 0);
	CHECK(add(&arr, 7));
	CHECK_EQ(arr.n, 0);
}

TEST(cec_array_stays_sorted_by_pfn)
{
	uint64_t seed = 42;
	mce_cec_array_init(&arr, MCE_CEC_COUNT_MAX);
	for (int i = 0; i < 400; i++)
		add(&arr, unit_xorshift(&seed) % 100000);
	for (unsigned i = 1; i < arr.n; i++)
		CHECK(mce_cec_pfn(arr.e[i - 1]) < mce_cec_pfn(arr.e[i]));
	CHECK_EQ(mce_cec_find(&arr, 100001), -1);
}

/* Every 128 counted errors (Linux's CLEAN_ELEMS) each generation goes down by one; counting
 * an error puts its entry back at the top; a generation stops at 0 and decay alone never
 * removes an entry or changes a count. */
TEST(cec_spring_cleaning_ages_but_never_forgets)
{
	mce_cec_array_init(&arr, MCE_CEC_COUNT_MAX);
	add(&arr, 1);
	add(&arr, 1);
	for (unsigned i = 2; i < MCE_CEC_CLEAN_ELEMS - 1; i++)
		add(&arr, 2);
	CHECK_EQ(arr.decays, 0);
	CHECK_EQ(gen_of(&arr, 1), 3);
	add(&arr, 2); /* the 128th */
	CHECK_EQ(arr.decays, 1);
	CHECK_EQ(gen_of(&arr, 1), 2);
	CHECK_EQ(gen_of(&arr, 2), 2);
	CHECK_EQ(arr.since_clean, 0);
	add(&arr, 2);
	CHECK_EQ(gen_of(&arr, 2), 3);
	for (int i = 0; i < 10; i++)
		mce_cec_decay(&arr);
	CHECK_EQ(gen_of(&arr, 1), 0);
	CHECK_EQ(count_of(&arr, 1), 2);
	CHECK_EQ(arr.n, 2);
	CHECK_EQ(arr.decays, 11);
}

/* A full array makes room for a new pfn by dropping the entry with the smallest generation
 * and count, the lowest pfn among equals; an error at a pfn already there evicts nothing. */
TEST(cec_full_array_evicts_the_least_recent)
{
	mce_cec_array_init(&arr, MCE_CEC_COUNT_MAX);
	for (pfn_t p = 0; p < MCE_CEC_ELEMS; p++)
		arr.e[p] = (p + 100) << PAGE_SHIFT | (3u << MCE_CEC_COUNT_BITS) | 5;
	arr.n = MCE_CEC_ELEMS;
	arr.e[300] = (uint64_t)400 << PAGE_SHIFT | (1u << MCE_CEC_COUNT_BITS) | 9; /* gen 1 */
	arr.e[200] = (uint64_t)300 << PAGE_SHIFT | (1u << MCE_CEC_COUNT_BITS) | 2; /* gen 1, less */
	arr.e[250] = (uint64_t)350 << PAGE_SHIFT | (1u << MCE_CEC_COUNT_BITS) | 2; /* a tie */
	add(&arr, 100 + 5); /* already there: nothing evicted */
	CHECK_EQ(arr.evicted, 0);
	CHECK_EQ(count_of(&arr, 105), 6);
	add(&arr, 5000);
	CHECK_EQ(arr.n, MCE_CEC_ELEMS);
	CHECK_EQ(arr.evicted, 1);
	CHECK_EQ(mce_cec_find(&arr, 300), -1);
	CHECK(mce_cec_find(&arr, 350) >= 0 && mce_cec_find(&arr, 400) >= 0);
	CHECK_EQ(count_of(&arr, 5000), 1);
	add(&arr, 6000);
	CHECK_EQ(mce_cec_find(&arr, 350), -1);
	add(&arr, 7000);
	CHECK_EQ(mce_cec_find(&arr, 400), -1);
	for (unsigned i = 1; i < arr.n; i++)
		CHECK(mce_cec_pfn(arr.e[i - 1]) < mce_cec_pfn(arr.e[i]));
}

/* The model: the same rules written plainly, on an unsorted list of (pfn, gen, count). */
struct model_ent {
	pfn_t pfn;
	unsigned gen, count;
};
static struct model_ent model[MCE_CEC_ELEMS];
static unsigned model_n, model_since;

static int model_find(pfn_t pfn)
{
	for (unsigned i = 0; i < model_n; i++)
		if (model[i].pfn == pfn)
			return (int)i;
	return -1;
}

static void model_decay(void)
{
	for (unsigned i = 0; i < model_n; i++)
		if (model[i].gen)
			model[i].gen--;
	model_since = 0;
}

static bool model_add(pfn_t pfn, unsigned threshold)
{
	int i = model_find(pfn);
	if (i < 0) {
		if (model_n == MCE_CEC_ELEMS) {
			unsigned v = 0;
			for (unsigned k = 1; k < model_n; k++) {
				unsigned a = model[k].gen * 1024 + model[k].count;
				unsigned b = model[v].gen * 1024 + model[v].count;
				if (a < b || (a == b && model[k].pfn < model[v].pfn))
					v = k;
			}
			model[v] = model[--model_n];
		}
		i = (int)model_n++;
		model[i] = (struct model_ent){pfn, 0, 0};
	}
	model[i].gen = 3;
	if (++model[i].count >= threshold) {
		model[i] = model[--model_n];
		return true;
	}
	if (++model_since >= 128)
		model_decay();
	return false;
}

static bool same_as_model(void)
{
	if (arr.n != model_n)
		return false;
	for (unsigned i = 0; i < arr.n; i++) {
		int k = model_find(mce_cec_pfn(arr.e[i]));
		if (k < 0 || model[k].gen != mce_cec_gen(arr.e[i]) ||
		    model[k].count != mce_cec_count(arr.e[i]) ||
		    (i && mce_cec_pfn(arr.e[i - 1]) >= mce_cec_pfn(arr.e[i])))
			return false;
	}
	return true;
}

/* 200 000 errors, mostly over 700 frames (so the array fills and evicts), some hot frames that
 * reach the threshold, timer decays in between: the array and the model agree at every step. */
TEST(cec_array_matches_a_model)
{
	uint64_t seed = 7;
	unsigned threshold = 40, acts = 0;
	bool ok = true;
	mce_cec_array_init(&arr, threshold);
	model_n = model_since = 0;
	for (int step = 0; step < 200000 && ok; step++) {
		uint64_t r = unit_xorshift(&seed);
		pfn_t pfn = (r & 7) == 0 ? (r >> 8) % 8 : 1000 + (r >> 8) % 700;
		if ((r & 0xfff) == 1) {
			mce_cec_decay(&arr);
			model_decay();
			continue;
		}
		bool a = add(&arr, pfn), m = model_add(pfn, threshold);
		acts += a;
		ok = a == m && same_as_model();
	}
	CHECK(ok);
	CHECK(acts > 100);
	CHECK(arr.evicted > 1000);
	CHECK_EQ(arr.n, MCE_CEC_ELEMS);
}

/* ---- the runtime ---- */

static void runtime_start(const char *cmdline)
{
	vt_setup();
	memset(fake_mca, 0, sizeof fake_mca);
	fake_mca_cap_value = QEMU_CAP;
	fake_cpu_id = 0;
	fake_cpu_count = 1;
	mce_cpu_setup();
	mce_cec_init(cmdline);
	mce_drain();
	fake_console_clear();
}

static void runtime_end(void)
{
	uint64_t quiet = mce_cfg.storm_quiet_ms;
	mce_cfg.storm_quiet_ms = 0;
	mce_storm_check(); /* no storm left over for the next test */
	mce_cfg.storm_quiet_ms = quiet;
	mce_drain();
	mce_cfg.print_all = false;
	mce_cec_init("ras=cec_disable"); /* the other tests' corrected errors are only logged */
}

static long cec_write(const char *name, const char *text)
{
	char path[96];
	snprintf(path, sizeof path, "/sys/kernel/debug/ras/cec/%s", name);
	for (int i = fake_nodes - 1; i >= 0; i--)
		if (!strcmp(fake_node_path[i], path))
			return fake_node_ops[i]->write(fake_node_priv[i], text, strlen(text));
	return -999;
}

/* The text of a file under ras/cec/ (static buffer), or "" when there is none. */
static const char *cec_read(const char *name)
{
	static char text[32768];
	char path[96], *out;
	size_t len;
	snprintf(path, sizeof path, "/sys/kernel/debug/ras/cec/%s", name);
	text[0] = 0;
	for (int i = fake_nodes - 1; i >= 0; i--)
		if (!strcmp(fake_node_path[i], path) &&
		    fake_node_ops[i]->gen(fake_node_priv[i], &out, &len) == 0) {
			snprintf(text, sizeof text, "%.*s", (int)len, out);
			kfree(out);
			break;
		}
	return text;
}

static long write_num(const char *name, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%#llx\n", (unsigned long long)v);
	long r = cec_write(name, buf);
	return r == (long)strlen(buf) ? 0 : r;
}

/* One corrected error in bank BANK of CPU 0 with status/addr/misc, found by a poll or CMCI;
 * then the drain (which feeds the collector and runs its actions). */
static void ce(uint64_t status, uint64_t addr, uint64_t misc, enum mce_source src)
{
	fake_mca[0].bank[BANK][MCA_REG_STATUS] = status;
	fake_mca[0].bank[BANK][MCA_REG_ADDR] = addr;
	fake_mca[0].bank[BANK][MCA_REG_MISC] = misc;
	mce_poll(src, src == MCE_SRC_CMCI);
	mce_drain();
}

static struct mce_cec_stats cstats(void)
{
	struct mce_cec_stats s;
	mce_cec_get_stats(&s);
	return s;
}

/* Which records the collector takes: only corrected memory errors with a usable physical
 * address (Linux: mce_is_memory_error, mce_is_correctable, mce_usable_address), from the
 * poller or CMCI, while it is on. */
TEST(cec_takes_only_corrected_memory_errors_with_an_address)
{
	static const struct {
		uint64_t status, misc;
		uint8_t source;
		bool want;
	} cases[] = {
	    {CE_MEM, MISC_PHYS_LSB6, MCE_SRC_POLL, true},
	    {CE_MEM, MISC_PHYS_LSB6, MCE_SRC_CMCI, true},
	    {CE_MEM, 0x8c, MCE_SRC_POLL, true},				      /* LSB 12 */
	    {CE_MEM, 0x8d, MCE_SRC_POLL, false},			      /* LSB 13 */
	    {CE_MEM, 0x46, MCE_SRC_POLL, false},			      /* mode 1 */
	    {CE_MEM & ~MCI_STATUS_ADDRV, MISC_PHYS_LSB6, MCE_SRC_POLL, false}, /* no ADDRV */
	    {CE_MEM & ~MCI_STATUS_MISCV, MISC_PHYS_LSB6, MCE_SRC_POLL, false}, /* no MISCV */
	    {CE_MEM | MCI_STATUS_UC, MISC_PHYS_LSB6, MCE_SRC_POLL, false},     /* uncorrected */
	    {CE_MEM & ~MCI_STATUS_VAL, MISC_PHYS_LSB6, MCE_SRC_POLL, false},
	    {CE_MEM, MISC_PHYS_LSB6, MCE_SRC_MC, false},
	    {CE_MEM, MISC_PHYS_LSB6, MCE_SRC_BOOT, false},
	    {(CE_MEM & ~0xffffull) | 0x1134, MISC_PHYS_LSB6, MCE_SRC_POLL, true}, /* cache, filter */
	    {(CE_MEM & ~0xffffull) | 0x000d, MISC_PHYS_LSB6, MCE_SRC_POLL, true}, /* generic cache */
	    {(CE_MEM & ~0xffffull) | 0x0010, MISC_PHYS_LSB6, MCE_SRC_POLL, false}, /* TLB */
	    {(CE_MEM & ~0xffffull) | 0x0e0b, MISC_PHYS_LSB6, MCE_SRC_POLL, false}, /* bus */
	    {(CE_MEM & ~0xffffull) | 0x0887, MISC_PHYS_LSB6, MCE_SRC_POLL, false}, /* bus, bit 7 */
	    {(CE_MEM & ~0xffffull) | 0x0017, MISC_PHYS_LSB6, MCE_SRC_POLL, false}, /* TLB */
	};
	runtime_start("");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mce_record r = {.status = cases[i].status, .addr = 0x629040,
				       .misc = cases[i].misc, .source = cases[i].source};
		struct mce_verdict v;
		struct mce_ctx ctx = {.ser = true};
		mce_judge(&r, &ctx, &v);
		if (mce_cec_wants(&r, &v) != cases[i].want)
			printf("    case %zu: status %#llx misc %#llx source %u\n", i,
			       (unsigned long long)r.status, (unsigned long long)r.misc, r.source);
		CHECK_EQ(mce_cec_wants(&r, &v), cases[i].want);
	}
	/* Through the poller: the ignored ones are printed as before and never counted. */
	ce(CE_MEM & ~MCI_STATUS_ADDRV, 0x629040, MISC_PHYS_LSB6, MCE_SRC_POLL);
	ce(CE_MEM, 0x629040, 0x46, MCE_SRC_POLL);
	CHECK_EQ(cstats().ces, 0);
	CHECK(strstr(fake_console, "CPU 0 Bank 1 (poll): KEEP") != NULL);
	ce(CE_MEM, 0x629040, MISC_PHYS_LSB6, MCE_SRC_POLL);
	CHECK_EQ(cstats().ces, 1);
	CHECK(strstr(cec_read("array"), "[0000000000000629|11|001]") != NULL);
	mce_cec_init("ras=cec_disable");
	struct mce_record r = {.status = CE_MEM, .addr = 0x629040, .misc = MISC_PHYS_LSB6,
			       .source = MCE_SRC_POLL};
	struct mce_verdict v;
	struct mce_ctx ctx = {.ser = true};
	mce_judge(&r, &ctx, &v);
	CHECK(!mce_cec_wants(&r, &v));
	CHECK(!mce_cec_take(0x629));
	runtime_end();
}

/* A user page in the fake world: an address space with one private page filled with 0x5a. */
static struct mm *user_page(pfn_t *pfn)
{
	struct mm *mm = mm_create();
	vaddr_t va = 0x20000000;
	if (!mm || vm_mmap(mm, va, PAGE_SIZE, PT_READ | PT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0) != (long)va ||
	    vm_fault(mm, va, FAULT_WRITE, true))
		return NULL;
	memset(vt_page(mm, va), 0x5a, PAGE_SIZE);
	struct vm_page_info pi;
	vm_page_info(mm, va, &pi);
	*pfn = pi.pfn;
	return mm;
}

/* Below the threshold every error is counted and kept off the console; the one that reaches
 * it is printed, then the soft offline moves the page (same bytes, new frame) and one line
 * says pfn, count, what was done and how long it took. */
TEST(cec_threshold_soft_offlines_a_user_page)
{
	runtime_start("");
	pfn_t pfn;
	struct mm *mm = user_page(&pfn);
	REQUIRE(mm);
	CHECK_EQ(write_num("action_threshold", 5), 0);
	struct mce_stats before;
	mce_get_stats(&before);
	for (int i = 0; i < 4; i++)
		ce(CE_MEM, ((uint64_t)pfn << PAGE_SHIFT) + 0x40 * i, MISC_PHYS_LSB6, MCE_SRC_POLL);
	struct mce_stats after;
	mce_get_stats(&after);
	CHECK_EQ(after.cec_kept - before.cec_kept, 4);
	CHECK_EQ(after.records - before.records, 4);
	CHECK(strstr(fake_console, "KEEP") == NULL);
	CHECK_EQ(cstats().n, 1);
	struct vm_page_info pi;
	vm_page_info(mm, 0x20000000, &pi);
	CHECK_EQ(pi.pfn, pfn);
	ce(CE_MEM, (uint64_t)pfn << PAGE_SHIFT, MISC_PHYS_LSB6, MCE_SRC_POLL);
	vm_page_info(mm, 0x20000000, &pi);
	CHECK(pi.pfn != pfn);
	CHECK(page_poisoned(pfn_to_page(pfn)));
	uint8_t *p = vt_page(mm, 0x20000000);
	bool same = true;
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		same &= p[i] == 0x5a;
	CHECK(same);
	char want[160];
	snprintf(want, sizeof want, "RAS: Soft-offlining pfn: %#lx (5 corrected errors): anonymous "
				    "user page moved to pfn %#lx, old frame retired (0); took ",
		 (long)pfn, (long)pi.pfn);
	CHECK(strstr(fake_console, want) != NULL);
	CHECK(strstr(fake_console, "ns after the threshold was reached") != NULL);
	const char *rec = strstr(fake_console, "(poll): KEEP");
	CHECK(rec && rec < strstr(fake_console, "RAS: Soft-offlining")); /* the record first */
	struct mce_cec_stats s = cstats();
	CHECK_EQ(s.offlined, 1);
	CHECK_EQ(s.reached, 1);
	CHECK_EQ(s.n, 0);
	CHECK(strstr(cec_read("array"), "offlined pages: 1\n") != NULL);
	mm_put(mm);
	runtime_end();
}

/* A free frame is simply taken out; kernel memory cannot move: left in use, reported, and
 * listed in the array file each time it reaches the threshold; a pfn that is not RAM is
 * reported as such. */
TEST(cec_threshold_on_free_kernel_and_invalid_frames)
{
	runtime_start("");
	CHECK_EQ(write_num("action_threshold", 2), 0);
	void *obj = kmalloc(64);
	pfn_t slab = page_to_pfn(virt_to_page(obj));
	struct page *free_pg = frame_alloc(0, PG_USER);
	pfn_t free_pfn = page_to_pfn(free_pg);
	frame_free(free_pg, 0);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(write_num("pfn", free_pfn), 0);
	CHECK(page_poisoned(pfn_to_page(free_pfn)));
	CHECK(strstr(fake_console, "free frame taken out of the allocator (0)") != NULL);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(write_num("pfn", slab), 0);
	CHECK(!page_poisoned(pfn_to_page(slab)));
	CHECK(strstr(fake_console, "kernel heap: cannot be moved, left in use (-5)") != NULL);
	char want[96];
	snprintf(want, sizeof want, "Unmovable pfn %#lx: kernel heap, threshold reached 2 time(s)",
		 (long)slab);
	CHECK(strstr(cec_read("array"), want) != NULL);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(write_num("pfn", (uint64_t)VT_NPFN + 9), 0);
	CHECK(strstr(fake_console, "not a RAM frame MCRK describes (-6)") != NULL);
	struct mce_cec_stats s = cstats();
	CHECK_EQ(s.offlined, 1);
	CHECK_EQ(s.unmovable, 2);
	CHECK_EQ(s.failed, 1);
	kfree(obj);
	runtime_end();
}

/* Storm control keeps most records of a storm off the console; the collector counts every
 * one, and with mce.print_all the records it keeps are printed too. */
TEST(cec_counts_in_storm_mode)
{
	runtime_start("");
	mce_cfg.fake_cmci = true;
	mce_cpu_setup();
	unsigned n = mce_cfg.storm_threshold * 3;
	struct mce_stats b, a;
	mce_get_stats(&b);
	for (unsigned i = 0; i < n; i++)
		ce(CE_MEM, 0x700000, MISC_PHYS_LSB6, MCE_SRC_CMCI);
	mce_get_stats(&a);
	CHECK(mce_bank_in_storm(0, BANK));
	CHECK(a.storm_suppressed > b.storm_suppressed);
	CHECK_EQ(cstats().ces, n);
	const char *arr_text = cec_read("array");
	char want[64];
	snprintf(want, sizeof want, "[0000000000000700|11|%03x]", n);
	CHECK(strstr(arr_text, want) != NULL);
	fake_console_clear();
	mce_cfg.print_all = true;
	mce_cfg.storm_quiet_ms = 0;
	mce_storm_check(); /* the storm is over: each record logged again */
	mce_cfg.storm_quiet_ms = 3000;
	ce(CE_MEM, 0x700000, MISC_PHYS_LSB6, MCE_SRC_CMCI);
	CHECK(strstr(fake_console, "(CMCI): KEEP") != NULL);
	CHECK_EQ(cstats().ces, n + 1);
	mce_cfg.fake_cmci = false;
	mce_cpu_setup();
	runtime_end();
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {0, (long)ms * 1000000};
	nanosleep(&ts, NULL);
}

/* The decay timer: nothing before the interval, one spring cleaning per interval after it;
 * the tick only queues the work, which runs as deferred work. */
TEST(cec_decay_timer)
{
	runtime_start("");
	CHECK_EQ(write_num("pfn", 0x123), 0);
	mce_cec_tick();
	work_run_pending();
	CHECK_EQ(cstats().decays, 0);
	CHECK_EQ(write_num("decay_interval_ms", 20), 0);
	sleep_ms(30);
	mce_cec_tick();
	mce_cec_tick();
	work_run_pending();
	CHECK_EQ(cstats().decays, 1);
	CHECK(strstr(cec_read("array"), "[0000000000000123|10|001]") != NULL);
	CHECK_EQ(write_num("decay_interval_ms", 60000), 0); /* restarts the interval */
	mce_cec_tick();
	work_run_pending();
	CHECK_EQ(cstats().decays, 1); /* not due yet */
	CHECK_EQ(write_num("decay_interval_ms", 20), 0);
	for (int i = 0; i < 4; i++) {
		sleep_ms(25);
		mce_cec_tick();
		work_run_pending();
	}
	CHECK_EQ(cstats().decays, 5);
	CHECK(strstr(cec_read("array"), "[0000000000000123|00|001]") != NULL);
	runtime_end();
}

/* The files, with Linux's answers: action_threshold takes any number and keeps at most 1023;
 * decay_interval takes 3600..2592000 seconds (else EINVAL, nothing changes); pfn reads back
 * the last pfn written; array prints Linux's text. Junk is EINVAL, overflow ERANGE. */
TEST(cec_files)
{
	runtime_start("");
	CHECK(!strcmp(cec_read("action_threshold"), "1023\n"));
	CHECK(!strcmp(cec_read("decay_interval"), "86400\n"));
	CHECK(!strcmp(cec_read("decay_interval_ms"), "86400000\n"));
	CHECK(!strcmp(cec_read("pfn"), "0x0\n"));
	CHECK_EQ(write_num("action_threshold", 5000), 0);
	CHECK(!strcmp(cec_read("action_threshold"), "1023\n"));
	CHECK_EQ(write_num("action_threshold", 0), 0);
	CHECK(!strcmp(cec_read("action_threshold"), "0\n"));
	CHECK_EQ(cec_write("action_threshold", "12\n"), 3);
	CHECK_EQ(cec_write("action_threshold", "x"), -EINVAL);
	CHECK_EQ(cec_write("action_threshold", "-1"), -EINVAL);
	CHECK_EQ(cec_write("action_threshold", "99999999999999999999999"), -ERANGE);
	CHECK(!strcmp(cec_read("action_threshold"), "12\n"));
	CHECK_EQ(cec_write("decay_interval", "3599"), -EINVAL);
	CHECK_EQ(cec_write("decay_interval", "2592001"), -EINVAL);
	CHECK_EQ(cec_write("decay_interval", "abc"), -EINVAL);
	CHECK(!strcmp(cec_read("decay_interval"), "86400\n"));
	CHECK_EQ(cec_write("decay_interval", "3600\n"), 5);
	CHECK(!strcmp(cec_read("decay_interval"), "3600\n"));
	CHECK_EQ(cec_write("decay_interval_ms", "9"), -EINVAL);
	CHECK_EQ(cec_write("decay_interval_ms", "1500"), 4);
	CHECK(!strcmp(cec_read("decay_interval"), "2\n")); /* rounded up */
	CHECK_EQ(cec_write("pfn", "0x629\n"), 6);
	CHECK_EQ(cec_write("pfn", "12abc"), -EINVAL);
	CHECK(!strcmp(cec_read("pfn"), "0x629\n"));
	CHECK_EQ(write_num("pfn", 0x20), 0);
	CHECK_EQ(write_num("pfn", 0x629), 0);
	const char *a = cec_read("array");
	CHECK(!strncmp(a, "{ n: 2\n   0: [0000000000000020|11|001]\n"
			  "   1: [0000000000000629|11|002]\n}\nStats:\nCEs: 3\n"
			  "offlined pages: 0\nFlags: 0x0\nDecay interval: 2 seconds\nDecays: 0\n"
			  "Action threshold: 12\n",
		       strlen("{ n: 2\n   0: [0000000000000020|11|001]\n"
			      "   1: [0000000000000629|11|002]\n}\nStats:\nCEs: 3\n"
			      "offlined pages: 0\nFlags: 0x0\nDecay interval: 2 seconds\n"
			      "Decays: 0\nAction threshold: 12\n")));
	runtime_end();
}

/* ras=cec_disable: no collector, every corrected error is printed, nothing is offlined. */
TEST(cec_disabled_by_boot_parameter)
{
	runtime_start("ras=cec_disable");
	CHECK(!cstats().on);
	for (int i = 0; i < 3; i++)
		ce(CE_MEM, 0x629000, MISC_PHYS_LSB6, MCE_SRC_POLL);
	CHECK(strstr(fake_console, "(poll): KEEP") != NULL);
	CHECK_EQ(cstats().ces, 0);
	runtime_end();
}

/* Errors at 10 000 frames: the array holds 512 and no memory is taken. */
TEST(cec_bounded_whatever_the_number_of_frames)
{
	runtime_start("");
	uint64_t free0 = vt_free_frames();
	for (pfn_t p = 0; p < 10000; p++)
		ce(CE_MEM, (0x100000 + p) << PAGE_SHIFT, MISC_PHYS_LSB6, MCE_SRC_POLL);
	struct mce_cec_stats s = cstats();
	CHECK_EQ(s.n, MCE_CEC_ELEMS);
	CHECK_EQ(s.ces, 10000);
	CHECK_EQ(s.evicted, 10000 - MCE_CEC_ELEMS);
	CHECK_EQ(vt_free_frames(), free0); /* heap and frames: the heap takes its memory in frames */
	runtime_end();
}
