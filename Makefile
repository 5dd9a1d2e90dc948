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
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(WHOLE) $(LIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(WHOLE) $(LIBS) $(TEST_LIBS)

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

# The README's test command.  Unit tests, then the boot tests on this
# machine (their KVM tests SKIPPED loudly without /dev/kvm), then the boot
# tests again inside the SVM test host (tests/svm/run), then one summary.
check: all unit fuzz-build
	@$(MAKE) --no-print-directory corpus || echo "WARNING: corpus build failed: corpus tests will be SKIPPED"
	@BUILD=$(BUILD) CORPUS=$(CORPUS) tests/run.sh

# Only the boot tests, only in the SVM test host.
check-svm: all
	@$(MAKE) --no-print-directory corpus || echo "WARNING: corpus build failed: corpus tests will be SKIPPED"
	@BUILD=$(BUILD) CORPUS=$(CORPUS) tests/run.sh svm

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

.PHONY: all unit guests corpus fuzz-build check check-svm check-asan check-slow bench format lint lint-cppcheck clean help
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
