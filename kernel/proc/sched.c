/* The scheduler: one run queue shared by all CPUs (so no CPU idles while a task waits),
 * round-robin with a time slice of SLICE_TICKS timer ticks, preemption on the way back to
 * user mode. A CPU takes the first task in the queue that may run on it (cpus_allowed,
 * sched_setaffinity). sched_lock is held across arch_context_switch and released by the task
 * that runs next (release_prev, task_schedule_tail), so a task's context is saved before
 * another CPU can pick it. Each switch adds the time run to the task's runtime; each tick
 * counts towards its user or system time, and every 5 s CPU 0 updates the load averages.
 *
 * Kernel workers (one per CPU) run deferred work (work.h) and come before every user task:
 * pick_next takes a runnable worker first, then, when work is pending, a worker waiting on
 * idle_workers, and only then the run queue. work_queue() only sets flags, so it is safe in
 * #MC and NMI: its kick marks this CPU's task TIF_NEED_RESCHED, and that task schedules on its
 * way back to user mode, which picks a worker. The tick is the backstop for a kick that
 * landed on a task just switching out: a user task found running while work waits for a
 * worker is marked again, so queued work waits at most one tick for a CPU. Workers may run
 * on every CPU. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "arch/smp.h"
#include "entry.h"
#include "frame.h"
#include "kerrno.h"
#include "kstring.h"
#include "panic.h"
#include "percpu.h"
#include "printk.h"
#include "proc_priv.h"
#include "sig.h"
#include "task.h"
#include "vm.h"
#include "work.h"

#define SLICE_TICKS 2 /* 20 ms at HZ = 100 */
/* Load averages as Linux computes them: fixed point with FSHIFT bits, every LOAD_FREQ ticks,
 * decaying by EXP_1, EXP_5, EXP_15 (1/exp(5s/1min), 1/exp(5s/5min), 1/exp(5s/15min)). */
#define FIXED_1 (1ull << FSHIFT)
#define LOAD_FREQ (5 * HZ + 1)
static const uint64_t load_exp[3] = {1884, 2014, 2037};
static uint64_t avenrun[3];
static uint64_t load_ticks;

spinlock_t sched_lock = SPINLOCK_INIT;
static struct list_node run_queue = LIST_HEAD_INIT(run_queue);
static struct list_node timed_sleepers = LIST_HEAD_INIT(timed_sleepers);
static struct list_node worker_queue = LIST_HEAD_INIT(worker_queue); /* runnable workers */
static struct list_node idle_workers = LIST_HEAD_INIT(idle_workers); /* waiting for work */
static struct task *cpu_prev[MAX_CPUS]; /* the task this CPU just switched away from */
static DEFINE_PER_CPU(struct task, idle_tasks);
static bool cpu_idle[MAX_CPUS];

struct task *current_task(void) { return arch_current_task(); }

void task_set_flag(struct task *t, uint64_t flag)
{
	__atomic_fetch_or(&t->flags, flag, __ATOMIC_SEQ_CST);
}

bool task_test_and_clear_flag(struct task *t, uint64_t flag)
{
	return __atomic_fetch_and(&t->flags, ~flag, __ATOMIC_SEQ_CST) & flag;
}

static void idle_task_init(unsigned cpu)
{
	struct task *t = per_cpu_ptr(idle_tasks, cpu);
	memset(t, 0, sizeof(*t));
	ksnprintf(t->name, sizeof(t->name), "idle/%u", cpu);
	t->is_idle = true;
	t->on_cpu = true;
	t->cpu = cpu;
	t->exec_start_ns = arch_time_ns(); /* idle time counts from when the CPU came up */
	list_init(&t->run_link);
	arch_set_current_task(t);
}

/* work_queue's kick: this CPU's task schedules at its next return to user mode (an idle
 * CPU's loop looks at work_pending itself). Lock-free: it may run in #MC or NMI. */
static void kick_this_cpu(void)
{
	struct task *t = arch_current_task();
	if (t)
		task_set_flag(t, TIF_NEED_RESCHED);
}

void sched_init(void)
{
	idle_task_init(arch_cpu_id());
	work_set_kick(kick_this_cpu);
}

void task_free(struct task *t); /* process.c */

