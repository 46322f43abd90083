/* Spinlocks (ticket-free test-and-test-and-set) with IRQ save/restore.
 * Never take a spinlock in #MC or NMI context: use the lock-free ring instead. */
#pragma once
#include "arch/cpu.h"
#include "types.h"

typedef struct {
	volatile uint32_t locked;
	int owner_cpu; /* for debugging deadlocks; -1 when free */
} spinlock_t;

#define SPINLOCK_INIT { 0, -1 }

static inline void spin_init(spinlock_t *l) { l->locked = 0; l->owner_cpu = -1; }

static inline bool spin_trylock(spinlock_t *l)
{
	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		return false;
	l->owner_cpu = (int)arch_cpu_id();
	return true;
}

static inline void spin_lock(spinlock_t *l)
{
	while (!spin_trylock(l))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			arch_cpu_relax();
}

static inline void spin_unlock(spinlock_t *l)
{
	l->owner_cpu = -1;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* Take the lock with interrupts off on this CPU; returns the state to pass to unlock. */
static inline irqflags_t spin_lock_irqsave(spinlock_t *l)
{
	irqflags_t f = arch_irq_save();
	spin_lock(l);
	return f;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, irqflags_t f)
{
	spin_unlock(l);
	arch_irq_restore(f);
}
