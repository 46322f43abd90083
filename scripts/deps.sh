#!/bin/sh
# Makes sure the Debian packages MCRK's build and tests need are installed.
#
# Asks dpkg which of the packages below are missing. Nothing missing: prints nothing and
# exits 0. Missing and root: says what it installs, refreshes the package lists only when
# apt cannot find a candidate for one of them (or when an install fails once), installs
# exactly the missing ones, and exits 0. Missing and not root: prints the one command that
# would install them and exits 1.
#
# Why each is here:
#   make gcc binutils libc6-dev       the kernel and the host (ASan/UBSan) build
#   clang libclang-rt-14-dev          the fuzz targets (libFuzzer runtime)
#   musl-tools                        user programs, built with musl-gcc -static
#   grub-common grub-pc-bin           grub-mkrescue and its BIOS modules
#   grub-efi-amd64-bin xorriso mtools the UEFI half of the ISO and the ISO itself
#   qemu-system-x86 ovmf              the QEMU tests, BIOS and UEFI (OVMF) boots
#   bochs bochs-term bochsbios vgabios the Bochs test; bochs-term is the display library
#                                     that runs without X (listing it also keeps apt from
#                                     pulling in bochs-wx for bochs's GUI dependency)
#   python3                           the test driver (standard library only)
#   busybox-static                    the guest's shell and tools (/bin/busybox in the initrd)
#   util-linux                        mkswap, for the swap rows' disk (build/swap.img)
#   e2fsprogs                         mke2fs makes the ext2 test image, e2fsck checks it
set -eu

PACKAGES="make gcc binutils libc6-dev clang libclang-rt-14-dev musl-tools
grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools
qemu-system-x86 ovmf
bochs bochs-term bochsbios vgabios
python3 busybox-static util-linux e2fsprogs"

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: dpkg-query not found; MCRK's scripts expect Debian 12. Needed packages:" >&2
	echo "  $PACKAGES" | tr '\n' ' ' >&2
	echo >&2
	exit 1
fi

missing=""
for pkg in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done
missing=${missing# }
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages: $missing" >&2
	echo "deps: install them as root with:" >&2
	echo "  apt-get update && apt-get install -y --no-install-recommends $missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
	apt-get install -y -q --no-install-recommends "$@"
}

# True when apt knows an installable version of every package named.
have_candidates() {
	for pkg in "$@"; do
		cand=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
		if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
			return 1
		fi
	done
	return 0
}

echo "deps: installing missing Debian packages: $missing"
# shellcheck disable=SC2086 # the package list is meant to split into words
if ! have_candidates $missing; then
	echo "deps: package lists lack some of them; running apt-get update"
	apt-get update -q
fi
# shellcheck disable=SC2086
if ! apt_install $missing; then
	echo "deps: install failed; refreshing package lists (apt-get update) and retrying once"
	apt-get update -q
	# shellcheck disable=SC2086
	apt_install $missing
fi
echo "deps: done"
