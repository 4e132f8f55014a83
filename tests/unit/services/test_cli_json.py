"""Every qrelay command that prints takes --json on its own parser, spelt that way only."""
from __future__ import annotations

import argparse

from services.cli import build_parser

# Commands whose output is the data itself (a file format) or that run until stopped.
NOT_PRINTING = {"serve", "web", "fixtures generate"}


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield " ".join(path), parser
        return
    for name, child in subs[0].choices.items():
        yield from _leaves(child, path + (name,))


def test_every_printing_command_takes_json_and_no_other_spelling():
    missing, odd = [], []
    for name, parser in _leaves(build_parser()):
        flags = {s for a in parser._actions for s in a.option_strings}
        odd += [f"{name}: {f}" for f in flags if "json" in f.lower() and f != "--json"]
        if name not in NOT_PRINTING and "--json" not in flags:
            missing.append(name)
    assert not odd, odd
    assert not missing, f"commands that print without --json: {missing}"


def test_json_is_a_plain_switch():
    for name, parser in _leaves(build_parser()):
        for a in parser._actions:
            if "--json" in a.option_strings:
                assert isinstance(a, argparse._StoreTrueAction), name


def test_trec_eval_json_carries_what_the_text_prints(tmp_path, capsys):
    import json

    from services.cli import main

    qrels, run = tmp_path / "qrels", tmp_path / "run"
    qrels.write_text("1 0 d1 2\n1 0 d2 0\n2 0 d3 1\n2 0 d4 3\n")
    run.write_text("1 Q0 d2 1 2.0 r\n1 Q0 d1 2 1.0 r\n2 Q0 d3 1 1.0 r\n")
    assert main(["trec-eval", "-q", "-m", "ndcg_cut.10", str(qrels), str(run)]) == 0
    text = {(m.strip(), q): float(v) for m, q, v in (line.split("\t") for line in capsys.readouterr().out.splitlines())}
    assert main(["trec-eval", "-q", "--json", "-m", "ndcg_cut.10", str(qrels), str(run)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["queries"] == 2 and round(doc["mean"]["ndcg_cut_10"], 4) == text[("ndcg_cut_10", "all")]
    assert {q: round(v, 4) for q, v in doc["per_query"]["ndcg_cut_10"].items()} == \
        {q: v for (m, q), v in text.items() if q != "all"}
