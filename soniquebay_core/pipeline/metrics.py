"""Counters per stage and plugin: jobs, targets done / retried / failed, seconds spent.

Kept in this process (embedded mode) or in one Redis hash shared by every
worker, so the API can expose them (Prometheus text) whichever process asks.
"""
from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runner import JobReport

KEY = "soniquebay:metrics"
FIELDS = ("jobs", "done", "retry", "failed", "seconds")


def _rows(flat: dict[str, float]) -> list[dict]:
    table: dict[tuple[str, str], dict] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for name, value in flat.items():
        plugin, stage, field = name.rsplit(".", 2)
        table[(plugin, stage)][field] = value
    return [{"plugin": p, "stage": s, **values} for (p, s), values in sorted(table.items())]


class Metrics:
    def __init__(self) -> None:
        self._values: dict[str, float] = defaultdict(float)

    def record(self, plugin: str, stage: str, report: JobReport) -> None:
        for field, value in self._increments(report).items():
            self._values[f"{plugin}.{stage}.{field}"] += value

    @staticmethod
    def _increments(report: JobReport) -> dict[str, float]:
        return {"jobs": 1, "done": report.done, "retry": report.retry, "failed": report.failed,
                "seconds": report.seconds}

    def snapshot(self) -> list[dict]:
        return _rows(dict(self._values))


class RedisMetrics(Metrics):
    def __init__(self, redis_client) -> None:
        super().__init__()
        self.redis = redis_client

    def record(self, plugin: str, stage: str, report: JobReport) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for field, value in self._increments(report).items():
            pipe.hincrbyfloat(KEY, f"{plugin}.{stage}.{field}", value)
        pipe.execute()

    def snapshot(self) -> list[dict]:
        return _rows({k.decode(): float(v) for k, v in self.redis.hgetall(KEY).items()})
