"""Log capture that works with ``-p no:logging``, where pytest's ``caplog`` does not exist."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        """Everything a log formatter could print: messages, arguments and exception text."""
        parts = []
        for record in self.records:
            parts.append(record.getMessage())
            parts.append(repr(record.args))
            if record.exc_info and record.exc_info[1] is not None:
                parts.append(logging.Formatter().formatException(record.exc_info))
        return "\n".join(parts)


@contextmanager
def capture_logs(name: str = "django_kyc", level: int = logging.DEBUG) -> Iterator[RecordingHandler]:
    """Collect records of one logger tree (works with ``-p no:logging``, where ``caplog`` does not exist)."""
    logger = logging.getLogger(name)
    handler = RecordingHandler()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
