# plcgw - the two commands: `make run` and `make test`.
#
#   make run    install what is missing, build, start the gateway on the demo
#               config (http://127.0.0.1:8000)
#   make test   install, build the normal, sanitizer, hardened Release and fuzz
#               builds, run every test on the normal and ASan+UBSan builds, the
#               unit tests on Release, the threaded parts (engine, HTTP server,
#               live channel) under TSan, and each fuzzer briefly

MAKEFLAGS  += --no-print-directory
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECS  ?= 15
CONFIG     ?= config/demo.json
# Sanitizer runs stop at the first finding and print a stack trace.
# Fontconfig's process-wide caches (kept by design) are not leaks
# (tests/lsan.supp); G_SLICE=always-malloc lets LSan see glib objects.
SAN_ENV     = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
              LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp G_SLICE=always-malloc \
              UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
FUZZERS     = json addr tagmap write s7_server s7_client sio http ws s7p_codec s7p_client s7p_server ads_codec

.PHONY: all run test bench bootstrap build build-asan build-tsan build-release build-fuzz fuzz clean

all: build

bootstrap:
	@scripts/bootstrap

# The browser HMI (web/: Vite, TypeScript, Preact) into web/dist, which the
# gateway serves at / (config "web"); then the C build.
build: bootstrap
	@bash web/build.sh
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j$(JOBS)

build-asan: bootstrap
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGW_SANITIZE=address,undefined >/dev/null
	@cmake --build build-asan -j$(JOBS)

# ThreadSanitizer over the threaded parts: the engine, the live channel
build-tsan: bootstrap
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_SANITIZE=thread >/dev/null
	@cmake --build build-tsan -j$(JOBS) --target plcgw engine_test_engine http_test_server s7_test_client_server s7_test_server_cpu s7_test_server_blocks s7_test_server_tmct sim_test_sim s7plus_test_server s7plus_test_client s7plus_test_client_server engine_test_engine_s7plus

# What a packager builds: Release (-O3) with Debian's hardening flags
# (dpkg-buildflags: _FORTIFY_SOURCE=2, stack protector, format security);
# it must build without a warning. The benchmarks run this build.
build-release: bootstrap
	@CFLAGS="$$(dpkg-buildflags --get CFLAGS) $$(dpkg-buildflags --get CPPFLAGS)" \
	  LDFLAGS="$$(dpkg-buildflags --get LDFLAGS)" \
	  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-release -j$(JOBS)

build-fuzz: bootstrap
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DGW_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j$(JOBS)

run: build
	./build/plcgw serve --config $(CONFIG)

# Each fuzzer starts from the committed corpus; what it finds new goes to
# build-fuzz/corpus, crashes to build-fuzz/artifacts.
fuzz: build-fuzz
	@mkdir -p build-fuzz/artifacts
	@for f in $(FUZZERS); do \
	  mkdir -p build-fuzz/corpus/$$f; \
	  echo "fuzz $$f: $(FUZZ_SECS) s"; \
	  build-fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECS) -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/artifacts/$$f- build-fuzz/corpus/$$f \
	    tests/fuzz/corpus/$$f 2>build-fuzz/fuzz_$$f.log \
	    || { tail -40 build-fuzz/fuzz_$$f.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' build-fuzz/fuzz_$$f.log; \
	done

test: build build-asan build-tsan build-release
	ctest --test-dir build --output-on-failure -j$(JOBS)
	ctest --test-dir build-release --output-on-failure -j$(JOBS) -L unit
	$(SAN_ENV) ctest --test-dir build-asan --output-on-failure -j$(JOBS)
	TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --test-dir build-tsan --output-on-failure -R 'engine_test_engine|http_test_server|s7_test_client_server|s7_test_server_(cpu|blocks|tmct)|sim_test_sim$$|s7plus_test_(server|client)|engine_test_engine_s7plus|^s7_cli$$|socketio|hostile|rig_workflow|watermaker_dts'
	@$(MAKE) --no-print-directory fuzz

# Figures, not pass/fail: run on a quiet machine and compare runs.
bench: build-release
	build-release/bench_s7_live 2000
	build-release/bench_s7plus_live 2000
	build-release/bench_modbus_scan 1000
	build-release/bench_store_points 100000
	build-release/bench_report 50 1000
	/usr/bin/python3 bench/report_reportlab.py 50
	bench/rig_record.sh build-release 20
	bench/api_status.sh build-release 10
	bench/idle_conns.sh build-release 10
	bench/live_fanout.sh build-release 15 10 100 1000

clean:
	rm -rf build build-asan build-tsan build-release build-fuzz
