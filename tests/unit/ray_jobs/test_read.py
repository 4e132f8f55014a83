import numpy as np

from ray_jobs.prejudge.read import Items, doc_text


def pw(item_id, query, title, snippet="", locale="en-US", **kw):
    return {"_id": item_id, "item_id": item_id, "kind": "pointwise", "query": query, "locale": locale,
            "doc": {"doc_id": title, "title": title, "snippet": snippet, "position": 1}, **kw}


def sxs(item_id, query, left, right, **kw):
    mk = lambda lst: [{"doc_id": d, "title": d, "snippet": "s" if d else "", "position": i + 1} for i, d in enumerate(lst)]
    return {"_id": item_id, "item_id": item_id, "kind": "side_by_side", "query": query, "locale": "es-MX",
            "left": mk(left), "right": mk(right), **kw}


def test_doc_text():
    assert doc_text({"title": " T ", "snippet": None}) == "T"
    assert doc_text(None) == ""


def test_texts_are_interned_across_items_and_lists():
    it = Items()
    it.add(pw("1", "q", "a"))
    it.add(pw("2", "q", "b"))
    it.add(pw("3", "q2", "a"))
    it.add(sxs("4", "q", ["a", "b"], ["b", "c"]))
    assert it.n == 4 and len(it.pw_id) == 3 and len(it.sx_id) == 1
    # q, a, b, q2, and the SxS doc texts "x\ns"
    assert len(it.texts) == len(set(it.texts.texts))
    assert it.pw_q[0] == it.pw_q[1] == it.sx_q[0]
    assert it.sr_side == [0, 0, 1, 1] and it.sr_rank == [0, 1, 0, 1]
    # the same document in both lists shares a key within the item
    assert it.sr_doc == [0, 1, 1, 2]


def test_empty_text_is_reported_not_added():
    it = Items()
    it.add(pw("1", " ", "a"))
    it.add(pw("2", "q", "", ""))
    it.add(sxs("3", "q", ["a"], [""]))
    it.add(pw("4", "q", "t", gold=True, gold_label=3))
    assert it.empty == ["1", "2", "3"]
    assert it.pw_id == ["4"] and it.pw_gold == [True] and it.pw_gold_label == [3]
    assert np.asarray(it.pw_q).dtype.kind == "i"
