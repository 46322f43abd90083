/* The guest side of the injection campaign (docs/campaign.md): what the agent (agent.c) and
 * the workload processes (workload.c) share. The agent runs the plan the host wrote into the
 * initrd, picks each injection's target, delivers it and checks the kernel's books; the
 * workload holds checksummed data and reports every page it loses. Everything either prints
 * is one line, written with one write(), in the formats docs/campaign.md lists: the host
 * (tests/campaign/campaign.py) reads them from the serial console.
 *
 * The mailbox is one MAP_SHARED anonymous region the agent maps before it forks anyone, so
 * every workload process has it: one slot per workload process, through which the agent asks
 * for work (poison a page of yours, read a page in a loop for an SRAR) and reads the frame
 * numbers each process publishes for its pages (from its /proc/self/pagemap). */
#pragma once
#include <stdint.h>
#include <sys/types.h>

#define PG 4096
#define MAX_FAMILIES 4
#define MAX_MEMBERS 4 /* a family head and its children */
#define MAX_SLOTS (MAX_FAMILIES * MAX_MEMBERS)
#define MAX_PRIV 32   /* private pages per process */
#define MAX_SHARED 16 /* shared pages per family */
#define MAX_FILE 8    /* pages of a read-only file mapping per family */
#define MAX_PAGES (MAX_PRIV + MAX_SHARED + MAX_FILE)
#define READER_MAGIC 0x43414d5052454144ull /* "CAMPREAD" in r13 while a reader spins */

/* Where a data page lives (struct slot.region). */
enum region { REG_PRIVATE = 1, REG_SHARED = 2, REG_FILE = 3 };

/* Requests the agent makes of a workload process. */
enum request { REQ_NONE, REQ_MADVISE, REQ_SRAR };

/* Answers: the request was carried out, or why not. */
enum answer { ANS_NONE, ANS_DONE, ANS_READY, ANS_GOT_AR, ANS_TIMEOUT, ANS_FAILED };

/* How a workload process treats memory errors (the plan's member lines). */
struct policy {
	int early;   /* PR_MCE_KILL_EARLY, else PR_MCE_KILL_LATE */
	int handler; /* catches SIGBUS and drops the lost page; else dies of it */
	int spin;    /* waits between passes without a syscall, else sleeps */
	int thread;  /* a second thread runs beside the main one (workload.c, companion) */
};

/* One workload process as the agent sees it. Written by that process (pid, pass, pfn, va,
 * answers) or by the agent (requests); all fields are read by the other side at any time. */
struct slot {
	volatile int pid;		  /* the process now in this slot, 0 while none */
	volatile int family, member;	  /* fixed at set-up */
	volatile uint32_t pass;		  /* verification passes completed */
	volatile uint32_t req_seq;	  /* the agent's last request ... */
	volatile int req_op, req_page;	  /* ... what and on which page index */
	volatile uint32_t ans_seq;	  /* the request the answer is for */
	volatile int ans;		  /* enum answer */
	volatile uint64_t ans_pfn;	  /* the page's frame, for a reader or an madvise */
	volatile uint64_t va[MAX_PAGES];  /* address of each data page */
	volatile uint64_t pfn[MAX_PAGES]; /* its frame at the last publication, 0 unknown */
	volatile uint8_t region[MAX_PAGES];
	volatile int npages;
	volatile int companion;		  /* the thread id of its second thread, 0 when none */
};

struct mailbox {
	volatile int stop;	     /* the agent ends the run: final pass, then exit */
	volatile uint64_t reader_lo; /* the reader loop's code, for the host's SRAR */
	volatile uint64_t reader_hi;
	struct slot slot[MAX_SLOTS];
};

/* The plan's workload shape (agent.c reads it, workload.c follows it). */
struct shape {
	int families, members, priv_pages, shared_pages, file_pages;
	int lifetime; /* passes a child lives before its head forks a new one */
	struct policy policy[MAX_FAMILIES][MAX_MEMBERS];
};

/* ---- helpers both sides use (in workload.c) ---- */

/* One line to the console with one write(), formatted from a tiny subset of printf: %d %u
 * (int), %x (unsigned long, 0x-prefixed), %s. Async-signal-safe (no stdio, no locks). */
void say(const char *fmt, ...);
/* The /proc/self/pagemap entry of va (0 when unreadable). The descriptor is opened once. */
uint64_t pagemap_entry(uintptr_t va);
/* The frame of a present entry, of a hwpoison (swap-type) entry, or 0. */
uint64_t pagemap_pfn(uint64_t entry, int *poisoned);
/* The time stamp counter. */
uint64_t rdtsc_now(void);
/* TSC ticks per millisecond, measured once against CLOCK_MONOTONIC. */
uint64_t tsc_per_ms(void);

/* Run family f as its head: set up its data, fork and supervise its children, exit when the
 * agent stops the run. Never returns. */
void family_head(struct mailbox *mb, const struct shape *sh, int f);
