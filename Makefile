# hisgw: `make serve` runs the gateway on its embedded default; `make test` passes the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock

.PHONY: setup serve test lint typecheck unit bench bench-list soak dll dll-win32 clean lock

# Exactly the tested set: every runtime and dev package, pip and the build backend, pinned in $(LOCK).
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c $(LOCK) --upgrade pip
	$(BIN)/python -m pip install -q -r $(LOCK) --build-constraint $(LOCK) -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# The embedded-DLL library a HIS loads in place of its vendor's DLL (dll/PROTOCOL.md).
CFLAGS_DLL := -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O2
build/libhisgw_dll.so: dll/hisgw_dll.c dll/messages_gbk.h
	mkdir -p build
	gcc $(CFLAGS_DLL) -fPIC -shared -fvisibility=hidden -o $@ dll/hisgw_dll.c -lpthread -lcrypto

dll: build/libhisgw_dll.so

# 32-bit Windows build check with __stdcall exports, where Debian's mingw-w64 is installed.
dll-win32: dll/hisgw_dll.c dll/messages_gbk.h
	mkdir -p build
	i686-w64-mingw32-gcc -std=c99 -Wall -Wextra -Werror -O2 -shared -o build/hisgw_dll.dll dll/hisgw_dll.c \
		-Wl,--kill-at,--output-def,build/hisgw_dll.def -lws2_32 -lbcrypt

# Embedded default: SQLite file var/hisgw.sqlite, the demo county's policy and reference data, every listener.
# `make serve PORT=9080 DLL_PORT=9081 HL7_PORT=9575` moves the listeners.
PORT ?= 8080
DLL_PORT ?= 8081
HL7_PORT ?= 2575
serve: setup
	mkdir -p var
	$(BIN)/hisgw demo load
	@echo "make serve: HTTP on 127.0.0.1:$(PORT), DLL on $(DLL_PORT), HL7 on $(HL7_PORT) (make serve PORT=… DLL_PORT=… HL7_PORT=…)"
	$(BIN)/hisgw serve --init --log-format console --port $(PORT) --dll-port $(DLL_PORT) --hl7-port $(HL7_PORT)

lint: setup
	$(BIN)/ruff check gateway tests simulators bench examples

typecheck: setup
	$(BIN)/mypy

unit: setup dll
	$(BIN)/pytest

test: lint typecheck unit

# Every path beside its bare baseline; prints each row as it is measured with the time left, then the table, and
# writes var/bench.json. `make bench ROW=http-2304` measures one row (and its baseline); `make bench-list` lists them.
bench: setup
	$(BIN)/python -m bench.run $(if $(ROW),--row $(ROW))

bench-list: setup
	$(BIN)/python -m bench.run --list

# Re-resolve $(LOCK) from PyPI for Python 3.11, keeping its pins; LOCK_ARGS="--upgrade-package NAME" moves one.
# pip and setuptools (pyproject's build-system) are pinned too. Needs PyPI; `make setup` never runs it.
lock:
	$(PYTHON) -m venv var/lock-tool
	var/lock-tool/bin/python -m pip install -q uv==0.13.9
	printf 'pip\nsetuptools>=68\n' | var/lock-tool/bin/uv pip compile --no-config --python-version 3.11 \
		--extra dev --custom-compile-command 'make lock' $(LOCK_ARGS) -o $(LOCK) pyproject.toml -

# Normal traffic through every dialect while a hostile client holds 500 stalled connections and a slowloris
# (bench/soak.py; 10 minutes, SOAK_SECONDS=120 for a shorter one); writes var/soak.json.
SOAK_SECONDS ?= 600
soak: setup
	$(BIN)/python -m bench.soak --seconds $(SOAK_SECONDS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
