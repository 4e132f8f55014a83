"""What each measure means: names, parameters, descriptions and citations.

Measures are declared here as data and computed elsewhere (one kernel module
per concept: ``ndcg.py``, ``precision.py``, ...), after ir_measures' split of
*meaning* from *engine*.  Names follow trec_eval:

* ``map``, ``Rprec``, ``recip_rank``, ``ndcg`` — no parameters;
* ``P``, ``recall``, ``ndcg_cut`` (and our ``ndcg_exp_cut``, ``err_cut``,
  ``judged``) take cutoffs: ``P.5,10`` or ``P_10`` or bare ``P`` (trec_eval's
  default cutoffs 5,10,15,20,30,100,200,500,1000).  A measure with cutoff k
  prints as ``<name>_<k>``.

>>> [str(m) for m in parse_measures(["ndcg_cut.10", "P_5", "P.10", "map"])]
['map', 'P_5', 'P_10', 'ndcg_cut_10']
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["MeasureSpec", "Measure", "REGISTRY", "parse_measure", "parse_measures", "DEFAULT_CUTOFFS"]

DEFAULT_CUTOFFS = (5, 10, 15, 20, 30, 100, 200, 500, 1000)

_BUCKLEY = ("C. Buckley and E. M. Voorhees. Retrieval System Evaluation. In TREC: Experiment and "
            "Evaluation in Information Retrieval, MIT Press, 2005.")
_JK = ("K. Jarvelin and J. Kekalainen. Cumulated gain-based evaluation of IR techniques. "
       "ACM TOIS 20(4):422-446, 2002.")


@dataclass(frozen=True)
class MeasureSpec:
    """A family of measures: the name trec_eval knows it by, and what it means."""

    name: str
    description: str
    citation: str
    cutoff: bool = False  # takes cutoffs k (printed name_k)
    binary: bool = True  # uses the relevance level (-l) to call a document relevant
    trec_eval: bool = True  # computed identically by trec_eval


@dataclass(frozen=True, order=True)
class Measure:
    """One concrete measure: a spec plus (for cutoff measures) one cutoff."""

    order: int = field(compare=True)
    cutoff: int = field(compare=True, default=0)
    name: str = field(compare=False, default="")

    @property
    def spec(self) -> MeasureSpec:
        return REGISTRY[self.name]

    def __str__(self) -> str:
        return f"{self.name}_{self.cutoff}" if self.spec.cutoff else self.name


# Declaration order is trec_eval's print order (measures.c), ours last.
REGISTRY: dict[str, MeasureSpec] = {}


def _declare(spec: MeasureSpec) -> None:
    REGISTRY[spec.name] = spec


_declare(MeasureSpec("map", "Mean average precision: precision after each relevant retrieved document, "
                     "summed and divided by the number of relevant documents.", _BUCKLEY))
_declare(MeasureSpec("Rprec", "Precision after R documents, R the number of relevant documents.", _BUCKLEY))
_declare(MeasureSpec("recip_rank", "Reciprocal rank of the first relevant retrieved document.", _BUCKLEY))
_declare(MeasureSpec("P", "Precision at cutoff k (missing ranks count as non-relevant).", _BUCKLEY,
                     cutoff=True))
_declare(MeasureSpec("recall", "Relevant retrieved in the top k / relevant.", _BUCKLEY, cutoff=True))
_declare(MeasureSpec("ndcg", "nDCG over the whole ranking, linear gain = grade, log2(rank+1) discount; "
                     "ideal from all judged documents.", _JK, binary=False))
_declare(MeasureSpec("ndcg_cut", "nDCG at cutoff k, linear gain = grade (trec_eval's ndcg_cut).", _JK,
                     cutoff=True, binary=False))
_declare(MeasureSpec("ndcg_exp_cut", "nDCG at cutoff k with exponential gain 2**grade - 1 "
                     "(not in trec_eval).",
                     "C. Burges et al. Learning to rank using gradient descent. ICML 2005.",
                     cutoff=True, binary=False, trec_eval=False))
_declare(MeasureSpec("err_cut", "Expected reciprocal rank at cutoff k; stop probability "
                     "(2**grade - 1) / 2**max_grade, max_grade the largest grade in the qrels "
                     "(not in trec_eval).",
                     "O. Chapelle, D. Metzler, Y. Zhang, P. Grinspan. Expected reciprocal rank for "
                     "graded relevance. CIKM 2009.", cutoff=True, binary=False, trec_eval=False))
_declare(MeasureSpec("judged", "Share of the top k ranks holding a judged document (grade >= 0); "
                     "missing ranks count as unjudged (ir_measures' Judged@k; not in trec_eval).",
                     "T. Sakai. Alternatives to bpref. SIGIR 2007.", cutoff=True, binary=False,
                     trec_eval=False))

_ORDER = {name: i for i, name in enumerate(REGISTRY)}
_SUFFIX = re.compile(r"^(.*?)_(\d+)$")


def parse_measure(text: str) -> list[Measure]:
    """Parse one measure argument (``ndcg_cut.10``, ``P.5,10``, ``P_10``, ``map``).

    >>> [str(m) for m in parse_measure("P.10,5")]
    ['P_5', 'P_10']
    """
    text = text.strip()
    if not text:
        raise ValueError("empty measure name")
    name, params = text, None
    if "." in text:
        name, params = text.split(".", 1)
    elif text not in REGISTRY:
        m = _SUFFIX.match(text)
        if m and m.group(1) in REGISTRY and REGISTRY[m.group(1)].cutoff:
            name, params = m.group(1), m.group(2)
    spec = REGISTRY.get(name)
    if spec is None:
        known = ", ".join(REGISTRY)
        raise ValueError(f"unknown measure {text!r} (known: {known})")
    if not spec.cutoff:
        if params is not None:
            raise ValueError(f"measure {name!r} takes no parameters (got {text!r})")
        return [Measure(_ORDER[name], 0, name)]
    if params is None:
        cutoffs = list(DEFAULT_CUTOFFS)
    else:
        try:
            cutoffs = [int(p) for p in params.split(",")]
        except ValueError:
            raise ValueError(f"measure {text!r}: cutoffs must be positive integers") from None
        if any(k <= 0 for k in cutoffs):
            raise ValueError(f"measure {text!r}: cutoffs must be positive integers")
    return [Measure(_ORDER[name], k, name) for k in sorted(set(cutoffs))]


def parse_measures(texts) -> list[Measure]:
    """Parse many measure arguments; duplicates merge; trec_eval's print order."""
    if isinstance(texts, str):
        texts = [texts]
    out = set()
    for t in texts:
        out.update(parse_measure(t))
    if not out:
        raise ValueError("no measures requested")
    return sorted(out)
