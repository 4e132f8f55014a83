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
    built = launcher.Build(tmp_path / "build")
    cmd = launcher.node_command("/usr/bin/java", built, 9201, tmp_path, "512m")
    assert not any(c.startswith("--enable-native-access") for c in cmd)
    assert cmd[0] == "/usr/bin/java"
    assert cmd[cmd.index("--module-path") + 1] == str(built.lib)
    assert cmd[cmd.index("--home") + 1] == str(built.home)
    assert launcher.MAIN_CLASS in cmd
    assert cmd[cmd.index("--http-port") + 1] == "9201"
    assert cmd[cmd.index("--data") + 1] == str(tmp_path)
    assert "--transport-port" not in cmd  # a lone node takes the first free of 9300-9400
    monkeypatch.setattr(launcher, "java_version", lambda java: 25)
    cmd = launcher.node_command("java", built, 9201, tmp_path, "1g", 9305, ["-Ecluster.name=x"])
    assert any(c.startswith("--enable-native-access") for c in cmd)
    assert cmd[cmd.index("--transport-port") + 1] == "9305" and cmd[-1] == "-Ecluster.name=x"


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
    monkeypatch.setattr(launcher, "current_build", lambda: None)
    with pytest.raises(LauncherError, match="mvn"):
        launcher.build()


def test_port_in_use_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(launcher, "find_java", lambda: "java")
    monkeypatch.setattr(launcher, "build", lambda *a, **k: pytest.fail("must not build"))
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
    # None: the launcher's defaults (9200 and 1g for a new lone node; what a cluster was created with)
    assert (args.port, args.data, args.heap, args.nodes) == (None, Path(".qrelay/es"), None, None)

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

    args = parser.parse_args(["es", "stop", "--data", str(tmp_path), "--kill"])
    with pytest.raises(cli.CommandError, match="--kill needs --node"):
        args.func(args)
    args = parser.parse_args(["es", "stop", "--data", str(tmp_path), "--node", "2"])
    with pytest.raises(cli.CommandError, match="holds no cluster"):
        args.func(args)


