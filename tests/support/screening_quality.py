"""Run labelled probes through the matcher and measure: recall, false-positive rate, time per screening, and
the same at other thresholds (the curve in docs/benchmarks.md). Shared by ``bench/screening.py`` (30,000
entries on PostgreSQL) and ``tests/sanctions/test_quality.py`` (a small set on SQLite)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django_kyc.sanctions.matching import Subject, screen
from django_kyc.sanctions.records import ParsedList
from django_kyc.sanctions.store import load_version
from tests.support.screening_corpus import Listed, Probe, by_source

#: The floor every probe is screened at: below any threshold worth reporting, so one run gives the curve.
FLOOR = 0.5
CURVE = (0.70, 0.75, 0.80, 0.82, 0.85, 0.88, 0.90, 0.95)


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    score: float  # positives: the expected entry's score (0: not found); negatives: the best score of any entry
    best: str  # the best-scoring entry's source_id and name, for the MISSED lines
    milliseconds: float


def load(entries: Sequence[Listed]) -> None:
    for source, records in by_source(entries).items():
        load_version(source, ParsedList(entries=records))


def run(probes: Sequence[Probe]) -> list[Outcome]:
    outcomes = []
    for probe in probes:
        subject = Subject.person(probe.first, probe.last, probe.middle, probe.born, probe.nationality)
        started = time.perf_counter()
        matches = screen(subject, FLOOR, max_hits=50)
        elapsed = (time.perf_counter() - started) * 1000
        if probe.expected is None:
            score = matches[0].score if matches else 0.0
        else:
            score = next(
                (m.score for m in matches if (m.entry.sanctions_list.source, m.entry.source_id) == probe.expected), 0.0
            )
        best = f"{matches[0].entry.source_id} {matches[0].matched.name!r} {matches[0].score:.3f}" if matches else "-"
        outcomes.append(Outcome(probe, score, best, elapsed))
    return outcomes


@dataclass(frozen=True)
class Summary:
    threshold: float
    recall: float
    false_positive_rate: float
    missed: list[Outcome]
    false_positives: list[Outcome]


def summary(outcomes: Sequence[Outcome], threshold: float) -> Summary:
    positives = [o for o in outcomes if o.probe.expected is not None]
    negatives = [o for o in outcomes if o.probe.expected is None]
    missed = [o for o in positives if o.score < threshold]
    raised = [o for o in negatives if o.score >= threshold]
    return Summary(
        threshold,
        1 - len(missed) / len(positives) if positives else 1.0,
        len(raised) / len(negatives) if negatives else 0.0,
        missed,
        raised,
    )


def timing(outcomes: Sequence[Outcome]) -> tuple[float, float]:
    """(median, 95th percentile) milliseconds per screening."""
    times = sorted(o.milliseconds for o in outcomes)
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]
