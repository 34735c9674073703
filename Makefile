# CivicMap: `make run` installs what is missing, builds, loads the bundled data and serves;
# `make test` runs every test (unit, HTTP, end-to-end with GDAL and the benchmark checker).
SHELL := /bin/bash
DATABASE ?= var/civicmap.sqlite
HOST ?= 127.0.0.1
PORT ?= 8080
SHARED ?= ../shared

.PHONY: run test deps test-deps release debug database unit e2e clean

run: deps release database
	.build/release/civicmap serve --database $(DATABASE) --host $(HOST) --port $(PORT)

test: test-deps debug unit e2e

deps:
	@scripts/install-deps.sh run

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

clean:
	rm -rf .build var
