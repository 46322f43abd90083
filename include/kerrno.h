/* Error numbers: Linux x86-64 values, returned negated (-EFAULT) by kernel functions. */
#pragma once

#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define ECHILD 10
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EXDEV 18
#define ENODEV 19
#define ENOTDIR 20
#define EISDIR 21
#define EINVAL 22
#define ENFILE 23
#define EMFILE 24
#define ENOTTY 25
#define ETXTBSY 26
#define EFBIG 27
#define ENOTBLK 15
#define ENOSPC 28
#define ESPIPE 29
#define EROFS 30
#define EMLINK 31
#define EPIPE 32
#define ERANGE 34
#define ENAMETOOLONG 36
#define ENOSYS 38
#define ENOTEMPTY 39
#define ELOOP 40
#define EIDRM 43
#define EOPNOTSUPP 95
#define EAFNOSUPPORT 97
#define ETIMEDOUT 110
#define EUCLEAN 117 /* "Structure needs cleaning": a corrupt file system (Linux's EFSCORRUPTED) */
#define EHWPOISON 133
/* Kernel-internal (never seen by user space): a syscall interrupted by a signal; signal
 * delivery turns it into a restart or into -EINTR, as Linux does:
 * ERESTARTSYS restarts unless a handler without SA_RESTART runs; ERESTARTNOINTR always
 * restarts; ERESTARTNOHAND restarts only when no handler runs; ERESTART_RESTARTBLOCK too, but
 * as restart_syscall (the task's restart_block says how to go on). */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516
