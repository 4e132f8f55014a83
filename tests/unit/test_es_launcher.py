"""Pure parts of the local Elasticsearch launcher and the ``qrelay es`` CLI (no JVM is started)."""
from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from fixtures.elasticsearch import launcher
from fixtures.elasticsearch.launcher import LauncherError


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "25" 2025-09-16', 25),
        ('openjdk version "21.0.2" 2024-01-16 LTS', 21),
        ('java version "1.8.0_402"', 8),
        ("garbage", 0),
    ],
)
def test_parse_java_version(text, version):
    assert launcher.parse_java_version(text) == version


def test_jvm_options_heap_and_paths(tmp_path):
    opts = launcher.jvm_options("1g", tmp_path)
    assert "-Xmx1g" in opts and "-Xms256m" in opts
    assert f"-Djava.io.tmpdir={tmp_path / 'tmp'}" in opts
    assert "-Xms128m" in launcher.jvm_options("128m", tmp_path)
    with pytest.raises(LauncherError):
        launcher.jvm_options("lots", tmp_path)


def test_node_command_runs_server_on_module_path(monkeypatch, tmp_path):
    monkeypatch.setattr(launcher, "java_version", lambda java: 17)
    cmd = launcher.node_command("/usr/bin/java", 9201, tmp_path, "512m")
    assert not any(c.startswith("--enable-native-access") for c in cmd)
    assert cmd[0] == "/usr/bin/java"
    assert cmd[cmd.index("--module-path") + 1] == str(launcher.LIB_DIR)
    assert launcher.MAIN_CLASS in cmd
    assert cmd[cmd.index("--http-port") + 1] == "9201"
    assert cmd[cmd.index("--data") + 1] == str(tmp_path)
    monkeypatch.setattr(launcher, "java_version", lambda java: 25)
    assert any(c.startswith("--enable-native-access") for c in launcher.node_command("java", 9201, tmp_path, "1g"))


def test_java_home_pointing_nowhere_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(LauncherError, match="JAVA_HOME"):
        launcher.find_java()


def test_missing_java_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LauncherError, match="java was not found"):
        launcher.find_java()


def test_too_old_java_is_refused(monkeypatch, tmp_path):
    fake = tmp_path / "bin" / "java"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho \'java version "1.8.0_402"\' >&2\n')
    fake.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(LauncherError, match="Java 8"):
        launcher.find_java()


@pytest.mark.skipif(shutil.which("java") is None, reason="needs a JDK")
def test_missing_mvn_is_a_clear_error(monkeypatch, tmp_path):
    java_home = Path(os.path.realpath(shutil.which("java"))).parent.parent
    monkeypatch.setenv("JAVA_HOME", str(java_home))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(launcher, "is_built", lambda: False)
    with pytest.raises(LauncherError, match="mvn"):
        launcher.build()


def test_port_in_use_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(launcher, "find_java", lambda: "java")
    monkeypatch.setattr(launcher, "build", lambda quiet=True: pytest.fail("must not build"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert launcher.port_in_use(port)
        with pytest.raises(LauncherError, match=f"port {port} .* in use"):
            launcher.start(port=port, data_dir=tmp_path)
    assert not (tmp_path / launcher.PID_FILE).exists()


def test_free_port_is_free():
    assert not launcher.port_in_use(launcher.free_port())


def test_status_and_stop_without_a_node(tmp_path):
    assert launcher.status(tmp_path) is None
    assert launcher.stop(tmp_path) is False


def test_stale_pid_file_of_another_process_is_ignored(tmp_path):
    # our own pid: alive, but not a LocalNode JVM -> never signalled
    (tmp_path / launcher.PID_FILE).write_text(f"{os.getpid()}\n")
    (tmp_path / launcher.PORT_FILE).write_text("9200\n")
    assert launcher.status(tmp_path) is None
    assert launcher.stop(tmp_path) is False
    assert not (tmp_path / launcher.PID_FILE).exists()


def test_log_tail_reads_the_main_log(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "qrelay-local.log").write_text("\n".join(f"line {i}" for i in range(100)))
    tail = launcher.log_tail(tmp_path, lines=3)
    assert "line 99" in tail and "line 96" not in tail
    (tmp_path / "logs" / "stdout.log").write_text(
        "\n==== starting at T1 on port 1\nold failure\n\n==== starting at T2 on port 2\nError: could not reserve heap\n"
    )
    tail = launcher.log_tail(tmp_path)
    assert "could not reserve heap" in tail and "old failure" not in tail and "==== starting" not in tail


def test_cli_es_parses_and_reports(monkeypatch, tmp_path, capsys):
    from services import cli
    from services.cli import es as es_cli
    import argparse

    parser = argparse.ArgumentParser(prog="qrelay")
    sub = parser.add_subparsers(dest="command")
    es_cli.register(sub)

    args = parser.parse_args(["es", "start"])
    assert (args.port, args.data, args.heap) == (9200, Path(".qrelay/es"), "1g")

    args = parser.parse_args(["es", "status", "--data", str(tmp_path)])
    assert args.func(args) == 1
    assert "not running" in capsys.readouterr().out

    args = parser.parse_args(["es", "stop", "--data", str(tmp_path)])
    assert args.func(args) == 0

    def boom(**kwargs):
        raise LauncherError("port 9200 on 127.0.0.1 is already in use; choose another with --port.")

    monkeypatch.setattr(launcher, "start", boom)
    args = parser.parse_args(["es", "start", "--port", "9200", "--data", str(tmp_path)])
    with pytest.raises(cli.CommandError, match="already in use"):
        args.func(args)


def test_cds_first_run_dumps_once_and_clean_stop_adopts(monkeypatch, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    monkeypatch.setattr(launcher, "TARGET", target)
    monkeypatch.setattr(launcher, "java_version", lambda java: 17)
    monkeypatch.delenv("QRELAY_ES_CDS", raising=False)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()

    opts = launcher.cds_options("java", a)
    dump = Path(next(o for o in opts if o.startswith("-XX:ArchiveClassesAtExit=")).split("=", 1)[1])
    assert launcher.cds_options("java", b) == []  # another node is already dumping

    dump.write_bytes(b"archive")  # what the JVM writes at exit
    launcher._finish_cds_dump(a, adopt=True)
    archive = target / "cds-java17.jsa"
    assert archive.read_bytes() == b"archive" and not dump.exists()
    assert not (target / "cds-java17.jsa.dumping").exists()
    assert f"-XX:SharedArchiveFile={archive}" in launcher.cds_options("java", b)


def test_cds_dump_of_unclean_exit_is_discarded_and_cds_can_be_off(monkeypatch, tmp_path):
    monkeypatch.setattr(launcher, "TARGET", tmp_path)
    monkeypatch.setattr(launcher, "java_version", lambda java: 17)
    monkeypatch.delenv("QRELAY_ES_CDS", raising=False)
    opts = launcher.cds_options("java", tmp_path)
    dump = Path(opts[-1].split("=", 1)[1])
    dump.write_bytes(b"partial")
    launcher._finish_cds_dump(tmp_path, adopt=False)
    assert not dump.exists() and not (tmp_path / "cds-java17.jsa").exists()
    monkeypatch.setenv("QRELAY_ES_CDS", "0")
    assert launcher.cds_options("java", tmp_path) == []
    monkeypatch.setattr(launcher, "java_version", lambda java: 21)
    monkeypatch.delenv("QRELAY_ES_CDS")
    assert "-XX:+AutoCreateSharedArchive" in launcher.cds_options("java", tmp_path)
