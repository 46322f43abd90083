/* The poison emulator: EINJ without firmware (include/einj.h), for QEMU and for anyone who
 * wants the errors to happen exactly where a program touches memory.
 *
 * Injecting a memory error arms a 64-byte line: the frame that holds it traps on every access
 * (mf_trap_frame; the arch's trap in arch/x86_64/poison_trap.c asks einj_emu_access about each
 * one). Nothing is reported until then, as with real poison planted by firmware. The access
 * gets what an Intel server gives for it (SDM vol. 3B, 15.9.3 and table 15-20):
 *   a load of the line     SRAR, MCACOD 0x134 in the data cache unit's bank, ADDR = the line,
 *                          MISC: physical address with LSB 6, MCG_STATUS RIPV|EIPV|MCIP at the
 *                          loading instruction; broadcast (every CPU enters the handler, the
 *                          others with RIPV|MCIP) unless LMCE is on;
 *   an instruction fetch   the same with MCACOD 0x150 in the instruction fetch unit's bank;
 *   a store                completes; the read-for-ownership finds the poison and the L2
 *                          reports a UCNA (no #MC): by CMCI when the bank has it, else the
 *                          poller finds it; the line stays poisoned;
 *   a corrected error      the access completes, the memory controller's bank reports a
 *                          corrected error (count 1) by CMCI or to the poller, the line heals;
 *   a fatal error          PCC: the handler panics.
 * A processor error (type 0x2) with an address is poison in a CPU's cache: a load consumes it
 * as above, and the line's write-back to memory reports SRAO 0x17A from the last-level cache
 * (broadcast #MC, RIPV only), leaving the poison in memory. A line is evicted sooner or later;
 * the emulator cannot see CLFLUSH (QEMU does not run it as a memory access), so it writes the
 * line back as soon as a CPU has time (a work item), which is when a program that flushed it
 * looks for the error.
 * With notrigger 0 nothing waits: the patrol scrubber finds a memory error at once (SRAO 0xC0
 * from the memory controller, broadcast #MC), a corrected one is reported at once, a fatal one
 * panics, a processor one is written back at once; uncorrected poison stays armed.
 * Banks are those of a Skylake-SP core and uncore: 0 instruction fetch, 1 data cache, 3 L2,
 * 7 memory controller, 9 last-level cache (fewer banks: the last one). */
#include "arch/cpu.h"
#include "arch/mca.h"
#include "einj.h"
#include "frame.h"
#include "kerrno.h"
#include "mce_priv.h"
#include "memory_failure.h"
#include "printk.h"
#include "spinlock.h"
#include "work.h"

#define EMU_TYPES (EINJ_PROC_UNCORRECTED | EINJ_MEM_CORRECTED | EINJ_MEM_UNCORRECTED | EINJ_MEM_FATAL)
#define EMU_MAX_ARMED 32
#define LINE_MASK (~(paddr_t)(EINJ_LINE_SIZE - 1))

#define BANK_IFU 0
#define BANK_DCU 1
#define BANK_MLC 3
#define BANK_IMC 7
#define BANK_LLC 9
#define CODE_L2_WRITE 0x0146 /* cache hierarchy: data write at the L2 */
#define CODE_MEM_READ 0x009f /* memory controller: read, channel not given */
#define MISC_LINE ((uint64_t)MCI_MISC_ADDR_PHYS << MCI_MISC_ADDR_MODE_SHIFT | 6)
#define CE_COUNT_ONE (1ull << MCI_STATUS_CEC_SHIFT)

#define ST_BASE (MCI_STATUS_VAL | MCI_STATUS_EN | MCI_STATUS_MISCV | MCI_STATUS_ADDRV)
#define ST_UCNA (ST_BASE | MCI_STATUS_UC)
#define ST_SRAO (ST_UCNA | MCI_STATUS_S)
#define ST_SRAR (ST_SRAO | MCI_STATUS_AR)
#define ST_FATAL (ST_SRAO | MCI_STATUS_PCC)
#define MCG_SRAR (MCG_STATUS_MCIP | MCG_STATUS_RIPV | MCG_STATUS_EIPV)
#define MCG_SRAO (MCG_STATUS_MCIP | MCG_STATUS_RIPV)