/* Second half of a switch, in the context of the task now running on this CPU: the task
 * switched away from is off the CPU now (and freed if it died). sched_lock is held. */
static void release_prev(void)
{
	unsigned cpu = arch_cpu_id();
	struct task *prev = cpu_prev[cpu];
	cpu_prev[cpu] = NULL;
	if (prev) {
		__atomic_store_n(&prev->on_cpu, false, __ATOMIC_RELEASE);
		if (prev->state == TASK_DEAD)
			task_free(prev);
	}
}

/* A new task's first run: finish the switch and drop the lock schedule_locked held. */
void task_schedule_tail(void)
{
	release_prev();
	spin_unlock(&sched_lock);
}

/* The queue a runnable task waits on: workers ahead of everyone else. */
static struct list_node *queue_of(const struct task *t)
{
	return t->is_worker ? &worker_queue : &run_queue;
}

/* The first task in the run queue allowed on cpu, or NULL. sched_lock held. */
static struct task *first_runnable(unsigned cpu)
{
	struct list_node *n;
	list_for_each(n, &run_queue)
	{
		struct task *t = list_entry(n, struct task, run_link);
		if (cpumask_test(&t->cpus_allowed, cpu))
			return t;
	}
	return NULL;
}

/* Whether this CPU, scheduling now, would run something but its idle task: a worker, or a
 * queued task allowed here. The worker part is an unlocked hint; takes sched_lock for the
 * run queue when it is not empty. Interrupts off. */
static bool something_to_run(unsigned cpu)
{
	if (!list_empty(&worker_queue) || (work_pending() && !list_empty(&idle_workers)))
		return true;
	if (list_empty(&run_queue))
		return false;
	spin_lock(&sched_lock);
	bool found = first_runnable(cpu);
	spin_unlock(&sched_lock);
	return found;
}

/* The next task for this CPU: a runnable worker; else, when work is pending, a worker
 * waiting for it; else the first queued task allowed here; else the idle task. sched_lock
 * held. */
static struct task *pick_next(unsigned cpu)
{
	struct task *t = NULL;
	if (!list_empty(&worker_queue))
		t = list_first_entry(&worker_queue, struct task, run_link);
	else if (work_pending() && !list_empty(&idle_workers))
		t = list_first_entry(&idle_workers, struct task, run_link);
	else
		t = first_runnable(cpu);
	if (!t)
		return per_cpu_ptr(idle_tasks, cpu);
	list_del(&t->run_link);
	t->state = TASK_RUNNABLE;
	return t;
}

/* The time prev ran goes to its account; a switch away from a runnable task is involuntary. */
static void account_switch(struct task *prev, struct task *next)
{
	uint64_t now = arch_time_ns();
	prev->runtime_ns += now - prev->exec_start_ns;
	if (prev->state == TASK_RUNNABLE)
		prev->nivcsw++;
	else
		prev->nvcsw++;
	next->exec_start_ns = now;
}

/* Switch away from the current task. sched_lock held, interrupts off; returns the same way
 * once this task is picked again. The caller has set prev->state (and queued it). */
static void schedule_locked(void)
{
	unsigned cpu = arch_cpu_id();
	struct task *prev = arch_current_task();
	/* Cleared before pick_next looks at work_pending: a kick from now on is either seen by
	 * pick_next or lands on the task that runs next (or, in between, the tick repeats it). */
	task_test_and_clear_flag(prev, TIF_NEED_RESCHED);
	if (prev->state == TASK_RUNNABLE && !prev->is_idle)
		list_add_tail(&prev->run_link, queue_of(prev));
	struct task *next = pick_next(cpu);
	if (next == prev) {
		if (!prev->is_idle)
			list_del(&prev->run_link); /* we just queued it: take it back */
		return;
	}
	prev->slice_ticks = 0;
	account_switch(prev, next);
	next->on_cpu = true;
	next->cpu = cpu;
	arch_set_current_task(next);
	cpu_prev[cpu] = prev;
	cpu_idle[cpu] = next->is_idle;
	arch_pt_activate(next->mm ? next->mm->pt : NULL);
	if (next->kstack)
		arch_set_kernel_stack(next->kstack);
	arch_context_switch(&prev->ctx, &next->ctx);
	release_prev(); /* back in prev, on whichever CPU picked it */
}

