"""The pieces behind scenes and the "why": the Gaussian mixture and musical keys."""
from __future__ import annotations

import numpy as np
import pytest

from soniquebay_core.vectors import gmm
from soniquebay_core.vectors.keys import compatible, parse_key


def test_mixture_finds_separated_groups_and_is_repeatable():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=6, size=(4, 8))
    truth = np.repeat(np.arange(4), 60)
    points = centres[truth] + rng.normal(scale=0.5, size=(240, 8))
    mixture = gmm.fit(points, 4, seed=1)
    found = mixture.predict_proba(points).argmax(axis=1)
    # each true group maps to one component and no two groups share one
    mapping = {t: np.bincount(found[truth == t]).argmax() for t in range(4)}
    assert len(set(mapping.values())) == 4
    assert all((found[truth == t] == mapping[t]).all() for t in range(4))
    again = gmm.fit(points, 4, seed=1).predict_proba(points).argmax(axis=1)
    assert (again == found).all()
    assert np.allclose(mixture.weights.sum(), 1.0) and (mixture.variances > 0).all()


def test_mixture_copes_with_fewer_points_than_components():
    points = np.array([[0.0, 1.0], [1.0, 0.0]])
    mixture = gmm.fit(points, 5)
    assert mixture.means.shape == (2, 2)
    assert np.isfinite(mixture.predict_proba(points)).all()


@pytest.mark.parametrize(("key", "expected"), [
    ("C major", (0, False)), ("Am", (0, True)), ("A minor", (0, True)), ("F#m", (3, True)),
    ("Eb", (9, False)), ("D#", (9, False)), ("Bb minor", (7, True)), ("G", (1, False)), ("c min", (9, True)),
])
def test_keys_sit_on_the_circle_of_fifths(key, expected):
    assert parse_key(key) == expected


@pytest.mark.parametrize("key", [None, "", "H major", "C dorian", "128"])
def test_what_is_not_a_key(key):
    assert parse_key(key) is None


def test_keys_a_dj_would_mix():
    assert compatible("C major", "A minor")  # relative
    assert compatible("C major", "G major") and compatible("C major", "F major")  # a fifth apart
    assert not compatible("C major", "F# major")
    assert not compatible("C major", None)
