"""Authentication and scopes: every route but the open ones refuses anonymous requests and
requests whose scopes do not cover them, in its face's format; API keys, JWTs (a configured
key, and a JWKS served over HTTP) and the refusal to start without authentication."""

import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from fhir_gateway.app import create_app
from fhir_gateway.security import new_api_key
from fhir_gateway.settings import Settings
from tests.api.conftest import OpenGateway
from tests.serving import served_on_loopback

pytestmark = pytest.mark.anyio

FULL = ["system/*.read", "system/*.write"]
ISSUER = "https://issuer.example"
AUDIENCE = "https://gateway.example/fhir"
PROBLEM_JSON = "application/problem+json"
FHIR_JSON = "application/fhir+json"
OPEN = {
    "/health",
    "/health/live",
    "/health/ready",
    "/metrics",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
    "/fhir/metadata",
    # The web console's pages and files: they hold no data, and fetch what they show with
    # the user's own credentials.
    "/",
    "/ui",
    "/ui/static/p-1",
    "/ui/Unknown/a/b/c",
}
# Routes any authenticated client may use, whatever its scopes: they touch nothing stored
# (synthetic records are made on request and streamed).
AUTHENTICATED_ONLY = {"/api/generate/p-1"}
# A value for each path parameter, by its name or convertor, that the route's pattern takes.
_SAMPLES = {
    "fhir_type": "Patient",
    "fhir_id": "example-1",
    "fhir_operation": "everything",
    "path": "Unknown/a/b/c",
}
_PARAMETER = re.compile(r"\{(?P<name>\w+)(?::(?P<kind>\w+))?\}")
_SOME_KEY = "someone:" + "0" * 64 + ":system/*.read"
_BATCH = {"resourceType": "Bundle", "type": "batch", "entry": [{"request": {"method": "GET", "url": "Patient/x"}}]}


class Keys:
    """API keys made for a test, by name: the key a client sends, and the gateway's entries."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self.entries: list[str] = []

    def add(self, name: str, scopes: list[str]) -> str:
        key, configured = new_api_key(name, scopes)
        self.keys[name] = key
        self.entries.append(configured.entry())
        return key

    def header(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[name]}"}


@pytest.fixture
def keys() -> Keys:
    keys = Keys()
    keys.add("full", FULL)
    keys.add("patients-reader", ["system/Patient.read"])
    keys.add("v2-patients", ["system/Patient.rs", "user/Observation.cruds"])
    keys.add("unrelated", ["system/Basic.read"])
    keys.add("creator", ["system/Observation.c"])
    return keys


def secured(settings: Settings, **changes: Any) -> Settings:
    """The test settings, with authentication on."""
    return settings.model_copy(update={"is_local_dev": False, "rate_limit": "", **changes})


@pytest.fixture
def secured_gateway(settings: Settings, keys: Keys, open_gateway: OpenGateway) -> Callable[..., Any]:
    @asynccontextmanager
    async def start(**changes: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(secured(settings, api_keys=keys.entries, **changes))
        async with open_gateway(app) as client:
            yield client

    return start


def _routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, concrete path) for every method of every route the app serves."""
    for context in iter_route_contexts(app.router.routes):
        methods = getattr(context, "methods", None) or set()
        path = _PARAMETER.sub(lambda m: _SAMPLES.get(m["kind"] or m["name"], "p-1"), context.path)
        for method in sorted(methods - {"HEAD"}):
            yield method, path


def _route_list(settings: Settings) -> list[tuple[str, str]]:
    return sorted(set(_routes(create_app(secured(settings, api_keys=[_SOME_KEY])))))


def _expected_format(path: str) -> str:
    return FHIR_JSON if path == "/fhir" or path.startswith("/fhir/") else PROBLEM_JSON


def _body(method: str, path: str) -> dict[str, Any]:
    if method in {"GET", "DELETE", "OPTIONS"}:
        return {}
    if path.rstrip("/") == "/fhir":
        return {"json": _BATCH, "headers": {"Content-Type": FHIR_JSON}}
    return {"json": {}}


