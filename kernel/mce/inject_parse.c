/* A parser for the text format of the mce-inject tool, so that the mce-test data files (and
 * anything a user writes to the injector's control file) run as they are.
 *
 * The format is a stream of tokens; line breaks matter only for '#' comments (to the end of
 * the line) and for error messages. A record starts with "CPU n" (optionally followed by
 * "BANK b" or just "b") or with "MCE"; then come terms in any order:
 *   STATUS w...      words OR-ed into MCi_STATUS: CORRECTED (VAL|EN), UNCORRECTED (VAL|UC|EN),
 *                    FATAL (VAL|UC|EN|PCC), VAL OVER UC EN PCC S AR, SRAO (S), SRAR (S|AR),
 *                    UCNA (nothing), or numbers (MCACOD, MSCOD, any bit)
 *   MCGSTATUS w...   RIPV EIPV MCIP LMCES or numbers, OR-ed into MCG_STATUS
 *   ADDR n / MISC n  MCi_ADDR (sets ADDRV) / MCi_MISC (sets MISCV)
 *   RIP ip | RIP cs:ip | RIP cs:<ip> {symbol}    the interrupted context
 *   BANK n, TSC n, TIME n, SOCKETID n, APICID n, MCGCAP n, PROCESSOR vendor:cpuid
 *   EXCP POLL IN_IRQ IN_PROC HOLD NOBROADCAST IRQBROADCAST NMIBROADCAST   delivery flags
 *   CMCI             (MCRK extension) deliver through the CMCI vector
 * Keywords are case-insensitive. Numbers are C-style: 0x hex, leading 0 octal, else decimal.
 * Unlike the tool, STATUS ORs rather than replaces, so an ADDR or MISC line before STATUS keeps
 * its valid bit. Anything else is an error naming the line; the parser never reads past the
 * given length and allocates nothing. */
#include "kerrno.h"
#include "mce.h"
#include "printk.h"

enum tok_kind { T_EOF, T_NUM, T_WORD, T_PUNCT, T_ERR };

struct token {
	enum tok_kind kind;
	uint64_t num;
	const char *s; /* T_WORD: the word (not NUL-terminated) */
	size_t n;
	char c; /* T_PUNCT */
	unsigned line;
};

struct parser {
	const char *p, *end;
	unsigned line;
	struct token tok; /* one token of look-ahead */
	char *err;
	size_t errsize;
	int failed;
};

__printf(2, 3) static int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (ps->failed)
		return -EINVAL;
	ps->failed = 1;
	if (ps->err && ps->errsize) {
		n = ksnprintf(ps->err, ps->errsize, "line %u: ", ps->tok.line);
		if (n < 0 || (size_t)n >= ps->errsize)
			return -EINVAL;
		va_start(ap, fmt);
		kvsnprintf(ps->err + n, ps->errsize - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}
static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_alnum(char c)
{
	return is_digit(c) || is_alpha(c);
}

static int digit_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* Parse s[0..n) as a C-style unsigned number; false on junk or overflow. */
static bool parse_number(const char *s, size_t n, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		n -= 2;
	} else if (n > 1 && s[0] == '0') {
		base = 8;
		s++;
		n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)digit_value(s[i]);

		if (d >= base || v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* Skip white space and comments, counting lines. */
static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end) {
		char c = *ps->p;

		if (c == '\n') {
			ps->line++;
			ps->p++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			ps->p++;
		} else if (c == '#') {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
		} else {
			break;
		}
	}
}

