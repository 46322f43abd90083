# MCRK: one non-recursive build.
#   make            kernel ELF, initrd and bootable ISO (BIOS + UEFI)
#   make run        boot the ISO in QEMU on this terminal (Ctrl-A X quits)
#   make debug      the same, stopped, with a gdb stub on :1234
#   make einj CASE=single   one case of user/einj_test.c on the poison emulator, in QEMU
#   make test       every test of every harness (tests/README.md); ends with "N passed, N failed"
#   make check T=PATTERN   only the tests whose names contain PATTERN, in every harness
#   make campaign   the random injection campaign (N=10000 SEED=1; docs/campaign.md)
#   make bench      benchmarks (figures, not pass/fail)
#   make bochs      boot the ISO in Bochs (headless, serial to build/bochs-serial.log)
# Every target first makes sure the Debian packages it needs are installed (scripts/deps.sh).

B := build
CC := gcc
LD := ld
HOSTCC := gcc
CLANG := clang
PYTHON := python3

GCC_INC := $(shell $(CC) -print-file-name=include)
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes
KCFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -nostdinc -isystem $(GCC_INC) \
	-fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-mcmodel=kernel -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -fno-builtin -Iinclude -MMD -MP
KASFLAGS := -g -Iinclude -D__ASSEMBLY__ -MMD -MP -fno-pic -fno-pie
KLDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T linker.ld

