/* The signal types other headers embed (struct thread_group holds a pending set): Linux's
 * siginfo and a pending set. The numbers, codes and calls are in sig.h. */
#pragma once
#include "types.h"

#define NSIG 64

/* Linux's struct siginfo (128 bytes), the fields MCRK fills. */
struct ksiginfo {
	int32_t si_signo, si_errno, si_code, _pad0;
	union {
		struct { /* kill, tgkill, sigqueue */
			int32_t pid;
			uint32_t uid;
			uint64_t value;
		} kill;
		struct { /* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP */
			uint64_t addr;
			int16_t addr_lsb;
		} fault;
		struct { /* SIGCHLD */
			int32_t pid;
			uint32_t uid;
			int32_t status;
			int32_t _pad;
			int64_t utime, stime;
		} chld;
		uint8_t raw[112];
	} u;
};

/* A set of pending signals with one siginfo each (standard and real-time signals alike
 * keep one instance). */
struct sig_pending {
	uint64_t set;
	struct ksiginfo info[NSIG];
};