async def test_every_route_refuses_anonymous_requests(settings: Settings, secured_gateway: Callable[..., Any]) -> None:
    routes = _route_list(settings)
    assert len(routes) > 50, routes
    served_open = {path for _, path in routes if path in OPEN}
    # The open routes are exactly the ones meant to be: a new one must be added here on purpose.
    assert served_open == OPEN
    async with secured_gateway() as client:
        for method, path in routes:
            if path in OPEN:
                continue
            answer = await client.request(method, path, **_body(method, path))
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="fhir-gateway"'), (method, path)
            assert answer.headers["content-type"].startswith(_expected_format(path)), (method, path)


async def test_every_protected_route_refuses_a_key_whose_scopes_do_not_cover_it(
    settings: Settings, keys: Keys, secured_gateway: Callable[..., Any]
) -> None:
    async with secured_gateway() as client:
        for method, path in _route_list(settings):
            if path in OPEN or path in AUTHENTICATED_ONLY or path.startswith("/fhir/Unknown/"):
                continue
            answer = await client.request(method, path, **_merge(_body(method, path), keys.header("unrelated")))
            assert answer.status_code == 403, (method, path, answer.text)
            assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"], (method, path)
            assert answer.headers["content-type"].startswith(_expected_format(path)), (method, path)
            assert "unrelated lacks the scope" in answer.text


async def test_generating_synthetic_records_needs_authentication_and_no_scope(
    keys: Keys, secured_gateway: Callable[..., Any]
) -> None:
    body = {"json": {"count": 2, "seed": 1}}
    async with secured_gateway() as client:
        anonymous = await client.post("/api/generate/ndjson", **body)
        unrelated = await client.post("/api/generate/ndjson", **_merge(body, keys.header("unrelated")))

    assert anonymous.status_code == 401
    assert unrelated.status_code == 200
    assert unrelated.content.count(b'"resourceType":"Patient"') == 2


def _merge(request: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    return {**request, "headers": {**request.get("headers", {}), **headers}}


async def test_the_open_routes_answer_anonymous_requests(secured_gateway: Callable[..., Any]) -> None:
    async with secured_gateway() as client:
        for path in ("/health", "/health/live", "/docs", "/openapi.json", "/metrics", "/fhir/metadata"):
            answer = await client.get(path)
            assert answer.status_code == 200, (path, answer.text)
        # FHIR clients read the CapabilityStatement first: it says how to authenticate.
        statement = (await client.get("/fhir/metadata")).json()
        CapabilityStatement.model_validate(statement)
        security = statement["rest"][0]["security"]
        assert security["service"][0]["coding"][0]["code"] == "OAuth"
        assert "Bearer" in security["description"]


async def test_metrics_need_credentials_unless_public(keys: Keys, secured_gateway: Callable[..., Any]) -> None:
    async with secured_gateway(metrics_public=False) as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers=keys.header("unrelated"))).status_code == 200


async def test_refusals_say_why_in_each_faces_format(keys: Keys, secured_gateway: Callable[..., Any]) -> None:
    async with secured_gateway() as client:
        anonymous = await client.get("/patients")
        assert anonymous.status_code == 401
        assert anonymous.json()["status"] == 401
        assert "Authorization: Bearer" in anonymous.json()["detail"]
        assert "error=" not in anonymous.headers["WWW-Authenticate"]

        wrong = await client.get("/fhir/Patient", headers={"Authorization": "Bearer not-a-key"})
        assert wrong.status_code == 401
        issue = wrong.json()["issue"][0]
        assert (wrong.json()["resourceType"], issue["code"]) == ("OperationOutcome", "login")
        assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]

        basic = await client.get("/patients", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert basic.status_code == 401
        assert "Bearer" in basic.json()["detail"]

        forbidden = await client.get("/fhir/Observation", headers=keys.header("patients-reader"))
        assert forbidden.status_code == 403
        assert forbidden.json()["issue"][0]["code"] == "forbidden"
        assert 'scope="system/Observation.s"' in forbidden.headers["WWW-Authenticate"]


async def test_smart_v1_and_v2_scopes_grant_what_they_say(keys: Keys, secured_gateway: Callable[..., Any]) -> None:
    patient = {"given_name": "Scope", "family_name": "Tester", "birth_date": "1980-01-01"}
    async with secured_gateway() as client:
        created = await client.post("/patients", json=patient, headers=keys.header("full"))
        assert created.status_code == 201, created.text
        patient_id = created.json()["id"]

        for reader in ("patients-reader", "v2-patients"):
            assert (await client.get(f"/patients/{patient_id}", headers=keys.header(reader))).status_code == 200
            assert (await client.get("/patients", headers=keys.header(reader))).status_code == 200
            assert (await client.get(f"/fhir/Patient/{patient_id}", headers=keys.header(reader))).status_code == 200
            refused = await client.post("/patients", json=patient, headers=keys.header(reader))
            assert refused.status_code == 403
            assert "system/Patient.c" in refused.json()["detail"]
            # Deleting a patient removes their whole record: it needs delete on every type.
            assert (await client.delete(f"/patients/{patient_id}", headers=keys.header(reader))).status_code == 403

        # user/Observation.cruds covers Observations, and nothing about Encounters.
        observation = {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "weight"},
            "subject": {"reference": f"Patient/{patient_id}"},
        }
        stored = await client.post(
            "/fhir/Observation", json=observation, headers={**keys.header("v2-patients"), "Content-Type": FHIR_JSON}
        )
        assert stored.status_code == 201, stored.text
        assert (await client.get("/fhir/Encounter", headers=keys.header("v2-patients"))).status_code == 403
        # A search of every type needs a scope on every type.
        assert (await client.get("/fhir", headers=keys.header("v2-patients"))).status_code == 403
        # …and one of named types, a scope on each (whether the server serves it is its own affair).
        assert (await client.get("/fhir?_type=Patient", headers=keys.header("v2-patients"))).status_code != 403
        assert (
            await client.get("/fhir?_type=Patient,Encounter", headers=keys.header("v2-patients"))
        ).status_code == 403


