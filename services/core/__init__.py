"""What the API, the store and the jobs all share: domain errors, the clock and stored-time
format, Elasticsearch connection settings, the log field mapping and query normalisation.

The bottom layer of qrelay: it imports nothing of ours (``tests/unit/test_layers.py`` keeps it so).
"""
