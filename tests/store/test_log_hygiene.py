"""The store's logs never carry patient data: not in a message, its arguments or a traceback.

Requests that fail in the search parser, in a search's SQL and inside the database carry a
recognisable name and identifier, while every logger records at DEBUG. The database refusals
are real ones: on a private database, a trigger refuses any resource version that holds a
marker identifier system, as a constraint would, with the resource in the statement's bind
parameters (and, on PostgreSQL, quoted in the database's own message).
"""

import logging
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Newer Starlette prefers `httpx2`; the pinned dependencies ship `httpx`, which it still drives.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.embedded.schema import versions
from tests.conftest import on_schema

NAME = "Zebediah Quux"
IDENTIFIER = "PHI-123456789"
# Each part on its own, so that a name split into words or a URL-encoded value is caught too.
PHI = ("Zebediah", "Quux", "123456789")
REFUSED_SYSTEM = "urn:test:refused-by-the-database"
# The test's own HTTP client logs every URL it sends: that is the client's log, not the store's.
CLIENT_LOGGERS = ("httpx", "httpcore")
FHIR_JSON = {"Content-Type": "application/fhir+json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

_SQLITE_TRIGGER = f"""
CREATE TRIGGER refuse_marked BEFORE INSERT ON {versions.name}
WHEN instr(NEW.content, '{REFUSED_SYSTEM}') > 0
BEGIN SELECT RAISE(ABORT, 'value refused'); END
"""
# The message quotes the row, as PostgreSQL's own messages quote the values they refuse.
_POSTGRES_TRIGGER = (
    f"""
CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF position('{REFUSED_SYSTEM}' IN NEW.content) > 0 THEN
        RAISE EXCEPTION USING MESSAGE = 'value refused: ' || NEW.content, ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN NEW;
END $$
""",
    f"CREATE TRIGGER refuse_marked BEFORE INSERT ON {versions.name} FOR EACH ROW EXECUTE FUNCTION refuse_marked()",
)


@pytest.fixture
def private_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own (a schema, on PostgreSQL), so its trigger touches no other test."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'log-hygiene.db'}"
        return
    schema = f"log_hygiene_{uuid4().hex}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield on_schema(database_url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    # Libraries set levels of their own (SQLAlchemy's loggers start at WARN): each is lowered.
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def fhir(private_database_url: str, every_logger_at_debug: pytest.LogCaptureFixture) -> Iterator[TestClient]:
    """A store whose database refuses what carries REFUSED_SYSTEM, built while every logger records."""
    store = EmbeddedStore(private_database_url)
    with store.engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        for statement in (_SQLITE_TRIGGER,) if sqlite else _POSTGRES_TRIGGER:
            conn.exec_driver_sql(statement)
    try:
        with TestClient(
            store.app, base_url="http://testserver/fhir/", headers={"Accept": "application/fhir+json"}
        ) as client:
            yield client
    finally:
        store.dispose()


def _leaks(records: list[logging.LogRecord]) -> list[str]:
    """Every record outside the test's client whose message, arguments or traceback holds PHI."""
    leaks: list[str] = []
    for record in records:
        if record.name.split(".")[0] in CLIENT_LOGGERS:
            continue
        said = [record.getMessage(), repr(record.args), record.exc_text or "", record.stack_info or ""]
        if record.exc_info:
            said.append("".join(traceback.format_exception(*record.exc_info)))
        if any(part in "\n".join(said) for part in PHI):
            leaks.append(f"{record.name} {record.levelname}: {record.getMessage()[:300]}")
    return leaks


def _patient(**elements: object) -> dict[str, object]:
    return {
        "resourceType": "Patient",
        "name": [{"family": "Quux", "given": ["Zebediah"], "text": NAME}],
        "identifier": [{"system": REFUSED_SYSTEM, "value": IDENTIFIER}],
        **elements,
    }


SEARCHES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "offset-overflow": ("Patient", [("name", NAME), ("identifier", IDENTIFIER), ("_offset", "1" + "0" * 19)]),
    "count-overflow": ("Patient", [("name", NAME), ("identifier", IDENTIFIER), ("_count", "9" * 30)]),
    # PostgreSQL refuses a NUL in a string; SQLite stores and compares it.
    "nul-in-a-value": ("Patient", [("name", "Zebediah\x00Quux"), ("identifier", f"{IDENTIFIER}\x00")]),
    "date-at-the-end-of-the-calendar": (
        "Patient",
        [("name", NAME), ("identifier", IDENTIFIER), ("birthdate", "9999-12-31T23:59:59Z")],
    ),
    "name-as-a-date": ("Patient", [("birthdate", NAME), ("identifier", IDENTIFIER)]),
    "name-as-a-quantity": ("Observation", [("subject.name", NAME), ("value-quantity", f"gt{IDENTIFIER}")]),
    "unknown-modifier": ("Patient", [("name:sounds-like", NAME), ("identifier", IDENTIFIER)]),
    "unknown-chain": ("Patient", [("general-practitioner.nonsense", NAME), ("identifier", IDENTIFIER)]),
    "too-many-values": ("Patient", [("name", NAME), ("identifier", ",".join([IDENTIFIER] * 500))]),
}


@pytest.mark.parametrize("search", list(SEARCHES))
def test_a_failing_search_logs_none_of_its_values(
    fhir: TestClient, every_logger_at_debug: pytest.LogCaptureFixture, search: str
) -> None:
    resource_type, params = SEARCHES[search]

    fhir.get(resource_type, params=params)
    fhir.post(f"{resource_type}/_search", data=dict(params), headers=FORM)

    assert _leaks(every_logger_at_debug.records) == []


def _transaction(resource: dict[str, object]) -> dict[str, object]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": resource, "request": {"method": "POST", "url": "Patient"}}],
    }


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "Patient", _patient()),
        ("PUT", "Patient/zebediah-quux", {**_patient(), "id": "zebediah-quux"}),
        ("POST", "", _transaction(_patient())),
    ],
    ids=["create", "update", "transaction"],
)
def test_a_write_the_database_refuses_logs_none_of_its_values(
    fhir: TestClient, every_logger_at_debug: pytest.LogCaptureFixture, method: str, path: str, body: dict[str, object]
) -> None:
    response = fhir.request(method, path, json=body, headers=FHIR_JSON)

    assert response.status_code >= 400, response.text
    assert _leaks(every_logger_at_debug.records) == []


@pytest.mark.parametrize(
    "body",
    [
        _patient(birthDate=NAME),
        _patient(name=[{"family": "Quux\x00", "given": ["Zebediah"]}]),
        _patient(gender=IDENTIFIER),
    ],
    ids=["name-as-a-birth-date", "control-character", "identifier-as-a-gender"],
)
def test_a_write_the_validator_refuses_logs_none_of_its_values(
    fhir: TestClient, every_logger_at_debug: pytest.LogCaptureFixture, body: dict[str, object]
) -> None:
    response = fhir.post("Patient", json=body, headers=FHIR_JSON)

    assert response.status_code == 400, response.text
    assert _leaks(every_logger_at_debug.records) == []
