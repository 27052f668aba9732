# npio: the two commands are `make run` (demo) and `make test` (every test).
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60
DEV_FLAGS  = -G Ninja -DNPIO_DEVELOPER_MODE=ON -DNPIO_WERROR=ON

.PHONY: all deps deps-build build run test test-release test-asan test-long bench fuzz format lint clean

all: build

deps:
	bash scripts/install-deps.sh

deps-build:
	bash scripts/install-deps.sh --build-only

build: deps-build
	cmake -S . -B $(BUILD) $(DEV_FLAGS) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

run: build
	bash examples/run-demo.sh $(BUILD)

test: deps
	$(MAKE) build
	$(MAKE) test-release
	$(MAKE) test-asan

test-release:
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE long

test-asan:
	cmake -S . -B $(ASAN_BUILD) $(DEV_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNPIO_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) -LE long

# Tests too slow or too large for every run (> 4 GiB files).
test-long: build
	cd $(BUILD) && ctest --output-on-failure -L long

bench: build
	bash bench/run.sh $(BUILD)

fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DNPIO_DEVELOPER_MODE=ON \
	  -DNPIO_FUZZ=ON -DNPIO_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

lint:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
