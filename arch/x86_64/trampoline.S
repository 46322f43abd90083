/* Start-up code of the application processors. A start-up IPI (SIPI) wakes an AP in real
 * mode at CS:IP = page:0000; smp.c copies this blob to TRAMPOLINE_PHYS (below 1 MiB, never
 * allocated) and sends the page number. From there: 16-bit real mode -> 32-bit protected mode
 * (own GDT) -> paging and long mode with the boot CPU's CR0/CR3/CR4/EFER -> a call to the C
 * entry smp.c put in the data block, on the stack it put there, with the CPU id as argument.
 *
 * The blob is copied, not run in place: every address in it is written as
 * TR(label) = TRAMPOLINE_PHYS + (label - trampoline_start), an absolute physical address that
 * the identity map of low memory also covers once paging is on. */

#define TRAMPOLINE_PHYS 0x8000 /* keep in step with smp.c */
#define TR(x) (TRAMPOLINE_PHYS + ((x) - trampoline_start))
#define MSR_EFER 0xc0000080
#define CR0_PE 0x1
#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18

	.section .rodata.trampoline, "a"
	.global trampoline_start, trampoline_end, trampoline_data
	.code16
trampoline_start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	movl $1, TR(tr_alive)            /* tells the boot CPU the SIPI arrived */
	lgdtl TR(tr_gdtr)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $TR(tr_pm32)

	.code32
tr_pm32:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl TR(tr_cr4), %eax            /* PAE and the boot CPU's other CR4 features */
	movl %eax, %cr4
	movl TR(tr_cr3), %eax            /* the kernel's PML4, below 4 GiB */
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	movl TR(tr_efer), %eax           /* LME, NXE (the page tables use NX), SCE */
	xorl %edx, %edx
	wrmsr
	movl TR(tr_cr0), %eax            /* PG, PE, WP, and caches on (INIT left CD/NW set) */
	movl %eax, %cr0
	ljmpl $SEL_CODE64, $TR(tr_lm64)

	.code64
tr_lm64:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movq TR(tr_stack), %rsp
	movl TR(tr_cpu), %edi
	movq TR(tr_entry), %rax
	xorl %ebp, %ebp
	callq *%rax                      /* ap_main(cpu): does not return */
1:	cli
	hlt
	jmp 1b

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff         /* 0x08: 32-bit code, flat */
	.quad 0x00cf92000000ffff         /* 0x10: data, flat */
	.quad 0x00af9a000000ffff         /* 0x18: 64-bit code */
tr_gdt_end:
tr_gdtr:
	.short tr_gdt_end - tr_gdt - 1
	.long TR(tr_gdt)

/* Filled in by smp.c before each start-up (struct trampoline_data; keep in step). */
	.balign 8
trampoline_data:
tr_alive:	.quad 0
tr_cr0:		.quad 0
tr_cr3:		.quad 0
tr_cr4:		.quad 0
tr_efer:	.quad 0
tr_stack:	.quad 0
tr_entry:	.quad 0
tr_cpu:		.quad 0
trampoline_end:
