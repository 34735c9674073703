# CivicMap: `make run` installs what is missing, builds, loads the bundled data and serves;
# `make test` runs every test (unit, HTTP, end-to-end with GDAL and the benchmark checker).
SHELL := /bin/bash
DATABASE ?= var/civicmap.sqlite
HOST ?= 127.0.0.1
PORT ?= 8080
SHARED ?= ../shared

.PHONY: run test deps bench-deps test-deps release debug database unit e2e bench bench-smoke load load-smoke clean

run: deps release database
	.build/release/civicmap serve --database $(DATABASE) --host $(HOST) --port $(PORT)

test: test-deps debug unit bench-smoke load-smoke e2e

deps:
	@scripts/install-deps.sh run

bench-deps:
	@scripts/install-deps.sh bench

test-deps:
	@scripts/install-deps.sh test

release:
	swift build -c release --product civicmap

debug:
	swift build --product civicmap

# Created once from the bundled data; delete the file to start again.
database:
	@[ -f $(DATABASE) ] || .build/release/civicmap init --database $(DATABASE)

unit:
	swift test

e2e:
	CIVICMAP_BIN=.build/debug/civicmap SHARED=$(SHARED) Tests/e2e/run.sh

# The benchmark of ../shared/bench (about 10 minutes; run nothing else meanwhile).
bench: bench-deps release
	SHARED=$(SHARED) scripts/bench.sh

# The same command small and short, as CI runs it: proves it works, measures nothing.
bench-smoke:
	SHARED=$(SHARED) BENCH_N=20000 BENCH_RUNS=1 BENCH_DURATION=2s BENCH_BIN=.build/debug/civicmap \
	  BENCH_OUT=var/bench-smoke scripts/bench.sh >/dev/null && echo "bench-smoke: ok"

# Ten minutes of mixed reads and writes on the benchmark database: throughput, errors, memory.
load: bench-deps release
	SHARED=$(SHARED) scripts/load.sh

# The same, two 3-second slices on bench-smoke's 20,000 rows: proves the command in CI.
load-smoke:
	SHARED=$(SHARED) BENCH_N=20000 BENCH_BIN=.build/debug/civicmap LOAD_SLICES=2 LOAD_SLICE=3s \
	  BENCH_OUT=var/load-smoke scripts/load.sh >/dev/null && echo "load-smoke: ok"

clean:
	rm -rf .build var
