/* The software machine-check injector, like Linux's mce-inject: it writes records into the
 * bank registers of the CPUs they name (the CPU must accept such writes: QEMU's TCG stores
 * them, most real CPUs do not) and then makes the kernel find them the way the record asks:
 *   #MC   (EXCP, or an uncorrected record without POLL): every online CPU raises INT 18 (a
 *         broadcast), or with NOBROADCAST only the CPUs that got records; the other CPUs of a
 *         broadcast get MCG_STATUS = MCIP|RIPV as real hardware gives them;
 *   CMCI  (keyword CMCI, an MCRK extension): a self-IPI on the CMCI vector of the target CPU;
 *   POLL  (or a corrected record without EXCP): the target CPU runs the poller at once;
 *   HOLD  writes only; the next record without HOLD raises for all records written so far.
 * "RIP cs:ip" becomes the interrupted context the #MC handler grades with, as mce-inject's
 * fake registers do. IN_IRQ, IN_PROC, IRQBROADCAST and NMIBROADCAST are accepted and ignored:
 * other CPUs are always reached by a cross-CPU call (their IRQ context). A record for a CPU
 * that is not online goes to CPU (n mod online CPUs), and the injector says so. From the
 * first write to the raise, the poll timer of the CPUs written to stays off (poll_hold),
 * so it cannot take a record meant for #MC or CMCI. */
#include "arch/cpu.h"
#include "arch/mca.h"
#include "arch/mmu.h"
#include "boot_info.h"
#include "cpumask.h"
#include "initrd.h"
#include "kerrno.h"
#include "kstring.h"
#include "mce_priv.h"
#include "printk.h"

#define INJ_MAX_RECORDS 64
#define NS_PER_MS 1000000ull
#define RAISE_SLACK_MS 200
#define MCE_INJECT_ARG_MAX 512 /* mce.inject=PATH[,PATH...] */

static struct {
	uint64_t ip, cs;
	uint32_t set;
} inj_ctx[MAX_CPUS];

static struct mce_inj_record inj_recs[INJ_MAX_RECORDS];
static uint32_t raised_done;
static struct cpumask poll_hold; /* CPUs whose banks hold injected records not yet raised */

bool mce_inject_holds_poll(void)
{
	return cpumask_test(&poll_hold, arch_cpu_id());
}

void mce_inject_set_context(uint64_t ip, uint64_t cs)
{
	unsigned cpu = arch_cpu_id();

	inj_ctx[cpu].ip = ip;
	inj_ctx[cpu].cs = cs;
	__atomic_store_n(&inj_ctx[cpu].set, 1, __ATOMIC_RELEASE);
}

bool mce_inject_take_context(uint64_t *ip, uint64_t *cs)
{
	unsigned cpu = arch_cpu_id();

	if (!__atomic_exchange_n(&inj_ctx[cpu].set, 0, __ATOMIC_ACQ_REL))
		return false;
	*ip = inj_ctx[cpu].ip;
	*cs = inj_ctx[cpu].cs;
	return true;
}

/* On the target CPU: write the record into its bank and MCG_STATUS. */
static void write_fn(void *arg)
{
	const struct mce_inj_record *ir = arg;
	const struct mce_record *r = &ir->rec;

	cpumask_set(&poll_hold, arch_cpu_id());
	arch_mca_bank_write(r->bank, MCA_REG_ADDR, r->addr);
	arch_mca_bank_write(r->bank, MCA_REG_MISC, r->misc);
	arch_mca_bank_write(r->bank, MCA_REG_STATUS, r->status);
	arch_mcg_write(MCG_REG_STATUS, r->mcg_status);
	if (ir->flags & MCE_INJ_HAS_RIP)
		mce_inject_set_context(r->ip, r->cs ? r->cs : 0x10);
}

/* On a CPU taking part in an injected #MC. arg != NULL: a bystander of a broadcast. */
static void raise_mc_fn(void *arg)
{
	if (arg)
		arch_mcg_write(MCG_REG_STATUS, MCG_STATUS_MCIP | MCG_STATUS_RIPV);
	arch_mca_raise_mc();
	__atomic_add_fetch(&raised_done, 1, __ATOMIC_ACQ_REL);
}

static void raise_cmci_fn(void *arg)
{
	(void)arg;
	arch_mcg_write(MCG_REG_STATUS, 0);
	arch_mca_raise_cmci();
}

/* Poll now, then clear the MCG_STATUS the record wrote (no #MC will): QEMU resets the VM on
 * a later injection if MCIP stays set. */
static void poll_fn(void *arg)
{
	(void)arg;
	mce_poll(MCE_SRC_POLL, false);
	arch_mcg_write(MCG_REG_STATUS, 0);
}

/* Raise #MC on the CPUs in mask (bystanders too unless nobroadcast); wait for them all. */
static void raise_mc(const struct cpumask *mask, bool nobroadcast)
{
	unsigned self = arch_cpu_id(), ncpu = arch_cpu_count(), want = 0;
	uint64_t deadline;
	static const int bystander = 1;

	__atomic_store_n(&raised_done, 0, __ATOMIC_RELEASE);
	for (unsigned c = 0; c < ncpu; c++) {
		bool target = cpumask_test(mask, c);

		if (c == self || (!target && nobroadcast))
			continue;
		if (arch_mca_on_cpu(c, raise_mc_fn, target ? NULL : (void *)&bystander, false) == 0)
			want++;
	}
	if (cpumask_test(mask, self) || !nobroadcast) {
		raise_mc_fn(cpumask_test(mask, self) ? NULL : (void *)&bystander);
		want++;
	}
	deadline = arch_time_ns() + (3 * mce_cfg.monarch_timeout_ms + RAISE_SLACK_MS) * NS_PER_MS;
	while (__atomic_load_n(&raised_done, __ATOMIC_ACQUIRE) < want && arch_time_ns() < deadline)
		arch_cpu_relax();
}

