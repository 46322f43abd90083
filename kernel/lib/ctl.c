/* The control-file parser and text writer (include/ctl.h): one implementation of Linux's
 * kstrtoul rules for every write to /proc/sys, /sys and debugfs, and the buffer a read's text
 * is built in. Pure functions, built in both the kernel and the host build. */
#include "ctl.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"

int ctl_take_word(const char *buf, size_t n, char *out, size_t size)
{
	if (n && buf[n - 1] == '\n')
		n--;
	if (n == 0 || n >= size || strnlen(buf, n) != n)
		return -EINVAL;
	memcpy(out, buf, n);
	out[n] = '\0';
	return 0;
}

int ctl_parse_u64(const char *buf, size_t n, unsigned base, uint64_t *out)
{
	char v[CTL_VALUE_MAX];
	const char *s = v;

	if ((base != 0 && base != 10) || ctl_take_word(buf, n, v, sizeof v) || strchr(v, '\n'))
		return -EINVAL;
	if (*s == '+')
		s++;
	return kstrtou64(s, base, out); /* -EINVAL for no digits or junk, -ERANGE on overflow */
}

int ctl_parse_range(const char *buf, size_t n, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	int err = ctl_parse_u64(buf, n, 0, &v);

	if (err)
		return err;
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

void ctl_printf(struct ctl_buf *b, const char *fmt, ...)
{
	size_t at = MIN(b->len, b->size);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(b->p ? b->p + at : NULL, b->p ? b->size - at : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

int ctl_show_int(const struct ctl_file *f, struct ctl_buf *b)
{
	ctl_printf(b, "%d\n", __atomic_load_n((int *)f->field, __ATOMIC_RELAXED));
	return 0;
}

long ctl_store_int(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t v;
	int err = ctl_parse_range(buf, n, 0, f->max, &v);

	if (err)
		return err;
	__atomic_store_n((int *)f->field, (int)v, __ATOMIC_RELAXED);
	return (long)n;
}

int ctl_show_u64(const struct ctl_file *f, struct ctl_buf *b)
{
	ctl_printf(b, "%llu\n",
		   (unsigned long long)__atomic_load_n((uint64_t *)f->field, __ATOMIC_RELAXED));
	return 0;
}

long ctl_store_u64(const struct ctl_file *f, const char *buf, size_t n)
{
	uint64_t v;
	int err = ctl_parse_range(buf, n, 0, f->max, &v);

	if (err)
		return err;
	__atomic_store_n((uint64_t *)f->field, v, __ATOMIC_RELAXED);
	return (long)n;
}