def test_cds_first_run_dumps_once_and_clean_stop_adopts(monkeypatch, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    built = launcher.Build(target)
    monkeypatch.setattr(launcher, "java_version", lambda java: 17)
    monkeypatch.delenv("QRELAY_ES_CDS", raising=False)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()

    opts = launcher.cds_options("java", a, built)
    dump = Path(next(o for o in opts if o.startswith("-XX:ArchiveClassesAtExit=")).split("=", 1)[1])
    assert launcher.cds_options("java", b, built) == []  # another node is already dumping

    dump.write_bytes(b"archive")  # what the JVM writes at exit
    launcher._finish_cds_dump(a, adopt=True)
    archive = target / "cds-java17.jsa"
    assert archive.read_bytes() == b"archive" and not dump.exists()
    assert not (target / "cds-java17.jsa.dumping").exists()
    assert f"-XX:SharedArchiveFile={archive}" in launcher.cds_options("java", b, built)


def test_cds_dump_of_unclean_exit_is_discarded_and_cds_can_be_off(monkeypatch, tmp_path):
    built = launcher.Build(tmp_path)
    monkeypatch.setattr(launcher, "java_version", lambda java: 17)
    monkeypatch.delenv("QRELAY_ES_CDS", raising=False)
    opts = launcher.cds_options("java", tmp_path, built)
    dump = Path(opts[-1].split("=", 1)[1])
    dump.write_bytes(b"partial")
    launcher._finish_cds_dump(tmp_path, adopt=False)
    assert not dump.exists() and not (tmp_path / "cds-java17.jsa").exists()
    monkeypatch.setenv("QRELAY_ES_CDS", "0")
    assert launcher.cds_options("java", tmp_path, built) == []
    monkeypatch.setattr(launcher, "java_version", lambda java: 21)
    monkeypatch.delenv("QRELAY_ES_CDS")
    assert "-XX:+AutoCreateSharedArchive" in launcher.cds_options("java", tmp_path, built)


# --------------------------------------------------------------------------- builds side by side

FAKE_MVN = """#!/bin/sh
# lays out what pom.xml builds, in -Dqrelay.build.dir; fails when asked to
[ -n "$FAKE_MVN_FAIL" ] && { echo "[ERROR] Could not resolve dependencies"; exit 1; }
for a in "$@"; do case "$a" in -Dqrelay.build.dir=*) out="${a#-Dqrelay.build.dir=}";; esac; done
mkdir -p "$out/lib" "$out/home/modules/transport-netty4" "$out/home/modules/qrelay-local"
touch "$out/lib/elasticsearch-8.19.21.jar" "$out/qrelay-es-node.jar"
[ -n "$FAKE_MVN_NO_DESCRIPTOR" ] || touch "$out/home/modules/transport-netty4/plugin-descriptor.properties"
touch "$out/home/modules/qrelay-local/plugin-descriptor.properties"
echo run >> "$FAKE_MVN_RUNS"
"""


@pytest.fixture
def fake_build(monkeypatch, tmp_path):
    """The launcher's build with target/ in tmp_path and a fake mvn; returns target/."""
    target = tmp_path / "target"
    monkeypatch.setattr(launcher, "TARGET", target)
    monkeypatch.setattr(launcher, "BUILDS_DIR", target / "builds")
    monkeypatch.setattr(launcher, "CURRENT_FILE", target / "current")
    monkeypatch.setattr(launcher, "BUILD_LOCK", target / ".build.lock")
    mvn = tmp_path / "mvn"
    mvn.write_text(FAKE_MVN)
    mvn.chmod(0o755)
    monkeypatch.setattr(launcher, "find_mvn", lambda: str(mvn))
    monkeypatch.setenv("FAKE_MVN_RUNS", str(tmp_path / "mvn-runs"))
    monkeypatch.setattr(launcher, "find_java", lambda: "/usr/lib/jvm/x/bin/java")
    return target


def _runs(target: Path) -> int:
    runs = target.parent / "mvn-runs"
    return len(runs.read_text().splitlines()) if runs.exists() else 0


@pytest.fixture
def fake_node():
    """Start a process that looks like a LocalNode JVM (by its command line) running ``args``."""
    import subprocess
    import sys

    procs = []

    def spawn(*args: str) -> int:
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", launcher.MAIN_CLASS, *args])
        procs.append(proc)
        return proc.pid

    def stop_all() -> None:
        for proc in procs:
            proc.kill()
            proc.wait()

    spawn.stop_all = stop_all
    yield spawn
    stop_all()


def test_build_is_done_once_and_a_rebuild_keeps_builds_in_use(fake_build, fake_node, monkeypatch):
    first = launcher.build()
    assert launcher.is_built() and launcher.current_build() == first and first.missing() is None
    assert launcher.build() == first and _runs(fake_build) == 1  # nothing changed: no Maven run

    fake_node("--module-path", str(first.lib), "--data", "/tmp/some-node")
    monkeypatch.setattr(launcher, "_inputs_digest", lambda: "f" * 64)  # the sources changed
    assert not launcher.is_built()
    second = launcher.build()
    assert second != first and launcher.current_build() == second and _runs(fake_build) == 2
    assert first.lib.is_dir() and first.stamp.is_file()  # the running node keeps its jars

    third = launcher.build(force=True)  # unused builds go; the one in use stays
    assert first.root.exists() and not second.root.exists() and launcher.current_build() == third


def test_a_build_with_no_node_left_deletes_the_old_ones_and_the_old_layout(fake_build, fake_node):
    (fake_build / "lib").mkdir(parents=True)  # what the launcher before builds/ left in target/
    (fake_build / "qrelay-es-node.jar").touch()
    fake_node("--module-path", str(fake_build / "lib"), "--data", "/tmp/old-node")
    launcher.build()
    assert (fake_build / "lib").is_dir() and (fake_build / "qrelay-es-node.jar").is_file()  # still in use

    fake_node.stop_all()
    first = launcher.build(force=True)
    assert not (fake_build / "lib").exists() and not (fake_build / "qrelay-es-node.jar").exists()
    second = launcher.build(force=True)
    assert not first.root.exists() and second.root.is_dir()
    assert sorted(p.name for p in fake_build.iterdir()) == [".build.lock", "builds", "current"]


def test_failed_build_is_one_sentence_and_leaves_no_build(fake_build, monkeypatch):
    monkeypatch.setenv("FAKE_MVN_FAIL", "1")
    with pytest.raises(LauncherError, match=r"^the Maven build of the local Elasticsearch failed \(exit 1\)\.\n.*Could not resolve"):
        launcher.build()
    assert not launcher.is_built() and not any((fake_build / "builds").iterdir())
    monkeypatch.delenv("FAKE_MVN_FAIL")
    monkeypatch.setenv("FAKE_MVN_NO_DESCRIPTOR", "1")
    with pytest.raises(LauncherError, match="succeeded but .*transport-netty4 has no plugin-descriptor.properties"):
        launcher.build()
    assert not launcher.is_built()


def test_main_builds_once_and_fails_with_one_sentence(fake_build, monkeypatch, capsys):
    assert launcher.main(["build"]) == 0 and _runs(fake_build) == 1
    assert "building the local Elasticsearch" in capsys.readouterr().err
    assert launcher.main(["build"]) == 0 and _runs(fake_build) == 1  # already built: quiet, no Maven
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("FAKE_MVN_FAIL", "1")
    assert launcher.main(["build", "--force"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "qrelay: the Maven build of the local Elasticsearch failed (exit 1)."
    assert "[ERROR] Could not resolve dependencies" in err[-2]  # Maven's own words above it


# --------------------------------------------------------------------------- clusters and the running node


def test_cluster_layout_discovers_its_own_nodes_and_bootstraps_once(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "port_in_use", lambda port: port == launcher.TRANSPORT_PORTS.start)
    layout = launcher._cluster_layout(tmp_path, 3, 9250, "256m", "qrelay-local-abc")
    assert [n.http_port for n in layout.nodes] == [9250, 9251, 9252]
    assert [n.transport_port for n in layout.nodes] == [9301, 9302, 9303]  # 9300 is taken
    assert [n.name for n in layout.nodes] == ["qrelay-local-1", "qrelay-local-2", "qrelay-local-3"]
    assert [n.dir for n in layout.nodes] == [tmp_path / "node-1", tmp_path / "node-2", tmp_path / "node-3"]
    settings = dict(s[2:].split("=", 1) for s in layout.settings(layout.nodes[1]))
    assert settings == {
        "cluster.name": "qrelay-local-abc",
        "node.name": "qrelay-local-2",
        "discovery.type": "multi-node",
        "discovery.seed_hosts": "127.0.0.1:9301,127.0.0.1:9302,127.0.0.1:9303",
        "cluster.initial_master_nodes": "qrelay-local-1,qrelay-local-2,qrelay-local-3",
    }
    (tmp_path / "node-2" / "data" / "_state").mkdir(parents=True)  # it has been part of the cluster
    assert not any("initial_master_nodes" in s for s in layout.settings(layout.nodes[1]))
    assert launcher._single_layout(tmp_path, 9200, "1g").settings(launcher.NodeSpec(1, "qrelay-local", tmp_path, 9200)) == []

    layout.write()
    again = launcher.read_layout(tmp_path)
    assert again == layout and again.is_cluster


def test_start_refuses_to_mix_a_lone_node_and_a_cluster(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "_launch", lambda *a, **k: pytest.fail("must not start"))
    (tmp_path / "lone" / "data").mkdir(parents=True)
    with pytest.raises(LauncherError, match="holds a single node's data; use another --data"):
        launcher.start(data_dir=tmp_path / "lone", nodes=3)
    monkeypatch.setattr(launcher, "port_in_use", lambda port: False)
    launcher._cluster_layout(tmp_path / "c", 3, 9250, "256m", "qrelay-local-abc").write()
    with pytest.raises(LauncherError, match="holds a cluster of 3 nodes; start it with --nodes 3"):
        launcher.start(data_dir=tmp_path / "c", nodes=2)
    with pytest.raises(LauncherError, match="no node 4"):
        launcher.start_node(tmp_path / "c", 4)
    with pytest.raises(LauncherError, match="--nodes must be 1 or more"):
        launcher.start(data_dir=tmp_path / "new", nodes=0)


def test_cluster_ports_in_use_are_named(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "port_in_use", lambda port: port == 9251)
    with pytest.raises(LauncherError, match="port 9251 .* in use; a cluster of 3 needs ports 9250-9252"):
        launcher._cluster_layout(tmp_path, 3, 9250, "256m", "x")


def test_free_ports_are_consecutive_and_free():
    base = launcher.free_ports(3)
    assert not any(launcher.port_in_use(p) for p in range(base, base + 3))


def test_running_url_reads_the_state_of_a_live_node_for_that_directory(tmp_path, fake_node):
    node_dir = tmp_path / "es"
    assert launcher.running_url(node_dir) is None  # nothing there
    (node_dir / "logs").mkdir(parents=True)
    (node_dir / launcher.PORT_FILE).write_text("9277\n")
    (node_dir / launcher.PID_FILE).write_text(f"{fake_node('--data', str(node_dir))}\n")
    assert launcher.running_url(node_dir) is None  # alive, but its HTTP port is not bound yet
    (node_dir / "logs" / "http.ports").write_text("127.0.0.1:9277\n")
    assert launcher.running_url(node_dir) == "http://127.0.0.1:9277"
    # a node of another directory behind a recycled pid is not ours
    (node_dir / launcher.PID_FILE).write_text(f"{fake_node('--data', str(tmp_path / 'other'))}\n")
    assert launcher.running_url(node_dir) is None and launcher.status(node_dir) is None
    for broken in ("{not json", '{"nodes": [{}]}'):
        (node_dir / launcher.CLUSTER_FILE).write_text(broken)
        assert launcher.running_url(node_dir) is None
        with pytest.raises(LauncherError, match="cluster.json cannot be read"):
            launcher.status(node_dir)


def test_running_url_of_a_cluster_is_its_first_live_node(tmp_path, fake_node, monkeypatch):
    monkeypatch.setattr(launcher, "port_in_use", lambda port: False)
    layout = launcher._cluster_layout(tmp_path, 3, 9250, "256m", "x")
    layout.write()
    for spec in layout.nodes[1:]:
        (spec.dir / "logs").mkdir(parents=True)
        (spec.dir / "logs" / "http.ports").touch()
        (spec.dir / launcher.PID_FILE).write_text(f"{fake_node('--data', str(spec.dir))}\n")
    assert launcher.running_url(tmp_path) == "http://127.0.0.1:9251"  # node 1 is down
