from services.evaluation.pooling import QueryResults, gold_count, gold_items, pointwise_items, side_by_side_items


def _doc(i):
    return {"doc_id": f"d{i}", "title": f"t{i}", "snippet": "s", "url": f"https://x/{i}", "score": 9.5}


def _q(a, b):
    return QueryResults("shoes", "Shoes", "en-US", "head|en-US", {"A": [_doc(i) for i in a], "B": [_doc(i) for i in b]})


def test_pointwise_pools_each_pair_once_and_hides_rankers_from_the_doc():
    items = pointwise_items("ev1", _q([1, 2, 3], [3, 4, 1]), ["A", "B"], {"evaluation_id": "ev1"})
    assert sorted(i["doc"]["doc_id"] for i in items) == ["d1", "d2", "d3", "d4"]
    d3 = next(i for i in items if i["doc"]["doc_id"] == "d3")
    assert d3["ranks"] == {"A": 3, "B": 1} and d3["doc"]["position"] == 1
    assert set(d3["doc"]) == {"doc_id", "title", "snippet", "url", "position"}  # no score, no ranker
    again = pointwise_items("ev1", _q([1, 2, 3], [3, 4, 1]), ["A", "B"], {})
    assert [i["item_id"] for i in items] == [i["item_id"] for i in again]


def test_side_by_side_pairs_and_ties():
    [item] = side_by_side_items("ev1", _q([1, 2], [2, 1]), ["A", "B"], {})
    assert item["ranker_a"] == "A" and item["ranker_b"] == "B" and not item["identical"] and item["needs_humans"]
    [tie] = side_by_side_items("ev1", _q([1, 2], [1, 2]), ["A", "B"], {})
    assert tie["identical"] and not tie["needs_humans"]
    assert len(side_by_side_items("ev1", _q([1], [2]), ["A", "B", "A2"], {})) == 3


def test_gold_items_look_like_live_items():
    [g] = gold_items("ev1", [{"gold_id": "g1", "query": "q", "locale": "es-MX", "doc": _doc(7), "grade": 2}], {})
    live = pointwise_items("ev1", _q([1], []), ["A"], {})[0]
    assert set(g["doc"]) == set(live["doc"]) and g["kind"] == "pointwise" and g["gold_label"] == 2
    assert gold_count(90, 0.1) == 10 and gold_count(0, 0.2) == 0


def test_same_text_in_two_groups_is_two_queries():
    a, b = _q([1], [2]), _q([1], [2])
    a.group, b.group = ("en-US",), ("es-MX",)
    ids = {i["item_id"] for q in (a, b) for i in side_by_side_items("ev1", q, ["A", "B"], {}) + pointwise_items("ev1", q, ["A", "B"], {})}
    assert len(ids) == 6


def test_items_carry_their_querys_traffic():
    q = _q([1, 2], [2, 3])
    q.traffic = 412
    items = pointwise_items("ev1", q, ["A", "B"], {}) + side_by_side_items("ev1", q, ["A", "B"], {})
    assert {i["query_traffic"] for i in items} == {412}
