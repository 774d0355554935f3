"""Authentication to the FHIR server: a fixed bearer token, or OAuth2 client credentials
granted once, shared by parallel requests, renewed before they expire and after a 401."""

import base64
from collections.abc import AsyncIterator, Callable

import anyio
import httpx
import pytest

from generators.auth import BearerToken, ClientCredentials, TokenError

pytestmark = pytest.mark.anyio

TOKEN_URL = "https://auth.test/token"
FHIR = "https://fhir.test/fhir"


class Clock:
    """Monotonic seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TokenServer:
    """Grants token-1, token-2, ... valid `lifetime` seconds (no `expires_in` when None)."""

    def __init__(self, lifetime: float | None = 3600) -> None:
        self.grants: list[httpx.Request] = []
        self._lifetime = lifetime

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.grants.append(request)
        grant: dict[str, object] = {"access_token": f"token-{len(self.grants)}", "token_type": "Bearer"}
        if self._lifetime is not None:
            grant["expires_in"] = self._lifetime
        return httpx.Response(200, json=grant)


class FhirServer(httpx.AsyncBaseTransport):
    """Answers 200, or 401 to a revoked token (every token once `refuse_all` is set),
    recording each request's Authorization and body. While `hold` is set, a refusal
    waits for it, so that parallel requests can all be refused before any renews."""

    def __init__(self) -> None:
        self.authorizations: list[str] = []
        self.bodies: list[bytes] = []
        self.revoked: set[str] = set()
        self.refuse_all = False
        self.hold: anyio.Event | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # Read as a network transport reads it, without keeping it on the request.
        assert isinstance(request.stream, httpx.AsyncByteStream)
        self.bodies.append(b"".join([chunk async for chunk in request.stream]))
        authorization = request.headers.get("Authorization", "")
        self.authorizations.append(authorization)
        if self.refuse_all or authorization.removeprefix("Bearer ") in self.revoked:
            if self.hold is not None:
                await self.hold.wait()
            return httpx.Response(401)
        return httpx.Response(200, json={"resourceType": "CapabilityStatement"})


def client_credentials(
    tokens: TokenServer | httpx.MockTransport, clock: Clock | None = None, scope: str | None = None
) -> ClientCredentials:
    transport = tokens if isinstance(tokens, httpx.MockTransport) else httpx.MockTransport(tokens)
    return ClientCredentials(
        token_url=TOKEN_URL,
        client_id="gen",
        client_secret="s3cret",
        scope=scope,
        token_transport=transport,
        clock=clock or Clock(),
    )


def fhir_client(auth: httpx.Auth, fhir: FhirServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=FHIR, transport=fhir, auth=auth)


async def test_a_fixed_token_is_sent_as_a_bearer_token() -> None:
    fhir = FhirServer()
    async with fhir_client(BearerToken("secret"), fhir) as client:
        await client.get("/metadata")

    assert fhir.authorizations == ["Bearer secret"]


async def test_the_client_is_granted_a_token_once_and_sends_it_on_every_request() -> None:
    tokens, fhir = TokenServer(), FhirServer()
    async with fhir_client(client_credentials(tokens, scope="system/*.write"), fhir) as client:
        await client.get("/metadata")
        await client.get("/metadata")

    assert len(tokens.grants) == 1
    grant = tokens.grants[0]
    assert (grant.method, str(grant.url)) == ("POST", TOKEN_URL)
    assert grant.headers["Authorization"] == "Basic " + base64.b64encode(b"gen:s3cret").decode()
    assert grant.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert grant.content == b"grant_type=client_credentials&scope=system%2F%2A.write"
    assert fhir.authorizations == ["Bearer token-1", "Bearer token-1"]


async def test_no_scope_is_asked_for_when_none_is_configured() -> None:
    tokens = TokenServer()
    async with fhir_client(client_credentials(tokens), FhirServer()) as client:
        await client.get("/metadata")

    assert tokens.grants[0].content == b"grant_type=client_credentials"


async def test_parallel_requests_share_the_one_token_the_first_of_them_fetches() -> None:
    tokens, fhir = TokenServer(), FhirServer()
    granted = anyio.Event()

    async def slow_grant(request: httpx.Request) -> httpx.Response:
        await granted.wait()
        return await tokens(request)

    async with (
        fhir_client(client_credentials(httpx.MockTransport(slow_grant)), fhir) as client,
        anyio.create_task_group() as group,
    ):
        for _ in range(8):
            group.start_soon(client.get, "/metadata")
        # Every request is now either fetching the token or waiting for the one that is.
        await anyio.wait_all_tasks_blocked()
        granted.set()

    assert len(tokens.grants) == 1
    assert fhir.authorizations == ["Bearer token-1"] * 8


async def test_a_token_is_renewed_thirty_seconds_before_it_expires() -> None:
    clock, tokens, fhir = Clock(), TokenServer(lifetime=3600), FhirServer()
    async with fhir_client(client_credentials(tokens, clock), fhir) as client:
        await client.get("/metadata")
        clock.now = 3569.0
        await client.get("/metadata")
        clock.now = 3570.0
        await client.get("/metadata")
        await client.get("/metadata")

    assert fhir.authorizations == ["Bearer token-1", "Bearer token-1", "Bearer token-2", "Bearer token-2"]


async def test_a_grant_without_expires_in_is_trusted_for_five_minutes() -> None:
    clock, tokens, fhir = Clock(), TokenServer(lifetime=None), FhirServer()
    async with fhir_client(client_credentials(tokens, clock), fhir) as client:
        await client.get("/metadata")
        clock.now = 269.0
        await client.get("/metadata")
        clock.now = 270.0
        await client.get("/metadata")

    assert fhir.authorizations == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


async def test_a_401_to_a_cached_token_renews_it_and_sends_the_request_once_more() -> None:
    tokens, fhir = TokenServer(), FhirServer()

    async def streamed_body() -> AsyncIterator[bytes]:
        # Streamed, so it can be sent twice only if it was kept.
        yield b'{"resourceType": '
        yield b'"Bundle"}'

    async with fhir_client(client_credentials(tokens), fhir) as client:
        await client.get("/metadata")
        fhir.revoked.add("token-1")
        response = await client.post("", content=streamed_body())

    assert response.status_code == 200
    assert len(tokens.grants) == 2
    assert fhir.authorizations == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert fhir.bodies[1:] == [b'{"resourceType": "Bundle"}'] * 2


async def test_parallel_requests_refused_with_one_token_renew_it_once() -> None:
    tokens, fhir = TokenServer(), FhirServer()
    async with fhir_client(client_credentials(tokens), fhir) as client:
        await client.get("/metadata")
        fhir.revoked.add("token-1")
        fhir.hold = anyio.Event()
        responses: list[httpx.Response] = []

        async def get() -> None:
            responses.append(await client.get("/metadata"))

        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(get)
            # All four have sent token-1; none is answered yet.
            await anyio.wait_all_tasks_blocked()
            fhir.hold.set()

    assert [response.status_code for response in responses] == [200] * 4
    assert len(tokens.grants) == 2
    assert fhir.authorizations[1:] == ["Bearer token-1"] * 4 + ["Bearer token-2"] * 4


async def test_a_401_to_a_token_fetched_for_that_request_is_returned_as_it_is() -> None:
    tokens, fhir = TokenServer(), FhirServer()
    fhir.refuse_all = True
    async with fhir_client(client_credentials(tokens), fhir) as client:
        response = await client.get("/metadata")

    assert response.status_code == 401
    assert len(tokens.grants) == 1
    assert fhir.authorizations == ["Bearer token-1"]


async def test_a_renewed_token_refused_too_is_returned_without_renewing_again() -> None:
    tokens, fhir = TokenServer(), FhirServer()
    async with fhir_client(client_credentials(tokens), fhir) as client:
        await client.get("/metadata")
        fhir.refuse_all = True
        response = await client.get("/metadata")

    assert response.status_code == 401
    assert len(tokens.grants) == 2
    assert fhir.authorizations == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


def refused(request: httpx.Request) -> httpx.Response:
    body = {"error": "invalid_client", "error_description": "Client authentication failed"}
    return httpx.Response(401, json=body)


def unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, text="down for maintenance")


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("All connection attempts failed", request=request)


def not_json(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="<html>")


def no_token(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"token_type": "Bearer"})


def no_lifetime(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"access_token": "t", "expires_in": "soon"})


@pytest.mark.parametrize(
    ("token_endpoint", "message"),
    [
        (refused, "answered 401: invalid_client (Client authentication failed)"),
        (unavailable, "answered 503"),
        (unreachable, "could not be reached: ConnectError('All connection attempts failed')"),
        (not_json, "answered 200 without a usable token: "),
        (no_token, "answered 200 without a usable token: no access_token"),
        (no_lifetime, "answered 200 without a usable token: expires_in 'soon' is not a number of seconds"),
    ],
    ids=lambda value: value.__name__ if callable(value) else "",
)
async def test_a_failing_token_endpoint_raises_a_clear_error(
    token_endpoint: Callable[[httpx.Request], httpx.Response], message: str
) -> None:
    fhir = FhirServer()
    async with fhir_client(client_credentials(httpx.MockTransport(token_endpoint)), fhir) as client:
        with pytest.raises(TokenError) as raised:
            await client.get("/metadata")

    assert str(raised.value).startswith(f"token endpoint {TOKEN_URL} {message}")
    assert "s3cret" not in str(raised.value)
    assert fhir.authorizations == []


def test_a_synchronous_client_is_refused_rather_than_sent_without_a_token() -> None:
    fhir_requests: list[httpx.Request] = []

    def fhir(request: httpx.Request) -> httpx.Response:
        fhir_requests.append(request)
        return httpx.Response(200)

    auth = client_credentials(TokenServer())
    with (
        httpx.Client(transport=httpx.MockTransport(fhir), auth=auth) as client,
        pytest.raises(TypeError, match="AsyncClient"),
    ):
        client.get(f"{FHIR}/metadata")

    assert fhir_requests == []
