/* Random bytes for the kernel and for user space (getrandom, /dev/urandom). Not
 * cryptographic: a xorshift128+ stream whose state is stirred with the time stamp counter at
 * every call. Any context but #MC/NMI. */
#pragma once
#include "types.h"

/* Fill buf with n random bytes. */
void random_bytes(void *buf, size_t n);
