"""A throwaway PostgreSQL cluster for tests.

Usage::

    from support.postgres import throwaway_postgres

    with throwaway_postgres() as url:
        engine = sqlalchemy.create_engine(url)  # postgresql+psycopg://cityops@127.0.0.1:PORT/cityops

Each cluster lives in a fresh temporary directory, listens on 127.0.0.1 on a free port
(and on a Unix socket inside that directory), trusts every local connection, has a
database ``cityops`` owned by the superuser ``cityops``, and is stopped and deleted on
exit. The server binaries come from Debian's ``postgresql`` package (highest version
under /usr/lib/postgresql/*/bin), installed by ``make setup``; when they are missing
this raises RuntimeError rather than skipping, so CI can't go green without them.

PostgreSQL refuses to run as root. When the tests run as root, the cluster directory
is handed to the ``postgres`` system user (created by the Debian package) and
initdb/pg_ctl run through ``runuser -u postgres --``.

For a pytest fixture, see ``support.pg_fixture``.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

USER = "cityops"
DATABASE = "cityops"
SERVICE_ACCOUNT = "postgres"
NOT_INSTALLED = "PostgreSQL server not installed: run make setup"

# Seconds to wait for the server to start or stop.
_PG_CTL_TIMEOUT = 60
# Attempts at starting, in case another process takes the chosen port meanwhile.
_START_ATTEMPTS = 3


def find_bindir() -> Path:
    """The bin directory of the newest PostgreSQL server installed.

    ``CITYOPS_PG_BINDIR`` overrides the search; otherwise Debian's
    /usr/lib/postgresql/<version>/bin, then initdb on PATH.
    """
    override = os.environ.get("CITYOPS_PG_BINDIR")
    candidates: list[Path] = []
    if override:
        candidates.append(Path(override))
    else:

        def version(path: str) -> tuple[int, ...]:
            name = Path(path).parent.parent.name
            return tuple(int(part) for part in re.findall(r"\d+", name))

        for initdb in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version):
            candidates.insert(0, Path(initdb).parent)
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return bindir
    raise RuntimeError(NOT_INSTALLED)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _world_traversable(path: Path) -> bool:
    """Whether every directory from / down to ``path`` can be entered by anyone."""
    path = path.resolve()
    return all(os.stat(directory).st_mode & stat.S_IXOTH for directory in (path, *path.parents))


class ThrowawayPostgres:
    """One PostgreSQL cluster, from ``start()`` (or ``with``) until ``stop()``."""

    def __init__(self, *, user: str = USER, database: str = DATABASE) -> None:
        self.user = user
        self.database = database
        self.bindir = find_bindir()
        self.port: int | None = None
        self._base: Path | None = None
        self._service_account: pwd.struct_passwd | None = None
        self._running = False

    # -- public ----------------------------------------------------------------

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the test database."""
        if self.port is None:
            raise RuntimeError("the throwaway PostgreSQL cluster is not started")
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @property
    def conninfo(self) -> str:
        """libpq connection string of the test database, for psycopg.connect()."""
        if self.port is None:
            raise RuntimeError("the throwaway PostgreSQL cluster is not started")
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={self.database}"

    @property
    def data_dir(self) -> Path:
        if self._base is None:
            raise RuntimeError("the throwaway PostgreSQL cluster is not started")
        return self._base / "data"

    @property
    def log_file(self) -> Path:
        if self._base is None:
            raise RuntimeError("the throwaway PostgreSQL cluster is not started")
        return self._base / "postgres.log"

    def start(self) -> str:
        """Create, start and fill the cluster; return the SQLAlchemy URL."""
        if self._running:
            return self.url
        try:
            self._make_base_dir()
            self._initdb()
            self._start_server()
            self._create_database()
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self.url

    def stop(self) -> None:
        """Stop the server at once (no checkpoint) and delete the cluster. Idempotent."""
        if self._running:
            self._running = False
            self._run_pg(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-m",
                "immediate",
                "-t",
                str(_PG_CTL_TIMEOUT),
                "-w",
                "stop",
                check=False,
            )
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None
        atexit.unregister(self.stop)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- steps -------------------------------------------------------------------

    def _make_base_dir(self) -> None:
        parent = Path(os.environ.get("CITYOPS_PG_TMPDIR") or tempfile.gettempdir())
        if os.geteuid() == 0:
            try:
                self._service_account = pwd.getpwnam(SERVICE_ACCOUNT)
            except KeyError:
                raise RuntimeError(
                    f"running as root, but there is no {SERVICE_ACCOUNT!r} user to run PostgreSQL as: {NOT_INSTALLED}"
                ) from None
            if not _world_traversable(parent):
                # e.g. TMPDIR under /root: the postgres user could not reach the cluster.
                parent = Path("/tmp")
        # Keep the path short: the Unix socket path inside it must fit in 107 bytes.
        self._base = Path(tempfile.mkdtemp(prefix="cityops-pg-", dir=parent))
        if self._service_account is not None:
            os.chown(self._base, self._service_account.pw_uid, self._service_account.pw_gid)

    def _initdb(self) -> None:
        self._run_pg(
            "initdb",
            "-D",
            str(self.data_dir),
            f"--username={self.user}",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )

    def _start_server(self) -> None:
        last_error = ""
        for _ in range(_START_ATTEMPTS):
            port = free_port()
            options = " ".join(
                [
                    "-c listen_addresses=127.0.0.1",
                    f"-p {port}",
                    f"-c unix_socket_directories={self._base}",
                    "-c fsync=off",
                    "-c synchronous_commit=on",
                    "-c full_page_writes=off",
                ]
            )
            result = self._run_pg(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-t",
                str(_PG_CTL_TIMEOUT),
                "-w",
                "start",
                check=False,
            )
            if result.returncode == 0:
                self.port = port
                self._running = True
                return
            last_error = f"{result.stdout}\n{self._log_tail()}"
            # Make sure a half-started server is gone before trying another port.
            self._run_pg(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-m",
                "immediate",
                "-w",
                "stop",
                check=False,
            )
        raise RuntimeError(f"PostgreSQL did not start:\n{last_error}")

    def _create_database(self) -> None:
        import psycopg  # the project's own dependency; imported late to keep this cheap

        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        ) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}" OWNER "{self.user}"')

    # -- helpers -----------------------------------------------------------------

    def _run_pg(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / tool), *args]
        if self._service_account is not None:
            command = ["runuser", "-u", SERVICE_ACCOUNT, "--", *command]
        # Never let a PG* variable from the caller's environment steer the tools.
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        if self._service_account is not None:
            env["HOME"] = self._service_account.pw_dir
        result = subprocess.run(
            command,
            cwd=self._base,  # the postgres user may not be able to enter the caller's cwd
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} failed with exit code {result.returncode}:\n{result.stdout}")
        return result

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def throwaway_postgres(*, user: str = USER, database: str = DATABASE) -> Iterator[str]:
    """Start a throwaway cluster and yield its SQLAlchemy URL; stop and delete it after."""
    with ThrowawayPostgres(user=user, database=database) as url:
        yield url
