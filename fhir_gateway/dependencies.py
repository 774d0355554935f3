"""FastAPI dependencies for what the composition root keeps on `app.state`.

Routes take `SettingsDep`, `FhirClientDep` or `EmbeddedStoreDep` parameters rather than
reaching into the app themselves, so tests can override any of them.
"""

from typing import Annotated

from fastapi import Depends, Request

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.fhir_client import FhirClient
from fhir_gateway.settings import Settings


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


def get_fhir_client(request: Request) -> FhirClient:
    """The app's one FHIR client (set up by the app's lifespan)."""
    return request.app.state.fhir_client


def get_embedded_store(request: Request) -> EmbeddedStore | None:
    """The in-process FHIR store, or None when the FHIR server is remote."""
    return request.app.state.embedded_store


SettingsDep = Annotated[Settings, Depends(get_settings)]
FhirClientDep = Annotated[FhirClient, Depends(get_fhir_client)]
EmbeddedStoreDep = Annotated[EmbeddedStore | None, Depends(get_embedded_store)]
