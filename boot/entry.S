/* The 32-bit entry: from the loader's protected mode (paging off) into 64-bit long mode in
 * the higher half, then into C (x86_64_start). Two ways in:
 *   mb2_entry32: multiboot2 (GRUB): eax = 0x36d76289, ebx = physical address of the info.
 *   pvh_entry32: PVH (QEMU -kernel): ebx = physical address of struct hvm_start_info.
 * Early page tables map physical 0..1 GiB twice with 2 MiB pages: at 0 (identity, so this code
 * keeps running when paging comes on) and at KERNEL_VMA (where the C code is linked).
 * Nothing here uses a stack before long mode. */

#define KERNEL_VMA 0xffffffff80000000
#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80
#define CR0_PE 0x1
#define CR0_WP 0x10000
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define PVH_MAGIC 0x336ec578
#define COM1 0x3f8

	.section .boot.text, "ax"
	.code32
	.global mb2_entry32, pvh_entry32
mb2_entry32:
	cli
	cld
	movl %eax, boot_magic
	movl %ebx, boot_info_phys
	jmp common32

pvh_entry32:
	cli
	cld
	movl $PVH_MAGIC, boot_magic
	movl %ebx, boot_info_phys

common32:
	/* Long mode needs CPUID leaf 0x80000001 EDX bit 29; say so on COM1 if it is missing. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* Zero the four table pages, then fill them. */
	movl $boot_pml4, %edi
	xorl %eax, %eax
	movl $(4 * 4096 / 4), %ecx
	rep stosl

	movl $boot_pdpt_lo, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, boot_pml4                 /* PML4[0]   -> identity PDPT */
	movl $boot_pdpt_hi, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, boot_pml4 + 511 * 8       /* PML4[511] -> higher-half PDPT */
	movl $boot_pd, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, boot_pdpt_lo              /* PDPT_lo[0]   -> PD (0..1 GiB) */
	movl %eax, boot_pdpt_hi + 510 * 8    /* PDPT_hi[510] -> PD (-2 GiB)  */

	movl $boot_pd, %edi
	movl $(PTE_P | PTE_W | PTE_PS), %eax
	movl $512, %ecx
1:	movl %eax, (%edi)
	movl $0, 4(%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 1b

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE | CR0_WP), %eax
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x10, $long_mode_low

no_long_mode:
	movl $msg_no_lm, %esi
2:	movb (%esi), %al
	testb %al, %al
	jz 3f
	movw $COM1, %dx
	outb %al, %dx
	incl %esi
	jmp 2b
3:	hlt
	jmp 3b

	.code64
long_mode_low:
	movl $0x18, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movabsq $long_mode_high, %rax
	jmp *%rax

	.section .boot.data, "aw"
	.balign 8
	.global boot_magic, boot_info_phys
boot_magic:	.long 0
boot_info_phys:	.long 0
	.balign 16
boot_gdt:
	.quad 0                      /* 0x00 null */
	.quad 0                      /* 0x08 unused */
	.quad 0x00af9a000000ffff     /* 0x10 kernel code, 64-bit */
	.quad 0x00cf92000000ffff     /* 0x18 kernel data */
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt
msg_no_lm:
	.asciz "MCRK: this CPU has no long mode (x86-64); cannot boot.\r\n"

	.section .boot.bss, "aw", @nobits
	.balign 4096
	.global boot_pml4, boot_pdpt_hi, boot_pd
boot_pml4:	.skip 4096
boot_pdpt_lo:	.skip 4096
boot_pdpt_hi:	.skip 4096
boot_pd:	.skip 4096

/* Higher half: set up the boot CPU's stack, clear .bss, and call C. */
	.text
long_mode_high:
	movabsq $bsp_stack_top, %rsp
	xorl %ebp, %ebp
	movabsq $__bss_start, %rdi
	movabsq $__bss_end, %rcx
	subq %rdi, %rcx
	shrq $3, %rcx
	xorl %eax, %eax
	rep stosq
	movl boot_magic, %edi
	movl boot_info_phys, %esi
	call x86_64_start
4:	cli
	hlt
	jmp 4b

	.bss
	.balign 16
bsp_stack:
	.skip 16384
	.global bsp_stack_top
bsp_stack_top:
