import itertools

import pytest

from fixtures.logs.generator import generate_events
from services.core.querynorm import normalize_query
from services.evaluation import hygiene


@pytest.mark.parametrize("query, kind", [
    ("contacto ana.perez@correo.mx", "email"),
    ("llamar 55 1234 5678", "phone"),
    ("+55 (11) 91234-5678 entrega", "phone"),
    ("4111-1111-1111-1111", "card"),
    ("pedido 8f3a9c2e7b1d4f6a9c0e", "id_run"),
    ("tracking 12345678901234567890", "id_run"),
    ("٠٥٥١٢٣٤٥٦٧", "phone"),  # Arabic-Indic digits
    ("iphone 15 pro max 256gb", None),
    ("tv 55 pulgadas 4k 2024", None),
    ("カメラ 防水", None),
])
def test_pii_kind(query, kind):
    assert hygiene.pii_kind(normalize_query(query)) == kind


@pytest.mark.parametrize("query, kind", [("", "empty"), ("   ", "empty"), ("?!?!", "garbage"), ("zzzzzzzz", "garbage"),
                                         ("x" * 300, "garbage"), ("zapatos", None)])
def test_garbage_kind(query, kind):
    assert hygiene.garbage_kind(query) == kind


def test_normalize_groups_case_width_and_space():
    assert normalize_query("  Nike\u3000ＲＵＮＮＩＮＧ  Shoes ") == "nike running shoes"


def test_catches_every_pii_query_of_the_fixture_logs_and_nothing_else():
    events = itertools.islice(generate_events(30_000, seed=11, with_truth=True), 30_000)
    found = missed = false_alarms = 0
    for e in events:
        truth = e["fixture_truth"]["pii"]
        got = hygiene.pii_kind(normalize_query(e["query"]))
        found += bool(truth and got)
        missed += bool(truth and not got)
        false_alarms += bool(got and not truth)
    assert found > 50 and missed == 0 and false_alarms == 0
