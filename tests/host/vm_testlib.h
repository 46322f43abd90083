/* Helpers shared by the host tests of kernel/mm's address spaces and reverse map
 * (test_vm.c, test_rmap.c): a fresh world (fake physical memory, frame allocator, kmalloc,
 * fake page tables) and a brute-force checker of the reverse map against every page table. */
#pragma once
#include "../../include/frame.h"
#include "../../include/vm.h"
#include <stdbool.h>
#include <stddef.h>

/* Frames in the test world; pfn 0 stays reserved. */
#define VT_NPFN 4096

/* A fresh world: VT_NPFN frames of backed memory, heap ready, no page tables, on CPU 0. */
void vt_setup(void);
/* Free frames now (per-CPU caches drained first). */
uint64_t vt_free_frames(void);
/* vt_setup, and remember the free-frame count as the baseline vt_check_clean compares to. */
void vt_start(void);
/* All mms gone: every frame back to the baseline, nothing mapped, no anon_vma or chain entry,
 * no page table (CHECKs). */
void vt_check_clean(void);
/* The free-frame count vt_start saw. */
uint64_t vt_baseline_frames(void);
/* Check, against a brute-force scan of every fake page table: each live table belongs to one
 * of mms[0..n); for every frame, rmap_walk finds exactly the set of PTEs that map it, mapcount
 * equals their number, refcount equals PTEs + shared-object slots holding it, a frame mapped
 * is PG_USER, a writable private PTE maps an exclusive non-file frame; and the structure
 * behind the walks: every VMA's anon_vma chain and object link are consistent, every anon_vma
 * reachable (from a VMA, a frame or a child) has the reference count, child and owner counts
 * that what refers to it adds up to, and no other anon_vma or chain entry is alive. false with
 * vt_err describing the first mismatch. */
bool vt_check(struct mm **mms, size_t n);
extern char vt_err[512];
/* Sum of the mapcounts of every frame (the present user PTEs, when the rmap is right). */
long vt_nr_mapped(void);
/* The kernel-virtual bytes of the page mapped at va in mm, or NULL if none is present. */
void *vt_page(struct mm *mm, vaddr_t va);
/* Count of VMAs of mm (through vm_for_each_vma). */
int vt_nr_vmas(struct mm *mm);
/* The frame mapped at va in mm, or 0 if none is present. */
pfn_t vt_pfn_at(struct mm *mm, vaddr_t va);
/* The first 8 bytes of the page mapped at va, or all ones if none is present. */
uint64_t vt_word(struct mm *mm, vaddr_t va);
/* A user write of v to the first 8 bytes of va's page: a write fault, then the store; the
 * fault's result. */
int vt_user_write(struct mm *mm, vaddr_t va, uint64_t v);

/* A file for mappings in tests: its page cache brings pages in clean from bytes[0, size); vf
 * is what vm_mmap takes (mode: VM_FILE_READ, VM_FILE_WRITE); refs counts the VMAs that hold
 * it, syncs the msync(MS_SYNC) calls that reached it. */
#include "../../include/pagecache.h"
struct vt_file {
	struct vm_file vf;
	struct pagecache pc;
	const void *bytes;
	size_t size;
	int refs, syncs;
};
void vt_file_init(struct vt_file *f, const void *bytes, size_t size, unsigned mode);
/* Drop the file's pages (nothing may map it any more). */
void vt_file_release(struct vt_file *f);
