# tests/fuzz: libFuzzer harnesses (clang).  `make fuzz FUZZ_SECS=60` fuzzes;
# `make fuzz-regress` replays the seed corpus (part of `make check`).
FUZZ_BUILD := build-fuzz
FUZZ_SRC := $(filter-out src/cli/%,$(SRC))
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined
FUZZ_SECS ?= 60
$(FUZZ_BUILD)/fuzz_load: tests/fuzz/fuzz_load.c $(FUZZ_SRC) $(BIOS_BLOB)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(LIBS)
fuzz-seeds: all
	@mkdir -p $(FUZZ_BUILD)/seeds
	@for f in $(BUILD)/guests/*.bzImage $(BUILD)/guests/*.elf $(BUILD)/guests/*.img $(BUILD)/bench/trivial.elf; do \
	  [ -f "$$f" ] && [ $$(stat -c %s "$$f") -lt 1000000 ] && \
	  { printf '\000'; cat "$$f"; } > $(FUZZ_BUILD)/seeds/$$(basename $$f) || true; done
fuzz: $(FUZZ_BUILD)/fuzz_load fuzz-seeds
	@mkdir -p $(FUZZ_BUILD)/corpus
	$(FUZZ_BUILD)/fuzz_load -max_total_time=$(FUZZ_SECS) -max_len=262144 -rss_limit_mb=4096 \
	  $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/seeds
fuzz-regress: $(FUZZ_BUILD)/fuzz_load fuzz-seeds
	$(FUZZ_BUILD)/fuzz_load -runs=0 $(FUZZ_BUILD)/seeds tests/fuzz/crashes
.PHONY: fuzz fuzz-seeds fuzz-regress
