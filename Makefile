# Front end for the CMake build. `make` builds build/folio.
#   make run    install missing packages, build, run the demo on the bundled model
#   make test   install missing packages, build, run the tests (plain, and ASan+UBSan
#               built by clang) and each libFuzzer harness briefly (FUZZ_TEST_SECONDS)
#   make fuzz   run each libFuzzer harness (built in build-asan) for FUZZ_SECONDS
#   make bench  build and run the benchmarks under bench/
#   make test-tsan  the concurrency tests (batcher, scheduler, thread pool,
#               server and inference) under ThreadSanitizer (not in make test)
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_SECONDS ?= 600
FUZZ_TEST_SECONDS ?= 15
CMAKE_GEN  ?= -G Ninja

.PHONY: all build deps js-deps run test test-release asan-build test-asan test-tsan test-fuzz fuzz fuzz-build bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD)

run: build
	@scripts/run-demo.sh $(BUILD)/folio

test: test-release test-asan test-fuzz

# The official ollama and openai npm clients for tests/js (versions pinned by
# its package-lock.json); reinstalled when the lock file changes.
JS_STAMP = tests/js/node_modules/.folio-installed
js-deps: deps $(JS_STAMP)
$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	@cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test-release: build js-deps
	@cd $(BUILD) && ctest --output-on-failure --no-tests=error

# The ASan+UBSan tree is built by clang with libFuzzer's coverage
# instrumentation: it runs the test suite and holds the fuzz targets (one
# build for both keeps make test within its time).
asan-build: deps
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
		-DFOLIO_SANITIZE=ON -DFOLIO_FUZZ=ON -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" >/dev/null
	@cmake --build $(ASAN_BUILD)

test-asan: asan-build js-deps
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure --no-tests=error

TSAN_TESTS = Batcher*:Scheduler*:ThreadPool*:Matmul*:Server*:Inference*:OpenAI*:JsClients*:Registry*
test-tsan: deps js-deps
	@cmake -S . -B $(TSAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DFOLIO_TSAN=ON \
		-DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" >/dev/null
	@cmake --build $(TSAN_BUILD)
	@cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/tests/tsan.supp" \
		./folio_tests --gtest_filter='$(TSAN_TESTS)'

# libFuzzer harnesses (fuzz/README.md), built in the ASan tree.
fuzz-build: asan-build

fuzz: asan-build
	@fuzz/run.sh $(ASAN_BUILD) $(FUZZ_SECONDS)

# A fixed seed: the same inputs on every run (a new finding is a make fuzz matter).
test-fuzz: asan-build
	@FUZZ_SEED=1 fuzz/run.sh $(ASAN_BUILD) $(FUZZ_TEST_SECONDS)

bench: build
	@bench/run.sh $(BUILD)/folio

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
