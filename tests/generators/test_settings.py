"""Generator settings: the original script's variables, `.env`, validation at load time,
secrets never shown, and the authentication they configure."""

import base64
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import respx
from pydantic import ValidationError

from generators.records import DEFAULT_SYSTEM_BASE
from generators.settings import GeneratorSettings, Province

TOKEN_URL = "https://auth.test/token"
FHIR = "https://fhir.test/fhir"
CLIENT_CREDENTIALS = {
    "FHIR_OAUTH_TOKEN_URL": TOKEN_URL,
    "FHIR_OAUTH_CLIENT_ID": "gen",
    "FHIR_OAUTH_CLIENT_SECRET": "s3cret",
}

Load = Callable[..., GeneratorSettings]


@pytest.fixture
def load(generator_environment: pytest.MonkeyPatch) -> Load:
    """Settings read from an environment holding exactly the given variables."""

    def load(**variables: str) -> GeneratorSettings:
        for name, value in variables.items():
            generator_environment.setenv(name, value)
        return GeneratorSettings()

    return load


def authorization_sent(settings: GeneratorSettings) -> str | None:
    """The Authorization header a request to the FHIR server carries with these settings."""
    seen: list[str | None] = []

    def fhir(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(fhir), auth=settings.fhir_auth()) as client:
        client.get(f"{FHIR}/metadata")
    return seen[0]


def test_the_defaults_are_the_original_scripts(load: Load) -> None:
    settings = load()

    assert (settings.fhir_url, settings.num_records, settings.pt) == ("http://localhost:8080/fhir", 1, Province.bc)
    assert settings.identifier_system_base == DEFAULT_SYSTEM_BASE
    assert settings.fhir_auth() is None


def test_the_original_scripts_variables_are_read(load: Load) -> None:
    settings = load(FHIR_URL="embedded", NUM_RECORDS="3", PT="ON", IDENTIFIER_SYSTEM_BASE="https://example.org")

    assert (settings.fhir_url, settings.num_records, settings.pt) == ("embedded", 3, Province.on)
    assert settings.identifier_system_base == "https://example.org"


def test_a_value_given_in_code_takes_the_place_of_its_variable(load: Load) -> None:
    load(FHIR_URL="http://elsewhere/fhir", NUM_RECORDS="3")

    settings = GeneratorSettings(fhir_url="embedded")

    assert (settings.fhir_url, settings.num_records) == ("embedded", 3)


def test_dotenv_is_read_under_the_environment_and_the_gateways_settings_are_left_alone(
    generator_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("NUM_RECORDS=4\nPT=on\nHOST=0.0.0.0\nFHIR_BASE_URL=embedded\n")
    generator_environment.setenv("NUM_RECORDS", "5")

    settings = GeneratorSettings()

    assert (settings.num_records, settings.pt) == (5, Province.on)


def test_an_empty_variable_counts_as_unset(load: Load) -> None:
    settings = load(FHIR_TOKEN="", NUM_RECORDS="", FHIR_OAUTH_SCOPE="")

    assert settings.num_records == 1
    assert settings.fhir_auth() is None


@pytest.mark.parametrize(
    ("variables", "variable"),
    [
        ({"NUM_RECORDS": "0"}, "num_records"),
        ({"PT": "qc"}, "pt"),
        ({"IS_LOCAL_DEV": "maybe"}, "is_local_dev"),
        ({**CLIENT_CREDENTIALS, "FHIR_OAUTH_TOKEN_URL": "auth.test/token"}, "fhir_oauth_token_url"),
    ],
    ids=["no-records", "unknown-province", "not-a-boolean", "relative-token-url"],
)
def test_a_value_that_cannot_be_used_is_refused_at_load_time(
    load: Load, variables: dict[str, str], variable: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        load(**variables)

    assert [error["loc"] for error in refused.value.errors()] == [(variable,)]


@pytest.mark.parametrize("missing", sorted(CLIENT_CREDENTIALS))
def test_client_credentials_need_a_token_url_a_client_id_and_a_secret(load: Load, missing: str) -> None:
    variables = {name: value for name, value in CLIENT_CREDENTIALS.items() if name != missing}

    with pytest.raises(ValidationError, match=f"OAuth2 client credentials also need {missing}"):
        load(**variables)


def test_a_scope_alone_is_incomplete_client_credentials(load: Load) -> None:
    with pytest.raises(ValidationError, match="FHIR_OAUTH_TOKEN_URL, FHIR_OAUTH_CLIENT_ID, FHIR_OAUTH_CLIENT_SECRET"):
        load(FHIR_OAUTH_SCOPE="system/*.write")


def test_a_token_and_client_credentials_together_are_refused(load: Load) -> None:
    with pytest.raises(ValidationError, match="set only one"):
        load(FHIR_TOKEN="secret", **CLIENT_CREDENTIALS)


def test_a_token_never_shows(load: Load) -> None:
    settings = load(FHIR_TOKEN="t0ken-secret")

    assert "t0ken-secret" not in repr(settings) + str(settings)


def test_a_client_secret_never_shows_not_even_in_a_refusal(load: Load) -> None:
    with pytest.raises(ValidationError) as incomplete:
        load(FHIR_OAUTH_TOKEN_URL=TOKEN_URL, FHIR_OAUTH_CLIENT_SECRET="s3cret")
    settings = load(FHIR_OAUTH_CLIENT_ID="gen")

    assert "s3cret" not in str(incomplete.value) + repr(settings) + str(settings)


def test_a_token_is_sent_as_a_bearer_token(load: Load) -> None:
    assert authorization_sent(load(FHIR_TOKEN="secret")) == "Bearer secret"


@pytest.mark.parametrize("credentials", [{"FHIR_TOKEN": "secret"}, CLIENT_CREDENTIALS], ids=["token", "oauth"])
def test_local_development_sends_no_credentials_whatever_is_configured(load: Load, credentials: dict[str, str]) -> None:
    settings = load(IS_LOCAL_DEV="true", **credentials)

    assert settings.fhir_auth() is None
    assert authorization_sent(settings) is None


@pytest.mark.anyio
async def test_client_credentials_are_exchanged_at_the_token_url_for_the_bearer_token(load: Load) -> None:
    settings = load(FHIR_OAUTH_SCOPE="system/*.write", **CLIENT_CREDENTIALS)

    with respx.mock(assert_all_called=True) as network:
        grants = network.post(TOKEN_URL).respond(json={"access_token": "granted", "expires_in": 3600})
        fhir = network.get(f"{FHIR}/metadata").respond(200)
        async with httpx.AsyncClient(auth=settings.fhir_auth()) as client:
            await client.get(f"{FHIR}/metadata")

    grant = grants.calls.last.request
    assert grant.headers["Authorization"] == "Basic " + base64.b64encode(b"gen:s3cret").decode()
    assert grant.content == b"grant_type=client_credentials&scope=system%2F%2A.write"
    assert fhir.calls.last.request.headers["Authorization"] == "Bearer granted"
