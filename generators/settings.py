"""Every knob of the generators is an environment variable (or a line in `.env`); an option
given on the command line takes the place of its variable.

`FHIR_URL`, `NUM_RECORDS` and `PT` are the names the original generator script read.
Authentication: `IS_LOCAL_DEV=true` sends no credentials, whatever else is configured;
otherwise `FHIR_TOKEN` is sent as a bearer token, or `FHIR_OAUTH_TOKEN_URL`,
`FHIR_OAUTH_CLIENT_ID` and `FHIR_OAUTH_CLIENT_SECRET` (and optionally `FHIR_OAUTH_SCOPE`)
fetch tokens by the client-credentials grant.
"""

from enum import StrEnum
from typing import Self

import httpx
from pydantic import Field, HttpUrl, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from generators.auth import BearerToken, ClientCredentials
from generators.records import DEFAULT_SYSTEM_BASE

_CLIENT_CREDENTIALS = ("fhir_oauth_token_url", "fhir_oauth_client_id", "fhir_oauth_client_secret")


class Province(StrEnum):
    bc = "bc"
    on = "on"


class GeneratorSettings(BaseSettings):
    # `.env` is shared with the gateway, whose settings are not ours to read; an empty
    # variable counts as unset; a rejected value (a secret, perhaps) is never echoed.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True, hide_input_in_errors=True)

    fhir_url: str = Field("http://localhost:8080/fhir", description="FHIR server base URL, or `embedded`.")
    num_records: int = Field(1, ge=1, description="Records `immunizations` makes.")
    pt: Province = Field(Province.bc, description="Province of the records, `bc` or `on` (any case).")
    identifier_system_base: str = Field(
        DEFAULT_SYSTEM_BASE, description="Base URI of the gateway's extensions and code systems."
    )

    is_local_dev: bool = Field(False, description="Send no credentials, whatever else is configured.")
    fhir_token: SecretStr | None = Field(None, description="Bearer token for the FHIR server.")
    fhir_oauth_token_url: HttpUrl | None = Field(None, description="OAuth2 token endpoint (client credentials).")
    fhir_oauth_client_id: str | None = Field(None, description="OAuth2 client id.")
    fhir_oauth_client_secret: SecretStr | None = Field(None, description="OAuth2 client secret.")
    fhir_oauth_scope: str | None = Field(None, description="OAuth2 scope to ask for; none when unset.")

    @field_validator("pt", mode="before")
    @classmethod
    def _province_in_any_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_complete_way_to_authenticate(self) -> Self:
        oauth = [*_CLIENT_CREDENTIALS, "fhir_oauth_scope"]
        if not any(getattr(self, name) is not None for name in oauth):
            return self
        missing = [name.upper() for name in _CLIENT_CREDENTIALS if getattr(self, name) is None]
        if missing:
            raise ValueError(f"OAuth2 client credentials also need {', '.join(missing)}")
        if self.fhir_token is not None:
            raise ValueError("FHIR_TOKEN and FHIR_OAUTH_* are two ways to authenticate: set only one")
        return self

    def fhir_auth(self) -> httpx.Auth | None:
        """How requests to the FHIR server authenticate; None sends no credentials."""
        if self.is_local_dev:
            return None
        if self.fhir_token is not None:
            return BearerToken(self.fhir_token.get_secret_value())
        if self.fhir_oauth_token_url and self.fhir_oauth_client_id and self.fhir_oauth_client_secret:
            return ClientCredentials(
                token_url=str(self.fhir_oauth_token_url),
                client_id=self.fhir_oauth_client_id,
                client_secret=self.fhir_oauth_client_secret.get_secret_value(),
                scope=self.fhir_oauth_scope,
            )
        return None