/* Read the next token into ps->tok. */
static void advance(struct parser *ps)
{
	struct token *t = &ps->tok;
	const char *start;

	skip_space(ps);
	*t = (struct token){.kind = T_EOF, .line = ps->line};
	if (ps->p >= ps->end)
		return;
	start = ps->p;
	if (is_alnum(*start)) {
		while (ps->p < ps->end && is_alnum(*ps->p))
			ps->p++;
		t->s = start;
		t->n = (size_t)(ps->p - start);
		t->kind = T_WORD;
		if (is_digit(*start)) {
			t->kind = T_NUM;
			if (!parse_number(start, t->n, &t->num)) {
				fail(ps, "bad number '%.*s'", (int)MIN(t->n, 40), start);
				t->kind = T_ERR;
			}
		}
		return;
	}
	ps->p++;
	if (*start == ':' || *start == '<' || *start == '>' || *start == '{' || *start == '}') {
		t->kind = T_PUNCT;
		t->c = *start;
		return;
	}
	fail(ps, "unexpected character 0x%02x", (unsigned char)*start);
	t->kind = T_ERR;
}

static bool word_is(const struct token *t, const char *kw)
{
	size_t i;

	if (t->kind != T_WORD)
		return false;
	for (i = 0; i < t->n; i++) {
		char a = t->s[i], b = kw[i];

		if (a >= 'a' && a <= 'z')
			a = (char)(a - 'a' + 'A');
		if (a != b)
			return false;
	}
	return kw[i] == '\0';
}

struct keyword {
	const char *name;
	uint64_t value;
};

static const struct keyword status_words[] = {
    {"CORRECTED", MCI_STATUS_VAL | MCI_STATUS_EN},
    {"UNCORRECTED", MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN},
    {"FATAL", MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_PCC},
    {"VAL", MCI_STATUS_VAL},
    {"OVER", MCI_STATUS_OVER},
    {"UC", MCI_STATUS_UC},
    {"EN", MCI_STATUS_EN},
    {"PCC", MCI_STATUS_PCC},
    {"S", MCI_STATUS_S},
    {"AR", MCI_STATUS_AR},
    {"SRAO", MCI_STATUS_S},
    {"SRAR", MCI_STATUS_S | MCI_STATUS_AR},
    {"UCNA", 0},
};

static const struct keyword mcg_words[] = {
    {"RIPV", MCG_STATUS_RIPV},
    {"EIPV", MCG_STATUS_EIPV},
    {"MCIP", MCG_STATUS_MCIP},
    {"LMCES", MCG_STATUS_LMCES},
};

static const struct keyword flag_words[] = {
    {"EXCP", MCE_INJ_EXCP},
    {"POLL", MCE_INJ_POLL},
    {"IN_IRQ", MCE_INJ_IN_IRQ},
    {"IN_PROC", MCE_INJ_IN_PROC},
    {"HOLD", MCE_INJ_HOLD},
    {"NOBROADCAST", MCE_INJ_NOBROADCAST},
    {"IRQBROADCAST", MCE_INJ_IRQBROADCAST},
    {"NMIBROADCAST", MCE_INJ_NMIBROADCAST},
    {"CMCI", MCE_INJ_CMCI},
};

static const struct keyword *find_word(const struct token *t, const struct keyword *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (word_is(t, k[i].name))
			return &k[i];
	return NULL;
}

/* Consume a list of words from table k (or numbers), OR-ing their values into *acc. */
static void parse_bit_list(struct parser *ps, const struct keyword *k, size_t n, uint64_t *acc)
{
	const struct keyword *w;

	for (;;) {
		if (ps->tok.kind == T_NUM) {
			*acc |= ps->tok.num;
		} else if ((w = find_word(&ps->tok, k, n)) != NULL) {
			*acc |= w->value;
		} else {
			return;
		}
		advance(ps);
	}
}

/* Expect a number no larger than max; store it and move on. */
static int expect_number(struct parser *ps, const char *what, uint64_t max, uint64_t *out)
{
	if (ps->tok.kind == T_ERR)
		return -EINVAL;
	if (ps->tok.kind != T_NUM)
		return fail(ps, "%s needs a number", what);
	if (ps->tok.num > max)
		return fail(ps, "%s %#llx is too large", what, (unsigned long long)ps->tok.num);
	*out = ps->tok.num;
	advance(ps);
	return 0;
}

static bool accept_punct(struct parser *ps, char c)
{
	if (ps->tok.kind != T_PUNCT || ps->tok.c != c)
		return false;
	advance(ps);
	return true;
}

