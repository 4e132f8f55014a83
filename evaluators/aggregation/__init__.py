"""Label aggregation (crowd-kit style): one class per module, one shared face.

See :mod:`.base` for the interface and the :class:`Annotations` input struct.
"""
from .base import Annotations, BaseAggregator, as_annotations
from .bradley_terry import BradleyTerry, PairwiseComparisons
from .dawid_skene import DawidSkene
from .guard import AggregationWarning, GuardReport
from .majority import MajorityVote
from .one_coin import OneCoinDawidSkene
from .ordinal_ds import OrdinalDawidSkene

__all__ = ["Annotations", "BaseAggregator", "as_annotations", "BradleyTerry", "PairwiseComparisons",
           "AggregationWarning", "GuardReport", "DawidSkene", "MajorityVote", "OneCoinDawidSkene", "OrdinalDawidSkene"]
