/* A small VFS: file descriptors over read-only initrd files, the console, and "nodes"
 * (generated /proc and /sys files, control files) that subsystems register by path. */
#pragma once
#include "types.h"

struct file;
struct task;
struct vm_file;

/* A registered node. read/write work on kernel buffers at a file offset; either may be NULL
 * (then the operation fails with -EINVAL / -EACCES). A generated node (gen) has its whole text
 * made anew whenever a read starts at offset 0, and later reads page through that text, as
 * Linux's seq files behave: a program that keeps it open and re-reads from offset 0 (pread,
 * or lseek to 0 then read) sees current values. */
struct vfs_node_ops {
	/* Whole contents into a kmalloc'd buffer (*out, *len). 0 or -errno. Process context. */
	int (*gen)(void *priv, char **out, size_t *len);
	/* Direct reads at an offset (for pagemap-like binary files). Bytes read or -errno. */
	long (*read)(void *priv, void *buf, size_t n, uint64_t off);
	/* A write of n bytes (for control files: the whole value at once). Bytes taken or -errno. */
	long (*write)(void *priv, const char *buf, size_t n);
	bool privileged_write; /* writes need root (every MCRK task is root) */
};

/* Make path ("/proc/meminfo") open-able. Returns 0, -EEXIST, -ENOMEM. Boot or process context. */
int vfs_register_node(const char *path, const struct vfs_node_ops *ops, void *priv);

/* File-descriptor operations of the current task (Linux semantics and errno values). */
int vfs_open(const char *path, int flags);
long vfs_read(int fd, void *ubuf, size_t n);
long vfs_write(int fd, const void *ubuf, size_t n);
int vfs_close(int fd);
long vfs_lseek(int fd, int64_t off, int whence);
long vfs_getdents64(int fd, void *ubuf, size_t n);
int vfs_dup2(int oldfd, int newfd);
/* fcntl: F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL; others -EINVAL. */
long vfs_fcntl(int fd, int cmd, uint64_t arg);
/* The fd table of a task (struct fd_table, include/task.h). vfs_fdt_dup: a copy for fork
 * (the files themselves, and their offsets, are shared), NULL when out of memory;
 * vfs_fdt_get: one more task shares it (CLONE_FILES), returns it; vfs_fdt_put: a task lets it
 * go, the last one closes every file. Process context. */
struct fd_table *vfs_fdt_dup(struct fd_table *src);
struct fd_table *vfs_fdt_get(struct fd_table *fdt);
void vfs_fdt_put(struct fd_table *fdt);
/* execve: t's table becomes its own if it was shared, and its FD_CLOEXEC descriptors close.
 * 0 or -ENOMEM. */
int vfs_exec_files(struct task *t);
/* Set up a table with fds 0, 1, 2 on the console for a new task. 0 or -ENOMEM. */
int vfs_init_task_console(struct task *t);
/* The bytes behind fd, for mmap of an initrd file. 0 or -EBADF. */
int vfs_file_backing(int fd, struct vm_file *out);
/* Register /proc/meminfo, /proc/kmsg, /proc/self/maps and /proc/self/pagemap. Boot. */
void procfs_init(void);
/* Write directly to the console (for write(1, ...)). */
long console_write(const char *buf, size_t n);
