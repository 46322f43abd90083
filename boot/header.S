/* Boot headers: the multiboot2 header GRUB looks for, and the PVH ELF note with which
 * QEMU's -kernel (and Xen-style loaders) enter a 64-bit ELF in 32-bit protected mode. */

#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#define MB2_TAG_END 0
#define MB2_TAG_INFO_REQ 1
#define MB2_HEADER_LEN (mb2_header_end - mb2_header)

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long MB2_HEADER_LEN
	.long -(MB2_MAGIC + MB2_ARCH_I386 + MB2_HEADER_LEN)
	/* Ask for the command line (1) and the memory map (6); GRUB gives the other tags we
	 * parse (modules, the ACPI RSDP copies) without being asked. */
	.balign 8
info_req:
	.short MB2_TAG_INFO_REQ
	.short 1 /* optional: boot even if the loader lacks one of these */
	.long info_req_end - info_req
	.long 1, 6
info_req_end:
	.balign 8
	.short MB2_TAG_END
	.short 0
	.long 8
mb2_header_end:

/* XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit physical entry point for PVH boot. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4            /* name size: "Xen\0" */
	.long 4            /* descriptor size */
	.long 18           /* type */
	.asciz "Xen"
	.long pvh_entry32
	.balign 4
