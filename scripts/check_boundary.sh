#!/bin/sh
# The arch boundary (docs/arch.md). Portable code (kernel/, the boot-information parsers in
# boot/*.c, the device code in drivers/, and the portable headers in include/ outside
# include/arch/) must not:
#   - include anything under arch/x86_64/ (or x86.h);
#   - use inline assembly;
#   - name an x86 register (rax..r15, rip, rsp, eflags/rflags, cr0..cr4, xmm0.., mxcsr, the
#     FS/GS bases): user registers go through include/arch/uregs.h, signal frames through
#     include/arch/sigframe.h;
#   - use x86 constants: MSR_/IA32_/CR0_../RFLAGS_/EFER_/X86_ names or raw MSR numbers (the
#     0xc0000xxx system MSRs and the global MCA MSRs 0x179..0x17b, 0x4d0).
# Comments, string and character literals are not code and are not checked. Intel's MCA
# register layouts (include/mce.h) are the model kernel/mce implements and are allowed.
# Usage: check_boundary.sh [ROOT]  (ROOT: the tree to check, by default this one).
# Prints each offending line as FILE:LINE: WHAT: TEXT; exits 1 if there is any, 2 on misuse.
root=${1:-"$(dirname "$0")/.."}
cd "$root" 2>/dev/null && [ -d kernel ] || { echo "check_boundary: no kernel/ in $root"; exit 2; }

REGS='r[a-d]x|r[sd]i|r[sb]p|rip|r(8|9|1[0-5])[dwb]?|e[a-d]x|e[sd]i|e[sb]p|eip|[er]flags'
REGS="$REGS|cr[0-48]|xmm[0-9]+|mxcsr|[fg]s_base"
NAMES='(MSR|IA32|CR[0-48]|RFLAGS|EFLAGS|EFER|X86)_[A-Za-z0-9_]+'
MSRS='0[xX]([cC]000[01][0-9a-fA-F]{3}|17[9aAbB]|4[dD]0)[uUlL]*'

# Every portable C file as FILE:LINE:TEXT with comments blanked and line numbers kept; with
# $1 = 1 also the contents of string and character literals.
code_lines() {
	find kernel include $([ -d boot ] && echo boot) $([ -d drivers ] && echo drivers) -path include/arch -prune -o -type f \( -name '*.c' -o -name '*.h' \) \
		-print | sort | xargs awk -v blank_strings="$1" '
	FNR == 1 { incom = 0 }
	{
		out = ""; s = $0; n = length(s); i = 1
		while (i <= n) {
			c = substr(s, i, 1); c2 = substr(s, i, 2)
			if (incom) {
				if (c2 == "*/") { incom = 0; i += 2 } else i++
				continue
			}
			if (c2 == "/*") { incom = 1; out = out " "; i += 2; continue }
			if (c2 == "//") break
			if (c == "\"" || c == "\047") {
				j = i + 1
				while (j <= n && substr(s, j, 1) != c) j += substr(s, j, 1) == "\\" ? 2 : 1
				out = out (blank_strings ? c c : substr(s, i, j - i + 1)); i = j + 1
				continue
			}
			out = out c; i++
		}
		print FILENAME ":" FNR ":" out
	}'
}

# An asm statement with an empty template is a compiler barrier (types.h), not x86 code.
with_strings=$(code_lines 0)
lines=$(code_lines 1)
bad=$(printf '%s\n' "$with_strings" |
	grep -E '^[^:]*:[0-9]+:\s*#\s*include\s*[<"][^>"]*(arch/x86_64/|x86\.h)' |
	sed 's/^\([^:]*:[0-9]*\):/\1: includes arch code: /')
bad="$bad
$(printf '%s\n' "$with_strings" | grep -E '__asm__|\basm\s*(volatile\s*)?\(' |
	grep -vE '(__asm__|\basm)\s*(volatile\s*)?\(\s*""\s*:' |
	sed 's/^\([^:]*:[0-9]*\):/\1: inline assembly: /')"
bad="$bad
$(printf '%s\n' "$lines" | grep -E "^[^:]*:[0-9]+:.*\\b($REGS)\\b" |
	sed 's/^\([^:]*:[0-9]*\):/\1: x86 register name: /')"
bad="$bad
$(printf '%s\n' "$lines" | grep -E "^[^:]*:[0-9]+:.*(\\b$NAMES\\b|\\b$MSRS\\b)" |
	sed 's/^\([^:]*:[0-9]*\):/\1: x86 constant: /')"
bad=$(printf '%s\n' "$bad" | sed '/^$/d')
if [ -n "$bad" ]; then
	echo "portable code reaches past the arch boundary:"
	printf '%s\n' "$bad"
	exit 1
fi
echo "arch boundary: kernel/, boot/*.c, drivers/ and include/ use no arch code, x86 registers or x86 constants"
exit 0
