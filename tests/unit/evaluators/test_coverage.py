"""Coverage at CI size (issue 12 §4); the full table with >= 4,000 repetitions is bench/bench_coverage.py.

With R repetitions the observed coverage of a 95% interval has binomial SE
sqrt(0.95 * 0.05 / R): 0.89 points at R = 600. The tolerance is 3 SE (2.7 points): a
correct method fails it about 3 times in 1,000 runs; one whose true coverage is 90% fails
it almost always. The anytime-valid sequences must cover at every look at least 95% of the
time, less 3 SE.
"""
from __future__ import annotations

import numpy as np
import pytest

from fixtures.coverage import METHODS, coverage_table

REPETITIONS = 600
SE = np.sqrt(0.95 * 0.05 / REPETITIONS)


@pytest.fixture(scope="module")
def table():
    return coverage_table(REPETITIONS, seed=12)


@pytest.mark.parametrize("method", [m for m in METHODS if not m.startswith("cs")])
def test_fixed_sample_intervals_cover(table, method):
    assert abs(table[method].coverage - 0.95) <= 3 * SE


@pytest.mark.parametrize("method", [m for m in METHODS if m.startswith("cs")])
def test_confidence_sequences_cover_at_every_look(table, method):
    assert table[method].coverage >= 0.95 - 3 * SE


def test_ppi_is_narrower(table):
    assert table["ppi"].mean_width < table["naive"].mean_width
    assert table["stratified ppi"].mean_width < table["stratified"].mean_width
