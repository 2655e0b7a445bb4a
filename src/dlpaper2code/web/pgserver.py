"""A throwaway PostgreSQL server for the tests, the load test and development.

``PostgresServer`` finds the server binaries (``pg_config --bindir``, else the newest
``/usr/lib/postgresql/<version>/bin``, else ``PATH``), makes a new cluster in a
temporary folder (``initdb``, trust authentication: it listens only on 127.0.0.1 and
on a unix socket in that folder), starts it with ``pg_ctl`` on a free port, creates a
database and gives its SQLAlchemy URL as ``.url``; on exit it stops the server
(``pg_ctl stop -m fast``) and deletes the folder. It never touches a system cluster.
PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user
that Debian's ``postgresql`` package creates.

    with PostgresServer() as pg:
        Database(pg.url)                      # postgresql+psycopg://postgres@127.0.0.1:<port>/dlpaper2code
        other = pg.create_database("t_1")     # another empty database on the same server

    python -m dlpaper2code.web.pgserver       # start one, print its URL until Ctrl+C
"""
from __future__ import annotations

import argparse
import atexit
import glob
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
INSTALL_HINT = "apt-get install postgresql (make setup does it)"
SUPERUSER = "postgres"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresServerError(RuntimeError):
    """The server could not be found, made, started or stopped; the message says why."""


def _has_programs(d: str | Path | None) -> bool:
    return bool(d) and all(os.access(Path(d) / p, os.X_OK) for p in SERVER_PROGRAMS)