enum arm_kind { ARM_UC, ARM_CE, ARM_WB, ARM_FATAL }; /* ARM_WB: injected only, armed as UC */
static const char *const kind_names[] = {"memory uncorrected", "memory corrected",
					 "processor (cache write-back)", "memory fatal"};

struct armed {
	paddr_t line;
	uint8_t kind; /* enum arm_kind */
	bool used;
};
static struct armed armed[EMU_MAX_ARMED];
static spinlock_t emu_lock = SPINLOCK_INIT; /* armed[]; taken with interrupts off */

static void untrap_fn(void *arg);
static struct work untrap_work = {.fn = untrap_fn, .name = "einj-untrap"};
static pfn_t healed[EMU_MAX_ARMED]; /* frames whose last armed line healed (0: none) */
static void writeback_fn(void *arg);
static struct work writeback_work = {.fn = writeback_fn, .name = "einj-writeback"};
static struct {
	paddr_t line; /* 0: none */
	unsigned cpu;
} writebacks[EMU_MAX_ARMED]; /* cache lines still to be written back */

/* ---- the armed lines (emu_lock held) ---- */

static int find(paddr_t line)
{
	for (int i = 0; i < EMU_MAX_ARMED; i++)
		if (armed[i].used && armed[i].line == line)
			return i;
	return -1;
}

static unsigned lines_in_frame(pfn_t pfn)
{
	unsigned n = 0;
	for (int i = 0; i < EMU_MAX_ARMED; i++)
		n += armed[i].used && armed[i].line >> PAGE_SHIFT == pfn;
	return n;
}

/* The armed lines of pa's page but `except`, for the arch to watch during a step. */
static void fill_watch(struct einj_emu_plan *plan, paddr_t pa, paddr_t except)
{
	plan->nwatch = 0;
	for (int i = 0; i < EMU_MAX_ARMED && plan->nwatch < EINJ_EMU_WATCH; i++)
		if (armed[i].used && armed[i].line >> PAGE_SHIFT == pa >> PAGE_SHIFT &&
		    armed[i].line != except)
			plan->watch[plan->nwatch++] = armed[i].line;
}

/* A corrected line is good again; once its frame has no armed line left, a worker stops the
 * trapping (it needs process context). */
static void heal(int i)
{
	pfn_t pfn = armed[i].line >> PAGE_SHIFT;

	armed[i].used = false;
	if (lines_in_frame(pfn))
		return;
	for (int k = 0; k < EMU_MAX_ARMED; k++)
		if (!healed[k]) {
			healed[k] = pfn;
			break;
		}
	work_queue(&untrap_work);
}

static void untrap_fn(void *arg)
{
	(void)arg;
	for (int k = 0; k < EMU_MAX_ARMED; k++) {
		irqflags_t f = arch_irq_save();
		pfn_t pfn;

		spin_lock(&emu_lock);
		pfn = healed[k];
		healed[k] = 0;
		if (pfn && lines_in_frame(pfn))
			pfn = 0; /* armed again meanwhile */
		spin_unlock(&emu_lock);
		arch_irq_restore(f);
		if (pfn)
			mf_trap_frame(pfn, false);
	}
}

/* ---- what this CPU's banks report (#PF/#DB context, or the CPU of a cross call) ---- */

static void bank_put(unsigned bank, uint64_t status, paddr_t line)
{
	unsigned nb = mce_nbanks();

	bank = MIN(bank, nb - 1);
	arch_mca_bank_write(bank, MCA_REG_ADDR, line);
	arch_mca_bank_write(bank, MCA_REG_MISC, MISC_LINE);
	arch_mca_bank_write(bank, MCA_REG_STATUS, status);
}

/* An error without #MC: CMCI when this CPU takes the bank's interrupts, else the poller. */
static void report_quietly(unsigned bank, uint64_t status, paddr_t line)
{
	bank_put(bank, status, line);
	if (mce_cmci_owns(MIN(bank, mce_nbanks() - 1)))
		arch_mca_raise_cmci();
}

static enum einj_emu_act raise_srar(paddr_t line, enum einj_access acc,
				    struct einj_emu_plan *plan)
{
	bool fetch = acc == EINJ_FETCH;

