/* Where the task code meets machine-check recovery (kernel/mm/memory_failure.c, kernel/mce). */
#pragma once
#include "arch/context.h"
#include "types.h"

struct task;
struct mm;

/* The task touched a page whose PTE holds a poison marker (late kill): SIGBUS BUS_MCEERR_AR
 * at the page address. Process context. */
void mce_poison_touched(struct task *t, uint64_t addr);
/* Return-to-user work for t after a machine check (SRAR in user mode): recover the frame,
 * signal the task. Process context, on t's own CPU. */
void mce_task_work(struct task *t, struct user_regs *regs);
/* madvise advices beyond the plain hints: MADV_HWPOISON, MADV_SOFT_OFFLINE, MADV_DONTNEED... */
long madvise_special(struct mm *mm, uint64_t addr, uint64_t len, int advice);
