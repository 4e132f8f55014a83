"""Pre-judgement: a Ray job that scores an evaluation's items with a sentence-transformers model,
calibrates the scores against human judgements and routes items to the model or to graders.

Entry points: ``python -m ray_jobs.prejudge --evaluation ID`` (also under ``ray job submit``) and
``qrelay prejudge EVALUATION``; the work is :func:`ray_jobs.prejudge.job.run`.
"""
