# nobios - build, test, bench.  `make help` lists the targets.
CC       ?= gcc
BUILD    ?= build
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
            -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
            -D_GNU_SOURCE -fno-strict-aliasing -Isrc -MMD -MP
# libunicorn and the decompression libraries are dlopen()ed on first use
# (src/emul/uc_dl.h, src/boot/decomp_dl.h); unit tests link the compressors.
# libseccomp builds the sandbox's filter (src/util/sandbox.c).
LIBS     := -lpthread -lm -lseccomp
TEST_LIBS := -lcmocka -llz4 -lz -llzma -lzstd -lbz2

SAN ?=
ifeq ($(SAN),1)
  BUILD    := build-asan
  CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS  += -fsanitize=address,undefined
endif

SRC      := $(sort $(wildcard src/*/*.c))
# main.c is the front end; the rest of src/cli/ (the argument parser) is
# library code that the fuzzer and the unit tests link.
CLI_SRC  := src/cli/main.c
LIB_SRC  := $(filter-out $(CLI_SRC),$(SRC))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libnobios.a
BIN      := $(BUILD)/nobios

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)

# Registration sections need every object: link the archive whole.
WHOLE    := -Wl,--whole-archive $(LIB) -Wl,--no-whole-archive

all: $(BIN) guests

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(WHOLE) $(LIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(WHOLE) $(LIBS) $(TEST_LIBS)

unit: $(UNIT_BIN)

# Probe guests and firmware: each tests/guests/*.mk and src/bios/*.mk adds
# its own targets to GUESTS.
GUESTS :=
GUEST_CC    := gcc
GUEST_CFLAGS := -ffreestanding -fno-pic -fno-pie -nostdlib -fno-stack-protector \
                -fno-asynchronous-unwind-tables -fno-builtin -O2 -Wall -Werror \
                -Itests/guests -mno-red-zone
-include $(sort $(wildcard tests/guests/*.mk))
-include $(sort $(wildcard src/*/*.mk))
-include $(sort $(wildcard guests/*/*.mk))
-include bench/bench.mk
-include tests/fuzz/fuzz.mk
guests: $(GUESTS)

CORPUS ?= $(BUILD)/corpus
corpus: $(CORPUS)/SHA256SUMS
$(CORPUS)/SHA256SUMS:
	@# setup.sh installed the tools; build.sh only downloads the guest packages
	SKIP_APT=1 bash ../shared/corpus/build.sh $(abspath $(CORPUS))

# GRUB 2 test disks (tests/boot/grub.sh) from Debian's grub-pc-bin and
# grub-common, downloaded into $(BUILD)/grub/debs, never installed.
GRUB_IMAGES ?= $(BUILD)/grub
grub-images: guests
	scripts/grub-images.sh $(GRUB_IMAGES) $(BUILD)/guests $(CORPUS)

# iPXE's .lkrn (tests/boot/ipxe.sh) from Debian's ipxe package.
IPXE_IMAGE ?= $(BUILD)/ipxe
ipxe-image:
	scripts/ipxe-image.sh $(IPXE_IMAGE)

# The README's test command.  Unit tests, then the boot tests on this
# machine (their KVM tests SKIPPED loudly without /dev/kvm), then the boot
# tests again inside the SVM test host (tests/svm/run), then one summary.
check: all unit fuzz-build
	@$(MAKE) --no-print-directory corpus || echo "WARNING: corpus build failed: corpus tests will be SKIPPED"
	@$(MAKE) --no-print-directory grub-images || echo "WARNING: no GRUB test disks: tests/boot/grub.sh will be SKIPPED"
	@$(MAKE) --no-print-directory ipxe-image || echo "WARNING: no iPXE image: tests/boot/ipxe.sh will be SKIPPED"
	@$(MAKE) --no-print-directory virtio-modules || echo "WARNING: no virtio modules: tests/boot/virtio.sh will be SKIPPED"
	@$(MAKE) --no-print-directory exec-kernel || echo "WARNING: no kernel with 9p: tests/boot/exec_9p.sh will be SKIPPED"
	@BUILD=$(BUILD) CORPUS=$(CORPUS) tests/run.sh

# Only the boot tests, only in the SVM test host.
check-svm: all
	@$(MAKE) --no-print-directory corpus || echo "WARNING: corpus build failed: corpus tests will be SKIPPED"
	@$(MAKE) --no-print-directory grub-images || echo "WARNING: no GRUB test disks: tests/boot/grub.sh will be SKIPPED"
	@$(MAKE) --no-print-directory ipxe-image || echo "WARNING: no iPXE image: tests/boot/ipxe.sh will be SKIPPED"
	@$(MAKE) --no-print-directory virtio-modules || echo "WARNING: no virtio modules: tests/boot/virtio.sh will be SKIPPED"
	@$(MAKE) --no-print-directory exec-kernel || echo "WARNING: no kernel with 9p: tests/boot/exec_9p.sh will be SKIPPED"
	@BUILD=$(BUILD) CORPUS=$(CORPUS) tests/run.sh svm

# The virtio modules of the corpus's kernel, for tests/boot/virtio.sh (the
# corpus keeps the kernel image only; scripts/virtio_modules.sh).
virtio-modules: $(BUILD)/virtio-ko/KERNEL
$(BUILD)/virtio-ko/KERNEL: $(CORPUS)/SHA256SUMS scripts/virtio_modules.sh
	BUILD=$(BUILD) CORPUS=$(CORPUS) scripts/virtio_modules.sh

# Debian's generic kernel and its modules (it has 9p; the corpus's cloud
# kernel has not), for tests/boot/exec_9p.sh (scripts/exec_kernel.sh).
exec-kernel: $(BUILD)/exec-kernel/RELEASE
$(BUILD)/exec-kernel/RELEASE: scripts/exec_kernel.sh
	BUILD=$(BUILD) scripts/exec_kernel.sh

check-asan:
	$(MAKE) SAN=1 check

# The fuzz harness is built for every `make check`: it replays the seeds and
# a fixed-seed run of new inputs (tests/run.sh).
fuzz-build: $(FUZZ_BUILD)/fuzz_load fuzz-seeds

check-slow: all
	@BUILD=$(BUILD) CORPUS=$(CORPUS) SLOW=1 tests/run.sh slow

bench: all
	BUILD=$(BUILD) CORPUS=$(CORPUS) bench/run.sh

format:
	clang-format -i $(SRC) $(wildcard src/*/*.h) $(UNIT_SRC)

# Static analysis, kept green (CI runs it): cppcheck over the whole tree,
# clang-tidy (.clang-tidy) per file, again only for files whose object is
# newer than their last clean analysis; `make -j2 lint` runs them in
# parallel.  Suppressions say why, where they are (--inline-suppr).
LINT_STAMPS := $(SRC:%.c=$(BUILD)/lint/%.ok)
lint: lint-cppcheck $(LINT_STAMPS)
lint-cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --suppress=missingIncludeSystem -Isrc $(SRC)
$(BUILD)/lint/%.ok: %.c $(BUILD)/%.o .clang-tidy
	@mkdir -p $(dir $@)
	clang-tidy --quiet $< -- $(filter-out -MMD -MP,$(CFLAGS)) 2>/dev/null
	@touch $@

# Install, uninstall, release tarball (README "Install").  PREFIX and
# DESTDIR as every GNU-style package: `make install PREFIX=/usr/local`, or a
# staged install with DESTDIR=/tmp/root (debian/rules: PREFIX=/usr).  The
# pseudo-BIOS firmware is linked into the binary, so there is no firmware
# file; the demo guest is installed so that the README's first command works
# from an installed copy.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/nobios
PKGLIBDIR   ?= $(PREFIX)/lib/nobios
# bash-completion loads completions on demand from here (its pkg-config
# completionsdir under PREFIX; /usr/local/share is on its default path)
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL     ?= install
NOBIOS_VERSION := $(shell sed -n 's/^\#define NOBIOS_VERSION "\(.*\)"/\1/p' src/nobios.h)
INSTALLED   := $(BINDIR)/nobios $(MANDIR)/man1/nobios.1 $(BASHCOMPDIR)/nobios \
               $(DOCDIR)/README.md $(PKGLIBDIR)/demo.bzImage

# `make && sudo make install`: install copies what `make` built and builds
# nothing, so root never compiles into the user's tree nor runs git there
# (git describe refreshes .git/index: a root-owned index would lock the
# user out of git).
install:
	@test -x $(BIN) && test -f $(BUILD)/guests/demo.bzImage || \
	  { echo "make install: $(BIN) or the demo guest is not built: run make first" >&2; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
	  $(DESTDIR)$(DOCDIR) $(DESTDIR)$(PKGLIBDIR)
	$(INSTALL) -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/nobios
	$(INSTALL) -m 0644 doc/nobios.1 $(DESTDIR)$(MANDIR)/man1/nobios.1
	$(INSTALL) -m 0644 completion/nobios $(DESTDIR)$(BASHCOMPDIR)/nobios
	$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(INSTALL) -m 0644 $(BUILD)/guests/demo.bzImage $(DESTDIR)$(PKGLIBDIR)/demo.bzImage

# Removes what install put there, and the two directories that are nobios's
# own; shared ones (bin, man1, completions) stay, as other packages use them.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(PKGLIBDIR) 2>/dev/null || true

# The release tarball $(BUILD)/nobios-VERSION.tar.gz: every file git
# tracks or would track (not what .gitignore excludes), as in the working
# tree; outside a git checkout, the tree minus build output.  Reproducible:
# sorted, owner 0, mtime of the last commit (or SOURCE_DATE_EPOCH), gzip -n.
DIST        := nobios-$(NOBIOS_VERSION)
DIST_EPOCH  ?= $(or $(SOURCE_DATE_EPOCH),$(if $(wildcard .git),$(shell git log -1 --format=%ct 2>/dev/null)),0)
dist:
	@mkdir -p $(BUILD)
	@if [ -e .git ]; then git ls-files -co --exclude-standard -z; \
	else find . -path ./.git -prune -o -path './build*' -prune -o -type f -printf '%P\0'; \
	fi | sort -z > $(BUILD)/dist.files
	tar --null -T $(BUILD)/dist.files --sort=name --owner=0 --group=0 --numeric-owner \
	  --mtime=@$(DIST_EPOCH) --transform 's,^,$(DIST)/,' -cf - | gzip -9n > $(BUILD)/$(DIST).tar.gz
	@rm -f $(BUILD)/dist.files
	@echo "$(BUILD)/$(DIST).tar.gz"

.PHONY: install uninstall dist

clean:
	rm -rf build build-asan

help:
	@echo "make            build nobios and the probe guests"
	@echo "make check      all tests (unit, boot, corpus; boot tests here and in the SVM test host)"
	@echo "make check-svm  the boot tests in the SVM test host only (tests/svm/run)"
	@echo "make check-asan the same under ASan+UBSan"
	@echo "make check-slow full Linux boots (tens of minutes on emulating hosts)"
	@echo "make bench      benchmarks against QEMU (bench/README.md)"
	@echo "make corpus     third-party guests from ../shared/corpus/build.sh"
	@echo "make grub-images GRUB 2 test disks (scripts/grub-images.sh)"
	@echo "make ipxe-image iPXE's ipxe.lkrn (scripts/ipxe-image.sh)"
	@echo "make install    PREFIX=/usr/local DESTDIR= (make uninstall undoes it)"
	@echo "make dist       release tarball $(BUILD)/nobios-VERSION.tar.gz"

.PHONY: all unit guests corpus exec-kernel grub-images ipxe-image fuzz-build check check-svm check-asan check-slow bench format lint lint-cppcheck clean help
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
