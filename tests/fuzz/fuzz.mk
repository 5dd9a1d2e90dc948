# tests/fuzz: libFuzzer harnesses (clang), one per guest-facing handler:
#   fuzz_load      boot-format probes, inspect and loaders on any file
#   fuzz_bios      the pseudo-BIOS INT services on any registers and memory
#   fuzz_emul      fetch, decoder, classifier and nobios's own completion handlers
#   fuzz_pagewalk  the guest page-table walker on any tables
#   fuzz_pio       every port-I/O device through the bus
#   fuzz_gdb       the gdb stub's framing and packets
#   fuzz_args      the command-line parser
#   fuzz_virtio    virtio-blk, virtio-rng and virtio-net through the virtio-mmio registers and rings
#   fuzz_p9        the 9P2000.L server on a writable scratch export
#
#   make fuzz              each target for FUZZ_SECS seconds (default 60)
#   make fuzz FUZZ_SECS=5  what CI runs (.ci/run)
#   make fuzz-regress      replay the seeds and tests/fuzz/crashes/TARGET/
# `make check` (tests/run.sh unit) replays seeds and crashes and runs a
# fixed-seed batch of new inputs per target.  A crash, leak, sanitizer
# report or per-input timeout fails; the input that did it is written to
# build-fuzz/artifacts/: add it to tests/fuzz/crashes/TARGET/ with the fix.
FUZZ_BUILD := build-fuzz
FUZZ_TARGETS := $(shell awk '!/^\#/ && NF && $$1 != "common" { print $$1 }' tests/fuzz/targets)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
FUZZ_LIB_SRC := $(LIB_SRC)
FUZZ_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_LIB := $(FUZZ_BUILD)/libnobios-fuzz.a
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Isrc -Itests/fuzz $(FUZZ_SAN)
FUZZ_SECS ?= 60
# Options per target (and "common"): tests/fuzz/targets.
fuzz_opts = $$(awk -v t=$$t '$$1 == "common" || $$1 == t { $$1 = ""; printf "%s ", $$0 }' tests/fuzz/targets)

# The library once, instrumented for coverage (fuzzer-no-link); each
# harness links it whole (the registration sections need every object).
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(FUZZ_LIB): $(FUZZ_OBJ) $(BIOS_BLOB) $(EXEC_INIT_BLOB)
	@rm -f $@
	ar rcs $@ $^
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) $(wildcard tests/fuzz/*.h)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< -Wl,--whole-archive $(FUZZ_LIB) \
	  -Wl,--no-whole-archive $(LIBS)
-include $(FUZZ_OBJ:.o=.d)
# src/cli/version.c includes the generated git_describe.h (src/cli/cli.mk).
$(FUZZ_BUILD)/obj/src/cli/version.o: $(BUILD)/gen/git_describe.h
$(FUZZ_BUILD)/obj/src/cli/version.o: FUZZ_CFLAGS += -I$(BUILD)/gen

# Seeds: the test guests and the corpus headers (load), and inputs shaped
# for each harness (tests/fuzz/seeds.py).  The corpus is optional.
fuzz-seeds: all
	@python3 tests/fuzz/seeds.py $(FUZZ_BUILD)/seeds $(BUILD) $(CORPUS)

fuzz-build: $(FUZZ_BINS) fuzz-seeds

# One line per target at the end: executions, executions per second.
fuzz: fuzz-build
	@mkdir -p $(FUZZ_BUILD)/artifacts $(FUZZ_BUILD)/logs
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t tests/fuzz/crashes/$$t; \
	  echo "== $$t for $(FUZZ_SECS) s"; \
	  $(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_SECS) -print_final_stats=1 $(fuzz_opts) \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
	    $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/seeds/$$t tests/fuzz/crashes/$$t \
	    > $(FUZZ_BUILD)/logs/$$t.log 2>&1; rc=$$?; \
	  grep -E 'ERROR|SUMMARY|runtime error|Test unit written' $(FUZZ_BUILD)/logs/$$t.log | head -20; \
	  if [ $$rc != 0 ]; then echo "FAIL $$t (status $$rc): $(FUZZ_BUILD)/logs/$$t.log"; exit 1; fi; \
	done
	@for t in $(FUZZ_TARGETS); do \
	  awk -v t=$$t '/^stat::number_of_executed_units/ { n = $$2 } /^stat::average_exec_per_sec/ { r = $$2 } \
	    END { printf "%-14s %10d executions, %7d per second\n", t, n, r }' $(FUZZ_BUILD)/logs/$$t.log; \
	done

fuzz-regress: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p tests/fuzz/crashes/$$t; \
	  $(FUZZ_BUILD)/$$t -runs=0 $(fuzz_opts) $(FUZZ_BUILD)/seeds/$$t \
	    tests/fuzz/crashes/$$t || exit 1; \
	done

.PHONY: fuzz fuzz-seeds fuzz-build fuzz-regress