# Sources: every C and assembly file in the kernel's folders.
KSRC_C := $(sort $(wildcard boot/*.c kernel/*.c kernel/*/*.c arch/x86_64/*.c drivers/*.c))
KSRC_S := $(sort $(wildcard boot/*.S arch/x86_64/*.S))
# The framebuffer console's font, made at build time from GRUB's copy of GNU Unifont.
FONT_C := $(B)/gen/fbcon_font.c
KOBJ := $(patsubst %,$(B)/k/%.o,$(KSRC_S) $(KSRC_C) $(FONT_C))
# The test build of the kernel adds the in-kernel tests (tests/ktest/, see tests/README.md).
KTEST_SRC := $(sort $(wildcard tests/ktest/*.c tests/ktest/*/*.c tests/ktest/*/*.S))
KTEST_OBJ := $(patsubst %,$(B)/k/%.o,$(KTEST_SRC))

# Portable code that the host build tests: boot/*.c and everything in kernel/ but the boot
# sequence, the string functions (libc's are used), kernel/lib/percpu.c (per-CPU copies need
# the linker's section), and the pseudo file systems with the boot assembly of the root
# (tests/host fakes vfs_register_node and builds its own roots).
HOST_EXCLUDE := kernel/main.c kernel/lib/string.c kernel/lib/percpu.c \
	kernel/fs/procfs.c kernel/fs/nodefs.c kernel/fs/initramfs.c kernel/fs/proc_pid.c \
	kernel/fs/proc_stat.c
PORTABLE_SRC := $(filter-out $(HOST_EXCLUDE),$(sort $(wildcard boot/*.c kernel/*.c kernel/*/*.c \
	drivers/*.c))) $(FONT_C)
HOSTTEST_SRC := $(sort $(wildcard tests/host/*.c))
HCFLAGS := -std=gnu11 -O1 -g $(WARN) -Wno-missing-prototypes -DMCRK_HOST -Iinclude \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -MMD -MP

DEPS_STAMP := $(B)/.deps-ok
FUZZ_BIN := $(B)/fuzz_boot $(B)/fuzz_mce $(B)/fuzz_einj $(B)/fuzz_pci $(B)/fuzz_ext2

.PHONY: all deps run demo einj debug test check campaign bench-guest host-test qemu-test bench bochs fuzz clean
all: $(B)/mcrk.elf $(B)/initrd.cpio $(B)/mcrk.iso

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	@mkdir -p $(B)
	@sh scripts/deps.sh
	@touch $@

$(FONT_C): scripts/mkfont.py $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/mkfont.py $@

$(B)/k/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@
$(B)/k/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) -c $< -o $@

# Each kernel image is linked twice (include/ksyms.h): first with an empty symbol table, then
# with the table of the first link's functions (scripts/mksyms.py), which sits after all code;
# --check fails the build if any function moved between the two links.
KSYMS_EMPTY := $(B)/k/ksyms-empty.o
$(KSYMS_EMPTY): scripts/mksyms.py include/ksyms.h
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/mksyms.py $(B)/k/ksyms-empty.c
	$(CC) $(KCFLAGS) -c $(B)/k/ksyms-empty.c -o $@
define link_with_symbols
	$(LD) $(KLDFLAGS) -o $@.pass1 $(1) $(KSYMS_EMPTY)
	nm -n -S $@.pass1 > $@.nm
	$(PYTHON) scripts/mksyms.py $@.ksyms.c $@.nm
	$(CC) $(KCFLAGS) -c $@.ksyms.c -o $@.ksyms.o
	$(LD) $(KLDFLAGS) -o $@ $(1) $@.ksyms.o
	$(PYTHON) scripts/mksyms.py --check $@.pass1 $@
endef

$(B)/mcrk.elf: $(KOBJ) $(KSYMS_EMPTY) linker.ld scripts/mksyms.py
	$(call link_with_symbols,$(KOBJ))

# build/mcrk-test.elf: the same kernel plus tests/ktest/, whose entry functions replace the
# weak ones of arch/x86_64/context.c (the production kernel has no test hooks).
$(KTEST_OBJ): KCFLAGS += -Itests/ktest
$(B)/k/tests/ktest/x86_64/%: KCFLAGS += -Iarch/x86_64
$(B)/mcrk-test.elf: $(KOBJ) $(KTEST_OBJ) $(KSYMS_EMPTY) linker.ld scripts/mksyms.py
	$(call link_with_symbols,$(KOBJ) $(KTEST_OBJ))

# ---- user programs (musl, static) and the initrd that carries them as /bin/NAME: the
# programs tests run (user/), the demo's victim (demo/) and the guest benchmarks (bench/);
# /etc (rootfs/etc: passwd and group, root and one unprivileged user); user/setid.c a second
# time as /bin/setid_root, set-user-ID root (mode 04755), for the set-ID exec tests ----
USER_SRC := $(sort $(wildcard user/*.c)) $(sort $(wildcard demo/*.c)) bench/mfbench.c \
	bench/cecbench.c bench/forkbench.c bench/fsbench.c bench/thpbench.c bench/threadbench.c \
	bench/ext2bench.c \
	bench/shellbench.c bench/swapbench.c
USER_BIN := $(addprefix $(B)/user/,$(basename $(notdir $(USER_SRC))))
USER_CFLAGS := -static -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter
# The injection campaign's agent and workload: one program from several files (user/campaign/).
CAMPAIGN_SRC := $(sort $(wildcard user/campaign/*.c))
USER_BIN += $(B)/user/campaign
$(B)/user/campaign: $(CAMPAIGN_SRC) $(wildcard user/campaign/*.h) $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	musl-gcc $(USER_CFLAGS) -o $@ $(CAMPAIGN_SRC)
$(B)/user/%: user/%.c $(wildcard user/*.h) $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	musl-gcc $(USER_CFLAGS) -o $@ $<
$(B)/user/%: demo/%.c $(wildcard user/*.h) $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	musl-gcc $(USER_CFLAGS) -Iuser -o $@ $<
$(B)/user/%: bench/%.c bench/bench.h $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	musl-gcc $(USER_CFLAGS) -o $@ $<
MCE_CASES := $(wildcard ../shared/mce-test-cases)
# Debian's busybox-static (scripts/deps.sh installs it) is the shell: /bin/busybox and its applet
# links. Without it the initrd is made without them, with a note, and /init says so at boot.
BUSYBOX := $(shell dpkg-query -W -f='$${Status}' busybox-static 2>/dev/null | \
	grep -q 'ok installed' && echo /bin/busybox)
BUSYBOX_APPLETS := sh ls cat echo ps free dmesg sysctl mount umount kill sleep dd hexdump grep \
	vi top true false uptime cp mv rm mkdir head tail wc env uname sed stty clear
$(B)/initrd.cpio: $(USER_BIN) scripts/mkinitrd.py $(wildcard rootfs/etc/*) $(BUSYBOX)
	$(if $(BUSYBOX),,@echo "initrd: busybox-static is not installed: no /bin/sh (scripts/deps.sh)")
	$(PYTHON) scripts/mkinitrd.py $@ init=$(B)/user/init etc/=rootfs/etc \
		$(foreach u,$(filter-out $(B)/user/init,$(USER_BIN)),bin/$(notdir $(u))=$(u)) \
		bin/setid_root:4755=$(B)/user/setid \
		$(if $(MCE_CASES),mce-cases/=$(MCE_CASES)) \
		$(if $(BUSYBOX),bin/busybox=$(BUSYBOX) $(foreach a,$(BUSYBOX_APPLETS),bin/$(a)@=busybox))

# EXTRA=DIR (make run, demo, einj): DIR's files over the initrd's (DIR/bin/prog is /bin/prog), as
# a second cpio archive after the first, which MCRK unpacks over it as Linux does a
# concatenated initramfs; the boot is then direct (-kernel/-initrd) rather than from the ISO.
EXTRA ?=
RUN_INITRD := $(if $(EXTRA),$(B)/initrd-extra.cpio,$(B)/initrd.cpio)
$(B)/initrd-extra.cpio: $(B)/initrd.cpio scripts/mkinitrd.py FORCE
	@test -d "$(EXTRA)" || { echo "EXTRA=$(EXTRA): not a directory" >&2; exit 2; }
	$(PYTHON) scripts/mkinitrd.py $(B)/extra.cpio /=$(EXTRA)
	cat $(B)/initrd.cpio $(B)/extra.cpio > $@
FORCE:
.PHONY: FORCE

ISO_DIR := $(B)/iso
$(B)/mcrk.iso: $(B)/mcrk.elf $(B)/initrd.cpio boot/grub.cfg $(DEPS_STAMP)
	@rm -rf $(ISO_DIR) && mkdir -p $(ISO_DIR)/boot/grub
	cp $(B)/mcrk.elf $(ISO_DIR)/boot/mcrk.elf
	cp $(B)/initrd.cpio $(ISO_DIR)/boot/initrd.cpio
	cp boot/grub.cfg $(ISO_DIR)/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(ISO_DIR) 2>$(B)/grub-mkrescue.log || { cat $(B)/grub-mkrescue.log; exit 1; }

# ---- host build: the portable core under ASan/UBSan ----
HOBJ := $(patsubst %,$(B)/h/%.o,$(PORTABLE_SRC) $(HOSTTEST_SRC))
$(B)/h/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HCFLAGS) -c $< -o $@
$(B)/host-unit: $(HOBJ)
	$(HOSTCC) $(HCFLAGS) -o $@ $(HOBJ)
host-test: $(B)/host-unit
	$(B)/host-unit

# ---- run ----
QEMU := qemu-system-x86_64
QEMU_CPU ?= max,vendor=GenuineIntel
QEMU_SMP ?= 2
QEMU_MEM ?= 256M
# APPEND="..." adds to the kernel command line of a direct boot (with EXTRA).
run: all $(RUN_INITRD)
	$(QEMU) -cpu $(QEMU_CPU) -smp $(QEMU_SMP) -m $(QEMU_MEM) -nographic -net none \
		$(if $(EXTRA),-kernel $(B)/mcrk.elf -initrd $(RUN_INITRD) -append "$(APPEND)", \
		-cdrom $(B)/mcrk.iso) -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04
# A recovery to watch: demo/victim.c prints the monitor command that poisons its page.
# DEMO picks the program and its mode (demo/victim.c), e.g. DEMO=victim:early-spin QEMU_SMP=1.
DEMO ?= victim:early
demo: all $(RUN_INITRD)
	@echo "When the victim prints its command: press Ctrl-A then C, paste the 'mce -b ...'"
	@echo "line, press Enter, then Ctrl-A C again to see the recovery. Ctrl-A X quits."
	$(QEMU) -cpu $(QEMU_CPU) -smp $(QEMU_SMP) -m $(QEMU_MEM) -kernel $(B)/mcrk.elf \
		-initrd $(RUN_INITRD) -append "run=$(DEMO)" -nographic -net none \
		-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04

# One einj_mem_uc case on the poison emulator, e.g. make einj CASE=single (CASE=early+instr:
# early kill; CASE=list: the cases; no CASE: all of them); ends when the program has.
CASE ?=
einj: all $(RUN_INITRD)
	@if [ "$(CASE)" = list ]; then sed -n 's/^    {"\([^"]*\)", "\([^"]*\)".*/  \1: \2/p' \
		user/einj_test.c; else \
	$(PYTHON) tests/qemu/driver.py boot --smp $(QEMU_SMP) --mem $(QEMU_MEM) \
		--initrd $(RUN_INITRD) \
		--append "run=einj_test$(if $(CASE),:$(CASE))" --until '^init: done' --timeout 300; fi

debug: all
	@echo "QEMU is waiting for gdb. In another terminal:"
	@echo "  gdb $(B)/mcrk.elf -ex 'target remote :1234'"
	$(QEMU) -cpu $(QEMU_CPU) -smp $(QEMU_SMP) -m $(QEMU_MEM) -cdrom $(B)/mcrk.iso -nographic -net none \
		-no-reboot -s -S -device isa-debug-exit,iobase=0xf4,iosize=0x04

# The block tests' disk: every sector says its number (scripts/mkdisk.py, tests/qemu/blk_tests.py).
$(B)/disk-pattern.img: scripts/mkdisk.py
	@mkdir -p $(B)
	$(PYTHON) scripts/mkdisk.py $@ 8

# The concatenated-initrd row's image (tests/qemu/tests.py): the initrd, then two archives of
# tests/initrd-concat/, the second replacing a file of the first.
$(B)/initrd-concat.cpio: $(B)/initrd.cpio scripts/mkinitrd.py $(wildcard tests/initrd-concat/*/*/*)
	$(PYTHON) scripts/mkinitrd.py $(B)/concat-a.cpio /=tests/initrd-concat/a
	$(PYTHON) scripts/mkinitrd.py $(B)/concat-b.cpio /=tests/initrd-concat/b
	cat $(B)/initrd.cpio $(B)/concat-a.cpio $(B)/concat-b.cpio > $@

# The ext2 tests' image: mke2fs -d over the files scripts/mkext2.py writes (tests/qemu/ext2_tests.py).
$(B)/ext2.img: scripts/mkext2.py $(DEPS_STAMP)
	@mkdir -p $(B)
	$(PYTHON) scripts/mkext2.py $@ 32

# The swap rows' disk: an empty swap area as util-linux's mkswap writes it (docs/swap.md).
$(B)/swap.img:
	@mkdir -p $(dir $@)
	rm -f $@ && truncate -s 192M $@ && mkswap $@ >/dev/null 2>&1

TEST_IMAGES := $(B)/disk-pattern.img $(B)/initrd-concat.cpio $(B)/swap.img $(B)/ext2.img
test: all $(B)/mcrk-test.elf $(B)/host-unit $(FUZZ_BIN) $(TEST_IMAGES)
	@$(PYTHON) tests/run_all.py

# make check T=srar: the tests of every harness whose names contain T (tests/README.md).
check: all $(B)/mcrk-test.elf $(B)/host-unit $(FUZZ_BIN) $(TEST_IMAGES)
	@test -n "$(T)" || { echo "usage: make check T=PATTERN (see tests/README.md)" >&2; exit 2; }
	@$(PYTHON) tests/run_all.py "$(T)"

# make campaign N=10000 SEED=1 [JOBS=2] [K=250] [EVENT=i] [KEEP_GOING=1]: the injection
# campaign (docs/campaign.md); EVENT reruns the one boot that holds event i, up to it.
N ?= 10000
SEED ?= 1
JOBS ?= 2
K ?= 250
campaign: all
	$(PYTHON) tests/campaign/campaign.py --n $(N) --seed $(SEED) --jobs $(JOBS) --per-boot $(K) \
		$(if $(EVENT),--event $(EVENT)) $(if $(KEEP_GOING),--keep-going)

qemu-test: all $(B)/mcrk-test.elf $(TEST_IMAGES)
	$(PYTHON) tests/qemu/driver.py run

bochs: all
	bash scripts/bochs.sh --smp $(QEMU_SMP)

# ---- benchmarks: figures, not pass/fail (host build, -O2, no sanitizers) ----
BENCH_CFLAGS := -std=gnu11 -O2 -DMCRK_HOST -Iinclude -Wall -Wextra -Werror -Wno-unused-parameter
$(B)/frame_bench: bench/frame_bench.c kernel/mm/frame.c kernel/lib/printk.c kernel/lib/vsnprintf.c tests/host/fake_arch.c
	$(HOSTCC) $(BENCH_CFLAGS) -o $@ $^
RMAP_BENCH_SRC := bench/rmap_bench.c $(addprefix kernel/mm/,rmap.c vm.c vm_map.c vm_fault.c \
	vm_fork.c vma_tree.c frame.c kmalloc.c) kernel/lib/printk.c kernel/lib/vsnprintf.c \
	tests/host/fake_arch.c tests/host/fake_mmu.c
$(B)/rmap_bench: $(RMAP_BENCH_SRC)
	$(HOSTCC) $(BENCH_CFLAGS) -o $@ $^
$(B)/cec_bench: bench/cec_bench.c kernel/mce/cec.c
	$(HOSTCC) $(BENCH_CFLAGS) -o $@ $^
bench: $(B)/frame_bench $(B)/rmap_bench $(B)/cec_bench
	$(B)/frame_bench
	$(B)/rmap_bench
	$(B)/cec_bench

# Guest benchmarks under QEMU (minutes): memory_failure and corrected-error collector costs,
# SRAR and SRAO latency, tmpfs, threads, raw disk throughput.
bench-guest: all
	sh bench/run_mfbench.sh
	sh bench/run_guest.sh forkbench
	sh bench/run_guest.sh fsbench
	sh bench/run_guest.sh --smp 2 cecbench
	sh bench/run_guest.sh shellbench
	sh bench/run_guest.sh --smp 2 shellbench
	$(PYTHON) bench/srar_latency.py
	$(PYTHON) bench/srao_latency.py
	sh bench/run_threadbench.sh
	sh bench/run_blkbench.sh
	sh bench/run_swapbench.sh

# ---- fuzzing: libFuzzer targets with ASan/UBSan (clang); `make test` runs a short fixed smoke ----
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-DMCRK_HOST -Iinclude
FUZZ_BOOT_SRC := tests/fuzz/fuzz_boot.c $(sort $(wildcard boot/*.c)) kernel/lib/printk.c \
	kernel/lib/vsnprintf.c kernel/lib/kstrtou64.c tests/host/fake_arch.c
FUZZ_MCE_SRC := tests/fuzz/fuzz_mce.c $(addprefix kernel/mce/,severity.c addr.c decide.c format.c \
	inject_parse.c) kernel/lib/vsnprintf.c kernel/lib/ksyms.c
$(B)/fuzz_boot: $(FUZZ_BOOT_SRC) $(DEPS_STAMP)
	clang $(FUZZ_FLAGS) -o $@ $(FUZZ_BOOT_SRC)
$(B)/fuzz_mce: $(FUZZ_MCE_SRC) $(DEPS_STAMP)
	clang $(FUZZ_FLAGS) -o $@ $(FUZZ_MCE_SRC)
FUZZ_EINJ_SRC := tests/fuzz/fuzz_einj.c kernel/acpi/einj_table.c kernel/lib/printk.c \
	kernel/lib/vsnprintf.c tests/host/fake_arch.c tests/host/fake_acpi.c
$(B)/fuzz_einj: $(FUZZ_EINJ_SRC) $(DEPS_STAMP)
	clang $(FUZZ_FLAGS) -Itests/host -o $@ $(FUZZ_EINJ_SRC)
FUZZ_PCI_SRC := tests/fuzz/fuzz_pci.c $(addprefix kernel/pci/,pci.c msi.c pci_parse.c) \
	kernel/lib/printk.c kernel/lib/vsnprintf.c tests/host/fake_arch.c tests/host/fake_acpi.c \
	tests/host/fake_pci.c
$(B)/fuzz_pci: $(FUZZ_PCI_SRC) $(DEPS_STAMP)
	clang $(FUZZ_FLAGS) -Itests/host -o $@ $(FUZZ_PCI_SRC)
FUZZ_EXT2_SRC := tests/fuzz/fuzz_ext2.c kernel/fs/ext2_check.c kernel/lib/printk.c \
	kernel/lib/vsnprintf.c tests/host/fake_arch.c
$(B)/fuzz_ext2: $(FUZZ_EXT2_SRC) $(DEPS_STAMP)
	clang $(FUZZ_FLAGS) -Itests/host -o $@ $(FUZZ_EXT2_SRC)
# make fuzz [FUZZ_SECONDS=60]: each target explores that long, keeping its corpus in build/
FUZZ_SECONDS ?= 60
fuzz: $(FUZZ_BIN)
	sh scripts/fuzz.sh run $(FUZZ_SECONDS)

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