static unsigned target_cpu(const struct mce_inj_record *r)
{
	unsigned n = arch_cpu_count();

	if (r->rec.cpu < n)
		return r->rec.cpu;
	printk(KERN_WARNING "mce-inject: line %u: CPU %u is not online; using CPU %u\n", r->line,
	       r->rec.cpu, r->rec.cpu % n);
	return r->rec.cpu % n;
}

/* Raise the records [first, last] (all written) as the last one's flags say. */
static void raise_batch(const struct mce_inj_record *recs, size_t first, size_t last)
{
	const struct mce_inj_record *r = &recs[last];
	struct cpumask mask = {0};

	for (size_t i = first; i <= last; i++)
		cpumask_set(&mask, target_cpu(&recs[i]));
	if (mce_inj_raises_mc(r)) {
		raise_mc(&mask, r->flags & MCE_INJ_NOBROADCAST);
	} else {
		for_each_cpu_in(c, &mask)
			arch_mca_on_cpu(c, (r->flags & MCE_INJ_CMCI) ? raise_cmci_fn : poll_fn,
					NULL, true);
	}
}

static int inject_batch(struct mce_inj_record *recs, size_t n)
{
	size_t first = 0;

	for (size_t i = 0; i < n; i++) {
		struct mce_inj_record *r = &recs[i];
		unsigned cpu = target_cpu(r);
		int err;

		if (r->rec.bank >= mce_nbanks()) {
			printk(KERN_ERR "mce-inject: line %u: bank %u does not exist (%u banks)\n",
			       r->line, r->rec.bank, mce_nbanks());
			return -EINVAL;
		}
		err = arch_mca_on_cpu(cpu, write_fn, r, true);
		if (err) {
			cpumask_zero(&poll_hold);
			return err;
		}
		if ((r->flags & MCE_INJ_HOLD) && i + 1 < n)
			continue;
		raise_batch(recs, first, i);
		cpumask_zero(&poll_hold);
		first = i + 1;
	}
	return (int)n;
}

int mce_inject_one(const struct mce_inj_record *r)
{
	struct mce_inj_record copy = *r;
	int err;

	copy.flags &= ~(uint32_t)MCE_INJ_HOLD;
	err = inject_batch(&copy, 1);
	return err < 0 ? err : 0;
}

int mce_inject_text(const char *text, size_t len)
{
	char err[96];
	int n = mce_inject_parse(text, len, inj_recs, INJ_MAX_RECORDS, err, sizeof err);

	if (n < 0) {
		printk(KERN_ERR "mce-inject: %s\n", err);
		return n;
	}
	if (!mce_nbanks()) {
		printk(KERN_ERR "mce-inject: this CPU has no machine-check banks\n");
		return -ENODEV;
	}
	printk(KERN_INFO "mce-inject: %d record%s\n", n, n == 1 ? "" : "s");
	return inject_batch(inj_recs, (size_t)n);
}

/* mce.inject=module: the first boot module, raw mce-inject text (QEMU -initrd FILE). */
static void inject_module(const struct boot_info *bi)
{
	const struct boot_module *m;
	int n;

	if (bi->n_modules == 0) {
		printk(KERN_ERR "mce-inject: mce.inject=module but there is no boot module\n");
		return;
	}
	m = &bi->modules[0];
	printk(KERN_INFO "mce-inject: from module \"%s\" (%llu bytes)\n", m->name,
	       (unsigned long long)(m->end - m->start));
	n = mce_inject_text(arch_phys_to_virt(m->start), (size_t)(m->end - m->start));
	printk(KERN_INFO "mce-inject: module done (%d)\n", n);
}

/* mce.inject=PATH[,PATH...]: files of the initrd, one injection run each, in order. */
static void inject_initrd_files(char *list)
{
	char *path = list, *next;

	for (; path && *path; path = next) {
		const struct initrd_file *f;
		int n;

		next = strchr(path, ',');
		if (next)
			*next++ = '\0';
		f = initrd_lookup(path);
		if (!f) {
			printk(KERN_ERR "mce-inject: %s: not in the initrd\n", path);
			continue;
		}
		printk(KERN_INFO "mce-inject: from initrd file %s (%zu bytes)\n", path, f->size);
		n = mce_inject_text((const char *)f->data, f->size);
		printk(KERN_INFO "mce-inject: file %s done (%d)\n", path, n);
	}
}

void mce_inject_from_boot(const struct boot_info *bi)
{
	char v[MCE_INJECT_ARG_MAX];

	if (!cmdline_get(bi->cmdline, "mce.inject", v, sizeof v))
		return;
	if (!strcmp(v, "module"))
		inject_module(bi);
	else if (v[0] == '/')
		inject_initrd_files(v);
	else
		printk(KERN_ERR "mce-inject: mce.inject=%s: want \"module\" or initrd paths "
				"(/mce-cases/SET/CASE[,...])\n",
		       v);
	printk(KERN_INFO "mce-inject: done\n");
}
