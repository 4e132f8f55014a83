"""``python -m evaluators.metrics``: compile every kernel into the cache now (CI, image builds), see :mod:`.jit`."""
from evaluators.metrics.jit import warm

warm()
