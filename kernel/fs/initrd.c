/* cpio newc reader (see include/initrd.h). Each entry is a 110-byte ASCII header ("070701",
 * then 13 eight-digit hex fields: ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
 * devminor, rdevmajor, rdevminor, namesize, check), the name (NUL included) padded to a
 * multiple of 4 bytes from the header start, then the data padded to 4. "TRAILER!!!" ends an
 * archive. As on Linux, several archives may follow one another in one initrd (`cat a.cpio
 * b.cpio`), with NUL padding between them; a later entry of the same path replaces an earlier
 * one (the unpacker's rule, kernel/fs/initramfs.c), and initrd_lookup finds the last. */
#include "initrd.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"

#define CPIO_HDR_LEN 110
#define CPIO_MAGIC "070701"
#define CPIO_FIELD_MODE 1
#define CPIO_FIELD_FILESIZE 6
#define CPIO_FIELD_RDEVMAJOR 9
#define CPIO_FIELD_RDEVMINOR 10
#define CPIO_FIELD_NAMESIZE 11

static bool present;
static const void *archive;
static size_t archive_len;

bool initrd_present(void) { return present; }

static bool hex_field(const uint8_t *hdr, unsigned idx, uint32_t *out)
{
	uint32_t v = 0;
	const uint8_t *p = hdr + 6 + 8 * idx;
	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

static const char *strip_prefix(const char *name, size_t *len)
{
	while (*len && (name[0] == '/' || (name[0] == '.' && *len > 1 && name[1] == '/'))) {
		size_t skip = name[0] == '/' ? 1 : 2;
		name += skip;
		*len -= skip;
	}
	return name;
}

/* The header at p (with end after the archive): its fields, or false when malformed. */
static bool read_header(const uint8_t *p, const uint8_t *end, struct initrd_file *f,
			size_t *name_end)
{
	uint32_t nsize, fsize, major, minor;
	if ((size_t)(end - p) < CPIO_HDR_LEN || memcmp(p, CPIO_MAGIC, 6) ||
	    !hex_field(p, CPIO_FIELD_MODE, &f->mode) ||
	    !hex_field(p, CPIO_FIELD_FILESIZE, &fsize) ||
	    !hex_field(p, CPIO_FIELD_RDEVMAJOR, &major) ||
	    !hex_field(p, CPIO_FIELD_RDEVMINOR, &minor) ||
	    !hex_field(p, CPIO_FIELD_NAMESIZE, &nsize) || nsize == 0)
		return false;
	*name_end = ALIGN_UP(CPIO_HDR_LEN + (size_t)nsize, 4);
	if ((size_t)(end - p) < *name_end || (size_t)(end - p) - *name_end < fsize ||
	    p[CPIO_HDR_LEN + nsize - 1] != 0)
		return false;
	f->name = (const char *)p + CPIO_HDR_LEN;
	f->name_len = nsize - 1;
	f->data = p + *name_end;
	f->size = fsize;
	f->rdev = (major << 8) | (minor & 0xff) | ((minor & ~0xffu) << 12);
	return true;
}

/* After a trailer: the next archive's first header past the NUL padding, or NULL at the end. */
static const uint8_t *next_archive(const uint8_t *p, const uint8_t *end)
{
	while (p < end && !*p)
		p++;
	return p < end ? p : NULL;
}

int initrd_walk(const void *base, size_t len, void (*fn)(const struct initrd_file *f, void *arg),
		void *arg)
{
	const uint8_t *p = base, *end = p + len;
	int n = 0;
	while ((size_t)(end - p) >= CPIO_HDR_LEN) {
		struct initrd_file f;
		size_t name_end;
		if (!read_header(p, end, &f, &name_end)) {
			printk(KERN_ERR "initrd: bad cpio entry at offset %lu\n",
			       (unsigned long)(p - (const uint8_t *)base));
			return n ? n : -EINVAL;
		}
		size_t step = ALIGN_UP(name_end + f.size, 4);
		if (f.name_len == 10 && !memcmp(f.name, "TRAILER!!!", 10)) {
			p = step < (size_t)(end - p) ? next_archive(p + step, end) : NULL;
			if (!p)
				break;
			continue;
		}
		f.name = strip_prefix(f.name, &f.name_len);
		if (f.name_len == 1 && f.name[0] == '.')
			f.name_len = 0; /* the archive's root directory */
		if (f.name_len) {
			fn(&f, arg);
			n++;
		}
		if (step >= (size_t)(end - p))
			break; /* the last entry's padding may be cut off: fine */
		p += step;
	}
	present = n > 0;
	archive = base;
	archive_len = len;
	return n;
}

struct find {
	const char *name;
	size_t len;
	struct initrd_file found;
	bool hit;
};

static void match(const struct initrd_file *f, void *arg)
{
	struct find *q = arg;
	if (f->name_len == q->len && !memcmp(f->name, q->name, q->len)) { /* the last one wins */
		q->found = *f;
		q->hit = true;
	}
}

const struct initrd_file *initrd_lookup(const char *path)
{
	static struct find q;
	size_t len = strlen(path);
	q = (struct find){.name = strip_prefix(path, &len)};
	q.len = len;
	if (archive)
		initrd_walk(archive, archive_len, match, &q);
	return q.hit ? &q.found : NULL;
}
