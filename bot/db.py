"""Database connection: MONGODB_URI, or the embedded nx-27017 server started as a child process.

The embedded server serves one FlyO process per DATA_DIR: an exclusive `flock` on
`<DATA_DIR>/mongo/.lock` proves ownership (released by the OS even after `kill -9`), and a second
process on the same DATA_DIR is refused with one clear line instead of sharing SQLite files.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from core.database import ROUND_TRIPS, Database
from models import ALL_DOCUMENTS

log = logging.getLogger(__name__)

# nx-27017 stalls (every socket times out) once ~50+ connections hammer it at once; a small pool queues
# the excess in the driver instead, which measured faster as well as safe (README, Database).
EMBEDDED_POOL = 16


class DatabaseError(Exception):
    """The database cannot be used; the message is one line meant for the operator."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    # Linux: the embedded server gets SIGTERM when FlyO dies, even by kill -9, so no orphan holds the files.
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    os.setsid()  # Ctrl-C in the terminal reaches FlyO, which stops the server in order


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_embedded_server(pid: int, data_dir: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return "nx_27017" in cmdline and str(data_dir) in cmdline


@dataclass
class EmbeddedMongo:
    """nx-27017 on a free loopback port with its files under `<data_dir>/mongo`."""

    data_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    _lock_file: IO[str] | None = field(default=None, repr=False)

    @property
    def mongo_dir(self) -> Path:
        return (self.data_dir / "mongo").resolve()

    @property
    def uri(self) -> str:
        # The pool limit travels with the URI, so every client of this server (tests, bench) gets it.
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true&maxPoolSize={EMBEDDED_POOL}"

    def _acquire_lock(self) -> None:
        self.mongo_dir.mkdir(parents=True, exist_ok=True)
        lock = (self.mongo_dir / ".lock").open("a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            owner = lock.read().strip() or "another process"
            lock.close()
            raise DatabaseError(
                f"The embedded database in {self.data_dir} is in use by FlyO ({owner}). Stop it, or give this "
                "instance its own DATA_DIR, or point both at one MongoDB with MONGODB_URI."
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}")
        lock.flush()
        self._lock_file = lock

    def _stop_stale_server(self) -> None:
        # A server left by a crashed FlyO (its parent-death signal may not have fired) still owns the files.
        state_file = self.mongo_dir / "server.json"
        with contextlib.suppress(OSError, ValueError, KeyError):
            pid = int(json.loads(state_file.read_text())["pid"])
            if _pid_alive(pid) and _is_embedded_server(pid, self.mongo_dir):
                log.warning("stopping a stale embedded database server (pid %s)", pid)
                os.kill(pid, signal.SIGTERM)
                for _ in range(50):
                    if not _pid_alive(pid):
                        break
                    time.sleep(0.1)
        for stale in ("server.pid",):
            with contextlib.suppress(FileNotFoundError):
                (self.mongo_dir / stale).unlink()

    def start(self) -> None:
        self._acquire_lock()
        self._stop_stale_server()
        self.port = free_port()
        logs = self.data_dir.resolve() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "nx_27017.nx_27017",
            "--data-dir", str(self.mongo_dir),
            "--host", "127.0.0.1", "--port", str(self.port),
            "--pid-file", str(self.mongo_dir / "server.pid"),
            "--log-file", str(logs / "nx-27017.log"),
        ]
        # nx-27017 logs every command at INFO to stderr as well as to --log-file. A pipe that nobody reads
        # fills after 64 KB and then blocks the server inside a request, freezing the whole database (seen
        # after ~90 searches). So stderr goes to a file, fresh at each start; a failed start quotes its end.
        stderr_path = logs / "nx-27017.stderr"
        with stderr_path.open("wb") as stderr_file:
            self.process = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr_file,
                preexec_fn=_die_with_parent,
            )
        (self.mongo_dir / "server.json").write_text(json.dumps({"pid": self.process.pid, "port": self.port}))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = stderr_path.read_bytes()[-4096:].decode(errors="replace")
                last = err.strip().splitlines()[-1] if err.strip() else f"exit code {self.process.returncode}"
                raise DatabaseError(f"The embedded database (nx-27017) did not start: {last}")
            with socket.socket() as probe:
                probe.settimeout(0.2)
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise DatabaseError("The embedded database (nx-27017) did not open its port within 20 s.")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
        with contextlib.suppress(FileNotFoundError):
            (self.mongo_dir / "server.json").unlink()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def make_client(uri: str, timeout_ms: int = 5000) -> AsyncMongoClient[dict[str, Any]]:
    # PyMongo lets keyword arguments override the URI; an operator's timeouts in MONGODB_URI must win.
    in_uri = {name.lower() for name in parse_qs(urlsplit(uri).query)}
    timeouts = {k: timeout_ms for k in ("serverSelectionTimeoutMS", "connectTimeoutMS")
                if k.lower() not in in_uri}
    return AsyncMongoClient(uri, tz_aware=True, appname="flyo", event_listeners=[ROUND_TRIPS],
                            **timeouts)  # type: ignore[arg-type]


async def open_database(uri: str, name: str, data_dir: Path, *, init_models: bool = True) -> Database:
    """Connect to `uri`, or start the embedded server when it is empty; fail with one readable line."""
    embedded: EmbeddedMongo | None = None
    if not uri:
        embedded = EmbeddedMongo(data_dir)
        await asyncio.to_thread(embedded.start)
        uri = embedded.uri
    client = make_client(uri)
    database = Database(client=client, db=client[name], embedded=embedded)
    try:
        await asyncio.wait_for(database.db.command("ping"), 10)
        if init_models:
            await init_beanie(database=database.db, document_models=ALL_DOCUMENTS)
    except (PyMongoError, TimeoutError, OSError) as exc:
        await database.close()
        where = "the embedded database" if embedded else "MongoDB at MONGODB_URI"
        raise DatabaseError(f"Cannot reach {where}: {str(exc).splitlines()[0][:200]}") from None
    return database
