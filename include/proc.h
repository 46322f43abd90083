/* kernel/proc entry points used by kernel_main and shared by kernel/proc files. */
#pragma once
#include "arch/context.h"
#include "types.h"

/* execve: path/argv/envp are user pointers when user, kernel ones otherwise. */
long task_execve(const char *path, const char *const *argv, const char *const *envp,
		 struct user_regs *regs, bool user);
/* Create and start the init task when there is an initrd. Boot, after the scheduler. */
void proc_start_init(void);
