"""The shared machinery of the fake servers: the ``--auto-decide`` walk every fake inherits."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from django_kyc.testing import FakeProviderServer


class Walking(FakeProviderServer):
    """Records what the walk does instead of speaking HTTP."""

    provider = "walking"
    AUTO_STEPS = ("STARTED", "CHECKED")

    def __init__(self, callback: str = "http://127.0.0.1:9/hook", fail_at: str = "") -> None:
        super().__init__()
        self.callback = callback
        self.fail_at = fail_at
        self.decided: list[str] = []
        self.delivered: list[str] = []
        self.done = threading.Event()

    def decide(self, ref: str, outcome: str) -> None:
        if outcome == self.fail_at:
            self.done.set()
            raise RuntimeError("the back office broke")
        self.decided.append(outcome)
        if outcome == self.auto_outcome and not self.callback:
            self.done.set()

    def callback_url(self, ref: str) -> str:
        return self.callback

    def deliver(self, ref: str, outcome: str | None = None, url: str | None = None) -> int:
        self.delivered.append(self.decided[-1])
        if self.decided[-1] == self.auto_outcome:
            self.done.set()
        return 200


def walk(server: Walking, outcome: str = "APPROVED") -> Walking:
    server.auto_outcome = outcome
    server.auto_delay = 0.001
    server.schedule_auto_decision("ref-1")
    assert server.done.wait(5), "the walk never finished"
    return server


def test_the_walk_takes_every_progress_step_then_the_outcome_each_with_its_webhook() -> None:
    server = walk(Walking())
    assert server.decided == ["STARTED", "CHECKED", "APPROVED"]
    assert server.delivered == ["STARTED", "CHECKED", "APPROVED"]


def test_without_a_callback_url_the_steps_are_taken_and_nothing_is_sent() -> None:
    server = walk(Walking(callback=""))
    assert server.decided == ["STARTED", "CHECKED", "APPROVED"]
    assert server.delivered == []


def test_a_failing_step_ends_the_walk(caplog: Any) -> None:
    server = walk(Walking(fail_at="CHECKED"))
    server.done.clear()
    assert not server.done.wait(0.05)  # nothing runs after the failure
    assert server.decided == ["STARTED"]
    assert "auto decision for ref-1 failed" in caplog.text


@pytest.mark.parametrize("auto_outcome", [None, ""])
def test_without_auto_decide_nothing_happens(auto_outcome: str | None) -> None:
    server = Walking()
    server.auto_outcome = auto_outcome
    server.schedule_auto_decision("ref-1")
    assert not server.done.wait(0.05)
    assert server.decided == []
