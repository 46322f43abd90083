/* Host tests of the EINJ interface's checks (kernel/acpi/einj.c, through its control files)
 * and of the poison emulator (kernel/mce/einj_emu.c) over the fake MCA banks and the fake page
 * tables: what arming traps, what each access to an armed line reports in which bank, stores,
 * corrected errors that heal, fatal errors, notrigger 0, and the emulator's refusals. */
#include "../../kernel/acpi/einj_priv.h"
#include "../../kernel/mce/mce_priv.h"
#include "arch/mca.h"
#include "boot_info.h"
#include "ctl.h"
#include "einj.h"
#include "fake_acpi.h"
#include "fake_arch.h"
#include "fake_mca.h"
#include "fake_mmu.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "unit.h"
#include "vfs.h"
#include "vm_testlib.h"
#include "work.h"
#include <string.h>

#define QEMU_CAP 0x100010aull
#define BASE 0x400000ull
#define RW (PT_READ | PT_WRITE)
#define SRAR_LOAD 0xbd80000000000134ull
#define SRAR_FETCH 0xbd80000000000150ull
#define UCNA_STORE 0xbc00000000000146ull
#define CE_MEM (0x9c0000000000009full | (1ull << 38))
#define FATAL_MEM 0xbf0000000000009full
#define MISC_LINE 0x86ull

extern const struct vfs_node_ops *fake_node_ops[];
extern void *fake_node_priv[];
extern const char *fake_node_path[];
extern int fake_nodes;

/* ---- the interface ---- */

static int node(const char *file)
{
	char path[96];

	snprintf(path, sizeof path, "/sys/kernel/debug/apei/einj/%s", file);
	for (int i = 0; i < fake_nodes; i++)
		if (!strcmp(fake_node_path[i], path))
			return i;
	return -1;
}

static long put(const char *file, const char *v)
{
	int i = node(file);
	return i < 0 ? -ENOENT : fake_node_ops[i]->write(fake_node_priv[i], v, strlen(v));
}

static const char *show(const char *file)
{
	static char text[512];
	char *out = NULL;
	size_t len = 0;
	int i = node(file);

	text[0] = 0;
	if (i >= 0 && fake_node_ops[i]->gen && !fake_node_ops[i]->gen(fake_node_priv[i], &out, &len)) {
		snprintf(text, sizeof text, "%.*s", (int)len, out);
		kfree(out);
	}
	return text;
}

/* A firmware table for the interface: the types it offers are 0x38, injection succeeds. */
static uint8_t table[48 + 6 * 32];

static void fw_table(void)
{
	static const struct {
		uint8_t action, insn;
		uint64_t addr;
	} e[] = {{3, 0, FAKE_ACPI_MEM_BASE + 0x80}, {8, 2, FAKE_ACPI_MEM_BASE},
		 {5, 4, 0}, {6, 0, FAKE_ACPI_MEM_BASE + 0x88}, {7, 0, FAKE_ACPI_MEM_BASE + 0x90},
		 {1, 0, FAKE_ACPI_MEM_BASE + 0x98}};
	uint32_t len = sizeof table, hdr = 12, n = 6;

	memset(table, 0, sizeof table);
	memcpy(table, "EINJ", 4);
	memcpy(table + 4, &len, 4);
	memcpy(table + 36, &hdr, 4);
	memcpy(table + 44, &n, 4);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = table + 48 + 32 * i;
		uint64_t mask = ~0ull;
		p[0] = e[i].action, p[1] = e[i].insn;
		p[4] = 0, p[5] = 64, p[7] = 4;
		memcpy(p + 8, &e[i].addr, 8);
		memcpy(p + 24, &mask, 8);
	}
}

