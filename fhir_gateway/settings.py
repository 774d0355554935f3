"""Every knob of the gateway is an environment variable; `.env.example` lists them all."""

from typing import Annotated

from limits import RateLimitItem, parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EMBEDDED = "embedded"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    is_local_dev: bool = Field(
        False,
        description="Serve without authentication, for a developer's laptop (`make run` sets it); never in production.",
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Bearer API keys, `;`-separated entries `name:sha256-of-key:scope scope…`; "
        "`python -m fhir_gateway api-key NAME` makes one.",
    )
    jwt_jwks_url: str | None = Field(None, description="JWKS URL of the issuer whose JWTs are accepted.")
    jwt_public_key: str | None = Field(
        None, description="PEM public key (or the path of a PEM file) that signs accepted JWTs, instead of a JWKS."
    )
    jwt_issuer: str | None = Field(None, description="Required `iss` of accepted JWTs.")
    jwt_audience: str | None = Field(
        None, description="Required `aud` of accepted JWTs: the gateway's own URL or name."
    )
    jwt_algorithms: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["RS256", "ES256"], description="Comma-separated signature algorithms accepted in JWTs."
    )
    jwt_leeway_seconds: int = Field(30, ge=0, le=300, description="Clock skew allowed on JWTs' `exp` and `nbf`.")
    metrics_public: bool = Field(
        True, description="`/metrics` answers without authentication (for a scraper inside the network)."
    )
    rate_limit: str = Field(
        "1200/minute",
        description="Requests per client (API key, token subject, else address), in `limits` notation such as "
        "`20/second;1200/minute`; empty for none.",
    )
    audit_enabled: bool = Field(True, description="Record reads and writes of patient data as FHIR AuditEvents.")
    audit_batch_size: int = Field(50, ge=1, le=500, description="AuditEvents written to the FHIR server per batch.")
    audit_flush_seconds: float = Field(1.0, gt=0, description="Longest an AuditEvent waits before it is written.")
    audit_queue_size: int = Field(
        10000, ge=1, description="AuditEvents waiting to be written; beyond, new ones are dropped and counted."
    )
    host: str = Field("127.0.0.1", description="Interface uvicorn binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port of the gateway (`make run`).")
    fhir_port: int = Field(
        8090, ge=1, le=65535, description="Port of the stand-alone embedded FHIR server (`make fhir`)."
    )
    fhir_workers: int = Field(
        0,
        ge=0,
        description="Worker processes of the stand-alone embedded FHIR server: 0 for one per CPU, at most 4 (one "
        "for an in-memory database).",
    )

    fhir_base_url: str = Field(EMBEDDED, description="FHIR server base URL, or `embedded` for the in-process store.")
    embedded_database_url: str = Field(
        "sqlite:///./data/fhir.db", description="SQLAlchemy URL of the embedded FHIR store."
    )
    fhir_timeout_seconds: float = Field(30.0, gt=0, description="Timeout of one FHIR request.")
    fhir_connect_timeout_seconds: float = Field(5.0, gt=0, description="Connect timeout to the FHIR server.")
    fhir_retry_attempts: int = Field(4, ge=1, le=20, description="Attempts for a FHIR request that is safe to repeat.")
    fhir_retry_max_wait_seconds: float = Field(
        10.0, ge=0, description="Cap on one back-off wait (also caps Retry-After)."
    )
    fhir_max_body_bytes: int = Field(
        50 * 1024 * 1024, gt=0, description="Largest request body the embedded FHIR store accepts."
    )

    max_request_bytes: int = Field(
        12 * 1024 * 1024, gt=0, description="Largest request body the gateway accepts (413 beyond)."
    )
    max_upload_bytes: int = Field(
        10 * 1024 * 1024,
        gt=0,
        description="Largest note a client may upload (413 beyond); below MAX_REQUEST_BYTES, which wraps it.",
    )
    ocr_languages: str = Field("eng", description="Tesseract languages for scanned notes, such as `eng+fra`.")
    ocr_timeout_seconds: float = Field(
        120.0, gt=0, description="Longest OCR of one note before it is stored without text."
    )
    ocr_max_pages: int = Field(20, ge=1, description="Pages of a scanned PDF read by OCR; later pages get no text.")
    openai_api_key: SecretStr | None = Field(
        None, description="Key of the OpenAI API (or a compatible server); without one, summaries are written offline."
    )
    openai_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server; empty for OpenAI's own."
    )
    openai_model: str = Field("gpt-4o-mini", description="Model that writes summaries' narratives.")
    openai_timeout_seconds: float = Field(20.0, gt=0, description="Longest wait for one answer of the model.")
    openai_max_retries: int = Field(
        1, ge=0, le=5, description="Retries of a model request that timed out or was refused for now (429, 5xx)."
    )
    summary_cache_size: int = Field(
        256, ge=0, description="Summaries kept in memory, by the versions of their sources; 0 keeps none."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:3000"],
        description="Comma-separated browser origins allowed by CORS.",
    )
    home_url: str | None = Field(None, description="Front-end origin; added to the CORS origins when set.")
    identifier_system_base: str = Field(
        "https://fhir-gateway.dev", description="Base URI of the gateway's identifier and code systems."
    )
    log_level: str = Field("INFO", description="Python logging level.")

    @field_validator("cors_origins", "jwt_algorithms", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_semicolons(cls, value: object) -> object:
        if isinstance(value, str):
            return [entry.strip() for entry in value.split(";") if entry.strip()]
        return value

    @field_validator("rate_limit")
    @classmethod
    def _readable_rate_limit(cls, value: str) -> str:
        _rate_limits(value)  # its ValueError names what it cannot read
        return value

    @field_validator("fhir_base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _upload_fits_request(self) -> "Settings":
        # A note is a request body: a limit above the request's could never be reached.
        if self.max_upload_bytes >= self.max_request_bytes:
            raise ValueError(
                f"MAX_UPLOAD_BYTES ({self.max_upload_bytes}) must be below MAX_REQUEST_BYTES "
                f"({self.max_request_bytes}): raise MAX_REQUEST_BYTES with it"
            )
        return self

    @model_validator(mode="after")
    def _token_checks_complete(self) -> "Settings":
        # Whether any authentication is configured at all is the server's question (it
        # refuses to start without): the generators read these settings for the store only.
        verifies_tokens = self.jwt_jwks_url is not None or self.jwt_public_key is not None
        if verifies_tokens and not (self.jwt_issuer and self.jwt_audience):
            raise ValueError("JWTs are checked against an issuer and an audience: set JWT_ISSUER and JWT_AUDIENCE")
        return self

    @field_validator(
        "openai_api_key",
        "openai_base_url",
        "jwt_jwks_url",
        "jwt_public_key",
        "jwt_issuer",
        "jwt_audience",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `.env.example` lists them empty: an empty key or URL is none.
        return None if isinstance(value, str) and not value.strip() else value

    # Properties, not cached: `model_copy(update=...)` would carry a cached value over.
    @property
    def rate_limits(self) -> list[RateLimitItem]:
        """The limits RATE_LIMIT names; none when it is empty."""
        return _rate_limits(self.rate_limit)

    @property
    def allowed_origins(self) -> list[str]:
        origins = list(self.cors_origins)
        if self.home_url and self.home_url not in origins:
            origins.append(self.home_url)
        return origins

    @property
    def uses_embedded_store(self) -> bool:
        return self.fhir_base_url == EMBEDDED


def _rate_limits(value: str) -> list[RateLimitItem]:
    return parse_many(value) if value.strip() else []
