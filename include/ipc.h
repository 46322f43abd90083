/* SysV IPC (kernel/ipc: shared memory and semaphores, docs/ipc.md) as the rest of the kernel
 * sees it: everything else is reached through the syscalls kernel/ipc registers. */
#pragma once

/* Register /proc/sysvipc/shm and /proc/sysvipc/sem. Boot, process context, once. */
void ipc_init(void);
/* Process tgid has ended: reverse its SEM_UNDO adjustments (Linux's exit_sem). Process
 * context, no spinlock held. */
void sem_exit(int tgid);
