"""Every qrelay command finds Elasticsearch the same way: --es-url, else QRELAY_ES_URL, else the
local node `qrelay es start` left running (QRELAY_ES_DATA), else one sentence saying so."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

def _qrelay(*args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("QRELAY_ES_")}
    return subprocess.run([sys.executable, "-m", "services.cli", *args], capture_output=True, text=True,
                          timeout=300, env={**base, **env})


@pytest.mark.local_node
def test_commands_default_to_the_running_local_node(es, es_url, es_data_dir):
    index = f"qt-defaults-{uuid.uuid4().hex[:8]}"
    try:
        r = _qrelay("fixtures", "load", "--events", "50", "--index", index, QRELAY_ES_DATA=str(es_data_dir))
        assert r.returncode == 0, r.stderr
        es.indices.refresh(index=index)
        assert es.count(index=index)["count"] == 50
        # prejudge resolves the same node: it gets as far as asking for the (unknown) evaluation
        r = _qrelay("prejudge", "evaluations/nope", "--index-prefix", f"qt-{uuid.uuid4().hex[:8]}-",
                    QRELAY_ES_DATA=str(es_data_dir))
        assert r.returncode == 2 and "evaluations/nope does not exist" in r.stderr, r.stderr
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)


@pytest.mark.parametrize("command", [("fixtures", "load", "--events", "10"), ("prejudge", "evaluations/x"),
                                     ("serve", "--port", "0")])
def test_without_elasticsearch_every_command_says_so_in_one_sentence(tmp_path, command):
    r = _qrelay(*command, QRELAY_ES_DATA=str(tmp_path / "none"))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no Elasticsearch: set QRELAY_ES_URL or pass --es-url" in lines[0], r.stderr
