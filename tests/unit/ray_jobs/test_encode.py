import numpy as np
from hypothesis import given, strategies as st

from ray_jobs.prejudge.encode import cosine_rows, dedupe, length_buckets
from services.store.embedding_cache import cache_key, decode_vector, encode_vector


def test_dedupe_keeps_first_seen_order_and_inverse():
    texts = ["q1", "d1", "q1", "d2", "d1"]
    unique, inv = dedupe(texts)
    assert unique == ["q1", "d1", "d2"]
    assert [unique[i] for i in inv] == texts


@given(st.lists(st.text(max_size=5), max_size=50))
def test_dedupe_roundtrip(texts):
    unique, inv = dedupe(texts)
    assert len(unique) == len(set(texts))
    assert [unique[i] for i in inv] == texts


def test_buckets_group_similar_lengths_longest_first():
    lengths = [3, 100, 4, 98, 50, 51]
    b = length_buckets(lengths, 2)
    assert [sorted(x.tolist()) for x in b] == [[1, 3], [4, 5], [0, 2]]


def test_buckets_respect_char_budget():
    b = length_buckets([100, 100, 100, 10, 10, 10], batch_size=10, max_chars=250)
    assert all(sum([100, 100, 100, 10, 10, 10][i] for i in x) <= 250 or len(x) == 1 for x in b)
    assert sorted(np.concatenate(b).tolist()) == list(range(6))


@given(st.lists(st.integers(0, 500), max_size=200), st.integers(1, 17))
def test_buckets_partition_every_index_once(lengths, size):
    b = length_buckets(lengths, size)
    flat = np.concatenate(b).tolist() if b else []
    assert sorted(flat) == list(range(len(lengths)))
    assert all(1 <= len(x) <= size for x in b)
    # similar lengths: each bucket's lengths form a contiguous range of the sorted order
    maxes = [max(lengths[i] for i in x) for x in b]
    assert maxes == sorted(maxes, reverse=True)


def test_cosine_rows():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    b = np.array([[2.0, 0.0], [-1.0, -1.0], [1.0, 0.0]])
    np.testing.assert_allclose(cosine_rows(a, b), [1.0, -1.0, 0.0])


def test_cache_key_depends_on_model_and_text():
    assert cache_key("m", "t") != cache_key("m2", "t") != cache_key("m", "t2")
    assert cache_key("m", "t") == cache_key("m", "t")


def test_vector_codec_roundtrip():
    v = np.random.default_rng(0).normal(size=384).astype(np.float32)
    np.testing.assert_array_equal(decode_vector(encode_vector(v)), v)