TEST(einj_interface_files_checks_and_refusals)
{
	static bool inited;

	vt_setup();
	memset(&boot_info, 0, sizeof boot_info);
	boot_info.mmap[0] = (struct mem_range){0x100000, 0x10000000, MEM_USABLE};
	boot_info.n_mmap = 1;
	fake_acpi_reset();
	fw_table();
	fake_acpi_table_ptr = table;
	fake_acpi_table_len = sizeof table;
	fake_acpi_poke(FAKE_ACPI_MEM_BASE + 0x80, 8, 0x38);
	if (!inited) {
		einj_init();
		fake_console_clear();
		mce_print_recovery_summary(); /* the EINJ part of the boot's summary */
		CHECK(strstr(fake_console, "; EINJ firmware table found: 3 error types)\n"));
		mce_summary_set_einj(NULL); /* as the summary's own tests expect to find it */
	}
	inited = true;
	REQUIRE(einj_backend() && !strcmp(einj_backend()->name, "firmware"));
	CHECK(node("param4") >= 0 && node("notrigger") >= 0 && node("vendor") < 0);
	CHECK(!strcmp(show("available_error_type"),
		      "0x00000008\tMemory Correctable\n0x00000010\tMemory Uncorrectable non-fatal\n"
		      "0x00000020\tMemory Uncorrectable fatal\n"));
	CHECK(!strcmp(show("backend"), "firmware\n"));
	CHECK_EQ(put("error_inject", "1"), -EINVAL); /* no type yet */
	CHECK_EQ(put("error_type", "0x10\n"), 5);
	CHECK_EQ(put("error_type", "0x2"), -EINVAL);	     /* not offered */
	CHECK_EQ(put("error_type", "0x18"), -EINVAL);	     /* two types */
	CHECK_EQ(put("error_type", "0x100000010"), -EINVAL); /* past 32 bits */
	CHECK_EQ(put("error_type", "16 "), -EINVAL);
	CHECK(!strcmp(show("error_type"), "0x10\n"));
	CHECK_EQ(put("error_type", "0x80000001"), 10); /* vendor types are not checked */
	CHECK_EQ(put("error_type", "0x10"), 4);
	CHECK_EQ(put("flags", "0x8"), 3);
	CHECK_EQ(put("error_inject", "1"), -EINVAL); /* an undefined flag */
	CHECK_EQ(put("flags", "0x100000002"), -EINVAL);
	CHECK(!strcmp(show("flags"), "0x00000008\n"));
	CHECK_EQ(put("flags", "2"), 1);
	CHECK_EQ(put("param1", "0x123440"), 8);
	CHECK_EQ(put("param2", "0xfff"), 5);
	CHECK_EQ(put("error_inject", "1"), -EINVAL); /* a mask finer than a page */
	CHECK_EQ(put("param2", "0xffffffffffffffff"), 18);
	CHECK_EQ(put("param1", "0xff000000"), 10);
	CHECK_EQ(put("error_inject", "1"), -EINVAL); /* not RAM */
	CHECK_EQ(put("param1", "0x123440"), 8);
	CHECK_EQ(put("notrigger", "1"), 1);
	CHECK(!strcmp(show("param1"), "0x0000000000123440\n"));
	CHECK_EQ(put("error_inject", "junk"), -EINVAL);
	CHECK_EQ(put("error_inject", "1"), 1);
	CHECK_EQ(fake_acpi_peek(FAKE_ACPI_MEM_BASE + SETWA_MEM_ADDR, 8), 0x123440);
}

/* ---- the emulator ---- */

static const struct einj_backend *emu;
static struct mm *mm;

/* Fresh frames and MCA banks on one CPU; an address space with one page at BASE; the page's
 * frame in *pfn. Each test passes its own `skip` (frames taken first), so that each gets a
 * frame of its own: lines armed by an earlier test stay armed in the emulator. */
static bool emu_setup(pfn_t *pfn, unsigned skip)
{
	struct vm_page_info info;

	vt_setup();
	for (unsigned i = 0; i < skip; i++)
		frame_alloc(0, PG_KERNEL);
	memset(fake_mca, 0, sizeof fake_mca);
	fake_mca_cap_value = QEMU_CAP;
	fake_cpu_count = 1;
	fake_cpu_id = 0;
	mce_cpu_setup();
	mce_drain();
	if (!emu)
		emu = einj_emu_probe();
	mm = mm_create();
	if (!emu || !mm || vm_mmap(mm, BASE, PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
				   NULL, 0) != (long)BASE || vm_fault(mm, BASE, FAULT_WRITE, true))
		return false;
	vm_page_info(mm, BASE, &info);
	*pfn = info.pfn;
	return info.state == VM_PAGE_PRESENT;
}

static void emu_teardown(void)
{
	work_run_pending();
	mce_drain();
	mm_put(mm);
	mm = NULL;
}

static int inject(uint32_t type, paddr_t pa, bool notrigger)
{
	struct einj_request r = {.type = type, .flags = EINJ_FLAG_MEM, .param1 = pa,
				 .param2 = ~0ull, .notrigger = notrigger};
	return emu->inject(&r);
}

