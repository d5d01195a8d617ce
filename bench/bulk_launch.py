"""Run one command and report its wall time, CPU time and peak RSS — measured from a small process.

    python -m bench.bulk_launch RESULT.json -- COMMAND [ARG ...]

Why a launcher at all: on Linux, ``execve`` folds the high-water RSS of the memory image it replaces into
the process's ``ru_maxrss`` (``exec_mmap`` → ``setmax_mm_hiwater_rss``), and ``subprocess`` starts
children with ``vfork``, so that image is the *parent's*. A child started straight from ``bench.bulk`` —
which holds Django, the seeding buffers and the fake provider's 100,000 submissions — would report the
driver's RSS whenever it is larger than its own (measured: a child doing nothing reports 310 MB under a
300 MB parent, 11 MB under this launcher). This module is tiny, so the command it starts inherits nothing
worth mentioning, and it reads the command's own rusage with ``os.wait4``.

The command's stdin, stdout and stderr are this process's; the result goes to ``RESULT.json`` as
``{"returncode", "wall", "cpu", "maxrss_kb"}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[1] != "--":
        print("usage: python -m bench.bulk_launch RESULT.json -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    result_path, command = args[0], args[2:]
    start = time.perf_counter()
    process = subprocess.Popen(command)  # reaped below with its rusage
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
    result = {
        "returncode": process.returncode,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_kb": usage.ru_maxrss,  # kilobytes on Linux
    }
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