/* RIP ip | RIP cs:ip | RIP cs:<ip> [{symbol}] (the symbol is skipped up to its '}'). */
static int parse_rip(struct parser *ps, struct mce_inj_record *r)
{
	uint64_t first = 0, ip = 0;
	bool angle;

	if (expect_number(ps, "RIP", UINT64_MAX, &first))
		return -EINVAL;
	r->flags |= MCE_INJ_HAS_RIP;
	if (!accept_punct(ps, ':')) {
		r->rec.ip = first;
		return 0;
	}
	if (first > UINT16_MAX)
		return fail(ps, "RIP code segment %#llx is too large", (unsigned long long)first);
	angle = accept_punct(ps, '<');
	if (expect_number(ps, "RIP offset", UINT64_MAX, &ip))
		return -EINVAL;
	if (angle && !accept_punct(ps, '>'))
		return fail(ps, "RIP: '>' expected after the address");
	r->rec.cs = (uint16_t)first;
	r->rec.ip = ip;
	if (angle && ps->tok.kind == T_PUNCT && ps->tok.c == '{') {
		while (ps->p < ps->end && *ps->p != '}' && *ps->p != '\n')
			ps->p++;
		if (ps->p >= ps->end || *ps->p != '}')
			return fail(ps, "RIP: unterminated {symbol}");
		ps->p++;
		advance(ps);
	}
	return 0;
}

/* Terms that take a single number, with their limits. */
static int parse_numeric_term(struct parser *ps, struct mce_inj_record *r, bool *matched)
{
	struct mce_record *m = &r->rec;
	uint64_t v = 0;
	int rc;

	*matched = true;
	if (word_is(&ps->tok, "ADDR")) {
		advance(ps);
		rc = expect_number(ps, "ADDR", UINT64_MAX, &m->addr);
		m->status |= MCI_STATUS_ADDRV;
	} else if (word_is(&ps->tok, "MISC")) {
		advance(ps);
		rc = expect_number(ps, "MISC", UINT64_MAX, &m->misc);
		m->status |= MCI_STATUS_MISCV;
	} else if (word_is(&ps->tok, "BANK")) {
		advance(ps);
		rc = expect_number(ps, "BANK", UINT8_MAX, &v);
		m->bank = (uint8_t)v;
	} else if (word_is(&ps->tok, "TSC")) {
		advance(ps);
		rc = expect_number(ps, "TSC", UINT64_MAX, &m->tsc);
	} else if (word_is(&ps->tok, "TIME")) {
		advance(ps);
		rc = expect_number(ps, "TIME", UINT64_MAX, &m->time);
	} else if (word_is(&ps->tok, "MCGCAP")) {
		advance(ps);
		rc = expect_number(ps, "MCGCAP", UINT64_MAX, &m->mcg_cap);
	} else if (word_is(&ps->tok, "SOCKETID")) {
		advance(ps);
		rc = expect_number(ps, "SOCKETID", UINT32_MAX, &v);
		m->socketid = (uint32_t)v;
	} else if (word_is(&ps->tok, "APICID")) {
		advance(ps);
		rc = expect_number(ps, "APICID", UINT32_MAX, &v);
		m->apicid = (uint32_t)v;
	} else {
		*matched = false;
		rc = 0;
	}
	return rc;
}

/* PROCESSOR vendor:cpuid */
static int parse_processor(struct parser *ps, struct mce_inj_record *r)
{
	uint64_t vendor = 0, id = 0;

	if (expect_number(ps, "PROCESSOR", UINT8_MAX, &vendor))
		return -EINVAL;
	if (!accept_punct(ps, ':'))
		return fail(ps, "PROCESSOR needs vendor:cpuid");
	if (expect_number(ps, "PROCESSOR cpuid", UINT32_MAX, &id))
		return -EINVAL;
	r->rec.cpuvendor = (uint8_t)vendor;
	r->rec.cpuid = (uint32_t)id;
	return 0;
}

