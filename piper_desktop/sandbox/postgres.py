"""A throwaway PostgreSQL cluster on 127.0.0.1: the team server of the tests and benches.

It is Debian's `postgresql` package, started by hand in a temporary directory (initdb,
then `postgres` on a free port, its socket in the same directory), with a password for
the role the tests use, so URLs carry a secret as real ones do. As root (CI) the cluster
belongs to the `postgres` system user, because PostgreSQL refuses to run as root. It is
gone with `stop()`: nothing is left in the system's own clusters.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

ROLE = "piper"
SERVICE_USER = "postgres"  # the Debian package's system user


def find_bindir() -> Path | None:
    """The server's programs: `pg_config --bindir`, else the newest Debian version."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidate = Path(found.stdout.strip())
        if (candidate / "initdb").exists() and (candidate / "postgres").exists():
            return candidate
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for candidate in reversed(versions):
        if (candidate / "initdb").exists() and (candidate / "postgres").exists():
            return candidate
    return None


def available() -> bool:
    return find_bindir() is not None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ThrowawayPostgres:
    """`start()` → a running cluster; `url(database)` → a SQLAlchemy URL for it."""

    def __init__(self) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian package: postgresql)")
        self.bindir = bindir
        self.password = secrets.token_urlsafe(18)
        self.port = 0
        self.root = Path(tempfile.mkdtemp(prefix="piper-pg-"))
        self.data = self.root / "data"
        self._as_root = os.geteuid() == 0
        self._started = False

    def _run(self, *args: str, input_text: str | None = None) -> None:
        command = list(args)
        if self._as_root:
            command = ["runuser", "-u", SERVICE_USER, "--", *command]
        subprocess.run(
            command, check=True, capture_output=True, input=input_text, text=True, cwd=self.root
        )

    def start(self) -> ThrowawayPostgres:
        if self._as_root:
            shutil.chown(self.root, SERVICE_USER)
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self._as_root:
            shutil.chown(pwfile, SERVICE_USER)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            ROLE,
            "--pwfile",
            str(pwfile),
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
        )
        pwfile.unlink()
        self.port = _free_port()
        options = " ".join(
            [
                f"-p {self.port}",
                f"-k {self.root}",
                "-c listen_addresses=127.0.0.1",
                # a throwaway cluster: durability is not what it is for
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        # -w: pg_ctl itself waits until the server accepts connections
        self._run(
            str(self.bindir / "pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
        )
        self._started = True
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{ROLE}:{self.password}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self._started:
            self._started = False
            # already gone: the directory goes all the same
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run(
                    str(self.bindir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data)
                )
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
