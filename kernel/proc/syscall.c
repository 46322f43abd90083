/* Syscall dispatch. Every subsystem registers its own syscalls (SYSCALL_DEFINE, see
 * include/syscall.h); syscall_init gathers them into one table indexed by number, refusing
 * two registrations of one number, and syscall_dispatch reads the number and arguments
 * through the arch's register accessors and calls the handler. Unknown numbers return
 * -ENOSYS and are counted per number (the first call of each is logged). */
#include "arch/uregs.h"
#include "entry.h"
#include "kerrno.h"
#include "panic.h"
#include "printk.h"
#include "syscall.h"
#include "task.h"

extern const struct syscall_def __start_mcrk_syscalls[], __stop_mcrk_syscalls[];

static const struct syscall_def *table[SYSCALL_NR_MAX];
static uint64_t unknown_count[SYSCALL_NR_MAX + 1]; /* the last slot: every nr >= NR_MAX */

int syscall_table_fill(const struct syscall_def **tab, const struct syscall_def *defs,
		       size_t n, const struct syscall_def **bad)
{
	for (size_t i = 0; i < n; i++) {
		const struct syscall_def *d = &defs[i];
		int err = d->nr >= SYSCALL_NR_MAX ? -ERANGE : tab[d->nr] ? -EEXIST : 0;
		if (err) {
			*bad = d;
			return err;
		}
		tab[d->nr] = d;
	}
	return 0;
}

void syscall_init(void)
{
	const struct syscall_def *bad = NULL;
	size_t n = (size_t)(__stop_mcrk_syscalls - __start_mcrk_syscalls);
	int err = syscall_table_fill(table, __start_mcrk_syscalls, n, &bad);
	if (err == -EEXIST)
		panic("syscall %u is defined twice: %s and %s", bad->nr, table[bad->nr]->name,
		      bad->name);
	if (err)
		panic("syscall %s has number %u, past the table (%u)", bad->name, bad->nr,
		      SYSCALL_NR_MAX);
}

uint64_t syscall_unknown_count(uint64_t nr)
{
	return __atomic_load_n(&unknown_count[nr < SYSCALL_NR_MAX ? nr : SYSCALL_NR_MAX],
			       __ATOMIC_RELAXED);
}

static long unknown(uint64_t nr)
{
	uint64_t *c = &unknown_count[nr < SYSCALL_NR_MAX ? nr : SYSCALL_NR_MAX];
	if (__atomic_fetch_add(c, 1, __ATOMIC_RELAXED) == 0)
		printk(KERN_INFO "syscall %lu (by %s) is not implemented: -ENOSYS\n", nr,
		       current_task()->name);
	return -ENOSYS;
}

void syscall_dispatch(struct user_regs *r)
{
	uint64_t nr = arch_syscall_nr(r);
	current_task()->in_user = false;
	const struct syscall_def *d = nr < SYSCALL_NR_MAX ? table[nr] : NULL;
	if (!d) {
		arch_syscall_set_retval(r, unknown(nr));
		return;
	}
	struct syscall_args a = {.regs = r};
	arch_syscall_args(r, a.arg);
	arch_syscall_set_retval(r, d->fn(&a));
}
