"""``python -m ray_jobs.prejudge --evaluation ID [...]`` — the entry point for ``ray job submit``.

Elasticsearch comes from ``QRELAY_ES_*``/``QRELAY_INDEX_PREFIX`` (or the flags); Ray from
``--ray-address`` or ``RAY_ADDRESS`` (set by ``ray job submit``), else a local Ray is joined or
started. Exit codes: 0 done, 2 a problem with the input (one sentence on stderr), 1 otherwise.
"""
import sys

from ray_jobs.prejudge.entry import main

sys.exit(main())
