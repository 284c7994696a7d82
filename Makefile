# hisgw: `make serve` runs the gateway on its embedded default; `make test` passes the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup serve test lint typecheck unit bench soak dll dll-win32 clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
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
serve: setup
	$(BIN)/hisgw demo load
	$(BIN)/hisgw serve --log-format console

lint: setup
	$(BIN)/ruff check gateway tests simulators bench

typecheck: setup
	$(BIN)/mypy

unit: setup dll
	$(BIN)/pytest

test: lint typecheck unit

# Every path beside its bare baseline; prints a table, writes var/bench.json (about 6 minutes).
bench: setup
	$(BIN)/python -m bench.run

# Normal traffic through every dialect while a hostile client holds 500 stalled connections and a slowloris
# (bench/soak.py; 10 minutes, SOAK_SECONDS=120 for a shorter one); writes var/soak.json.
SOAK_SECONDS ?= 600
soak: setup
	$(BIN)/python -m bench.soak --seconds $(SOAK_SECONDS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
