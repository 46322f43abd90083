/* Fake user tasks for host tests of memory_failure and signals (tests/host/fake_task.c),
 * and the fakes of what the host build leaves out (the VFS). The tasks run on the fake CPU
 * of fake_context.h under the real scheduler and signal code. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "fake_context.h"

struct task;
/* The task current when no test chose one (pid 1, "fake"; not known to the scheduler). */
extern struct task fake_task_obj;

/* Several fake user tasks for memory_failure tests: each owns an address space (t->mm, a
 * reference of its own, on mm->users), a thread group of its own, its own signal state, catches SIGBUS with an
 * SA_SIGINFO handler unless asked not to, and has kill policy kill_policy (enum
 * mf_kill_policy). The scheduler does not run them; a test makes one current by setting
 * fake_current. NULL when out of memory. */
struct mm;
struct ksiginfo;
struct task *fake_task_new(int pid, struct mm *mm, int kill_policy, bool catch_sigbus);
/* Another thread of leader's process (pid: its tid), in the same address space, with its own
 * kill policy; the actions are the process's. Free it with fake_task_free before the leader. */
struct task *fake_thread_new(struct task *leader, int pid, int kill_policy, bool catch_sigbus);
/* Detach t from its mm (dropping its reference) and free it and its signal state (and its
 * thread group with its last task). */
void fake_task_free(struct task *t);
/* Run t's signal delivery as its return to user mode would (t becomes current meanwhile).
 * Returns the signal number delivered to a handler, with its siginfo (as the handler's frame
 * holds it) in *info; minus the signal number when a default action (SIGKILL, an uncaught
 * SIGBUS) ended the task (the real task_exit: t is then a zombie); 0 when nothing was
 * pending. */
int fake_task_take_signal(struct task *t, struct ksiginfo *info);

/* The VFS is not in the host build: vfs_register_node remembers each node (path, ops, priv)
 * in these tables, at most FAKE_NODES_MAX, so tests can call a control file's read and write. */
#define FAKE_NODES_MAX 256
struct vfs_node_ops;
extern const struct vfs_node_ops *fake_node_ops[FAKE_NODES_MAX];
extern void *fake_node_priv[FAKE_NODES_MAX];
extern const char *fake_node_path[FAKE_NODES_MAX];
extern int fake_nodes;
