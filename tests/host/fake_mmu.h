/* The fake user page tables for host tests (tests/host/fake_mmu.c): each struct arch_pt is a
 * sorted table of (va, entry) pairs, and every live table is on one list, so tests can scan all
 * page tables by brute force and compare with the reverse map. */
#pragma once
#include "../../include/arch/mmu.h"
#include <stddef.h>
#include <stdint.h>

/* Call fn for every entry (present or marker) of every live table; stops at fn's first
 * non-zero value and returns it. */
int fake_mmu_scan(int (*fn)(struct arch_pt *pt, vaddr_t va, const struct pte_info *pi, void *arg),
		  void *arg);
/* Live tables, and entries in one table. */
size_t fake_mmu_nr_pts(void);
size_t fake_mmu_nr_entries(const struct arch_pt *pt);
/* Forget every table (a test that leaked some starts clean); frees no frames. */
void fake_mmu_reset(void);
/* When >= 0: that many more arch_pt_map/arch_pt_set_marker/arch_pt_create calls succeed, then
 * each fails (-ENOMEM / NULL) until it is set back to -1. */
extern long fake_mmu_fail_after;
/* Entries still present when their table was destroyed (should stay 0). */
extern uint64_t fake_mmu_dropped;
/* arch_pt_flush calls, and pages they covered. */
extern uint64_t fake_mmu_flushes, fake_mmu_flushed_pages;
/* When set, called at the end of every arch_pt_flush: what another CPU does at that moment
 * (a test's stand-in for a concurrent user; the caller of the flush may hold mm->lock). */
extern void (*fake_mmu_on_flush)(struct arch_pt *pt, vaddr_t va);
/* Calls of the range operations (one per leaf table they visit), and of the single-page
 * ones (arch_pt_map, arch_pt_protect, arch_pt_set_marker, arch_pt_clear, arch_pt_get): tests
 * check that fork and teardown work a table at a time. */
extern uint64_t fake_mmu_range_calls, fake_mmu_page_calls;
/* The table arch_pt_activate last loaded. */
extern struct arch_pt *fake_mmu_active;
/* Whether the present entry at va traps (the poison emulator's arch_pt_trap or PG_TRAP). */
bool fake_mmu_trapped(struct arch_pt *pt, vaddr_t va);
/* Frames whose kernel mapping arch_trap_frame made trap. */
/* The frames arch_direct_map_remove took out of the direct map, in order (the first 64), and
 * how many calls there were. */
extern pfn_t fake_direct_removed[64];
extern unsigned fake_direct_nremoved;
extern pfn_t fake_trap_frames[64];
extern unsigned fake_trap_nframes;
