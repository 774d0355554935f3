"""The gateway's one async FHIR R4 REST client, for HAPI FHIR and the embedded store alike.

Requests are repeated only when that is safe: GET, HEAD, PUT, DELETE, a conditional create
(POST with `If-None-Exist`) and a transaction or batch Bundle whose every entry is one of
those, on a connection failure, a timeout or an answer of 429, 502, 503 or 504. A plain POST
or a PATCH is repeated only when its connection could not even be established, since then
nothing was sent. Waits back off exponentially with jitter, honour `Retry-After`, and are
capped by `RetryPolicy.max_wait` (details in `fhir_gateway.fhir_client.retry`).

A client given `metrics` (a `CallMetrics`) reports each call's FHIR interaction, outcome and
duration, and each retry's reason; without, it reports nothing.
"""

from fhir_gateway.fhir_client.client import (
    FHIR_JSON,
    JSON_PATCH,
    CallMetrics,
    ConditionalCreate,
    FhirClient,
    QueryParams,
    Relayed,
    SearchPage,
    interaction_of,
    path_segment,
)
from fhir_gateway.fhir_client.errors import (
    FhirBadRequest,
    FhirConflict,
    FhirError,
    FhirGone,
    FhirNotFound,
    FhirTimeout,
    FhirUnavailable,
    FhirVersionConflict,
    error_from_entry,
    error_from_response,
)
from fhir_gateway.fhir_client.etags import ETAG_SHAPE, etag, resource_etag, resource_version, version_of
from fhir_gateway.fhir_client.retry import RetryPolicy
from fhir_gateway.fhir_client.transactions import (
    create_entry,
    created_identity,
    delete_with_observations,
    entry_resource,
    new_urn,
    transaction,
)

__all__ = [
    "ETAG_SHAPE",
    "FHIR_JSON",
    "JSON_PATCH",
    "CallMetrics",
    "ConditionalCreate",
    "FhirBadRequest",
    "FhirClient",
    "FhirConflict",
    "FhirError",
    "FhirGone",
    "FhirNotFound",
    "FhirTimeout",
    "FhirUnavailable",
    "FhirVersionConflict",
    "QueryParams",
    "Relayed",
    "RetryPolicy",
    "SearchPage",
    "create_entry",
    "created_identity",
    "delete_with_observations",
    "entry_resource",
    "error_from_entry",
    "error_from_response",
    "etag",
    "interaction_of",
    "new_urn",
    "path_segment",
    "resource_etag",
    "resource_version",
    "transaction",
    "version_of",
]
