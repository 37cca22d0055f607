"""The manifest every plugin declares as a module-level ``MANIFEST`` constant.

The manifest is read without calling any plugin code, so the core can decide
whether a plugin may run (profile, memory, binaries) before it does any work.
Which hooks a plugin serves is derived from its implementations, never declared.
"""
from __future__ import annotations

import re
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ResourceClass(str, Enum):
    LIGHT = "light"        # network I/O, small memory: tags, web lookups
    HEAVY = "heavy"        # CPU/RAM: audio analysis, embeddings
    TRANSFER = "transfer"  # long downloads (Soulseek)


class NetworkHost(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str
    reason: str


_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class PluginManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="entry-point name = config key = logger name = job-id prefix")
    version: str
    description: str = ""
    resource_class: ResourceClass = ResourceClass.LIGHT
    queue: str | None = Field(None, description="job queue; default: the resource class's queue")
    max_concurrency: int = Field(1, ge=1)
    timeout_s: float = Field(300, gt=0)
    retries: int = Field(3, ge=0, description="retries after a transient failure")
    retry_backoff_s: float = Field(30, gt=0, description="first retry delay; doubles with each attempt")
    min_interval_ms: int = Field(0, ge=0, description="minimum delay between calls (rate-limited web APIs)")
    network_hosts: tuple[NetworkHost, ...] = ()
    requires_binaries: tuple[str, ...] = ()
    min_memory_mb: int = Field(0, ge=0)
    essential: bool = Field(False, description="cannot be disabled (ignore rules, tag reading)")
    preload: tuple[str, ...] = Field((), description="modules a worker imports once before taking jobs "
                                                     "(numpy, torch, librosa), never per job")

    @field_validator("id")
    @classmethod
    def _id_is_a_name(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"plugin id {value!r} must be lowercase letters, digits and '_'")
        return value

    @property
    def heavy(self) -> bool:
        return self.resource_class is ResourceClass.HEAVY

    @property
    def queue_name(self) -> str:
        return self.queue or self.resource_class.value
