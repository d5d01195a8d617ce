"""Benchmarks for django-kyc (``make bench``); results and method in ``docs/benchmarks.md``.

Nothing here is imported by the package or the test suite. Each benchmark is a module with ``main()`` that
prints its table and exits 0 when it ran (a missed target is reported, not an error).
"""
