# spapr-tce: the two entry points a user needs, plus helpers.
#   make demo    build, then run the CLI's demonstration
#   make check   build with ASan+UBSan, run every test (and the concurrent
#                ones again under TSan); closes with "N passed, N failed"
#   make bench   build optimised, run every benchmark
#   make conformance-kernel   re-record the conformance answers of the real kernel
BUILD := build
NINJA := ninja

.PHONY: all deps demo check check-asan check-tsan bench conformance-kernel clean

all: deps
	@[ -f $(BUILD)/release/build.ninja ] || \
		meson setup $(BUILD)/release --buildtype=release -Dtests=false
	$(NINJA) -C $(BUILD)/release

deps:
	@sh scripts/deps.sh

demo: all
	./$(BUILD)/release/tools/spapr-tce demo

check: deps
	@rm -f $(BUILD)/asan/meson-logs/testlog.json $(BUILD)/tsan/meson-logs/testlog.json
	-@$(MAKE) --no-print-directory check-asan
	-@$(MAKE) --no-print-directory check-tsan
	@python3 scripts/test-summary.py $(BUILD)/asan $(BUILD)/tsan

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

bench: deps
	@[ -f $(BUILD)/release/build.ninja ] || \
		meson setup $(BUILD)/release --buildtype=release -Dtests=false
	$(NINJA) -C $(BUILD)/release
	@for b in $(BUILD)/release/bench/*/bench-*; do \
		[ -f "$$b" ] && [ -x "$$b" ] || continue; echo "== $$b"; "$$b" || exit 1; done

# Re-record tests/conformance/expected/ from the real kernel (Linux 6.12 on
# QEMU powernv9, see ../shared/oracle); installs what it needs as root.
conformance-kernel:
	sh scripts/conformance-kernel.sh

clean:
	rm -rf $(BUILD)
