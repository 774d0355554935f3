"""Uploads authenticate as configured: not at all in local development, a bearer token, or
OAuth2 client credentials fetched once and again before they expire."""

import base64

import httpx
import pytest

from generators.auth import AuthConfig, ClientCredentialsTransport

pytestmark = pytest.mark.anyio

TOKEN_URL = "https://auth.test/token"


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self, response: httpx.Response | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self._response = response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._response or httpx.Response(200, json={})


class TokenServer(httpx.AsyncBaseTransport):
    """Grants tokens token-1, token-2, ... valid for `lifetime` seconds."""

    def __init__(self, lifetime: int) -> None:
        self.grants: list[httpx.Request] = []
        self._lifetime = lifetime

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.grants.append(request)
        await request.aread()
        return httpx.Response(200, json={"access_token": f"token-{len(self.grants)}", "expires_in": self._lifetime})


def test_local_development_sends_no_credentials_whatever_is_configured() -> None:
    config = AuthConfig.from_env({"IS_LOCAL_DEV": "true", "FHIR_TOKEN": "secret", "FHIR_OAUTH_TOKEN_URL": TOKEN_URL})

    assert config.headers() == {}
    inner = Recorder()
    assert config.transport(inner) is inner


def test_a_configured_token_is_sent_as_a_bearer_token() -> None:
    config = AuthConfig.from_env({"FHIR_TOKEN": "secret"})

    assert config.headers() == {"Authorization": "Bearer secret"}


def test_nothing_configured_sends_no_credentials() -> None:
    config = AuthConfig.from_env({})

    assert config.headers() == {}
    assert config.transport(None) is None


def test_client_credentials_need_an_id_and_a_secret() -> None:
    with pytest.raises(ValueError, match="FHIR_OAUTH_CLIENT_ID"):
        AuthConfig.from_env({"FHIR_OAUTH_TOKEN_URL": TOKEN_URL}).transport(None)


async def test_client_credentials_are_granted_once_and_the_token_sent_on_every_request() -> None:
    tokens, fhir = TokenServer(lifetime=3600), Recorder()
    transport = ClientCredentialsTransport(
        fhir,
        token_url=TOKEN_URL,
        client_id="gen",
        client_secret="s3cret",
        scope="system/*.write",
        token_transport=tokens,
    )
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("https://fhir.test/fhir/metadata")
        await client.get("https://fhir.test/fhir/metadata")

    assert len(tokens.grants) == 1
    grant = tokens.grants[0]
    assert grant.headers["Authorization"] == "Basic " + base64.b64encode(b"gen:s3cret").decode()
    assert grant.content == b"grant_type=client_credentials&scope=system%2F%2A.write"
    assert [request.headers["Authorization"] for request in fhir.requests] == ["Bearer token-1", "Bearer token-1"]


async def test_a_token_about_to_expire_is_replaced_before_it_is_used() -> None:
    # A lifetime inside the renewal margin: every request needs a fresh token.
    tokens, fhir = TokenServer(lifetime=10), Recorder()
    transport = ClientCredentialsTransport(
        fhir, token_url=TOKEN_URL, client_id="gen", client_secret="s3cret", token_transport=tokens
    )
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("https://fhir.test/fhir/metadata")
        await client.get("https://fhir.test/fhir/metadata")

    assert [request.headers["Authorization"] for request in fhir.requests] == ["Bearer token-1", "Bearer token-2"]
