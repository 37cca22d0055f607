"""Settings: a TOML file, overridden by environment variables.

The file is ``$SONIQUEBAY_CONFIG`` or ``config.toml`` in the user's config
folder; a missing file means defaults. Environment variables win over the file:
``SONIQUEBAY_DATA_DIR``, ``SONIQUEBAY_DATABASE_URL``, ``SONIQUEBAY_REDIS_URL``
(unset or empty = embedded jobs, no Redis), ``SONIQUEBAY_PROFILE``.
Each plugin's block ``[plugins.<id>]`` holds ``enabled`` plus the plugin's own
settings, handed to its hooks as ``config``.
"""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError

APP = "soniquebay"
Profile = Literal["pi", "desktop", "server"]

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LibrarySettings(_Section):
    roots: list[Path] = Field(default_factory=list, description="folders scanned by a plain `soniquebay scan`")
    follow_symlinks: bool = False


class ScannerSettings(_Section):
    batch_size: int = Field(500, ge=1, le=10_000, description="rows per database transaction")
    keep_missing: bool = Field(False, description="mark vanished files missing instead of deleting their tracks")
    read_workers: int = Field(default_factory=lambda: max(1, min(3, (os.cpu_count() or 1) - 1)), ge=0, le=16,
                              description="processes reading tags beside the one writing the library; 0: a thread")


class JobsSettings(_Section):
    embedded_workers: int = Field(2, ge=1, le=64, description="jobs running at once inside soniquebay (no Redis)")
    enrich_every_s: int = Field(120, ge=1, description="sweep for pending enrichment")
    covers_every_s: int = Field(300, ge=1)
    vectors_every_s: int = Field(180, ge=1)
    retries_every_s: int = Field(600, ge=1, description="sweep every stage, picking up due retries")
    maintenance_every_s: int = Field(86400, ge=60)
    worker_heartbeat_s: int = Field(15, ge=2, description="a worker silent this long is dead; its job runs again")


class ApiSettings(_Section):
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed to call the API from a "
                                                                      "browser; empty: CORS off")


class Settings(_Section):
    profile: Profile = "desktop"
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir(APP)))
    database_url: str | None = Field(None, description="default: SQLite file in data_dir")
    redis_url: str | None = None
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    scanner: ScannerSettings = Field(default_factory=ScannerSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    plugins: dict[str, dict[str, Any]] = Field(default_factory=dict)
    config_file: Path | None = Field(None, description="the file these settings came from, if any")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'library.db'}"

    def plugin_config(self, plugin_id: str) -> dict[str, Any]:
        return dict(self.plugins.get(plugin_id, {}))


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


_ENV = {
    "SONIQUEBAY_DATA_DIR": "data_dir",
    "SONIQUEBAY_DATABASE_URL": "database_url",
    "SONIQUEBAY_REDIS_URL": "redis_url",
    "SONIQUEBAY_PROFILE": "profile",
}


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    path = Path(env["SONIQUEBAY_CONFIG"]).expanduser() if env.get("SONIQUEBAY_CONFIG") else default_config_path()
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
        data["config_file"] = path
    elif env.get("SONIQUEBAY_CONFIG") and not path.exists():
        raise ConfigError(f"config file {path} (from SONIQUEBAY_CONFIG) does not exist")
    for var, key in _ENV.items():
        if var in env:
            data[key] = env[var] or None
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        source = path if path.is_file() else "environment"
        raise ConfigError(f"invalid setting {where}: {first['msg']} (in {source})") from None
    settings.data_dir = settings.data_dir.expanduser()
    settings.library.roots = [r.expanduser().resolve() for r in settings.library.roots]
    return settings


_SECRET_KEY = re.compile(r"(secret|password|passwd|token|api_?key|session)", re.I)
_URL_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]+@")


def redact(value: Any, key: str = "") -> Any:
    """Hide secrets: values under secret-looking keys and passwords inside URLs."""
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        if key and _SECRET_KEY.search(key) and value:
            return "***"
        return _URL_PASSWORD.sub(r"\1***@", value)
    return value


def effective_config(settings: Settings) -> dict[str, Any]:
    """The settings as they are in force, with secrets redacted, ready to print."""
    data = settings.model_dump(mode="json")
    data["database_url"] = settings.effective_database_url
    return redact(data)