void schedule(void)
{
	irqflags_t f = arch_irq_save();
	spin_lock(&sched_lock);
	schedule_locked();
	spin_unlock(&sched_lock);
	arch_irq_restore(f);
}

static void kick_idle_cpu(void *unused) { (void)unused; }

/* Wake one idle CPU (other than this one) that t may run on, so that it does not wait a tick. */
static void kick_an_idle_cpu(const struct task *t)
{
	unsigned self = arch_cpu_id();
	if (!arch_irq_enabled())
		return; /* the timer tick will notice soon enough */
	for (unsigned c = 0; c < arch_cpu_count(); c++)
		if (c != self && READ_ONCE(cpu_idle[c]) && (!t || cpumask_test(&t->cpus_allowed, c))) {
			arch_call_on_cpu(c, kick_idle_cpu, NULL, false);
			return;
		}
}

void sched_kick_cpus(const struct cpumask *m)
{
	unsigned self = arch_cpu_id();
	if (!arch_irq_enabled())
		return;
	for_each_cpu_in(c, m)
		if (c != self && c < arch_cpu_count())
			arch_call_on_cpu(c, kick_idle_cpu, NULL, false);
}

void sched_online_mask(struct cpumask *out)
{
	cpumask_zero(out);
	for (unsigned c = 0; c < arch_cpu_count(); c++)
		if (arch_cpu_online(c))
			cpumask_set(out, c);
}

int sched_set_affinity(struct task *t, const struct cpumask *mask)
{
	struct cpumask m, kick = {0};
	sched_online_mask(&m);
	for (unsigned w = 0; w < CPUMASK_WORDS; w++)
		m.bits[w] &= mask->bits[w];
	if (cpumask_empty(&m))
		return -EINVAL;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	t->cpus_allowed = m;
	bool move = t->on_cpu && !cpumask_test(&m, t->cpu);
	if (move && t != current_task())
		cpumask_set(&kick, t->cpu);
	if (move)
		task_set_flag(t, TIF_NEED_RESCHED); /* it moves at its next return to user mode */
	spin_unlock_irqrestore(&sched_lock, f);
	sched_kick_cpus(&kick);
	if (move && t == current_task())
		schedule();
	kick_an_idle_cpu(t);
	return 0;
}

/* Make t runnable; sched_lock held. */
static void make_runnable_locked(struct task *t)
{
	if (t->state == TASK_SLEEPING && t->wake_at_ns)
		list_del(&t->run_link); /* off the timed sleepers */
	t->wake_at_ns = 0;
	t->state = TASK_RUNNABLE;
	list_add_tail(&t->run_link, queue_of(t));
}

void sched_start_task(struct task *t)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	t->state = TASK_RUNNABLE;
	list_add_tail(&t->run_link, queue_of(t));
	spin_unlock_irqrestore(&sched_lock, f);
	kick_an_idle_cpu(t);
}

__noreturn void sched_idle_loop(void)
{
	unsigned cpu = arch_cpu_id();
	struct task *idle = per_cpu_ptr(idle_tasks, cpu);
	if (arch_current_task() != idle || !idle->is_idle)
		idle_task_init(cpu);
	cpu_idle[cpu] = true;
	for (;;) {
		arch_irq_disable();
		if (something_to_run(cpu)) {
			schedule();
			arch_irq_enable();
			continue;
		}
		arch_wait_for_interrupt(); /* sti; hlt: wakes on the timer or a kick */
	}
}

void wait_queue_init(struct wait_queue *wq) { list_init(&wq->waiters); }

void sleep_on(struct wait_queue *wq)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct task *t = current_task();
	t->state = TASK_SLEEPING;
	list_add_tail(&t->run_link, &wq->waiters);
	schedule_locked();
	spin_unlock_irqrestore(&sched_lock, f);
}

void sleep_on_locked(struct wait_queue *wq)
{
	struct task *t = current_task();
	t->state = TASK_SLEEPING;
	list_add_tail(&t->run_link, &wq->waiters);
	schedule_locked();
}

