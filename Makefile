# The two commands of the README:
#   make run    set up (if needed), build, and run the main job: `octo devnet`, a whole
#               network on this machine (4 validators, an orchestrator, 3 providers) until Ctrl-C
#   make check  set up (if needed), build, and run the whole test suite (dev, then ASan+UBSan)
# Other targets: build, asan, release, fuzz, bench, format, clean.

PRESET ?= dev
OCTO := build/$(PRESET)/src/cli/octo
# DEVNET_FLAGS passes options to `octo devnet` (e.g. "--dir /tmp/dn --port 9090").
DEVNET_FLAGS ?=

.PHONY: all setup build run check check-dev check-asan asan release fuzz bench format clean

all: build

setup:
	@sh scripts/setup

build: setup
	cmake --preset $(PRESET)
	cmake --build --preset $(PRESET)

run: build
	$(OCTO) devnet $(DEVNET_FLAGS)

check: check-dev check-asan

check-dev: setup
	cmake --preset dev
	cmake --build --preset dev
	ctest --preset dev

check-asan: setup
	cmake --preset asan
	cmake --build --preset asan
	ctest --preset asan

release:
	$(MAKE) build PRESET=release

fuzz: setup
	cmake --preset fuzz
	cmake --build --preset fuzz

bench: setup
	cmake --preset release
	cmake --build --preset release
	@for b in build/release/bench/bench_*; do [ -x "$$b" ] && "$$b" --quick; done

format:
	find src tests fuzz bench -name '*.c' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf build
