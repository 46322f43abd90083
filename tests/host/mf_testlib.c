/* Shared helpers of the memory_failure host tests (see mf_testlib.h). */
#include "mf_testlib.h"
#include "fake_arch.h"
#include "fake_task.h"
#include "vm_testlib.h"
#include "../../include/sig.h"
#include "../../include/task.h"
#include "../../kernel/mm/mf_priv.h"
#include <string.h>

struct mf_stats mf_test_st0;

void mf_test_start(void)
{
	vt_setup();
	sysctl_memory_failure_recovery = 1;
	sysctl_memory_failure_early_kill = 0;
	mf_set_fake_panic(false);
	fake_cpu_id = 0;
	fake_cpu_count = 1;
	fake_console_clear();
	mf_get_stats(&mf_test_st0);
}

pfn_t pfn_at(struct mm *mm, vaddr_t va)
{
	struct vm_page_info info;
	vm_page_info(mm, va, &info);
	return info.state == VM_PAGE_PRESENT ? info.pfn : 0;
}

bool has_marker(struct mm *mm, vaddr_t va, pfn_t pfn)
{
	struct vm_page_info info;
	vm_page_info(mm, va, &info);
	return info.state == VM_PAGE_POISON && info.pfn == pfn;
}

int user_write(struct mm *mm, vaddr_t va, uint8_t v)
{
	int r = vm_fault(mm, va, FAULT_WRITE, true);
	if (r == 0)
		memset(vt_page(mm, va), v, PAGE_SIZE);
	return r;
}

struct mm *dirty_mm(unsigned pages)
{
	struct mm *mm = mm_create();
	if (!mm || vm_mmap(mm, PG(0), pages * PAGE_SIZE, RW, ANON_PRIV, NULL, 0) != (long)PG(0))
		return NULL;
	for (unsigned i = 0; i < pages; i++)
		if (user_write(mm, PG(i), 0x5a))
			return NULL;
	return mm;
}

bool got_sigbus(struct task *t, int code, vaddr_t addr)
{
	struct ksiginfo i;
	int r = fake_task_take_signal(t, &i);
	return r == SIGBUS && i.si_signo == SIGBUS && i.si_code == code && i.u.fault.addr == addr &&
	       i.u.fault.addr_lsb == LSB;
}

bool no_signal(struct task *t)
{
	struct ksiginfo i;
	return fake_task_take_signal(t, &i) == 0;
}

bool console_has(const char *s) { return strstr(fake_console, s) != NULL; }

void end_tasks(struct task **t, struct mm **mm, int n)
{
	for (int i = 0; i < n; i++) {
		if (t[i])
			fake_task_free(t[i]);
		if (mm[i])
			mm_put(mm[i]);
	}
	fake_current = &fake_task_obj;
}
