/* EINJ, ACPI's error injection, at Linux's paths: /sys/kernel/debug/apei/einj/ takes an error
 * type and its parameters and injects (kernel/acpi/einj.c, the same checks and errno values as
 * Linux's drivers/acpi/apei/einj.c). Two backends do the injecting:
 *   - firmware: the platform's EINJ table, run by the APEI interpreter (kernel/acpi/einj_fw.c,
 *     kernel/acpi/einj_table.c), on a real server whose BIOS offers error injection;
 *   - emulator: the poison emulator (kernel/mce/einj_emu.c), used when there is no table (QEMU)
 *     or by choice (einj.backend=emulator): the error becomes a line of poison that the next
 *     access consumes, with the machine check silicon would raise for it.
 * docs/einj.md lists every case, what the hardware reports, and what MCRK and Linux do. */
#pragma once
#include "types.h"

/* Error types (ACPI 6.x, "Error Type Definition"): one bit each; bit 31 marks a vendor type. */
#define EINJ_PROC_CORRECTED 0x1
#define EINJ_PROC_UNCORRECTED 0x2
#define EINJ_PROC_FATAL 0x4
#define EINJ_MEM_CORRECTED 0x8
#define EINJ_MEM_UNCORRECTED 0x10
#define EINJ_MEM_FATAL 0x20
#define EINJ_MEM_TYPES (EINJ_MEM_CORRECTED | EINJ_MEM_UNCORRECTED | EINJ_MEM_FATAL)
#define EINJ_VENDOR_TYPE BIT(31)
#define EINJ_TYPE_NAMES 12 /* bits 0..11 have names (available_error_type) */

/* Flags of SET_ERROR_TYPE_WITH_ADDRESS (the "flags" file): which parameters are valid. */
#define EINJ_FLAG_APICID BIT(0)	 /* param3: the processor's APIC id */
#define EINJ_FLAG_MEM BIT(1)	 /* param1: memory address, param2: its mask */
#define EINJ_FLAG_PCIE_SBDF BIT(2) /* param4: a PCIe segment/bus/device/function */
#define EINJ_FLAGS_ALL (EINJ_FLAG_APICID | EINJ_FLAG_MEM | EINJ_FLAG_PCIE_SBDF)

/* One injection as the files describe it. */
struct einj_request {
	uint32_t type;	  /* one EINJ_* bit, maybe with EINJ_VENDOR_TYPE */
	uint32_t flags;	  /* EINJ_FLAG_*; 0: the parameters are implied by the type */
	uint64_t param1, param2, param3, param4;
	uint32_t vendor_flags;
	bool notrigger;	  /* do not run the trigger (memory errors wait for an access) */
};

/* A backend: what it can inject and how. */
struct einj_backend {
	const char *name; /* "firmware" or "emulator" (the MCRK file "backend" shows it) */
	/* The available error types (GET_ERROR_TYPE). 0 or -errno. Process context. */
	int (*available)(uint32_t *types);
	/* Inject r, already checked by the interface. 0 or -errno (-EBUSY: the platform
	 * refused; -EINVAL: bad parameters; -EIO: the firmware did not answer). Process context,
	 * interrupts enabled; one injection at a time. */
	int (*inject)(const struct einj_request *r);
	bool params;	    /* it takes flags and param1..4 (ACPI 5 SET_ERROR_TYPE_WITH_ADDRESS) */
	const char *vendor; /* text of the "vendor" file, or NULL when it has no vendor extension */
};

/* Choose the backend (einj.backend=auto|firmware|emulator|off on the command line; auto: the
 * firmware's table when there is one, else the emulator when the CPU has machine-check banks),
 * create /sys/kernel/debug/apei/einj/ and /sys/firmware/acpi/tables/EINJ, and tell the boot's
 * recovery summary what EINJ has (mce_summary_set_einj). Boot, process context, after the
 * machine-check set-up, before the summary is printed. */
void einj_init(void);
/* The backend in use, or NULL when EINJ is off. Any context. */
const struct einj_backend *einj_backend(void);

/* ---- backends ---- */

/* The firmware backend over the platform's EINJ table, or NULL when there is none or it was
 * rejected (the reason is in the log). Boot, once. */
const struct einj_backend *einj_fw_probe(void);
/* The poison emulator, or NULL when the CPU has no machine-check banks to report through.
 * Boot, once. */
const struct einj_backend *einj_emu_probe(void);

/* ---- the poison emulator and the arch trap (arch/x86_64/poison_trap.c) ----
 * An armed frame faults on every access (include/arch/mmu.h: arch_trap_frame, arch_pt_trap).
 * The arch asks the emulator what each access means; the emulator writes the banks for any
 * machine check it implies, and the arch raises it at the very instruction, as the CPU would. */

#define EINJ_LINE_SIZE 64   /* poison is per cache line */
#define EINJ_EMU_WATCH 4    /* armed lines per page the arch can watch while an access runs */

enum einj_access { EINJ_READ, EINJ_WRITE, EINJ_FETCH };

enum einj_emu_act {
	EINJ_EMU_STEP,	      /* the access misses every armed line: run the instruction once */
	EINJ_EMU_STEP_REPORT, /* run it once, then call einj_emu_stepped (a store, a write-back) */
	EINJ_EMU_RAISE,	      /* the banks hold a machine check: raise it at the instruction */
};

struct einj_emu_plan {
	paddr_t watch[EINJ_EMU_WATCH]; /* armed lines of the page, physical (EINJ_EMU_STEP*) */
	unsigned nwatch;
	bool local; /* raise as a local machine check (LMCE), not a broadcast */
};

/* An access acc at physical address pa of an armed frame. Fills plan;
 * for EINJ_EMU_RAISE the banks and MCG_STATUS of this CPU already hold the error.
 * #PF context, interrupts off: lock-free but for the emulator's own short lock. */
enum einj_emu_act einj_emu_access(paddr_t pa, enum einj_access acc, struct einj_emu_plan *plan);
/* The instruction that made access acc at pa ran once (report: EINJ_EMU_STEP_REPORT asked for
 * this). hit: the armed line it touched on the way (an access that began in another line; 0
 * when none). Returns EINJ_EMU_RAISE with the banks written (raise it at the instruction), or
 * EINJ_EMU_STEP (nothing more). #DB context, interrupts off. */
enum einj_emu_act einj_emu_stepped(paddr_t pa, enum einj_access acc, paddr_t hit, bool report,
				   struct einj_emu_plan *plan);
