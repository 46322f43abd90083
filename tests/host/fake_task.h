/* Fakes of the task layer for host tests (tests/host/fake_task.c). */
#pragma once
#include <stdint.h>

struct task;
/* Host "user space": any pointer below this (and above page 0) is a valid user pointer. */
#define USER_VA_END_FAKE 0x0000800000000000ull
extern struct task fake_task_obj;
extern struct task *fake_current;
extern int fake_exit_status;
