/* Futexes (kernel/proc/futex.c) as the rest of kernel/proc uses them at a thread's exit. */
#pragma once
#include "types.h"

struct task;

/* Wake up to n waiters of the futex word at uaddr of the current task (as FUTEX_WAKE without
 * FUTEX_PRIVATE_FLAG). Returns how many woke, or -errno. Process context. */
long futex_wake_word(uint32_t *uaddr, int n);
/* Walk t's robust list (set_robust_list): every futex t still owns gets FUTEX_OWNER_DIED and
 * one waiter woken, as Linux's exit_robust_list. t current, at exit or execve. */
void futex_exit_robust_list(struct task *t);
