/* cmdline_get: look up a key in the kernel command line. The line is a list of words split by
 * spaces or tabs; a word is "key=value" or a bare "key". A key matches a whole word's key part
 * only ("test=a" answers "test", never "tes" or "est"); when a key appears more than once the
 * last one wins, so a later word overrides an earlier default. No quoting. */
#include "boot_info.h"
#include "kstring.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* See include/boot_info.h. val may be NULL (or val_size 0) to test presence only; a value
 * longer than val_size - 1 is cut. Any context (reads only its arguments). */
bool cmdline_get(const char *cmdline, const char *key, char *val, size_t val_size)
{
	size_t klen;
	bool found = false;

	if (!cmdline || !key || !*key)
		return false;
	klen = strlen(key);
	while (*cmdline) {
		const char *word, *end;

		while (is_blank(*cmdline))
			cmdline++;
		word = cmdline;
		while (*cmdline && !is_blank(*cmdline))
			cmdline++;
		end = cmdline;
		if ((size_t)(end - word) < klen || strncmp(word, key, klen))
			continue;
		if (word + klen != end && word[klen] != '=')
			continue;
		found = true;
		if (val && val_size) {
			const char *v = word + klen == end ? end : word + klen + 1;
			size_t n = MIN((size_t)(end - v), val_size - 1);

			memcpy(val, v, n);
			val[n] = '\0';
		}
	}
	return found;
}
