# Sourced by bench/run_*.sh: guest_run NAME SMP TIMEOUT APPEND [MEM] boots MCRK in QEMU TCG
# (-m MEM, default 1G) with the kernel command line "run=NAME... APPEND" (NAME may carry
# ":args"), waits for init to report that the program ended, stops QEMU, and prints the
# program's "NAME:" lines and init's verdict. Exits 1 if QEMU stops first or TIMEOUT seconds
# pass; 2 if `make` has not built build/mcrk.elf and build/initrd.cpio (MCRK_BUILD names
# another build folder).
guest_run() {
	prog=${1%%:*}
	mem=${5:-1G}
	B=${MCRK_BUILD:-build}
	for f in "$B/mcrk.elf" "$B/initrd.cpio"; do
		[ -f "$f" ] || { echo "$f is missing: run make" >&2; exit 2; }
	done
	LOG=$(mktemp "/tmp/$prog.XXXXXX")
	qemu-system-x86_64 -cpu max,vendor=GenuineIntel -smp "$2" -m "$mem" -display none -vga none \
		-net none -no-reboot -serial "file:$LOG" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$B/mcrk.elf" -initrd "$B/initrd.cpio" -append "run=$1 $4" &
	QPID=$!
	trap 'kill $QPID 2>/dev/null; rm -f "$LOG"' EXIT INT TERM
	end=$(( $(date +%s) + $3 ))
	while ! grep -q "init: $prog \(exited\|killed\)" "$LOG" 2>/dev/null; do
		if ! kill -0 $QPID 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; then
			echo "$prog did not finish (timeout or QEMU exited); last lines:" >&2
			tail -n 20 "$LOG" >&2
			exit 1
		fi
		sleep 1
	done
	kill $QPID 2>/dev/null || true
	wait $QPID 2>/dev/null || true
	echo "kernel command line: run=$1 $4 (QEMU TCG, -smp $2 -m $mem)"
	grep -a "^$prog:\|init: $prog" "$LOG" | tr -d '\r'
	rm -f "$LOG"
}
