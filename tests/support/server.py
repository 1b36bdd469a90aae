"""A real central server in a subprocess, for tests that go through HTTP and WebSocket.

Usage::

    from support.server import running_server

    with running_server(tmp_path / "server") as server:
        httpx.get(f"{server.url}/healthz")
        httpx.post(f"{server.url}/api/reports", headers={"X-API-Key": server.key}, json=...)
        server.kill()   # SIGKILL, as a crash would
        server.start()  # the same port and data directory again

The server runs as ``python -m app.cli server --data-dir DIR --port PORT [--db URL]`` from the
repository root, on 127.0.0.1 and a free port, with its stdout and stderr appended to
``DIR/server.log``. ``start()`` returns once ``GET /healthz`` answers; when the process exits
or does not answer in time, the error carries the tail of the log. The context manager stops
the server (SIGTERM, then SIGKILL) whatever happens.

Time limits scale with the environment variable ``CITYOPS_TEST_TIMEOUT_SCALE`` (a float,
default 1), for slow machines.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
LOG_NAME = "server.log"
KEY_NAME = "intake.key"

#: Seconds to wait for the server to answer /healthz after starting, and to stop.
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
#: Attempts at a first start on a fresh port, in case another process takes it meanwhile.
PORT_ATTEMPTS = 3


def timeout_scale() -> float:
    """``CITYOPS_TEST_TIMEOUT_SCALE`` as a positive float (1 when unset or unreadable)."""
    raw = os.environ.get("CITYOPS_TEST_TIMEOUT_SCALE", "").strip()
    try:
        value = float(raw) if raw else 1.0
    except ValueError:
        return 1.0
    return value if value > 0 else 1.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerError(RuntimeError):
    """The server did not start or stop as expected; the message ends with its log's tail."""


class ServerProcess:
    """One server, on one port and data directory, across restarts."""

    def __init__(
        self,
        data_dir: Path,
        db_url: str | None = None,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.db_url = db_url
        self.port = port or free_port()
        self.extra_args = extra_args
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self._fixed_port = port is not None

    # -- what tests use ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/sync"

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_NAME

    @property
    def key_path(self) -> Path:
        return self.data_dir / KEY_NAME

    @property
    def key(self) -> str:
        """The intake key the server wrote into its data directory."""
        return self.key_path.read_text(encoding="utf-8").strip()

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def health(self, timeout: float = 5.0) -> dict[str, Any]:
        """``GET /healthz`` as a dict (raises on a connection error or an error status)."""
        response = httpx.get(f"{self.url}/healthz", timeout=timeout * timeout_scale())
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Start the server (again, on the same port and data directory) and wait until
        ``/healthz`` answers. A first start on a port picked here moves to another free port
        when this one turns out to be taken."""
        if self.running:
            raise ServerError(f"the server is already running (pid {self.pid})")
        attempts = 1 if self._fixed_port else PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            self._spawn()
            try:
                self._wait_healthy(timeout * timeout_scale())
            except ServerError as exc:
                if attempt < attempts and "address already in use" in str(exc).lower():
                    self.port = free_port()
                    continue
                raise
            self._fixed_port = True  # restarts keep this port
            return

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM and wait; SIGKILL when it does not stop in time. Returns the exit status
        (None when it was not running). Idempotent."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout * timeout_scale())
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(timeout * timeout_scale())
        self.proc = None
        return proc.returncode

    def kill(self) -> int | None:
        """SIGKILL, as a crash or a pulled plug would; returns the exit status."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        proc.wait(STOP_TIMEOUT_S * timeout_scale())
        self.proc = None
        return proc.returncode

    def restart(self, timeout: float = START_TIMEOUT_S) -> None:
        self.stop()
        self.start(timeout)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    # -- inside ------------------------------------------------------------------------------

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "app.cli",
            "server",
            "--data-dir",
            str(self.data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        if self.db_url:
            cmd += ["--db", self.db_url]
        return cmd + list(self.extra_args)

    def _spawn(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        with self.log_path.open("ab") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} starting: port {self.port}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.command(),
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal goes to pytest only
            )

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        with httpx.Client(timeout=2.0 * timeout_scale()) as client:
            while True:
                assert self.proc is not None
                code = self.proc.poll()
                if code is not None:
                    self.proc = None
                    raise ServerError(
                        f"the server exited with status {code} while starting on port "
                        f"{self.port}; log {self.log_path}:\n{self.log_tail()}"
                    )
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.HTTPError as exc:
                    last = exc
                if time.monotonic() > deadline:
                    self.kill()
                    raise ServerError(
                        f"the server did not answer /healthz on port {self.port} within "
                        f"{timeout:.0f} s (last: {last!r}); log {self.log_path}:\n"
                        f"{self.log_tail()}"
                    )
                time.sleep(0.1)


@contextlib.contextmanager
def running_server(
    data_dir: Path,
    db_url: str | None = None,
    *,
    port: int | None = None,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """A started server; stopped on the way out, whatever happened."""
    server = ServerProcess(data_dir, db_url, port=port, extra_args=extra_args, env=env)
    try:
        server.start()
        yield server
    finally:
        server.stop()
