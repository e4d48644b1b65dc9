# Top-level entry points. `make` builds build/detente; `make run` and
# `make test` also install missing Debian packages first (scripts/setup.sh).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all build setup run test asan fuzz bench demo clean

all: build

build:
	@command -v cmake >/dev/null && pkg-config --exists jansson libsodium libmicrohttpd || scripts/setup.sh
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build build -j$(JOBS)

setup:
	scripts/setup.sh

run: setup build
	scripts/run.sh

asan: setup
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDETENTE_SANITIZE=ON >/dev/null
	cmake --build build-asan -j$(JOBS)

test: asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j$(JOBS)

fuzz: setup
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DDETENTE_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j$(JOBS)
	@echo "fuzz targets in build-fuzz/: run e.g. build-fuzz/fuzz_stix fuzz/corpus/fuzz_stix"

bench: setup build
	@echo "benchmark programs are build/bench_*; bench/README.md says how to run each"

demo: setup build
	scripts/demo.sh

clean:
	rm -rf build build-asan build-fuzz