	plan->local = mce_lmce_active();
	bank_put(fetch ? BANK_IFU : BANK_DCU,
		 ST_SRAR | (fetch ? MCACOD_INSTR : MCACOD_DATA), line);
	arch_mcg_write(MCG_REG_STATUS, MCG_SRAR | (plan->local ? MCG_STATUS_LMCES : 0));
	return EINJ_EMU_RAISE;
}

static enum einj_emu_act raise_fatal(paddr_t line, struct einj_emu_plan *plan)
{
	plan->local = false;
	bank_put(BANK_IMC, ST_FATAL | CODE_MEM_READ, line);
	arch_mcg_write(MCG_REG_STATUS, MCG_STATUS_MCIP);
	return EINJ_EMU_RAISE;
}

/* What is armed at line (-1: nothing); a corrected line heals as it is read. With plan, also
 * the other armed lines of pa's page, to watch while the access runs. */
static int touch(paddr_t line, struct einj_emu_plan *plan, paddr_t pa)
{
	int kind = -1, i;

	spin_lock(&emu_lock);
	i = find(line);
	if (i >= 0) {
		kind = armed[i].kind;
		if (kind == ARM_CE)
			heal(i);
	}
	if (plan)
		fill_watch(plan, pa, line);
	spin_unlock(&emu_lock);
	return kind;
}

/* What an access acc of line, armed as kind, reports. */
static enum einj_emu_act report(int kind, paddr_t line, enum einj_access acc,
				struct einj_emu_plan *plan)
{
	switch (kind) {
	case ARM_UC:
		if (acc == EINJ_WRITE)
			return EINJ_EMU_STEP_REPORT; /* the store runs first */
		return raise_srar(line, acc, plan);
	case ARM_CE:
		report_quietly(BANK_IMC, ST_BASE | CE_COUNT_ONE | CODE_MEM_READ, line);
		return EINJ_EMU_STEP;
	case ARM_FATAL:
		return raise_fatal(line, plan);
	default:
		return EINJ_EMU_STEP;
	}
}

enum einj_emu_act einj_emu_access(paddr_t pa, enum einj_access acc, struct einj_emu_plan *plan)
{
	paddr_t line = pa & LINE_MASK;

	return report(touch(line, plan, pa), line, acc, plan);
}

enum einj_emu_act einj_emu_stepped(paddr_t pa, enum einj_access acc, paddr_t hit, bool stored,
				   struct einj_emu_plan *plan)
{
	paddr_t line = pa & LINE_MASK;

	if (hit) /* ran into the line from another one: a load of it, whatever the access */
		return report(touch(hit, NULL, 0), hit, EINJ_READ, plan);
	if (stored && acc == EINJ_WRITE && touch(line, NULL, 0) == ARM_UC)
		report_quietly(BANK_MLC, ST_UCNA | CODE_L2_WRITE, line);
	return EINJ_EMU_STEP;
}

/* ---- injecting (process context) ---- */

/* Forget lines whose frame memory_failure took out of use for good: nobody reaches them any
 * more (the frame keeps trapping). emu_lock held. */
static void reclaim(void)
{
	const uint32_t gone = PG_HWPOISON | PG_ISOLATED;

	for (int i = 0; i < EMU_MAX_ARMED; i++) {
		const struct page *pg = pfn_to_page(armed[i].line >> PAGE_SHIFT);
		if (armed[i].used && pg && (__atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & gone) == gone)
			armed[i].used = false;
	}
}

/* Arm line as kind and make its frame trap. */
static int arm(paddr_t line, enum arm_kind kind)
{
	irqflags_t f = arch_irq_save();
	int slot = -1, err;

	spin_lock(&emu_lock);
	reclaim();
	slot = find(line);
	for (int i = 0; i < EMU_MAX_ARMED && slot < 0; i++)
		if (!armed[i].used)
			slot = i;
	if (slot >= 0)
		armed[slot] = (struct armed){line, (uint8_t)kind, true};
	spin_unlock(&emu_lock);
	arch_irq_restore(f);
	if (slot < 0) {
		printk(KERN_ERR "einj: poison emulator: %u lines armed already; consume or offline "
				"some first\n", EMU_MAX_ARMED);
		return -ENOSPC;
	}
	err = mf_trap_frame(line >> PAGE_SHIFT, true);
	if (err) {
		f = arch_irq_save();
		spin_lock(&emu_lock);
		armed[slot].used = false;
		spin_unlock(&emu_lock);
		arch_irq_restore(f);
	}
	return err;
}