void wake_up_locked(struct wait_queue *wq)
{
	struct list_node *n, *tmp;
	list_for_each_safe(n, tmp, &wq->waiters)
	{
		struct task *t = list_entry(n, struct task, run_link);
		list_del(&t->run_link);
		make_runnable_locked(t);
	}
}

void wake_up(struct wait_queue *wq)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	wake_up_locked(wq);
	spin_unlock_irqrestore(&sched_lock, f);
	kick_an_idle_cpu(NULL);
}

void sleep_until_locked(uint64_t deadline_ns)
{
	struct task *t = current_task();
	t->state = TASK_SLEEPING;
	t->wake_at_ns = deadline_ns;
	if (deadline_ns)
		list_add_tail(&t->run_link, &timed_sleepers);
	schedule_locked();
}

int sleep_ns(uint64_t ns)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct task *t = current_task();
	uint64_t deadline = arch_time_ns() + ns;
	sleep_until_locked(deadline ? deadline : 1);
	spin_unlock_irqrestore(&sched_lock, f);
	return (t->flags & TIF_SIGPENDING) ? -EINTR : 0;
}

int sched_sleep_until(uint64_t deadline_ns, const uint32_t *woken)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct task *t = current_task();
	bool timed_out = deadline_ns && arch_time_ns() >= deadline_ns;
	if (!timed_out && !__atomic_load_n(woken, __ATOMIC_ACQUIRE) && !sig_pending(t)) {
		sleep_until_locked(deadline_ns);
		timed_out = deadline_ns && arch_time_ns() >= deadline_ns;
	}
	spin_unlock_irqrestore(&sched_lock, f);
	if (sig_pending(t))
		return -EINTR;
	return timed_out && !__atomic_load_n(woken, __ATOMIC_ACQUIRE) ? -ETIMEDOUT : 0;
}

/* A signal or machine-check work arrived for t: wake it if it sleeps; if it runs on another
 * CPU, interrupt that CPU so t sees its flags on the way back to user mode now rather than
 * at the next tick. */
void task_wake_locked(struct task *t, struct cpumask *kick)
{
	if (t->state == TASK_SLEEPING) {
		list_del(&t->run_link);
		t->wake_at_ns = 0;
		t->state = TASK_RUNNABLE;
		list_add_tail(&t->run_link, queue_of(t));
		for (unsigned c = 0; c < arch_cpu_count(); c++) /* an idle CPU it may run on */
			if (READ_ONCE(cpu_idle[c]) && cpumask_test(&t->cpus_allowed, c)) {
				cpumask_set(kick, c);
				break;
			}
	} else if (t->on_cpu && t->cpu != arch_cpu_id() && t->state == TASK_RUNNABLE) {
		cpumask_set(kick, t->cpu);
	}
}

void task_wake(struct task *t)
{
	struct cpumask kick = {0};
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	task_wake_locked(t, &kick);
	spin_unlock_irqrestore(&sched_lock, f);
	sched_kick_cpus(&kick);
}

static void wake_timed_sleepers(void)
{
	uint64_t now = arch_time_ns();
	spin_lock(&sched_lock);
	struct list_node *n, *tmp;
	list_for_each_safe(n, tmp, &timed_sleepers)
	{
		struct task *t = list_entry(n, struct task, run_link);
		if (t->wake_at_ns <= now)
			make_runnable_locked(t);
	}
	spin_unlock(&sched_lock);
}

/* Linux's calc_load: the number of runnable tasks folded into each average. sched_lock. */
static void calc_load(void)
{
	uint64_t active = 0;
	struct list_node *n;
	list_for_each(n, &run_queue)
		active++;
	for (unsigned c = 0; c < arch_cpu_count(); c++)
		active += !READ_ONCE(cpu_idle[c]);
	active *= FIXED_1;
	for (int i = 0; i < 3; i++) {
		uint64_t l = avenrun[i] * load_exp[i] + active * (FIXED_1 - load_exp[i]);
		if (active >= avenrun[i])
			l += FIXED_1 - 1;
		avenrun[i] = l / FIXED_1;
	}
}

void sched_loadavg(uint64_t loads[3])
{
	for (int i = 0; i < 3; i++)
		loads[i] = READ_ONCE(avenrun[i]);
}