def _version_key(path: str) -> tuple:
    v = Path(path).parent.name
    return tuple(int(x) if x.isdigit() else 0 for x in v.split("."))


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres ($DLPAPER2CODE_PG_BINDIR overrides the search)."""
    looked = []
    override = os.environ.get("DLPAPER2CODE_PG_BINDIR")
    if override:
        if _has_programs(override):
            return Path(override)
        raise PostgresServerError(f"PostgreSQL server binaries ({', '.join(SERVER_PROGRAMS)}) not found in "
                                  f"$DLPAPER2CODE_PG_BINDIR={override}")
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            d = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            d = ""
        if _has_programs(d):
            return Path(d)
        looked.append(f"pg_config --bindir ({d or 'no answer'})")
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        if _has_programs(d):
            return Path(d)
    looked.append("/usr/lib/postgresql/*/bin")
    found = shutil.which("initdb")
    if found and _has_programs(Path(found).resolve().parent):
        return Path(found).resolve().parent
    if found and _has_programs(Path(found).parent):
        return Path(found).parent
    looked.append("PATH")
    raise PostgresServerError(f"PostgreSQL server binaries ({', '.join(SERVER_PROGRAMS)}) not found "
                              f"(looked in {', '.join(looked)}): {INSTALL_HINT}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _traversable_by_others(path: Path) -> bool:
    """Whether every folder from / to ``path`` lets other users pass (the server's user must reach its data)."""
    for p in [path, *path.parents]:
        try:
            if not os.stat(p).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


class PostgresServer:
    """A throwaway PostgreSQL cluster (a context manager; ``start()``/``stop()`` also work).

    ``fast`` turns off fsync, synchronous commit and full-page writes (for tests: nothing in
    it outlives the process; a crash loses it anyway); the load test keeps the defaults.
    """

    def __init__(self, dbname: str = "dlpaper2code", *, port: int | None = None, start_timeout: float = 60,
                 fast: bool = True, max_connections: int = 300, bindir: str | Path | None = None):
        if not _NAME.match(dbname):
            raise ValueError(f"database name {dbname!r}: use lower-case letters, digits and _")
        self.dbname, self.port, self.start_timeout = dbname, port, start_timeout
        self.fast, self.max_connections = fast, max_connections
        self.bindir = Path(bindir) if bindir else None
        self.dir: Path | None = None
        self.running = False
        self._n = 0

    # ------------------------------------------------------------------ paths and commands
    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.dir / "sock"

    @property
    def log(self) -> Path:
        return self.dir / "server.log"

    def url_for(self, dbname: str) -> str:
        """The SQLAlchemy URL of database ``dbname`` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    @property
    def url(self) -> str:
        return self.url_for(self.dbname)

    def _run_as_server_user(self, args: list[str], timeout: float) -> subprocess.CompletedProcess:
        kwargs = {}
        if os.geteuid() == 0:
            kwargs.update(user=self._pw.pw_uid, group=self._pw.pw_gid, extra_groups=[])
        env = dict(os.environ, HOME=str(self.dir), LC_ALL="C", LANG="C")
        env.pop("PGDATA", None)
        try:
            return subprocess.run(args, cwd=self.dir, env=env, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, **kwargs)
        except subprocess.TimeoutExpired:
            raise PostgresServerError(f"{Path(args[0]).name} did not finish within {timeout:.0f} s"
                                      f"{self._log_tail()}") from None

    def _log_tail(self, n: int = 15) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()[-n:]
        except OSError:
            return ""
        return "\n  server log: " + "\n  ".join(lines) if lines else ""

    # ------------------------------------------------------------------ life cycle
    def start(self) -> "PostgresServer":
        if self.running:
            return self
        self.bindir = self.bindir or find_bindir()
        if os.geteuid() == 0:
            import pwd

            try:
                self._pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresServerError("PostgreSQL refuses to run as root and there is no 'postgres' user "
                                          f"to run it as: {INSTALL_HINT}") from None
        base = Path(tempfile.gettempdir())
        if os.geteuid() == 0 and not _traversable_by_others(base):
            base = Path("/tmp")
        self.dir = Path(tempfile.mkdtemp(prefix="dlp2c-pg-", dir=base))
        try:
            self.socket_dir.mkdir()
            if os.geteuid() == 0:
                for p in (self.dir, self.socket_dir):
                    os.chown(p, self._pw.pw_uid, self._pw.pw_gid)
            r = self._run_as_server_user([str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                                          "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], timeout=120)
            if r.returncode:
                raise PostgresServerError(f"initdb failed (exit {r.returncode}): {(r.stderr or r.stdout).strip()[-2000:]}")
            for attempt in range(3):          # another process may take the free port before the server binds it
                port = self.port or free_port()
                opts = [f"-p {port}", f"-k {self.socket_dir}", "-c listen_addresses=127.0.0.1",
                        f"-c max_connections={self.max_connections}"]
                if self.fast:
                    opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
                r = self._run_as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                                              "-w", "-t", str(int(self.start_timeout)), "-o", " ".join(opts), "start"],
                                             timeout=self.start_timeout + 30)
                if r.returncode == 0:
                    self.port = port
                    break
                bound = "could not bind" in self._log_tail(40) or "already in use" in self._log_tail(40)
                if not bound or self.port or attempt == 2:
                    raise PostgresServerError(f"the PostgreSQL server did not start within {self.start_timeout:.0f} s "
                                              f"(pg_ctl exit {r.returncode}: {(r.stderr or r.stdout).strip()[-1000:]})"
                                              f"{self._log_tail()}")
            self.running = True
            atexit.register(self.stop)
            self.create_database(self.dbname)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder; safe to call twice."""
        if self.dir is None:
            return
        try:
            if self.running or (self.data / "postmaster.pid").exists():
                r = self._run_as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast",
                                              "-w", "-t", "60", "stop"], timeout=90)
                if r.returncode and (self.data / "postmaster.pid").exists():
                    self._run_as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                              "-w", "stop"], timeout=60)
        finally:
            self.running = False
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
            try:
                atexit.unregister(self.stop)
            except Exception:  # noqa: BLE001
                pass

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ databases
    def connect(self, dbname: str = "postgres"):
        """A psycopg connection (autocommit) to ``dbname`` as the superuser."""
        try:
            import psycopg
        except ImportError:
            raise PostgresServerError("the PostgreSQL driver is not installed: pip install 'psycopg[binary]>=3.1' "
                                      "(the package's web extra; make setup installs it)") from None
        return psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=dbname, autocommit=True,
                               connect_timeout=10)

    def create_database(self, dbname: str | None = None) -> str:
        """Create an empty database (``dbname``, else ``t_<n>``) and return its SQLAlchemy URL."""
        if not self.running:
            raise PostgresServerError("the PostgreSQL server is not running (use it inside `with PostgresServer()`)")
        if dbname is None:
            self._n += 1
            dbname = f"t_{self._n}"
        if not _NAME.match(dbname):
            raise ValueError(f"database name {dbname!r}: use lower-case letters, digits and _")
        with self.connect() as con:
            con.execute(f'CREATE DATABASE "{dbname}" TEMPLATE template0 ENCODING \'UTF8\'')
        return self.url_for(dbname)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dlpaper2code.web.pgserver",
                                 description="Start a throwaway PostgreSQL server and print its URL until Ctrl+C "
                                             "(the data is deleted when it stops).")
    ap.add_argument("--db", default="dlpaper2code", help="name of the database to create (default dlpaper2code)")
    ap.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--durable", action="store_true", help="keep fsync and synchronous commit on")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)     # Ctrl+C, even if started with SIGINT ignored
    try:
        with PostgresServer(args.db, port=args.port, fast=not args.durable) as pg:
            print(pg.url, flush=True)
            print(f"  e.g.  dlpaper2code serve --db {pg.url}\n  psql:  psql -h {pg.socket_dir} -p {pg.port} "
                  f"-U {SUPERUSER} {args.db}\n  Ctrl+C stops the server and deletes its data ({pg.dir})", flush=True)
            while True:
                time.sleep(3600)
    except PostgresServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