/* Report an error now through the software injector (cpu's banks, broadcast #MC, CMCI or
 * poll as flags say). */
static int fire_now(unsigned cpu, unsigned bank, uint64_t status, paddr_t line, uint64_t mcg,
		    uint32_t flags)
{
	struct mce_inj_record ir = {.flags = flags};

	ir.rec.cpu = cpu;
	ir.rec.bank = (uint8_t)MIN(bank, mce_nbanks() - 1);
	ir.rec.status = status;
	ir.rec.addr = line;
	ir.rec.misc = (status & MCI_STATUS_MISCV) ? MISC_LINE : 0;
	ir.rec.mcg_status = mcg;
	return mce_inject_one(&ir);
}

static int fire(enum arm_kind kind, paddr_t line, bool has_addr, unsigned cpu)
{
	uint64_t noaddr = has_addr ? 0 : MCI_STATUS_ADDRV | MCI_STATUS_MISCV;

	switch (kind) {
	case ARM_UC: /* the patrol scrubber got there first */
		return fire_now(cpu, BANK_IMC, ST_SRAO | MCACOD_SCRUB, line, MCG_SRAO, MCE_INJ_EXCP);
	case ARM_CE:
		return fire_now(cpu, BANK_IMC, ST_BASE | CE_COUNT_ONE | CODE_MEM_READ, line, 0,
				mce_cmci_active() ? MCE_INJ_CMCI : MCE_INJ_POLL);
	case ARM_WB:
		return fire_now(cpu, BANK_LLC, (ST_SRAO & ~noaddr) | MCACOD_L3WB, line, MCG_SRAO,
				MCE_INJ_EXCP);
	case ARM_FATAL:
		return fire_now(cpu, BANK_IMC, ST_FATAL | CODE_MEM_READ, line, MCG_STATUS_MCIP,
				MCE_INJ_EXCP);
	}
	return -EINVAL;
}

struct apic_query {
	uint32_t apicid;
	bool found;
};

static void apic_match(void *arg)
{
	struct apic_query *q = arg;
	struct mce_record r;

	arch_mca_fill_cpu(&r);
	if (r.apicid == q->apicid)
		q->found = true;
}

/* The CPU whose APIC id is apicid, or -EINVAL when there is none. */
static int cpu_of_apic(uint32_t apicid)
{
	for (unsigned c = 0; c < arch_cpu_count(); c++) {
		struct apic_query q = {apicid, false};
		if (arch_mca_on_cpu(c, apic_match, &q, true) == 0 && q.found)
			return (int)c;
	}
	return -EINVAL;
}

/* The address a request names, as Linux passes it to the firmware: param1 (masked by param2)
 * when flags say so or, with flags 0, for the memory types. */
static bool request_addr(const struct einj_request *r, paddr_t *addr)
{
	bool mem = r->flags ? (r->flags & EINJ_FLAG_MEM) : (r->type & EINJ_MEM_TYPES);

	*addr = r->param1 & r->param2;
	return mem;
}

/* Which CPU a processor error is for: param3 with EINJ_FLAG_APICID, param1 with flags 0. */
static int request_cpu(const struct einj_request *r)
{
	if (r->flags & EINJ_FLAG_APICID)
		return cpu_of_apic((uint32_t)r->param3);
	if (!r->flags)
		return cpu_of_apic((uint32_t)r->param1);
	return (int)arch_cpu_id();
}

static int kind_of(uint32_t type)
{
	switch (type) {
	case EINJ_MEM_UNCORRECTED: return ARM_UC;
	case EINJ_MEM_CORRECTED: return ARM_CE;
	case EINJ_MEM_FATAL: return ARM_FATAL;
	case EINJ_PROC_UNCORRECTED: return ARM_WB;
	default: return -EINVAL;
	}
}