static uint64_t bank(unsigned b, enum arch_mca_reg reg) { return fake_mca[0].bank[b][reg]; }

static bool trapped(pfn_t pfn)
{
	for (unsigned i = 0; i < fake_trap_nframes; i++)
		if (fake_trap_frames[i] == pfn)
			return true;
	return false;
}

TEST(einj_emu_arming_traps_every_mapping)
{
	pfn_t pfn;
	struct mm *child;

	REQUIRE(emu_setup(&pfn, 3));
	CHECK(!fake_mmu_trapped(mm->pt, BASE));
	CHECK_EQ(inject(EINJ_MEM_UNCORRECTED, pfn * PAGE_SIZE + 0x400, true), 0);
	CHECK(pfn_to_page(pfn)->flags & PG_TRAP);
	CHECK(trapped(pfn));		      /* the kernel's own mapping */
	CHECK(fake_mmu_trapped(mm->pt, BASE)); /* the user's */
	child = mm_fork(mm);		      /* and a mapping made later */
	REQUIRE(child);
	CHECK(fake_mmu_trapped(child->pt, BASE));
	mm_put(child);
	emu_teardown();
}

TEST(einj_emu_load_fetch_store_of_an_armed_line)
{
	struct einj_emu_plan plan;
	pfn_t pfn;
	paddr_t line;

	REQUIRE(emu_setup(&pfn, 6));
	line = pfn * PAGE_SIZE + 0x440;
	CHECK_EQ(inject(EINJ_MEM_UNCORRECTED, line + 5, true), 0);
	CHECK_EQ(einj_emu_access(line + 8, EINJ_READ, &plan), EINJ_EMU_RAISE);
	CHECK_EQ(bank(1, MCA_REG_STATUS), SRAR_LOAD);
	CHECK_EQ(bank(1, MCA_REG_ADDR), line);
	CHECK_EQ(bank(1, MCA_REG_MISC), MISC_LINE);
	CHECK_EQ(fake_mca[0].mcg[MCG_REG_STATUS], MCG_STATUS_MCIP | MCG_STATUS_RIPV | MCG_STATUS_EIPV);
	CHECK(!plan.local);
	CHECK_EQ(einj_emu_access(line, EINJ_FETCH, &plan), EINJ_EMU_RAISE);
	CHECK_EQ(bank(0, MCA_REG_STATUS), SRAR_FETCH);
	memset(fake_mca, 0, sizeof fake_mca[0]);
	CHECK_EQ(einj_emu_access(line + 63, EINJ_WRITE, &plan), EINJ_EMU_STEP_REPORT);
	CHECK_EQ(bank(3, MCA_REG_STATUS), 0); /* nothing until the store has run */
	CHECK_EQ(einj_emu_stepped(line + 63, EINJ_WRITE, 0, true, &plan), EINJ_EMU_STEP);
	CHECK_EQ(bank(3, MCA_REG_STATUS), UCNA_STORE);
	CHECK_EQ(fake_mca[0].mcg[MCG_REG_STATUS], 0); /* no #MC */
	CHECK_EQ(einj_emu_access(line + 1, EINJ_READ, &plan), EINJ_EMU_RAISE); /* still poisoned */
	emu_teardown();
}

TEST(einj_emu_other_lines_run_watched)
{
	struct einj_emu_plan plan;
	pfn_t pfn;
	paddr_t line;

	REQUIRE(emu_setup(&pfn, 9));
	line = pfn * PAGE_SIZE + 0x480;
	CHECK_EQ(inject(EINJ_MEM_UNCORRECTED, line, true), 0);
	CHECK_EQ(einj_emu_access(line - 1, EINJ_READ, &plan), EINJ_EMU_STEP);
	CHECK(plan.nwatch >= 1);
	bool watched = false;
	for (unsigned i = 0; i < plan.nwatch; i++)
		watched |= plan.watch[i] == line;
	CHECK(watched);
	memset(fake_mca, 0, sizeof fake_mca[0]);
	CHECK_EQ(einj_emu_stepped(line - 1, EINJ_READ, 0, false, &plan), EINJ_EMU_STEP);
	CHECK_EQ(bank(1, MCA_REG_STATUS), 0);
	/* The load ran into the line (a split load): reported as a load of it. */
	CHECK_EQ(einj_emu_stepped(line - 1, EINJ_READ, line, false, &plan), EINJ_EMU_RAISE);
	CHECK_EQ(bank(1, MCA_REG_STATUS), SRAR_LOAD);
	CHECK_EQ(bank(1, MCA_REG_ADDR), line);
	emu_teardown();
}