unsigned sched_nr_running(void)
{
	unsigned n = 0;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct list_node *l;
	list_for_each(l, &run_queue)
		n++;
	for (unsigned c = 0; c < arch_cpu_count(); c++)
		n += !READ_ONCE(cpu_idle[c]);
	spin_unlock_irqrestore(&sched_lock, f);
	return n;
}

uint64_t sched_idle_ns(void)
{
	uint64_t sum = 0, now = arch_time_ns();
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	for (unsigned c = 0; c < arch_cpu_count(); c++) {
		const struct task *idle = per_cpu_ptr(idle_tasks, c);
		sum += idle->runtime_ns;
		if (READ_ONCE(cpu_idle[c]) && now > idle->exec_start_ns)
			sum += now - idle->exec_start_ns; /* idling right now */
	}
	spin_unlock_irqrestore(&sched_lock, f);
	return sum;
}

/* Ticks each CPU spent in user mode, in the kernel and idle (/proc/stat). */
static uint64_t cpu_ticks[MAX_CPUS][SCHED_CPU_TIMES];

void sched_cpu_times(unsigned cpu, uint64_t out[SCHED_CPU_TIMES])
{
	for (unsigned i = 0; i < SCHED_CPU_TIMES; i++)
		out[i] = cpu < MAX_CPUS ? READ_ONCE(cpu_ticks[cpu][i]) : 0;
}

void sched_tick(void)
{
	struct task *t = current_task();
	if (!t)
		return;
	unsigned cpu = arch_cpu_id();
	if (cpu < MAX_CPUS)
		cpu_ticks[cpu][t->is_idle ? SCHED_IDLE : t->in_user ? SCHED_USER : SCHED_SYSTEM]++;
	if (arch_cpu_id() == 0) {
		wake_timed_sleepers();
		itimer_tick_real(arch_time_ns());
		if (++load_ticks % LOAD_FREQ == 0) {
			spin_lock(&sched_lock);
			calc_load();
			spin_unlock(&sched_lock);
		}
	}
	if (t->is_idle)
		return; /* the idle loop checks by itself */
	if (t->in_user)
		t->utime++;
	else
		t->stime++;
	if (t->is_worker)
		return; /* workers are not time-sliced */
	if (t->group)
		itimer_tick_cpu(t, t->in_user);
	if (work_pending() && !list_empty(&idle_workers))
		task_set_flag(t, TIF_NEED_RESCHED); /* the backstop for a lost kick */
	if (++t->slice_ticks >= SLICE_TICKS && something_to_run(arch_cpu_id()))
		task_set_flag(t, TIF_NEED_RESCHED); /* a hint: schedule() decides */
}

void sched_worker_wait(void)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	if (!work_pending()) {
		struct task *t = current_task();
		t->state = TASK_SLEEPING;
		/* First in line (LIFO): if work came meanwhile, pick_next gives it back to this
		 * worker instead of switching to another. */
		list_add(&t->run_link, &idle_workers);
		schedule_locked();
	}
	spin_unlock_irqrestore(&sched_lock, f);
}

/* A kernel worker: run the pending work, then wait until pick_next hands it more. The check
 * and the wait are under sched_lock, and work_queue sets its flag before it kicks, so work
 * queued after the check is seen by the next pick_next on some CPU. */
static void worker_main(void *unused)
{
	(void)unused;
	for (;;) {
		work_run_pending();
		sched_worker_wait();
	}
}

void sched_start_workers(void)
{
	for (unsigned c = 0; c < arch_cpu_count(); c++) {
		char name[TASK_NAME_LEN];
		ksnprintf(name, sizeof(name), "worker/%u", c);
		struct task *t = task_create_worker(name, worker_main, NULL);
		if (!t)
			panic("cannot create kernel worker %u: out of memory", c);
		irqflags_t f = spin_lock_irqsave(&sched_lock);
		list_add_tail(&t->run_link, &idle_workers);
		spin_unlock_irqrestore(&sched_lock, f);
	}
}

/* Check whether this CPU should give way (called on the way back to user mode). */
bool sched_should_yield(void);
bool sched_should_yield(void) { return current_task()->flags & TIF_NEED_RESCHED; }
