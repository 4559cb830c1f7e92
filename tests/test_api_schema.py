"""Schemathesis over the OpenAPI schema: generated requests to every operation, never a 5xx."""
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

pytest.importorskip("schemathesis")
import schemathesis  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from prtkg import loaders  # noqa: E402
from prtkg.api.app import create_app  # noqa: E402
from prtkg.api.settings import Settings  # noqa: E402
from prtkg.store import Store  # noqa: E402

FIX = Path(__file__).parent / "fixtures"


def _app():
    store = Store(None)
    store.load_ontology()
    store.replace_records(loaders.load_paths([FIX / "csv" / "credit_yn.csv", FIX / "csv" / "powers_yn.csv"]).records)
    return create_app(store, Settings(tokens={"schema-admin": "admin"}, query_timeout=5, body_limit=100_000))


@schemathesis.serializer("text/csv", "text/turtle", "application/x-ndjson", "application/sparql-query")
def _text(ctx, value):
    return value.encode() if isinstance(value, str) else str(value).encode()


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case):
    case.call_and_validate(headers={"Authorization": "Bearer schema-admin"}, checks=[not_a_server_error])
