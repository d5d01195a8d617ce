"""Helpers the tests share: builders of rows and files, sandbox webhooks, log capture, a real qcluster, the
query-count scenarios. Fixtures stay in the ``conftest.py`` files; everything here is a plain import.
"""

from __future__ import annotations

from pathlib import Path

#: The repository root: where subprocesses a test starts (qcluster, gunicorn, the fake servers) run.
ROOT = Path(__file__).resolve().parent.parent.parent
