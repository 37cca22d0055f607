"""Property-based fuzzing of the whole OpenAPI schema (schemathesis) against a real server, signed in as admin.

Every operation the schema declares gets generated requests, valid and invalid; each answer must not be a
server error and must match what the schema promises (status codes, content types, bodies), and invalid
requests must be refused. Not checked: that every schema-valid request is accepted (a track id that does not
exist, or a ``pending`` term naming no stage, is valid by the schema and rightly refused). Left out: the
event streams (they never end), signing out and revoking tokens (they would end the signed-in session the
run depends on) and starting scans (each would rescan the library).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import schemathesis
from helpers import other_plugins_off_toml
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

SONIQUEBAY = str(Path(sys.executable).parent / "soniquebay")


@pytest.fixture(scope="module")
def served_api(generated_master, tmp_path_factory):
    """A real ``soniquebay serve`` over a scanned copy of the generated library, and an admin token."""
    work = tmp_path_factory.mktemp("fuzz")
    master, _ = generated_master
    shutil.copytree(master, work / "music", symlinks=True)
    config = work / "config.toml"
    config.write_text(other_plugins_off_toml())
    env = {**os.environ, "SONIQUEBAY_CONFIG": str(config), "SONIQUEBAY_DATA_DIR": str(work / "data"),
           "SONIQUEBAY_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'library.db'}", "SONIQUEBAY_REDIS_URL": ""}

    def cli(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run([SONIQUEBAY, *args], env=env, input=stdin, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("scan", str(work / "music"))
    cli("user", "add", "ada", "--role", "admin", "--password-stdin", stdin="correct horse battery\n")
    token = cli("token", "create", "fuzz", "--user", "ada").split()[-1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([SONIQUEBAY, "serve", "--no-web", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "w"))
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/api/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, token
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def api_schema(served_api):
    url, _ = served_api
    return (schemathesis.openapi.from_url(f"{url}/openapi.json")
            .exclude(path_regex=r"^/api/(events|graphql)")  # GraphQL has its own schema (tests/test_api_batch.py)
            .exclude(path="/api/auth/logout")
            .exclude(method="DELETE", path_regex=r"^/api/tokens/")
            .exclude(method="POST", path="/api/scans"))


def test_every_operation_answers_within_its_schema(api_schema, served_api):
    url, token = served_api
    failures, operations = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                   excluded_checks=[positive_data_acceptance])

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # collected: one run reports every operation that fails
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations > 40
    assert not failures, "\n\n".join(failures)
