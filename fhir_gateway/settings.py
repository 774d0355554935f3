"""Every knob of the gateway is an environment variable; `.env.example` lists them all."""

from functools import cached_property
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EMBEDDED = "embedded"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

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

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
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

    @field_validator("openai_api_key", "openai_base_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `.env.example` lists them empty: an empty key or URL is none.
        return None if isinstance(value, str) and not value.strip() else value

    @cached_property
    def allowed_origins(self) -> list[str]:
        origins = list(self.cors_origins)
        if self.home_url and self.home_url not in origins:
            origins.append(self.home_url)
        return origins

    @property
    def uses_embedded_store(self) -> bool:
        return self.fhir_base_url == EMBEDDED
