"""A producer in its own process, so it can use the broker under test (django-q2 reads it once, at import).

``python -m bench.enqueue <task> <file of ids>``: sets Django up, prints ``ready``, waits for a line on
stdin, then enqueues ``django_kyc.tasks.<task>(id)`` for every id and prints ``done``. The driver starts
its clock when it sends that line, so Django's start-up is not counted.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    task, path = (argv or sys.argv[1:])[:2]
    import django

    django.setup()
    from django_kyc.queue import enqueue

    ids = Path(path).read_text().split()
    print("ready", flush=True)
    sys.stdin.readline()
    for pk in ids:
        enqueue(task, pk)
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