async def test_a_transaction_needs_what_each_entry_does(keys: Keys, secured_gateway: Callable[..., Any]) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": {"resourceType": "Patient", "active": True}, "request": {"method": "POST", "url": "Patient"}},
            {"request": {"method": "GET", "url": "Observation?code=1"}},
        ],
    }
    headers = {"Content-Type": FHIR_JSON}
    async with secured_gateway() as client:
        refused = await client.post("/fhir", json=bundle, headers={**headers, **keys.header("v2-patients")})
        assert refused.status_code == 403
        assert "system/Patient.c" in refused.json()["issue"][0]["diagnostics"]
        done = await client.post("/fhir", json=bundle, headers={**headers, **keys.header("full")})
        assert done.status_code == 200, done.text


async def test_following_a_page_link_needs_only_the_search_it_continues(
    keys: Keys, secured_gateway: Callable[..., Any]
) -> None:
    async with secured_gateway() as client:
        for number in range(3):
            patient = {"given_name": "Page", "family_name": f"Turner{number}", "birth_date": "1990-01-01"}
            assert (await client.post("/patients", json=patient, headers=keys.header("full"))).status_code == 201
        first = await client.get("/fhir/Patient?_count=1", headers=keys.header("patients-reader"))
        assert first.status_code == 200, first.text
        following = next(link["url"] for link in first.json()["link"] if link["relation"] == "next")
        page = await client.get(following, headers=keys.header("patients-reader"))
        assert page.status_code == 200, page.text
        # A page is a capability (its id is unguessable) of a search already allowed: any
        # scope to search pages on; one without any search does not.
        assert (await client.get(following, headers=keys.header("creator"))).status_code == 403


# --- JWTs


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _token(key: rsa.RSAPrivateKey, *, kid: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ehr-service", "exp": now + 600, "iat": now, **claims}
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid} if kid else None)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_jwts_signed_by_the_configured_key(
    signing_key: rsa.RSAPrivateKey, secured_gateway: Callable[..., Any]
) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verified = {"jwt_public_key": _public_pem(signing_key), "jwt_issuer": ISSUER, "jwt_audience": AUDIENCE}
    async with secured_gateway(**verified) as client:
        good = await client.get("/patients", headers=_bearer(_token(signing_key, scope="system/Patient.read")))
        assert good.status_code == 200, good.text
        as_list = await client.get("/patients", headers=_bearer(_token(signing_key, scp=["system/Patient.rs"])))
        assert as_list.status_code == 200, as_list.text

        refusals = {
            "expired": _token(signing_key, exp=int(time.time()) - 3600, scope="system/*.read"),
            "another audience": _token(signing_key, aud="https://elsewhere.example", scope="system/*.read"),
            "another issuer": _token(signing_key, iss="https://rogue.example", scope="system/*.read"),
            "no exp claim": _token(signing_key, exp=None, scope="system/*.read"),
            "signature": _token(other_key, scope="system/*.read"),
            # The public key used as an HMAC secret: the algorithm-confusion attack.
            "signature or form": jwt.encode(
                {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60},
                "a shared secret the gateway does not accept",
                algorithm="HS256",
            ),
        }
        for reason, token in refusals.items():
            answer = await client.get("/patients", headers=_bearer(token))
            assert answer.status_code == 401, reason
            assert reason in answer.json()["detail"], (reason, answer.json())

        # A patient-context scope needs a context the gateway does not keep: it grants nothing.
        patient_scoped = _token(signing_key, scope="patient/Patient.read")
        assert (await client.get("/patients", headers=_bearer(patient_scoped))).status_code == 403


