"""Screening quality must not regress: recall and false positives on a small labelled synthetic set (the same
generator as ``python -m bench screening``, smaller), on whatever database the suite runs on. The margins
leave room for the smaller sample; the benchmark's figures are in docs/benchmarks.md."""

from __future__ import annotations

import pytest

from django_kyc.backends.lists.backend import DEFAULT_THRESHOLD
from tests.support import screening_corpus as corpus
from tests.support import screening_quality as quality

RECALL_AT_LEAST = 0.97
FALSE_POSITIVES_AT_MOST = 0.02


@pytest.mark.django_db
def test_recall_and_false_positives_at_the_default_threshold() -> None:
    listed = corpus.corpus(1500)
    quality.load(listed)
    outcomes = quality.run(corpus.positives(listed, 150) + corpus.negatives(listed, 150))
    result = quality.summary(outcomes, DEFAULT_THRESHOLD)
    missed = "\n".join(f"MISSED {o.probe} {o.score:.3f} best {o.best}" for o in result.missed)
    raised = "\n".join(f"RAISED {o.probe} {o.score:.3f} best {o.best}" for o in result.false_positives)
    assert result.recall >= RECALL_AT_LEAST, missed
    assert result.false_positive_rate <= FALSE_POSITIVES_AT_MOST, raised
