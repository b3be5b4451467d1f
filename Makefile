# spapr-tce: the two entry points a user needs, plus helpers.
#   make demo    build, then run the CLI's demonstration
#   make check   build with ASan+UBSan, run every test (and the concurrent
#                ones again under TSan, and every test again in an optimised
#                build without sanitizers); closes with "N passed, N failed"
#   make bench   build optimised, run every benchmark, write bench/REPORT.md
#   make conformance-kernel   re-record the conformance answers of the real kernels
#   make integration   real programs (QEMU, DPDK) on the preload library;
#                closes with "N passed, N failed"
#   make fuzz    build the libFuzzer targets (clang) and run each for
#                FUZZ_SECONDS (default 60); fails on a crash
BUILD := build
NINJA := ninja
FUZZ_SECONDS := 60
FUZZ_TARGETS := $(shell sed -n "s/^\t'\(fuzz_[a-z0-9_]*\)',.*/\1/p" fuzz/meson.build)

.PHONY: all deps demo check check-asan check-tsan check-plain bench fuzz conformance-kernel integration clean

all: deps
	@[ -f $(BUILD)/release/build.ninja ] || \
		meson setup $(BUILD)/release --buildtype=release -Dtests=false
	$(NINJA) -C $(BUILD)/release

deps:
	@sh scripts/deps.sh

demo: all
	./$(BUILD)/release/tools/spapr-tce demo

check: deps
	@rm -f $(BUILD)/asan/meson-logs/testlog.json $(BUILD)/tsan/meson-logs/testlog.json \
		$(BUILD)/plain/meson-logs/testlog.json
	-@$(MAKE) --no-print-directory check-asan
	-@$(MAKE) --no-print-directory check-tsan
	-@$(MAKE) --no-print-directory check-plain
	@python3 scripts/test-summary.py $(BUILD)/asan $(BUILD)/tsan $(BUILD)/plain

check-asan:
	@[ -f $(BUILD)/asan/build.ninja ] || \
		meson setup $(BUILD)/asan --buildtype=debug -Db_sanitize=address,undefined \
			-Db_lundef=false -Dbench=false
	$(NINJA) -C $(BUILD)/asan
	meson test -C $(BUILD)/asan --print-errorlogs --num-processes 2

# TSan needs a fixed address-space layout on kernels with wide mmap
# randomisation; setarch -R gives it one.
check-tsan:
	@[ -f $(BUILD)/tsan/build.ninja ] || \
		meson setup $(BUILD)/tsan --buildtype=debugoptimized -Db_sanitize=thread \
			-Db_lundef=false -Dbench=false
	$(NINJA) -C $(BUILD)/tsan
	setarch -R meson test -C $(BUILD)/tsan --suite concurrent --print-errorlogs

# The code as it ships: sanitizer builds copy user memory with string
# instructions (src/common/safecopy.c says why), so the default copies,
# fills and a device's streaming stores run only in a build without them.
check-plain:
	@[ -f $(BUILD)/plain/build.ninja ] || \
		meson setup $(BUILD)/plain --buildtype=debugoptimized \
			-Db_lundef=false -Dbench=false
	$(NINJA) -C $(BUILD)/plain
	meson test -C $(BUILD)/plain --print-errorlogs --num-processes 2

# Runs every benchmark (output as it goes) and writes bench/REPORT.md and
# the plot bench/scaling.png (gnuplot: installed for this target only).
bench: deps
	@sh scripts/deps.sh bench
	@[ -f $(BUILD)/release/build.ninja ] || \
		meson setup $(BUILD)/release --buildtype=release -Dtests=false
	$(NINJA) -C $(BUILD)/release
	@python3 scripts/bench-report.py $(BUILD)/release

# Each target starts from its committed seeds (fuzz/corpus/<target>) and
# keeps what it finds in build/fuzz/corpus/<target>; a crash leaves its
# input in build/fuzz/artifacts/ and fails the target.
fuzz:
	@sh scripts/deps.sh fuzz
	@[ -f $(BUILD)/fuzz/build.ninja ] || \
		CC=clang meson setup $(BUILD)/fuzz --buildtype=debugoptimized \
			-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
			-Dc_args=-fno-sanitize-recover=all -Dtests=false -Dbench=false
	$(NINJA) -C $(BUILD)/fuzz
	@mkdir -p $(BUILD)/fuzz/artifacts
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$t; \
		echo "== $$t ($(FUZZ_SECONDS) s)"; \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		./$(BUILD)/fuzz/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) \
			-timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/artifacts/$$t- \
			$(BUILD)/fuzz/corpus/$$t fuzz/corpus/$$t \
			2>$(BUILD)/fuzz/$$t.log || \
			{ tail -60 $(BUILD)/fuzz/$$t.log; echo "FAIL: $$t"; exit 1; }; \
		grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)" \
			$(BUILD)/fuzz/$$t.log; \
		echo "corpus: $$(ls $(BUILD)/fuzz/corpus/$$t | wc -l) found + $$(ls fuzz/corpus/$$t | wc -l) seeds"; \
	done
	@echo "fuzz: $(words $(FUZZ_TARGETS)) passed, 0 failed"

# Re-record tests/conformance/expected/ from the real kernels (Linux 6.12,
# 64K and 4K host pages, on QEMU powernv9, see ../shared/oracle): one boot
# each; installs what it needs as root. FLAVOR=k612-4k for one of them.
conformance-kernel:
	sh scripts/conformance-kernel.sh

# Every tests/integration/<name>/run.sh against the release build: QEMU's
# pSeries passthrough, DPDK. Installs what they need as root; the QEMU test
# fetches a Debian ppc64el kernel and busybox once (build/debian-ppc64el).
integration: all
	@sh scripts/deps.sh integration
	@sh tests/integration/run.sh $(BUILD)/release

clean:
	rm -rf $(BUILD)
