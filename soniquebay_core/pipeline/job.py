"""What a job is, how it is named, and which queue it goes to.

Background work is cut into buckets of ``stages.BUCKET`` consecutive ids: the
job for (plugin, stage, bucket) handles whatever is pending in that id range
when it runs. Its id is derived from those three, so a rescan or a second
sweep finds the job already queued instead of piling up duplicates. Work a
user asks for ("analyse this album now") names its track ids and goes to the
urgent variant of the queue, which workers always serve first.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..manifest import PluginManifest

QUEUE_PREFIX = "soniquebay"
CLASSES = ("light", "heavy", "transfer")


@dataclass(frozen=True)
class Job:
    plugin: str
    stage: str
    bucket: int | None = None
    ids: tuple[int, ...] = field(default=())
    urgent: bool = False

    @property
    def id(self) -> str:
        if self.bucket is not None:
            return f"{self.plugin}-{self.stage}-b{self.bucket}"
        digest = hashlib.sha1(",".join(map(str, self.ids)).encode()).hexdigest()[:12]
        return f"{self.plugin}-{self.stage}-ids-{digest}"

    def args(self) -> tuple:
        return (self.plugin, self.stage, self.bucket, list(self.ids))


def queue_name(manifest: PluginManifest, urgent: bool = False) -> str:
    name = f"{QUEUE_PREFIX}-{manifest.queue_name}"
    return f"{name}-urgent" if urgent else name


def worker_queue_names(names: list[str]) -> list[str]:
    """The RQ queues a worker for these queue names listens to, urgent ones first."""
    ordered = [f"{QUEUE_PREFIX}-{n}-urgent" for n in names]
    return ordered + [f"{QUEUE_PREFIX}-{n}" for n in names]
