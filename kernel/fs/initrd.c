/* cpio newc reader (see include/initrd.h). Each entry is a 110-byte ASCII header ("070701",
 * then 13 eight-digit hex fields: ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
 * devminor, rdevmajor, rdevminor, namesize, check), the name (NUL included) padded to a
 * multiple of 4 bytes from the header start, then the data padded to 4. "TRAILER!!!" ends it. */
#include "initrd.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"

#define CPIO_HDR_LEN 110
#define CPIO_MAGIC "070701"
#define CPIO_FIELD_MODE 1
#define CPIO_FIELD_FILESIZE 6
#define CPIO_FIELD_NAMESIZE 11
#define INITRD_MAX_FILES 256

static struct initrd_file files[INITRD_MAX_FILES];
static unsigned n_files;

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

int initrd_init(const void *base, size_t len)
{
	const uint8_t *p = base, *end = p + len;
	n_files = 0;
	while ((size_t)(end - p) >= CPIO_HDR_LEN) {
		uint32_t mode, fsize, nsize;
		if (memcmp(p, CPIO_MAGIC, 6) || !hex_field(p, CPIO_FIELD_MODE, &mode) ||
		    !hex_field(p, CPIO_FIELD_FILESIZE, &fsize) ||
		    !hex_field(p, CPIO_FIELD_NAMESIZE, &nsize) || nsize == 0) {
			printk(KERN_ERR "initrd: bad cpio header at offset %lu\n",
			       (unsigned long)(p - (const uint8_t *)base));
			return n_files ? (int)n_files : -EINVAL;
		}
		size_t name_end = ALIGN_UP(CPIO_HDR_LEN + (size_t)nsize, 4);
		if ((size_t)(end - p) < name_end || (size_t)(end - p) - name_end < fsize ||
		    p[CPIO_HDR_LEN + nsize - 1] != 0) {
			printk(KERN_ERR "initrd: entry at offset %lu runs past the archive\n",
			       (unsigned long)(p - (const uint8_t *)base));
			return n_files ? (int)n_files : -EINVAL;
		}
		const char *name = (const char *)p + CPIO_HDR_LEN;
		size_t nlen = nsize - 1;
		if (nlen == 10 && !memcmp(name, "TRAILER!!!", 10))
			break;
		name = strip_prefix(name, &nlen);
		if (nlen == 1 && name[0] == '.')
			nlen = 0; /* the archive's root directory */
		if (nlen && n_files < INITRD_MAX_FILES)
			files[n_files++] = (struct initrd_file){name, nlen, p + name_end, fsize, mode};
		else if (nlen)
			printk(KERN_WARNING "initrd: more than %u files, ignoring %s\n",
			       INITRD_MAX_FILES, name);
		size_t step = ALIGN_UP(name_end + fsize, 4);
		if (step >= (size_t)(end - p))
			break; /* the last entry's padding may be cut off: fine */
		p += step;
	}
	return (int)n_files;
}

const struct initrd_file *initrd_lookup(const char *path)
{
	size_t len = strlen(path);
	path = strip_prefix(path, &len);
	for (unsigned i = 0; i < n_files; i++)
		if (files[i].name_len == len && !memcmp(files[i].name, path, len))
			return &files[i];
	return NULL;
}

const struct initrd_file *initrd_entry(unsigned i) { return i < n_files ? &files[i] : NULL; }
