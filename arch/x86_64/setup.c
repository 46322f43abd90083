/* Boot of the x86-64 machine: from the assembly entry to the portable kernel_main.
 * The order matters: per-CPU block (printk needs the CPU id), console, CPU features,
 * traps, the early direct map, boot information, memory, then interrupts, timers and the
 * other CPUs. Application processors enter at ap_main. */
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "boot_info.h"
#include "bootmem.h"
#include "console.h"
#include "entry_priv.h"
#include "fbcon.h"
#include "frame.h"
#include "kerrno.h"
#include "kernel.h"
#include "kmalloc.h"
#include "kstring.h"
#include "panic.h"
#include "printk.h"
#include "task.h"
#include "x86.h"

#define LOW_MEMORY_END 0x100000 /* real-mode area: BIOS data, trampoline; never allocated */

struct boot_info boot_info;
extern char __kernel_phys_start[], __kernel_phys_end[];

static paddr_t early_table_alloc(void)
{
	paddr_t p = bootmem_alloc(PAGE_SIZE, PAGE_SIZE, LOW_MEMORY_END);
	if (p)
		memset(arch_phys_to_virt(p), 0, PAGE_SIZE);
	return p;
}

/* Read the loader's information (boot/) into boot_info once; nothing reads it again. */
static void parse_boot_info(uint32_t magic, uint32_t info_phys)
{
	int err = boot_info_parse(magic, info_phys, &boot_info);
	if (err == -ENOEXEC)
		panic("unknown boot protocol (magic %#x): boot MCRK with GRUB (multiboot2) or "
		      "QEMU -kernel (PVH)", magic);
	if (err)
		panic("boot information unusable (%d): no memory map", err);
	boot_info_print(&boot_info);
}

static pfn_t highest_usable_pfn(void)
{
	paddr_t top = 0;
	for (unsigned i = 0; i < boot_info.n_mmap; i++)
		if (boot_info.mmap[i].type == MEM_USABLE)
			top = MAX(top, boot_info.mmap[i].base + boot_info.mmap[i].len);
	return top >> PAGE_SHIFT;
}

/* Reserve what must never be allocated, build the page array, start the frame allocator. */
static void memory_init(void)
{
	bootmem_init(boot_info.mmap, boot_info.n_mmap);
	bootmem_reserve(0, LOW_MEMORY_END);
	bootmem_reserve((paddr_t)__kernel_phys_start, __kernel_phys_end - __kernel_phys_start);
	bootmem_reserve(boot_info.info_start, boot_info.info_end - boot_info.info_start);
	for (unsigned i = 0; i < boot_info.n_modules; i++)
		bootmem_reserve(boot_info.modules[i].start,
				boot_info.modules[i].end - boot_info.modules[i].start);

	pfn_t npfn = highest_usable_pfn();
	mmu_extend_direct_map(npfn << PAGE_SHIFT, early_table_alloc);
	uint64_t map_bytes = ALIGN_UP(npfn * sizeof(struct page), PAGE_SIZE);
	paddr_t map = bootmem_alloc(map_bytes, PAGE_SIZE, LOW_MEMORY_END);
	if (!map)
		panic("no memory for the page array (%lu bytes for %lu frames)", map_bytes, npfn);
	memset(arch_phys_to_virt(map), 0, map_bytes);
	frame_init(arch_phys_to_virt(map), npfn);
	bootmem_hand_over(npfn);
	kmalloc_init();
}

/* The screen console on the loader's framebuffer, when it is a direct-RGB one we can map.
 * True when it runs. Boot CPU, after memory_init. */
static bool screen_init(void)
{
	const struct boot_framebuffer *b = &boot_info.fb;
	if (!boot_info.has_fb || b->type != BOOT_FB_RGB) {
		printk(KERN_INFO "fbcon: no direct-colour framebuffer from the loader; no screen "
				 "console\n");
		return false;
	}
	struct fbcon_fb f = {NULL,	   b->pitch,	 b->width,    b->height,
			     b->bpp,	   b->red_pos,	 b->red_size, b->green_pos,
			     b->green_size, b->blue_pos, b->blue_size};
	f.base = mmu_map_device_memory(b->addr, (size_t)b->pitch * b->height);
	void *text = kzalloc(fbcon_text_bytes(&f));
	if (!text || fbcon_init(&f, text)) {
		printk(KERN_WARNING "fbcon: cannot draw on the %ux%u %u bpp framebuffer\n",
		       b->width, b->height, b->bpp);
		kfree(text);
		return false;
	}
	unsigned cols, rows;
	fbcon_size(&cols, &rows);
	printk(KERN_INFO "fbcon: %ux%u characters on the %ux%u framebuffer\n", cols, rows,
	       b->width, b->height);
	return true;
}

/* Apply the command line's console= words (include/console.h). Boot CPU, after memory_init. */
static void console_init(void)
{
	struct console_cfg cfg;
	char msg[160];
	bool screen = false;
	if (console_parse(boot_info.cmdline, &cfg, msg, sizeof msg))
		printk(KERN_WARNING "%s; %s\n", msg,
		       cfg.defaulted ? "using ttyS0,115200n8" : "that word is ignored");
	for (unsigned i = 0; i < cfg.n; i++)
		if (cfg.port[i].kind == CONSOLE_SCREEN)
			screen = screen_init();
	serial_configure(&cfg, screen);
}

/* C entry of the boot CPU, called by boot/entry.S with the loader's magic and info pointer. */
void x86_64_start(uint32_t magic, uint32_t info_phys)
{
	cpu_local_init(0); /* printk's lock reads the CPU id */
	serial_init();
	cpu_detect(&cpu_features);
	cpu_init_features();
	topology_init_cpu();
	gdt_init_cpu(0);
	entry_init_cpu();
	idt_init();
	traps_init();
	idt_load();
	pic_disable();
	mmu_init_early();
	printk(KERN_INFO "MCRK: machine-check recovery kernel, x86-64\n");
	parse_boot_info(magic, info_phys);
	memory_init();
	console_init();
	time_init();
	rtc_init();
	apic_init(true);
	acpi_init(boot_info.rsdp);
	cpu_locals[0].online = true;
	mca_cpu_init(true);
	timer_init_cpu();
	smp_boot_aps();
	topology_finish();
	cpuinfo_init();
	kernel_main();
}

/* C entry of an application processor (from trampoline.S via smp.c), on its own stack. */
void ap_main(unsigned cpu)
{
	cpu_local_init(cpu);
	cpu_init_features();
	topology_init_cpu();
	gdt_init_cpu(cpu);
	entry_init_cpu();
	idt_load();
	apic_init(false);
	mca_cpu_init(false);
	timer_init_cpu();
	__atomic_store_n(&cpu_locals[cpu].online, true, __ATOMIC_RELEASE);
	sched_idle_loop(); /* runs tasks, and the workers when work is pending */
}