/* Frames the emulator can trap: allocator-managed RAM (not the kernel image or firmware's). */
static int frame_ok(paddr_t addr)
{
	const struct page *pg = pfn_to_page(addr >> PAGE_SHIFT);

	if (!pg || (__atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_RESERVED)) {
		printk(KERN_ERR "einj: poison emulator: %#llx is not memory the allocator manages "
				"(kernel image, firmware or boot data): it cannot be trapped\n",
		       (unsigned long long)addr);
		return -EINVAL;
	}
	return 0;
}

static void announce(enum arm_kind kind, paddr_t line, bool has_addr, bool notrigger,
		     unsigned cpu)
{
	const char *what = !notrigger	      ? "reported now (notrigger 0)"
			   : kind == ARM_WB   ? "in a CPU's cache; written back soon"
					      : "armed; the next access consumes it";

	if (!has_addr)
		printk(KERN_INFO "einj: poison emulator: %s error on CPU %u (no address)\n",
		       kind_names[kind], cpu);
	else
		printk(KERN_INFO "einj: poison emulator: %s error at line %#llx (pfn %#llx): %s\n",
		       kind_names[kind], (unsigned long long)line,
		       (unsigned long long)(line >> PAGE_SHIFT), what);
}

/* A line of cpu's cache to write back later (writeback_fn). */
static int queue_writeback(paddr_t line, unsigned cpu)
{
	irqflags_t f = arch_irq_save();
	int err = -ENOSPC;

	spin_lock(&emu_lock);
	for (int k = 0; k < EMU_MAX_ARMED && err; k++)
		if (!writebacks[k].line) {
			writebacks[k].line = line;
			writebacks[k].cpu = cpu;
			err = 0;
		}
	spin_unlock(&emu_lock);
	arch_irq_restore(f);
	if (!err)
		work_queue(&writeback_work);
	return err;
}

static void writeback_fn(void *arg)
{
	(void)arg;
	for (int k = 0; k < EMU_MAX_ARMED; k++) {
		irqflags_t f = arch_irq_save();
		paddr_t line;
		unsigned cpu;

		spin_lock(&emu_lock);
		line = writebacks[k].line;
		cpu = writebacks[k].cpu;
		writebacks[k].line = 0;
		spin_unlock(&emu_lock);
		arch_irq_restore(f);
		if (line)
			fire(ARM_WB, line, true, cpu);
	}
}

static int emu_inject(const struct einj_request *r)
{
	int kind = kind_of(r->type), cpu = (int)arch_cpu_id(), err = 0;
	bool has_addr;
	paddr_t addr, line;
	enum arm_kind arm_as;

	if (kind < 0)
		return -EINVAL; /* what firmware answers for a type it does not offer */
	has_addr = request_addr(r, &addr);
	if (kind == ARM_WB && (cpu = request_cpu(r)) < 0)
		return -EINVAL;
	if (!has_addr && kind != ARM_WB)
		return -EINVAL;
	if (has_addr && (err = frame_ok(addr)))
		return err;
	line = addr & LINE_MASK;
	announce((enum arm_kind)kind, line, has_addr, r->notrigger, (unsigned)cpu);
	/* Uncorrected poison stays in memory once reported; the rest only until consumed. */
	arm_as = kind == ARM_WB ? ARM_UC : (enum arm_kind)kind;
	if (has_addr && (r->notrigger || arm_as == ARM_UC))
		err = arm(line, arm_as);
	if (!err && kind == ARM_WB && has_addr && r->notrigger)
		return queue_writeback(line, (unsigned)cpu);
	if (!err && (!r->notrigger || !has_addr))
		err = fire((enum arm_kind)kind, line, has_addr, (unsigned)cpu);
	return err < 0 ? err : 0;
}

static int emu_available(uint32_t *types)
{
	*types = EMU_TYPES;
	return 0;
}

static const struct einj_backend emu_backend = {
	.name = "emulator",
	.available = emu_available,
	.inject = emu_inject,
	.params = true,
};

const struct einj_backend *einj_emu_probe(void)
{
	if (!mce_nbanks())
		return NULL;
	if (work_register(&untrap_work) || work_register(&writeback_work))
		return NULL;
	return &emu_backend;
}
