/* The boot's one-line answer to "can this machine recover from memory errors?":
 *   mce: recovery-capable: yes|no (reason; banks; LMCE; CMCI; EINJ)
 * Recovery (SRAO/SRAR handled, the task or page given up instead of the machine) needs an
 * Intel CPU with machine-check banks whose MCG_CAP has SER_P (software error recovery: the
 * banks' S and AR bits, SDM vol. 3B 15.6), and MCRK not told to ignore it (mce.ser=0). The
 * rest qualifies the answer: LMCE (MCG_CAP.LMCE_P and enabled by the firmware: an SRAR reaches
 * only the CPU that consumed the poison, no rendezvous), CMCI (MCG_CAP.CMCI_P: corrected
 * errors are signalled rather than polled for), and whether firmware error injection (the
 * ACPI EINJ table) is there to test recovery with. The EINJ part comes from whoever reads the
 * ACPI tables, through mce_summary_set_einj; until someone registers, it says "not probed". */
#include "arch/mca.h"
#include "kerrno.h"
#include "mce_priv.h"
#include "printk.h"

#define SUMMARY_MAX 320
#define EINJ_DETAIL_MAX 96

static int (*einj_report)(char *detail, size_t size);

void mce_summary_set_einj(int (*report)(char *detail, size_t size))
{
	einj_report = report;
}

/* A bounded output buffer that keeps counting past its end, as snprintf does. */
struct sumbuf {
	char *buf;
	size_t size, len;
};

__printf(2, 3) static void put(struct sumbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = kvsnprintf(b->len < b->size ? b->buf + b->len : NULL,
		       b->len < b->size ? b->size - b->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

/* Why this machine cannot recover, or NULL when it can. */
static const char *cannot_recover(const struct mce_recovery_facts *f)
{
	if (!f->has_mca)
		return "no machine-check architecture (CPUID MCE/MCA clear)";
	if (!mcg_cap_count(f->cap))
		return "MCG_CAP reports no banks";
	if (!f->intel)
		return "not an Intel CPU: MCRK recovers only under Intel's rules";
	if (!mcg_cap_ser_p(f->cap))
		return "MCG_CAP has no SER_P: uncorrected errors can only be logged or panic";
	if (!f->ser_enabled)
		return "SER_P ignored (mce.ser=0)";
	return NULL;
}

int mce_recovery_summary(char *buf, size_t size, const struct mce_recovery_facts *f)
{
	struct sumbuf b = {buf, size, 0};
	const char *no = cannot_recover(f);
	if (size)
		buf[0] = '\0';
	put(&b, "mce: recovery-capable: %s (", no ? "no" : "yes");
	if (no)
		put(&b, "%s", no);
	else
		put(&b, "MCG_CAP %#llx has SER_P", (unsigned long long)f->cap);
	if (f->has_mca && mcg_cap_count(f->cap))
		put(&b, "; %u banks", mcg_cap_count(f->cap));
	put(&b, "; LMCE %s",
	    f->lmce_on		       ? "on"
	    : mcg_cap_lmce_p(f->cap) ? "offered but not enabled by the firmware (broadcast only)"
				     : "not supported (broadcast only)");
	put(&b, "; CMCI %s",
	    f->cmci_on		       ? "on"
	    : mcg_cap_cmci_p(f->cap) ? "off (mce.cmci=0): corrected errors by polling"
				     : "not supported: corrected errors by polling");
	if (f->einj < 0)
		put(&b, "; EINJ not probed");
	else
		put(&b, "; EINJ %s%s%s", f->einj ? "firmware table found" : "no firmware table",
		    f->einj_detail && f->einj_detail[0] ? ": " : "",
		    f->einj_detail ? f->einj_detail : "");
	put(&b, ")\n");
	return (int)b.len;
}

void mce_print_recovery_summary(void)
{
	struct mce_recovery_facts f = {0};
	char detail[EINJ_DETAIL_MAX] = "", line[SUMMARY_MAX];
	mce_recovery_facts_of_boot_cpu(&f);
	f.einj = einj_report ? einj_report(detail, sizeof detail) : -1;
	f.einj_detail = detail;
	mce_recovery_summary(line, sizeof line, &f);
	printk(KERN_INFO "%s", line);
}