TEST(einj_emu_corrected_error_heals)
{
	struct einj_emu_plan plan;
	pfn_t pfn;
	paddr_t line;

	REQUIRE(emu_setup(&pfn, 12));
	line = pfn * PAGE_SIZE + 0x4c0;
	CHECK_EQ(inject(EINJ_MEM_CORRECTED, line, true), 0);
	CHECK_EQ(einj_emu_access(line, EINJ_READ, &plan), EINJ_EMU_STEP);
	CHECK_EQ(bank(7, MCA_REG_STATUS), CE_MEM); /* the count says one error */
	CHECK_EQ(mci_status_cec(bank(7, MCA_REG_STATUS)), 1);
	memset(fake_mca, 0, sizeof fake_mca[0]);
	CHECK_EQ(einj_emu_access(line, EINJ_READ, &plan), EINJ_EMU_STEP);
	CHECK_EQ(bank(7, MCA_REG_STATUS), 0); /* corrected: the line is good again */
	work_run_pending();		       /* its frame stops trapping */
	CHECK(!trapped(pfn) && !(pfn_to_page(pfn)->flags & PG_TRAP));
	CHECK(!fake_mmu_trapped(mm->pt, BASE));
	emu_teardown();
}

TEST(einj_emu_fatal_and_refusals)
{
	struct einj_emu_plan plan;
	pfn_t pfn;
	paddr_t line;
	struct einj_request r = {.type = EINJ_PROC_UNCORRECTED, .flags = EINJ_FLAG_APICID,
				 .param3 = 77, .notrigger = true};

	REQUIRE(emu_setup(&pfn, 15));
	line = pfn * PAGE_SIZE + 0x500;
	CHECK_EQ(inject(EINJ_MEM_FATAL, line, true), 0);
	CHECK_EQ(einj_emu_access(line, EINJ_WRITE, &plan), EINJ_EMU_RAISE);
	CHECK_EQ(bank(7, MCA_REG_STATUS), FATAL_MEM);
	CHECK_EQ(fake_mca[0].mcg[MCG_REG_STATUS], MCG_STATUS_MCIP);
	CHECK_EQ(inject(EINJ_PROC_FATAL, line, true), -EINVAL);	 /* not offered */
	CHECK_EQ(inject(EINJ_MEM_UNCORRECTED, 0, true), -EINVAL); /* pfn 0: reserved */
	CHECK_EQ(emu->inject(&r), -EINVAL);			 /* no CPU has APIC id 77 */
	r = (struct einj_request){.type = EINJ_MEM_UNCORRECTED, .flags = EINJ_FLAG_APICID};
	CHECK_EQ(emu->inject(&r), -EINVAL); /* a memory error without an address */
	emu_teardown();
}

TEST(einj_emu_notrigger_0_and_write_back)
{
	struct einj_emu_plan plan;
	pfn_t pfn;
	paddr_t line;
	unsigned mc;
	struct einj_request r = {.type = EINJ_PROC_UNCORRECTED, .flags = EINJ_FLAG_MEM,
				 .param2 = ~0ull, .notrigger = true};

	REQUIRE(emu_setup(&pfn, 18));
	line = pfn * PAGE_SIZE + 0x540;
	mc = fake_mca_mc_raised;
	CHECK_EQ(inject(EINJ_MEM_UNCORRECTED, line, false), 0); /* the patrol scrubber */
	CHECK_EQ(fake_mca_mc_raised, mc + 1);
	CHECK_EQ(einj_emu_access(line, EINJ_READ, &plan), EINJ_EMU_RAISE); /* still in memory */
	line += 0x40;
	r.param1 = line;
	mc = fake_mca_mc_raised;
	CHECK_EQ(emu->inject(&r), 0); /* in a CPU's cache: written back soon */
	CHECK_EQ(fake_mca_mc_raised, mc);
	CHECK(work_run_pending() >= 1);
	CHECK_EQ(fake_mca_mc_raised, mc + 1); /* SRAO 0x17A */
	CHECK_EQ(einj_emu_access(line, EINJ_READ, &plan), EINJ_EMU_RAISE);
	emu_teardown();
}
