"""Statistics for evaluation results: bootstrap CIs, paired tests, stratified
estimates, SxS summaries and multiple-comparison correction.

One concept per module; everything is re-exported here. Pure numpy/scipy, no I/O,
deterministic given ``seed`` (``np.random.default_rng(seed)``).
"""
from .bootstrap import MeanCI, bootstrap_mean_ci, bootstrap_mean_cis
from .multiple import HolmResult, holm
from .paired import PairedComparison, PermutationTest, TTest, compare_paired, paired_t_test, permutation_test
from .stratified import StratifiedEstimate, stratified_mean
from .sxs import SxSSummary, hodges_lehmann, sign_test, sxs_summary, wilcoxon_test

__all__ = [
    "MeanCI", "bootstrap_mean_ci", "bootstrap_mean_cis",
    "HolmResult", "holm",
    "PairedComparison", "PermutationTest", "TTest", "compare_paired", "paired_t_test", "permutation_test",
    "StratifiedEstimate", "stratified_mean",
    "SxSSummary", "hodges_lehmann", "sign_test", "sxs_summary", "wilcoxon_test",
]
