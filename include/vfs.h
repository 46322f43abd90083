/* The VFS as the rest of the kernel sees it (kernel/fs; docs/files.md): files of procfs,
 * sysfs and debugfs that subsystems register by path, the file side of a task's life (its
 * descriptor table and its fs context: root, working directory, umask), and what execve and
 * mmap need from a file. Everything else (paths, mounts, tmpfs, pipes, devices) is reached
 * through the syscalls kernel/fs registers. */
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
	/* At each open, when set: 0, or -errno to refuse the open; *state becomes what gen and
	 * read get instead of priv for this open file, and release(state) runs at its close. For
	 * files that decide at open who reads what (Linux's /proc/PID/pagemap). */
	int (*open)(void *priv, void **state);
	void (*release)(void *state);
	bool privileged_write; /* writes need fsuid 0 (a root-owned 0644 file): -EACCES at open */
	bool root_only;	       /* any open needs fsuid 0 (a root-owned 0400 file) */
};

/* Make path a file of the pseudo file system it lies in: "/proc/..." (procfs), "/sys/kernel/
 * debug/..." (debugfs), "/sys/..." (sysfs); missing directories are made. Returns 0, -EEXIST,
 * -ENOENT (not under one of those), -ENOMEM. Boot or process context (it may sleep). */
int vfs_register_node(const char *path, const struct vfs_node_ops *ops, void *priv);

/* Boot: the file-system types, the root tmpfs with the initrd unpacked into it (base, len; len
 * 0 for none), /dev and its devices, and the mounts at /proc, /sys, /sys/kernel/debug,
 * /dev/shm and /run. Process context, before the first user task. */
void vfs_init(const void *initrd, size_t initrd_len);
/* Make /dev/NAME for every disk the block layer has (kernel/fs/blkdev.c). Boot, after the
 * drivers probed, before the first user task. */
void blkdev_nodes_init(void);
/* Process tgid was reaped: its /proc/PID directory goes (Linux's proc_flush_pid). Process
 * context, no spinlock held. */
void vfs_proc_flush(int tgid);
/* Register /proc/meminfo, /proc/kmsg, /proc/self/maps and /proc/self/pagemap. Boot. */
void procfs_init(void);

/* ---- a task's files ---- */
/* The first user task: fds 0, 1, 2 on /dev/console, root and working directory "/", umask
 * 022. 0 or -ENOMEM. */
int vfs_init_task_console(struct task *t);
/* A task's descriptor table (struct fd_table, kernel/fs/file.c). vfs_fdt_dup: a copy for
 * fork (the open files themselves, and their offsets, are shared), NULL when out of memory;
 * vfs_fdt_get: one more task shares it (CLONE_FILES), returns it; vfs_fdt_put: a task lets it
 * go, the last one closes every file. Process context. */
struct fd_table *vfs_fdt_dup(struct fd_table *src);
struct fd_table *vfs_fdt_get(struct fd_table *fdt);
void vfs_fdt_put(struct fd_table *fdt);
/* A task's fs context (root, working directory, umask; struct fs_context): the same three
 * for it (a copy for fork, one more sharer for CLONE_FS, a task letting it go). */
struct fs_context *vfs_fs_dup(struct fs_context *src);
struct fs_context *vfs_fs_get(struct fs_context *fs);
void vfs_fs_put(struct fs_context *fs);
/* How many tasks share fs (execve's test for an fs context shared with another process). */
int vfs_fs_users(const struct fs_context *fs);
/* execve: t's table becomes its own if it was shared, and its FD_CLOEXEC descriptors close.
 * 0 or -ENOMEM. */
int vfs_exec_files(struct task *t);

/* ---- execve and mmap ---- */
/* Open path (relative to the current task's working directory) for execve: it must be a
 * regular file with an execute bit, on a mount without noexec. Returns the file, or NULL with
 * *err: -ENOENT, -EACCES, -ENOTDIR, -ELOOP, -ENAMETOOLONG, -EFAULT (a user path at upath when
 * user), ... */
struct file *vfs_open_exec(const char *path, bool user, int *err);
/* The set-ID bits of the program open at f (S_ISUID 04000, S_ISGID 02000 and S_IXGRP 010 of
 * its mode; 0 on a nosuid mount), with its owner and group in *uid, *gid. Process context. */
unsigned vfs_exec_setid(struct file *f, uint32_t *uid, uint32_t *gid);
/* Whether the current task may read the file open at f (a program it can only run leaves the
 * process non-dumpable, as Linux's would_dump). */
bool vfs_file_may_read(struct file *f);
/* Read n bytes at off into buf (kernel memory, or user memory when user). Bytes read or
 * -errno. */
long vfs_pread(struct file *f, void *buf, size_t n, uint64_t off, bool user);
/* What a mapping of f needs (include/vm.h), with a reference on f for the caller. For the
 * program an exec maps, exe also stops writes to the file until the reference goes
 * (-ETXTBSY while it is open for writing). 0 or -errno. */
int vfs_file_vm(struct file *f, bool exe, struct vm_file *out);
/* mmap(fd): the file behind fd as a mapping backing in *out (a reference the caller drops
 * with out->ops->put). Returns 0, 1 when the mapping is to be anonymous memory (/dev/zero),
 * -EBADF, -EACCES (not open for reading), -ENODEV (a file that cannot be mapped). */
int vfs_mmap_file(int fd, struct vm_file *out);
/* A shared memory object (kernel/fs/shmem.c): a new unlinked tmpfs file of size bytes named
 * name (shown as "/NAME (deleted)"), open for reading and writing, permission bits mode,
 * sealed with F_SEAL_SEAL. NULL with *err: -ENOMEM, -EFBIG. Process context. */
struct file *shmem_file_setup(const char *name, uint64_t size, unsigned mode, int *err);
/* The size of the file open at f. */
uint64_t vfs_file_size(struct file *f);
/* Drop a reference on an open file. */
void vfs_file_put(struct file *f);

/* Write directly to the console (printk's console text path). */
long console_write(const char *buf, size_t n);
