"""`qrelay aggregate`: CSV in, item,label,confidence out, clear file:line errors."""
from __future__ import annotations

import csv
import io

import pytest

from services import cli
from services.cli import main


@pytest.fixture(autouse=True)
def _only_aggregate(monkeypatch):
    # Run the real dispatcher (error printing, exit codes) without importing the other subcommands.
    monkeypatch.setattr(cli, "COMMANDS", ("aggregate",))


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


LABELS = "item,worker,label\nq1,a,2\nq1,b,2\nq1,c,1\nq2,a,0\nq2,b,0\nq2,c,3\nq10,a,1\nq10,b,1\n"


def _rows(text):
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("method", ["majority", "dawid-skene", "one-coin", "ordinal-ds"])
def test_aggregate_methods(tmp_path, capsys, method):
    path = _write(tmp_path / "labels.csv", LABELS)
    assert main(["aggregate", "--method", method, path]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows[0] == ["item", "label", "confidence"]
    assert {r[0] for r in rows[1:]} == {"q1", "q2", "q10"}
    got = {r[0]: r[1] for r in rows[1:]}
    assert got["q10"] == "1"
    for r in rows[1:]:
        assert 0.0 <= float(r[2]) <= 1.0


def test_aggregate_majority_confidence_and_output_file(tmp_path, capsys):
    path = _write(tmp_path / "labels.csv", LABELS)
    out = tmp_path / "out.csv"
    assert main(["aggregate", "--method", "majority", "-o", str(out), path]) == 0
    assert capsys.readouterr().out == ""
    rows = _rows(out.read_text())
    assert rows[1:] == [["q1", "2", "0.666667"], ["q10", "1", "1.000000"], ["q2", "0", "0.666667"]]


def test_aggregate_gold_clamps(tmp_path, capsys):
    path = _write(tmp_path / "labels.csv", LABELS)
    gold = _write(tmp_path / "gold.csv", "item,label\nq2,3\nunknown,1\n")
    assert main(["aggregate", "--method", "majority", "--gold", gold, path]) == 0
    rows = {r[0]: r[1:] for r in _rows(capsys.readouterr().out)[1:]}
    assert rows["q2"] == ["3", "1.000000"]


def test_aggregate_string_labels_and_extra_columns(tmp_path, capsys):
    path = _write(tmp_path / "l.csv", "worker,label,item,ts\na,yes,x,1\nb,yes,x,2\nc,no,x,3\n")
    assert main(["aggregate", "--method", "majority", path]) == 0
    assert _rows(capsys.readouterr().out)[1][:2] == ["x", "yes"]


def test_aggregate_seed_is_deterministic(tmp_path, capsys):
    path = _write(tmp_path / "l.csv", "item,worker,label\nx,a,1\nx,b,2\ny,a,1\ny,b,2\n")
    main(["aggregate", "--method", "majority", "--seed", "3", path])
    first = capsys.readouterr().out
    main(["aggregate", "--method", "majority", "--seed", "3", path])
    assert capsys.readouterr().out == first


@pytest.mark.parametrize("text, message", [
    ("", "empty file"),
    ("item,worker,label\n", "no rows after the header"),
    ("item,worker\nq1,a\n", "labels.csv:1: header lacks column(s) label"),
    ("item,worker,label\nq1,a,1\nq1,b\n", "labels.csv:3: expected 3 fields, got 2"),
    ("item,worker,label\nq1,a,1\nq1,,1\n", "labels.csv:3: empty worker"),
])
def test_aggregate_malformed_input(tmp_path, capsys, text, message):
    path = _write(tmp_path / "labels.csv", text)
    assert main(["aggregate", path]) == 2
    assert message in capsys.readouterr().err


def test_aggregate_graded_errors(tmp_path, capsys):
    path = _write(tmp_path / "labels.csv", "item,worker,label\nq1,a,1\nq1,b,high\n")
    assert main(["aggregate", "--method", "ordinal-ds", path]) == 2
    assert "labels.csv:3: label 'high' is not an integer grade" in capsys.readouterr().err
    path = _write(tmp_path / "labels.csv", "item,worker,label\nq1,a,1\nq1,b,-2\n")
    assert main(["aggregate", "--method", "ordinal-ds", path]) == 2
    assert "labels.csv:3: grades must be non-negative" in capsys.readouterr().err


def test_aggregate_missing_file_and_bad_gold(tmp_path, capsys):
    assert main(["aggregate", str(tmp_path / "nope.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err
    path = _write(tmp_path / "labels.csv", LABELS)
    gold = _write(tmp_path / "gold.csv", "item,label\nq1,1\nq1,2\n")
    assert main(["aggregate", "--gold", gold, path]) == 2
    assert "gold.csv:3: item 'q1' has two different gold labels" in capsys.readouterr().err
    gold = _write(tmp_path / "gold.csv", "item,label\nq1,7\n")
    assert main(["aggregate", "--gold", gold, path]) == 2
    assert "gold label" in capsys.readouterr().err


def test_aggregate_reads_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(LABELS))
    assert main(["aggregate", "--method", "majority", "-"]) == 0
    assert len(_rows(capsys.readouterr().out)) == 4


def test_aggregate_reports_the_guard(tmp_path, capsys):
    from fixtures.crowd import simulate_crowd

    # Full Dawid-Skene on a sparse crowd (workers with ~3 labels): the guard falls back.
    crowd = simulate_crowd("sparse", n_items=500, seed=0)
    rows = "".join(f"i{i},w{w},{l}\n" for i, w, l in zip(crowd.item, crowd.worker, crowd.label))
    path = _write(tmp_path / "labels.csv", "item,worker,label\n" + rows)
    assert main(["aggregate", "--method", "dawid-skene", path]) == 0
    captured = capsys.readouterr()
    assert "warning" in captured.err and "majority vote" in captured.err
    assert len(_rows(captured.out)) == 501


def test_aggregate_json_gives_the_same_labels_as_csv(tmp_path, capsys):
    import json

    path = _write(tmp_path / "labels.csv", LABELS)
    assert main(["aggregate", path]) == 0
    csv_rows = {r[0]: (r[1], r[2]) for r in _rows(capsys.readouterr().out)[1:]}
    assert main(["aggregate", "--json", path]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["method"] == "dawid-skene" and isinstance(doc["converged"], bool) and "tripped" in doc["guard"]
    assert {r["item"]: (str(r["label"]), f"{r['confidence']:.6f}") for r in doc["labels"]} == csv_rows
