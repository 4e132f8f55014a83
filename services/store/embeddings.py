"""The ``embeddings`` index: a cache of text embeddings keyed by (model, text hash).

Vectors are stored as little-endian float32 bytes in a ``binary`` field: the cache is read by
id, never searched, and one index then serves models of any dimension.
"""
from services.store.family import DATE, INT, KEYWORD, IndexFamily

FAMILY = IndexFamily(
    name="embeddings",
    version=1,
    doc="Embedding cache; _id = sha256(model + NUL + text).",
    properties={
        "model": KEYWORD,
        "model_version": KEYWORD,
        "text_sha256": KEYWORD,
        "dims": INT,
        "vector": {"type": "binary"},
        "create_time": DATE,
    },
)
