"""From labelled items to the numbers of a report: per-query metric values with trec_eval's
kernels and rules (:mod:`.pooled`), means re-weighted to traffic (:mod:`.strata`), paired
differences with t and randomisation tests (:mod:`.paired`, :mod:`.randomisation`),
side-by-side verdicts (:mod:`.verdicts`), inter-rater agreement from vote counts (:mod:`.raters`), segments (:mod:`.segments`) and the one-sentence
summary (:mod:`.sentence`); prediction-powered estimates from model labels and audited human
labels (:mod:`.ppi`) and the anytime-valid headline (:mod:`.sequential`). Arrays in, arrays
out; no I/O.
"""
from .paired import WeightedDifference, weighted_difference
from .pooled import PooledMetrics, per_query_values, trec_mean
from .ppi import PPIResult, QueryValues, item_values, ppi_estimate, query_values
from .randomisation import SignFlip, sign_flip
from .raters import RaterAgreement, alpha_from_votes
from .segments import Segmentation, parse_segment_key, parse_stratum, segment, segment_key, stratum_fields
from .sentence import Line, SxSLine, measure_label, summary
from .sequential import Sequence, arrival_order, headline_sequence
from .strata import Estimate, coefficients, stratified
from .verdicts import Verdict, oriented, sxs_verdict

__all__ = [
    "WeightedDifference", "weighted_difference", "PooledMetrics", "per_query_values", "trec_mean",
    "SignFlip", "sign_flip", "RaterAgreement", "alpha_from_votes", "Segmentation", "parse_segment_key", "parse_stratum", "segment", "segment_key",
    "stratum_fields", "Line", "SxSLine", "measure_label", "summary", "Estimate", "coefficients", "stratified",
    "Verdict", "oriented", "sxs_verdict", "PPIResult", "QueryValues", "item_values", "ppi_estimate", "query_values",
    "Sequence", "arrival_order", "headline_sequence",
]
