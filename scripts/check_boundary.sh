#!/bin/sh
# The arch boundary (docs/arch.md): portable code in kernel/ may include include/*.h and
# include/arch/*.h only, never anything under arch/x86_64/, and must not use x86 instructions
# in inline assembly. Prints offending lines; exits 1 if there are any.
cd "$(dirname "$0")/.." || exit 2
bad=$(grep -rnE '#include\s*[<"][^>"]*(arch/x86_64/|x86\.h)' kernel 2>/dev/null)
asm=$(grep -rnE '__asm__|asm volatile|\basm\(' kernel 2>/dev/null)
if [ -n "$bad$asm" ]; then
	echo "portable code reaches past the arch boundary:"
	[ -n "$bad" ] && echo "$bad"
	[ -n "$asm" ] && echo "$asm"
	exit 1
fi
echo "arch boundary: kernel/ uses only include/ and include/arch/"
exit 0
