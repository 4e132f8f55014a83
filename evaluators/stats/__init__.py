"""Statistics for evaluation results: bootstrap CIs, paired tests, stratified
estimates, SxS summaries, multiple-comparison correction, prediction-powered
inference (PPI++), anytime-valid confidence sequences with a stopping rule, and the
Neyman allocation of human grading across strata.

One concept per module; everything is re-exported here. Pure numpy/scipy, no I/O,
deterministic given ``seed`` (``np.random.default_rng(seed)``).
"""
from .allocation import Allocation, neyman_allocation
from .bootstrap import MeanCI, bootstrap_mean_ci, bootstrap_mean_cis
from .confidence_sequence import (
    ConfidenceSequence,
    confidence_sequence,
    paired_confidence_sequence,
    ppi_confidence_sequence,
)
from .multiple import HolmResult, holm
from .paired import PairedComparison, PermutationTest, TTest, compare_paired, paired_t_test, permutation_test
from .ppi import PPIEstimate, ppi_mean, ppi_paired_difference, ppi_sxs_preference, pseudo_outcomes
from .stopping import StopDecision, stop_when
from .stratified import StratifiedEstimate, stratified_mean
from .sxs import SxSSummary, hodges_lehmann, sign_test, sxs_summary, wilcoxon_test

__all__ = [
    "Allocation", "neyman_allocation",
    "ConfidenceSequence", "confidence_sequence", "paired_confidence_sequence", "ppi_confidence_sequence",
    "PPIEstimate", "ppi_mean", "ppi_paired_difference", "ppi_sxs_preference", "pseudo_outcomes",
    "StopDecision", "stop_when",
    "MeanCI", "bootstrap_mean_ci", "bootstrap_mean_cis",
    "HolmResult", "holm",
    "PairedComparison", "PermutationTest", "TTest", "compare_paired", "paired_t_test", "permutation_test",
    "StratifiedEstimate", "stratified_mean",
    "SxSSummary", "hodges_lehmann", "sign_test", "sxs_summary", "wilcoxon_test",
]