/* One term of a record. */
static int parse_term(struct parser *ps, struct mce_inj_record *r)
{
	const struct keyword *w;
	bool matched;
	int rc;

	if (word_is(&ps->tok, "STATUS")) {
		advance(ps);
		parse_bit_list(ps, status_words, ARRAY_SIZE(status_words), &r->rec.status);
		return 0;
	}
	if (word_is(&ps->tok, "MCGSTATUS")) {
		advance(ps);
		parse_bit_list(ps, mcg_words, ARRAY_SIZE(mcg_words), &r->rec.mcg_status);
		return 0;
	}
	if (word_is(&ps->tok, "RIP")) {
		advance(ps);
		return parse_rip(ps, r);
	}
	if (word_is(&ps->tok, "PROCESSOR")) {
		advance(ps);
		return parse_processor(ps, r);
	}
	if ((w = find_word(&ps->tok, flag_words, ARRAY_SIZE(flag_words))) != NULL) {
		r->flags |= (uint32_t)w->value;
		advance(ps);
		return 0;
	}
	rc = parse_numeric_term(ps, r, &matched);
	if (matched)
		return rc;
	if (ps->tok.kind == T_WORD)
		return fail(ps, "unknown keyword '%.*s'", (int)MIN(ps->tok.n, 40), ps->tok.s);
	if (ps->tok.kind == T_NUM)
		return fail(ps, "number %#llx without a keyword", (unsigned long long)ps->tok.num);
	if (ps->tok.kind == T_PUNCT)
		return fail(ps, "unexpected '%c'", ps->tok.c);
	return -EINVAL; /* T_ERR: already reported */
}

/* The start of a record: CPU n [BANK b | b], or MCE. */
static int parse_start(struct parser *ps, struct mce_inj_record *r)
{
	uint64_t v = 0;

	*r = (struct mce_inj_record){.line = ps->tok.line};
	if (word_is(&ps->tok, "MCE")) {
		advance(ps);
		return 0;
	}
	advance(ps); /* CPU */
	if (expect_number(ps, "CPU", UINT32_MAX, &v))
		return -EINVAL;
	r->rec.cpu = (uint32_t)v;
	if (ps->tok.kind == T_NUM) {
		if (expect_number(ps, "BANK", UINT8_MAX, &v))
			return -EINVAL;
		r->rec.bank = (uint8_t)v;
	}
	return 0;
}

static bool at_record_start(const struct parser *ps)
{
	return word_is(&ps->tok, "CPU") || word_is(&ps->tok, "MCE");
}

int mce_inject_parse(const char *text, size_t len, struct mce_inj_record *out, size_t max,
		     char *err, size_t errsize)
{
	struct parser ps = {
	    .p = text, .end = text + len, .line = 1, .err = err, .errsize = errsize};
	struct mce_inj_record cur;
	size_t n = 0;

	if (err && errsize)
		err[0] = '\0';
	advance(&ps);
	if (ps.tok.kind != T_EOF && ps.tok.kind != T_ERR && !at_record_start(&ps))
		return fail(&ps, "a record must start with CPU or MCE");
	while (ps.tok.kind != T_EOF) {
		if (ps.failed || parse_start(&ps, &cur))
			return -EINVAL;
		while (ps.tok.kind != T_EOF && !at_record_start(&ps))
			if (ps.failed || parse_term(&ps, &cur))
				return -EINVAL;
		if (ps.failed)
			return -EINVAL;
		if (n == max) {
			ps.tok.line = cur.line;
			fail(&ps, "more than %zu records", max);
			return -E2BIG;
		}
		out[n++] = cur;
	}
	return ps.failed ? -EINVAL : (int)n;
}

bool mce_inj_raises_mc(const struct mce_inj_record *r)
{
	if (r->flags & MCE_INJ_EXCP)
		return true;
	if (r->flags & (MCE_INJ_POLL | MCE_INJ_CMCI))
		return false;
	return r->rec.status & MCI_STATUS_UC;
}
