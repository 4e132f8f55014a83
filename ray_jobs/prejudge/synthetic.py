"""Synthetic evaluations with known relevance, for tests, benchmarks and demos of the job.

Queries and documents are built from topics written in four languages (en, es, de, fr) and from
named entities, so the true grade of a (query, document) pair is known by construction:
3 same entity and topic, 2 same topic, 1 a related topic, 0 unrelated. Synthetic "human" grades
are the true grade with noise. :func:`write` puts the evaluation (PREJUDGING), its items and
optionally the human judgements into Elasticsearch — it is a fixture, like the log generator.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass, field

import numpy as np

# topic -> words per language; neighbours (i, i+1 in the same group of 4) are "related".
TOPICS = {
    "en": ["cheap flights", "hotel rooms", "car rental", "train tickets", "running shoes", "winter jackets",
           "leather boots", "summer dresses", "laptop", "smartphone", "headphones", "television", "pizza recipe",
           "pasta sauce", "chocolate cake", "vegan salad", "football scores", "tennis racket", "yoga mat",
           "bicycle helmet", "mortgage rates", "credit card", "savings account", "car insurance", "flu symptoms",
           "back pain", "dentist near me", "vitamin d", "guitar lessons", "piano sheet music", "concert tickets",
           "movie times"],
    "es": ["vuelos baratos", "habitaciones de hotel", "alquiler de coches", "billetes de tren", "zapatillas de correr",
           "chaquetas de invierno", "botas de cuero", "vestidos de verano", "portátil", "teléfono móvil", "auriculares",
           "televisor", "receta de pizza", "salsa para pasta", "pastel de chocolate", "ensalada vegana",
           "resultados de fútbol", "raqueta de tenis", "esterilla de yoga", "casco de bicicleta", "tipos de hipoteca",
           "tarjeta de crédito", "cuenta de ahorro", "seguro de coche", "síntomas de gripe", "dolor de espalda",
           "dentista cerca", "vitamina d", "clases de guitarra", "partituras de piano", "entradas de concierto",
           "horarios de cine"],
    "de": ["billige flüge", "hotelzimmer", "autovermietung", "zugtickets", "laufschuhe", "winterjacken",
           "lederstiefel", "sommerkleider", "laptop", "smartphone", "kopfhörer", "fernseher", "pizza rezept",
           "nudelsoße", "schokoladenkuchen", "veganer salat", "fußball ergebnisse", "tennisschläger", "yogamatte",
           "fahrradhelm", "hypothekenzinsen", "kreditkarte", "sparkonto", "autoversicherung", "grippesymptome",
           "rückenschmerzen", "zahnarzt in der nähe", "vitamin d", "gitarrenunterricht", "klaviernoten",
           "konzertkarten", "kinoprogramm"],
    "fr": ["vols pas chers", "chambres d'hôtel", "location de voiture", "billets de train", "chaussures de course",
           "vestes d'hiver", "bottes en cuir", "robes d'été", "ordinateur portable", "téléphone portable", "casque audio",
           "téléviseur", "recette de pizza", "sauce pour pâtes", "gâteau au chocolat", "salade végane",
           "résultats de football", "raquette de tennis", "tapis de yoga", "casque de vélo", "taux immobilier",
           "carte de crédit", "compte épargne", "assurance auto", "symptômes de la grippe", "mal de dos",
           "dentiste près de chez moi", "vitamine d", "cours de guitare", "partitions de piano", "billets de concert",
           "séances de cinéma"],
}
LOCALES = {"en": "en-US", "es": "es-MX", "de": "de-DE", "fr": "fr-FR"}
FILLER = {
    "en": ["best prices", "free delivery", "customer reviews", "compare offers", "official site", "top rated", "new"],
    "es": ["mejores precios", "envío gratis", "opiniones", "comparar ofertas", "sitio oficial", "mejor valorado", "nuevo"],
    "de": ["beste preise", "kostenloser versand", "bewertungen", "angebote vergleichen", "offizielle seite", "top", "neu"],
    "fr": ["meilleurs prix", "livraison gratuite", "avis clients", "comparer les offres", "site officiel", "mieux notés", "nouveau"],
}
SYLLABLES = ["ka", "lo", "mi", "zen", "tri", "vo", "ra", "nex", "sol", "ba", "qui", "dor", "fe", "lu", "tan", "or"]


def _entity(i: int) -> str:
    a = SYLLABLES[i % 16] + SYLLABLES[(i // 16) % 16] + SYLLABLES[(i // 256) % 16]
    return a.capitalize() + (f" {i // 4096}" if i >= 4096 else "")


@dataclass
class Synthetic:
    evaluation_id: str
    items: list[dict] = field(default_factory=list)
    truth: dict[str, int] = field(default_factory=dict)  # pointwise item_id -> true grade
    sxs_truth: dict[str, int] = field(default_factory=dict)  # SxS item_id -> sign of true ΔDCG

    def human_grades(self, share: float, noise: float, seed: int) -> list[tuple[str, str, int]]:
        """``(item_id, locale, grade)`` for a random ``share`` of pointwise items: the true grade,
        moved by ±1 with probability ``noise``."""
        rng = np.random.default_rng(seed)
        out = []
        loc = {it["item_id"]: it["locale"] for it in self.items}
        for item_id, g in self.truth.items():
            if rng.random() >= share:
                continue
            if rng.random() < noise:
                g = int(np.clip(g + rng.choice([-1, 1]), 0, 3))
            out.append((item_id, loc[item_id], int(g)))
        return out


def generate(
    evaluation_id: str, n_queries: int, n_docs: int, n_items: int, sxs_share: float = 0.1, seed: int = 0,
    list_len: int = 5,
) -> Synthetic:
    """``n_items`` items over ``n_queries`` queries and about ``n_docs`` distinct documents."""
    rng = np.random.default_rng(seed)
    langs = list(TOPICS)
    n_topics = len(TOPICS["en"])
    # Documents: (lang, topic, entity); title + snippet text.
    d_lang = rng.integers(0, len(langs), n_docs)
    d_topic = rng.integers(0, n_topics, n_docs)
    d_entity = rng.integers(0, max(1, n_docs // 3), n_docs)
    docs = []
    for i in range(n_docs):
        lang = langs[d_lang[i]]
        fill = FILLER[lang]
        title = f"{_entity(int(d_entity[i]))} {TOPICS[lang][d_topic[i]]}"
        snippet = f"{TOPICS[lang][d_topic[i]]} — {fill[i % len(fill)]}, {fill[(i * 7 + 3) % len(fill)]}. ref {i}"
        docs.append({"doc_id": f"d{i}", "title": title, "snippet": snippet, "url": f"https://example.org/{lang}/{i}"})
    by_lang_topic: dict[tuple[int, int], np.ndarray] = {}
    order = np.lexsort((d_topic, d_lang))
    keys = d_lang[order] * n_topics + d_topic[order]
    for k in np.unique(keys):
        by_lang_topic[(int(k) // n_topics, int(k) % n_topics)] = order[keys == k]
    # Queries: a document's entity + topic (so grade-3 documents exist), in the document's language.
    q_doc = rng.integers(0, n_docs, n_queries)
    queries = []
    for i in q_doc:
        lang = langs[d_lang[i]]
        queries.append((f"{_entity(int(d_entity[i]))} {TOPICS[lang][d_topic[i]]}",
                        int(d_lang[i]), int(d_topic[i]), int(d_entity[i])))

    def grade(q, d) -> int:
        _, ql, qt, qe = q
        if d_topic[d] == qt and d_entity[d] == qe:
            return 3
        if d_topic[d] == qt:
            return 2
        if d_topic[d] // 4 == qt // 4:
            return 1
        return 0

    def pick(q) -> int:
        _, ql, qt, qe = q
        r = rng.random()
        if r < 0.45:
            pool = by_lang_topic.get((ql, qt))
        elif r < 0.7:
            pool = by_lang_topic.get((ql, (qt // 4) * 4 + int(rng.integers(0, 4))))
        else:
            pool = None
        return int(rng.choice(pool)) if pool is not None and len(pool) else int(rng.integers(0, n_docs))

    out = Synthetic(evaluation_id)
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
    seen: set[str] = set()
    qi = 0
    while len(out.items) < n_items:
        q = queries[qi % n_queries]
        qi += 1
        lang = langs[q[1]]
        base = {"evaluation_id": evaluation_id, "query": q[0], "query_norm": q[0].lower(), "locale": LOCALES[lang],
                "gold": False, "create_time": now, "needs_humans": True, "judgements": 0}
        if rng.random() < sxs_share:
            left = [pick(q) for _ in range(list_len)]
            right = [pick(q) for _ in range(list_len)]
            item_id = _id(evaluation_id, q[0], "sxs", str(left), str(right))
            if item_id in seen:
                continue
            seen.add(item_id)
            gl = [grade(q, d) for d in left]
            gr = [grade(q, d) for d in right]
            disc = 1.0 / np.log2(np.arange(list_len) + 2.0)
            out.sxs_truth[item_id] = int(np.sign(np.dot(gr, disc) - np.dot(gl, disc)))
            out.items.append({**base, "item_id": item_id, "kind": "side_by_side", "ranker_a": "A", "ranker_b": "B",
                              "identical": left == right,
                              "left": [{**docs[d], "position": r + 1} for r, d in enumerate(left)],
                              "right": [{**docs[d], "position": r + 1} for r, d in enumerate(right)]})
        else:
            d = pick(q)
            item_id = _id(evaluation_id, q[0], docs[d]["doc_id"])
            if item_id in seen:
                continue
            seen.add(item_id)
            out.truth[item_id] = grade(q, d)
            out.items.append({**base, "item_id": item_id, "kind": "pointwise", "doc": {**docs[d], "position": 1},
                              "rankers": ["A"]})
    return out


def _id(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def write(es, prefix: str, syn: Synthetic, judgements: list[tuple[str, str, int]] = (),
          judgement_evaluation: str | None = None, state: str = "PREJUDGING") -> None:
    """Index the evaluation document, its items and ``judgements`` (``(item_id, locale, grade)``)."""
    from elasticsearch import helpers

    from services.store import evaluations, items as items_store, judgements as judgements_store

    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
    es.index(index=evaluations.index(prefix), id=syn.evaluation_id, refresh="wait_for", document={
        "evaluation_id": syn.evaluation_id, "display_name": f"synthetic {syn.evaluation_id}", "state": state,
        "locales": sorted({it["locale"] for it in syn.items}), "kinds": sorted({it["kind"] for it in syn.items}),
        "counts": {"items": len(syn.items)}, "create_time": now, "update_time": now,
    })
    idx = items_store.FAMILY.index(prefix)
    helpers.bulk(es.options(request_timeout=120), ({"_index": idx, "_id": it["item_id"], "_source": it}
                                                  for it in syn.items), chunk_size=2000)
    jidx = judgements_store.FAMILY.index(prefix)
    helpers.bulk(es, ({"_op_type": "create", "_index": jidx, "_id": f"j-{item_id}", "_source": {
        "judgement_id": f"j-{item_id}", "item_id": item_id, "evaluation_id": judgement_evaluation or syn.evaluation_id,
        "grader": "synthetic", "locale": loc, "kind": "pointwise", "grade": g, "submit_time": now,
    }} for item_id, loc, g in judgements), chunk_size=2000, raise_on_error=False)
    es.indices.refresh(index=f"{idx},{jidx}")
