/* Machine-check records as text.
 *
 * mce_format_record prints a record in the lines Linux prints for a hardware error, field for
 * field, because tools parse them (mcelog --ascii decodes a console log into banks, codes and
 * DIMMs). Those tools rely on the exact wording:
 *   mce: [Hardware Error]: CPU <cpu>: Machine Check Exception: <mcgstatus> Bank <b>: <status>
 *   mce: [Hardware Error]: RIP[ !INEXACT!] <cs>:<<ip>> [{<function>+<off>/<len>}]  (ip known)
 *   mce: [Hardware Error]: TSC <tsc> [ADDR <addr> ][MISC <misc> ][PPIN <ppin> ]
 *   mce: [Hardware Error]: PROCESSOR <vendor>:<cpuid> TIME <t> SOCKET <s> APIC <a> microcode <m>
 * All numbers are lowercase hex without 0x except CPU, Bank, TIME and SOCKET (decimal); the
 * status and ip are zero-padded to 16 digits, cs to 2. "Exception" is printed only when MCIP
 * was set (a #MC rather than a polled or CMCI record); "!INEXACT!" when EIPV was clear. A
 * kernel-mode RIP is followed by the function it is in, as Linux's %pS names it (include/
 * ksyms.h); an address in no known function is left without braces (Linux would print the
 * raw address in them).
 * mce_format_summary adds one decoded line of our own: grade, reason, address, action.
 * Both write into a caller's buffer with ksnprintf: no locks, usable in #MC context. */
#include "ksyms.h"
#include "mce.h"
#include "printk.h"

/* A bounded output buffer that keeps counting past its end, as snprintf does. */
struct fmtbuf {
	char *buf;
	size_t size;
	size_t len;
};

__printf(2, 3) static void emit(struct fmtbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (b->len < b->size)
		n = kvsnprintf(b->buf + b->len, b->size - b->len, fmt, ap);
	else
		n = kvsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

int mce_format_record(char *buf, size_t size, const struct mce_record *r)
{
	struct fmtbuf b = {buf, size, 0};
	bool mcip = r->mcg_status & MCG_STATUS_MCIP;
	bool eipv = r->mcg_status & MCG_STATUS_EIPV;

	if (size)
		buf[0] = '\0';
	emit(&b, MCE_HW_ERR "CPU %u: Machine Check%s: %llx Bank %u: %016llx\n", r->cpu,
	     mcip ? " Exception" : "", (unsigned long long)r->mcg_status, r->bank,
	     (unsigned long long)r->status);
	if (r->ip) {
		char sym[KSYM_FMT_MAX];
		emit(&b, MCE_HW_ERR "RIP%s %02x:<%016llx> ", eipv ? "" : " !INEXACT!", r->cs,
		     (unsigned long long)r->ip);
		if (!mce_cs_is_user(r->cs) && ksym_format(sym, sizeof sym, r->ip))
			emit(&b, "{%s}", sym);
		emit(&b, "\n");
	}
	emit(&b, MCE_HW_ERR "TSC %llx ", (unsigned long long)r->tsc);
	if (r->addr)
		emit(&b, "ADDR %llx ", (unsigned long long)r->addr);
	if (r->misc)
		emit(&b, "MISC %llx ", (unsigned long long)r->misc);
	if (r->ppin)
		emit(&b, "PPIN %llx ", (unsigned long long)r->ppin);
	emit(&b, "\n");
	emit(&b, MCE_HW_ERR "PROCESSOR %u:%x TIME %llu SOCKET %u APIC %x microcode %x\n",
	     r->cpuvendor, r->cpuid, (unsigned long long)r->time, r->socketid, r->apicid,
	     r->microcode);
	return (int)b.len;
}

static const char *source_name(unsigned src)
{
	switch (src) {
	case MCE_SRC_MC:
		return "#MC";
	case MCE_SRC_POLL:
		return "poll";
	case MCE_SRC_CMCI:
		return "CMCI";
	case MCE_SRC_BOOT:
		return "boot";
	default:
		return "?";
	}
}

int mce_format_summary(char *buf, size_t size, const struct mce_record *r,
		       const struct mce_verdict *v)
{
	struct fmtbuf b = {buf, size, 0};

	if (size)
		buf[0] = '\0';
	emit(&b, "mce: CPU %u Bank %u (%s): %s \"%s\" ", r->cpu, r->bank, source_name(r->source),
	     mce_grade_name(v->grade), v->msg ? v->msg : "");
	if (v->addr_ok)
		emit(&b, "addr %#llx/%u ", (unsigned long long)v->paddr.addr, v->paddr.lsb);
	else if (r->status & MCI_STATUS_ADDRV)
		emit(&b, "addr %#llx unusable ", (unsigned long long)r->addr);
	else
		emit(&b, "no addr ");
	emit(&b, "action %s\n", mce_action_name(v->action));
	return (int)b.len;
}
