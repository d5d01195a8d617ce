"""The progress bar the bulk management commands print."""

from __future__ import annotations

BAR_WIDTH = 30


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """``[#####-----] 500/1000``: plain text, so it reads the same in a terminal, a log and a CI job."""
    filled = width if total == 0 else min(width, done * width // total)
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total}"
