"""A small Gaussian mixture (diagonal covariances, EM), enough to find artist "scenes".

Written here rather than pulled from scikit-learn: the core stays light, and
fifty lines of numpy cover what is needed (k-means++ start, a fixed seed so
the same library gives the same scenes, soft memberships).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VARIANCE_FLOOR = 1e-4


@dataclass
class Mixture:
    means: np.ndarray  # (k, d)
    variances: np.ndarray  # (k, d)
    weights: np.ndarray  # (k,)

    def log_likelihoods(self, x: np.ndarray) -> np.ndarray:
        """(n, k): log weight + log density of each point under each component."""
        inverse = 1.0 / self.variances
        quadratic = (x ** 2) @ inverse.T - 2 * x @ (self.means * inverse).T + ((self.means ** 2) * inverse).sum(1)
        log_det = np.log(self.variances).sum(1)
        return np.log(self.weights) - 0.5 * (quadratic + log_det + x.shape[1] * np.log(2 * np.pi))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        ll = self.log_likelihoods(x)
        ll -= ll.max(axis=1, keepdims=True)
        p = np.exp(ll)
        return p / p.sum(axis=1, keepdims=True)


def _kmeans_pp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = [x[rng.integers(len(x))]]
    distances = ((x - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        total = distances.sum()
        pick = rng.choice(len(x), p=distances / total) if total > 0 else rng.integers(len(x))
        centres.append(x[pick])
        distances = np.minimum(distances, ((x - x[pick]) ** 2).sum(1))
    return np.array(centres)


def fit(x: np.ndarray, k: int, iterations: int = 60, seed: int = 0, tolerance: float = 1e-4) -> Mixture:
    """Fit ``k`` components to the rows of ``x`` (k is capped at the number of rows)."""
    x = x.astype(np.float64)
    k = max(1, min(k, len(x)))
    rng = np.random.default_rng(seed)
    spread = x.var(axis=0) + VARIANCE_FLOOR
    mixture = Mixture(_kmeans_pp(x, k, rng), np.tile(spread, (k, 1)), np.full(k, 1.0 / k))
    previous = -np.inf
    for _ in range(iterations):
        ll = mixture.log_likelihoods(x)
        top = ll.max(axis=1, keepdims=True)
        total = float((top[:, 0] + np.log(np.exp(ll - top).sum(1))).mean())
        resp = np.exp(ll - top)
        resp /= resp.sum(axis=1, keepdims=True)
        counts = resp.sum(0) + 1e-10
        means = (resp.T @ x) / counts[:, None]
        variances = (resp.T @ (x ** 2)) / counts[:, None] - means ** 2 + VARIANCE_FLOOR
        mixture = Mixture(means, np.maximum(variances, VARIANCE_FLOOR), counts / counts.sum())
        if total - previous < tolerance * abs(total):
            break
        previous = total
    return mixture
