"""Load through the embedded-DLL library itself: threads calling BUSINESS_HANDLE via ctypes, as a HIS does.

Run as its own process (the library reads its configuration once, in INIT):
    python -m bench.dllload LIBRARY CONFIG INPUTS SECONDS WARMUP THREADS
INPUTS holds one GBK request per line, each used once. Prints one JSON object of figures.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import threading
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    library, config, inputs_file, seconds, warmup, threads = argv
    os.environ["HISGW_DLL_CONFIG"] = config
    lib = ctypes.CDLL(library)
    lib.INIT.argtypes = [ctypes.c_char_p]
    lib.BUSINESS_HANDLE.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    error = ctypes.create_string_buffer(256)
    if lib.INIT(error) != 0:
        raise SystemExit(error.value.decode("gbk"))
    pending = iter(Path(inputs_file).read_bytes().splitlines())
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    exhausted = [False]
    start = time.perf_counter()
    measure_from = start + float(warmup)
    stop_at = measure_from + float(seconds)

    def worker() -> None:
        out = ctypes.create_string_buffer(8192)
        while time.perf_counter() < stop_at:
            with lock:
                request = next(pending, None)
            if request is None:
                exhausted[0] = True
                return
            sent = time.perf_counter()
            rc = lib.BUSINESS_HANDLE(request, out)  # ctypes releases the GIL for the call
            done = time.perf_counter()
            if sent >= measure_from:
                with lock:
                    latencies.append(done - sent)
                    errors[0] += rc != 0

    pool = [threading.Thread(target=worker) for _ in range(int(threads))]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    measured = max(0.0, min(time.perf_counter(), stop_at) - measure_from)
    print(json.dumps({"latencies": latencies, "errors": errors[0], "seconds": measured, "exhausted": exhausted[0]}))


if __name__ == "__main__":
    main(sys.argv[1:])
