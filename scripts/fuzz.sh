#!/bin/sh
# Runs MCRK's libFuzzer targets (tests/fuzz/*.c, built by `make fuzz` with clang's
# -fsanitize=fuzzer,address,undefined) on their seed inputs.
#
#   scripts/fuzz.sh smoke [TARGET...]  each target (default: all) replays its seeds and runs
#                                  20000 more inputs from a fixed random seed: deterministic, a
#                                  few seconds; `make test` runs this (one result line per target)
#   scripts/fuzz.sh run [SECONDS]  each target explores for SECONDS (default 60), keeping what
#                                  it finds in build/fuzz-corpus/<target> for the next run
#
# Seeds: fuzz_boot gets a well-formed multiboot2 and PVH structure (make_boot_seeds.py);
# fuzz_mce gets the mce-inject case files of ../shared/mce-test-cases when present, and two
# small records of its own always; fuzz_einj gets every table scripts/mkeinj.py writes (good
# and malformed) and one trigger table; fuzz_pci an MCFG of one window and a virtio-blk-like
# function with BARs and a capability list; fuzz_ext2 the first structures of build/ext2.img. A crash leaves its input as build/fuzz-crash-<target>-*
# and the target's output in build/fuzz-<target>.log.
set -eu
cd "$(dirname "$0")/.."
B=${MCRK_BUILD:-build}
MODE=${1:-smoke}
SECONDS_EACH=60
TARGETS="fuzz_boot fuzz_mce fuzz_einj fuzz_pci fuzz_ext2"
if [ "$MODE" = smoke ] && [ $# -gt 1 ]; then
	shift
	TARGETS="$*"
elif [ "$MODE" = run ] && [ $# -gt 1 ]; then
	SECONDS_EACH=$2
fi

seeds() { # target -> its seed folder, (re)written
	dir="$B/fuzz-seeds/$1"
	rm -rf "$dir"
	mkdir -p "$dir"
	case "$1" in
	fuzz_boot) python3 tests/fuzz/make_boot_seeds.py "$dir" ;;
	fuzz_mce)
		# text mode (odd first byte): an SRAO and a corrected error in mce-inject format
		printf '\001CPU 0 BANK 1\nSTATUS 0xbd000000000000c0\nMCGSTATUS 0x5\nADDR 0x1234000\nMISC 0x86\n' \
			>"$dir/seed_srao"
		printf '\001CPU 1 BANK 2\nSTATUS 0x9000000000000000\n' >"$dir/seed_corrected"
		if [ -d ../shared/mce-test-cases ]; then
			find ../shared/mce-test-cases -type f ! -name README.md | while read -r f; do
				name=$(echo "$f" | sed 's|.*/mce-test-cases/||; s|/|_|g')
				{ printf '\001'; cat "$f"; } >"$dir/$name"
			done
		fi
		;;
	fuzz_einj)
		python3 scripts/mkeinj.py "$dir"
		python3 -c 'import sys; sys.path.insert(0, "scripts"); import mkeinj
sys.stdout.buffer.write(mkeinj.trigger_table(2))' >"$dir/trigger"
		;;
	fuzz_pci)
		python3 -c 'import struct, sys
mcfg = b"\0" + b"MCFG" + bytes(40) + struct.pack("<QHBBI", 0xb0000000, 0, 0, 255, 0)
cfg = bytearray(256)
struct.pack_into("<IHH", cfg, 0, 0x10421af4, 0, 0x10)
struct.pack_into("<II", cfg, 0x10, 0xfebf0000, 0xfebf8004)
cfg[0x34] = 0x40
cfg[0x40:0x44] = bytes([0x11, 0x50, 2, 0])
cfg[0x50:0x54] = bytes([0x09, 0x00, 16, 1])
masks = struct.pack("<6I", 0xfffff000, 0xffffc004, 0xffffffff, 0, 0, 0)
open(sys.argv[1] + "/mcfg", "wb").write(mcfg)
open(sys.argv[1] + "/function", "wb").write(b"\1" + bytes(cfg) + masks)' "$dir"
		;;
	fuzz_ext2)
		# the superblock, group descriptor, root inode and root directory block of the
		# test image (build/ext2.img, made by scripts/mkext2.py), and a refused superblock
		python3 -c 'import struct, sys
img = open(sys.argv[2], "rb").read()
table = struct.unpack_from("<I", img, 4096 + 8)[0]
root = img[table * 4096 + 256: table * 4096 + 512]
dirblk = struct.unpack_from("<I", root, 40)[0]
seed = img[1024:2048] + img[4096:4128] + root + img[dirblk * 4096:(dirblk + 1) * 4096]
open(sys.argv[1] + "/image", "wb").write(seed)
open(sys.argv[1] + "/not-ext2", "wb").write(bytes(1024))' "$dir" "$B/ext2.img"
		;;
	esac
	echo "$dir"
}

status=0
for t in $TARGETS; do
	[ -x "$B/$t" ] || { echo "FAIL fuzz/$t ($B/$t not built: make fuzz)"; status=1; continue; }
	s=$(seeds "$t")
	corpus="$B/fuzz-corpus/$t"
	mkdir -p "$corpus"
	if [ "$MODE" = smoke ]; then
		scratch=$(mktemp -d)
		set -- -seed=1 -runs=20000 "$scratch" "$s"
	else
		scratch=""
		set -- -max_total_time="$SECONDS_EACH" "$corpus" "$s"
	fi
	log="$B/fuzz-$t.log"
	if "$B/$t" -artifact_prefix="$B/fuzz-crash-$t-" "$@" >"$log" 2>&1; then
		done_line=$(grep -E "^#[0-9]+[[:space:]]+DONE" "$log" | tail -n 1 | tr -s ' \t' ' ')
		echo "ok   fuzz/$t (${done_line:-done})"
	else
		echo "FAIL fuzz/$t (see $log)"
		grep -E "ERROR|SUMMARY|abort|require|Test unit written" "$log" | head -n 10 | sed 's/^/     | /'
		status=1
	fi
	[ -n "$scratch" ] && rm -rf "$scratch"
done
exit $status
