"""Browser tests reuse the integration fixtures: one real Elasticsearch per session."""
from tests.integration.conftest import es, es_config, es_url, index_prefix  # noqa: F401