async def test_jwts_signed_by_a_key_of_the_issuers_jwks(
    signing_key: rsa.RSAPrivateKey, secured_gateway: Callable[..., Any]
) -> None:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key(), as_dict=True)
    jwks = {"keys": [{**public, "kid": "key-1", "use": "sig", "alg": "RS256"}]}
    fetched: list[int] = []

    async def serve_keys(_request: Any) -> JSONResponse:
        fetched.append(1)
        return JSONResponse(jwks)

    issuer = Starlette(routes=[Route("/jwks.json", serve_keys)])
    with served_on_loopback(issuer) as root:
        verified = {"jwt_jwks_url": f"{root}/jwks.json", "jwt_issuer": ISSUER, "jwt_audience": AUDIENCE}
        async with secured_gateway(**verified) as client:
            for _ in range(3):
                token = _token(signing_key, kid="key-1", scope="system/Patient.read")
                assert (await client.get("/patients", headers=_bearer(token))).status_code == 200
            unknown_kid = _token(signing_key, kid="key-2", scope="system/Patient.read")
            assert (await client.get("/patients", headers=_bearer(unknown_kid))).status_code == 401
    # The keys are fetched once and kept, not fetched per request.
    assert len(fetched) <= 2


async def test_an_unreachable_jwks_is_a_503_to_retry(
    signing_key: rsa.RSAPrivateKey, secured_gateway: Callable[..., Any]
) -> None:
    with served_on_loopback(Starlette()) as root:
        gone = root  # nothing listens there once the server has stopped
    verified = {"jwt_jwks_url": f"{gone}/jwks.json", "jwt_issuer": ISSUER, "jwt_audience": AUDIENCE}
    async with secured_gateway(**verified) as client:
        answer = await client.get("/patients", headers=_bearer(_token(signing_key, kid="key-1", scope="system/*.read")))
        assert answer.status_code == 503
        assert int(answer.headers["Retry-After"]) > 0


# --- configuration


def test_the_gateway_refuses_to_start_without_authentication(settings: Settings) -> None:
    with pytest.raises(ValueError, match="no authentication is configured"):
        create_app(settings.model_copy(update={"is_local_dev": False, "api_keys": []}))
    with pytest.raises(ValidationError, match="JWT_ISSUER and JWT_AUDIENCE"):
        Settings(_env_file=None, is_local_dev=False, jwt_jwks_url="https://issuer.example/jwks")
    assert Settings(_env_file=None, is_local_dev=True).is_local_dev


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("ehr:abc:system/*.read", "64 lowercase hex digits"),
        ("ehr:" + "a" * 64, "not name:sha256-hex:scopes"),
        ("ehr:" + "a" * 64 + ":", "has no scopes"),
        ("ehr:" + "a" * 64 + ":patient/Patient.read", "not SMART scopes"),
        ("e h r:" + "a" * 64 + ":system/*.read", "must be 1 to 64"),
    ],
)
def test_malformed_api_keys_stop_the_start(settings: Settings, entry: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        create_app(secured(settings, api_keys=[entry]))


def test_the_configuration_holds_digests_not_keys(keys: Keys) -> None:
    for name, key in keys.keys.items():
        assert key not in ";".join(keys.entries), name
    configured = Settings(_env_file=None, is_local_dev=False, api_keys=";".join(keys.entries))
    assert len(configured.api_keys) == len(keys.keys)


def test_the_openapi_schema_declares_bearer_authentication(settings: Settings) -> None:
    schema = create_app(secured(settings, api_keys=[_SOME_KEY])).openapi()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert schema["paths"]["/patients"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in schema["paths"]["/health"]["get"]
