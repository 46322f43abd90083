/* Copies between kernel and user memory (the interface is in include/arch/context.h).
 *
 * Every instruction that touches user memory has an exception-table entry (.ex_table, see
 * probe.c): a page fault there that the mm cannot resolve, or a recoverable machine check
 * (SRAR at a fixup IP, see the MCA code), resumes at the fixup and the copy returns -EFAULT.
 * The bulk copies are REP MOVSB (REP MOVSQ first for stores) and REP STOSB: on a fault RCX
 * holds the bytes (words) left, and the fixup is simply the next instruction. Strings go a byte at a time.
 * Before touching anything, the whole user range must lie in [0, USER_VA_END) without
 * wrapping, so a kernel address is never dereferenced on the user side; with SMAP the
 * accesses are bracketed by STAC/CLAC (user_access_begin/end). */
#include "arch/context.h"
#include "arch/mmu.h"
#include "kerrno.h"
#include "kstring.h"
#include "x86.h"

static bool user_range_ok(const void *p, size_t n)
{
	uint64_t a = (uint64_t)p;
	return a < USER_VA_END && n <= USER_VA_END - a;
}

/* REP MOVSB with a fixup; returns the bytes not copied (0 on success). */
static size_t movsb_fixup(void *dst, const void *src, size_t n)
{
	__asm__ volatile("1: rep movsb\n"
			 "2:\n"
			 ASM_EXTABLE(1b, 2b)
			 : "+D"(dst), "+S"(src), "+c"(n)
			 :
			 : "memory");
	return n;
}

/* Stores to user memory: REP MOVSB until the destination is 8-byte aligned, REP MOVSQ for
 * the whole words, REP MOVSB for the rest. Returns the bytes not copied. An aligned word never
 * crosses a page of the destination, so a page fault on it leaves exactly the bytes before it
 * copied and nothing is retried: a machine check on the kernel source (a poisoned page-cache
 * page that read(2) copies out) is consumed once, never again by a retry. Words, because an
 * emulator (QEMU TCG) runs a REP string instruction one iteration at a time: a signal frame
 * then costs a few dozen iterations instead of a thousand. */
static size_t movs_to_user_fixup(void *dst, const void *src, size_t n)
{
	size_t head = MIN(n, (size_t)(-(uintptr_t)dst & 7));
	size_t words = (n - head) / 8, tail = (n - head) % 8;
	size_t left = movsb_fixup(dst, src, head);
	if (left)
		return left + (n - head);
	dst = (char *)dst + head;
	src = (const char *)src + head;
	__asm__ volatile("1: rep movsq\n"
			 "2:\n"
			 ASM_EXTABLE(1b, 2b)
			 : "+D"(dst), "+S"(src), "+c"(words)
			 :
			 : "memory");
	if (words)
		return words * 8 + tail;
	return movsb_fixup(dst, src, tail);
}

/* REP STOSB of zeroes with a fixup; returns the bytes not cleared. */
static size_t stosb_fixup(void *dst, size_t n)
{
	__asm__ volatile("1: rep stosb\n"
			 "2:\n"
			 ASM_EXTABLE(1b, 2b)
			 : "+D"(dst), "+c"(n)
			 : "a"(0)
			 : "memory");
	return n;
}

/* One user byte; 0, or -EFAULT when the load faulted. */
static int load_user_byte(const char *p, char *out)
{
	int err = 0;
	char v;
	__asm__ volatile("1: movb (%2), %0\n"
			 "2:\n"
			 ".pushsection .fixup, \"ax\"\n"
			 "3: movl %3, %1\n"
			 "   xorl %k0, %k0\n"
			 "   jmp 2b\n"
			 ".popsection\n"
			 ASM_EXTABLE(1b, 3b)
			 : "=q"(v), "+r"(err)
			 : "r"(p), "i"(-EFAULT)
			 : "memory");
	*out = v;
	return err;
}

/* On a fault the rest of dst is zeroed, so no stale kernel bytes are left behind. */
int arch_copy_from_user(void *dst, const void *usrc, size_t n)
{
	if (!n)
		return 0;
	if (!user_range_ok(usrc, n))
		return -EFAULT;
	user_access_begin();
	size_t left = movsb_fixup(dst, usrc, n);
	user_access_end();
	if (left) {
		memset((char *)dst + (n - left), 0, left);
		return -EFAULT;
	}
	return 0;
}

int arch_copy_to_user(void *udst, const void *src, size_t n)
{
	if (!n)
		return 0;
	if (!user_range_ok(udst, n))
		return -EFAULT;
	user_access_begin();
	size_t left = movs_to_user_fixup(udst, src, n);
	user_access_end();
	return left ? -EFAULT : 0;
}

long arch_strncpy_from_user(char *dst, const char *usrc, size_t n)
{
	uint64_t a = (uint64_t)usrc;
	if (a >= USER_VA_END)
		return -EFAULT;
	size_t limit = MIN(n, (size_t)(USER_VA_END - a)); /* bytes we may read */
	long ret = -ENAMETOOLONG;
	user_access_begin();
	for (size_t i = 0; i < limit; i++) {
		char c;
		if (load_user_byte(usrc + i, &c)) {
			ret = -EFAULT;
			break;
		}
		dst[i] = c;
		if (!c) {
			ret = (long)i;
			break;
		}
	}
	user_access_end();
	if (ret == -ENAMETOOLONG && limit < n)
		ret = -EFAULT; /* the string runs past the end of user space */
	return ret;
}

int arch_clear_user(void *udst, size_t n)
{
	if (!n)
		return 0;
	if (!user_range_ok(udst, n))
		return -EFAULT;
	user_access_begin();
	size_t left = stosb_fixup(udst, n);
	user_access_end();
	return left ? -EFAULT : 0;
}

/* One aligned 32-bit user word; the caller checked the range. */
int arch_user_load_u32(const uint32_t *uaddr, uint32_t *val)
{
	int err = 0;
	uint32_t v = 0;
	if (!user_range_ok(uaddr, sizeof(*uaddr)) || ((uint64_t)uaddr & 3))
		return -EFAULT;
	user_access_begin();
	__asm__ volatile("1: movl (%2), %0\n"
			 ASM_FAULT_TO("%1", "%3")
			 : "+r"(v), "+r"(err)
			 : "r"(uaddr), "i"(-EFAULT)
			 : "memory");
	user_access_end();
	*val = v;
	return err;
}

int arch_user_cmpxchg_u32(uint32_t *uaddr, uint32_t old, uint32_t new, uint32_t *cur)
{
	int err = 0;
	uint32_t v = old;
	if (!user_range_ok(uaddr, sizeof(*uaddr)) || ((uint64_t)uaddr & 3))
		return -EFAULT;
	user_access_begin();
	__asm__ volatile("1: lock cmpxchgl %3, (%2)\n"
			 ASM_FAULT_TO("%1", "%4")
			 : "+a"(v), "+r"(err)
			 : "r"(uaddr), "r"(new), "i"(-EFAULT)
			 : "memory");
	user_access_end();
	*cur = v;
	return err;
}
