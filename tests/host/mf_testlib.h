/* What the memory_failure host tests share (tests/host/mf_testlib.c): a fresh start, address
 * spaces with dirty pages, and the checks of who got which SIGBUS. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "../../include/memory_failure.h"
#include "../../include/vm.h"

struct task;

#define MF_TEST_BASE 0x20000000ull
#define PG(i) (MF_TEST_BASE + (uint64_t)(i)*PAGE_SIZE)
#define RW (PT_READ | PT_WRITE)
#define ANON_PRIV (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
#define ANON_SHARED (MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
#define LSB 12

/* The counters when mf_test_start ran. */
extern struct mf_stats mf_test_st0;
/* mf_stats field f since mf_test_start(). */
#define MF_DELTA(f)                                                                                \
	({                                                                                         \
		struct mf_stats s_;                                                                \
		mf_get_stats(&s_);                                                                 \
		(long long)(s_.f - mf_test_st0.f);                                                 \
	})

/* A fresh heap and frames, recovery on, early kill off, one CPU, an empty console. */
void mf_test_start(void);
/* The frame mapped at va, or 0; whether va holds the poison marker of pfn. */
pfn_t pfn_at(struct mm *mm, vaddr_t va);
bool has_marker(struct mm *mm, vaddr_t va, pfn_t pfn);
/* Fault va in for writing and fill its page with v; vm_fault's result. */
int user_write(struct mm *mm, vaddr_t va, uint8_t v);
/* A new address space with `pages` private anonymous pages at PG(0), each filled with 0x5a. */
struct mm *dirty_mm(unsigned pages);
/* The signal t gets on its way back to user mode is SIGBUS `code` at addr with lsb 12. */
bool got_sigbus(struct task *t, int code, vaddr_t addr);
/* t has nothing to take on its way back to user mode. */
bool no_signal(struct task *t);
bool console_has(const char *s);
/* Free the fake tasks and drop the address spaces (NULL entries skipped). */
void end_tasks(struct task **t, struct mm **mm, int n);
