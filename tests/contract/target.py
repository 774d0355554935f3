"""Which FHIR server the contract suite runs against, and the few answers that may differ.

Without `FHIR_CONTRACT_URL` the suite runs against the embedded store (SQLite, and PostgreSQL
when `TEST_POSTGRES_URL` is set). With it, only the server at that base URL is tested: the
suite then specifies what the embedded store must share with a real HAPI FHIR JPA server.
"""

import os

CONTRACT_URL_VAR = "FHIR_CONTRACT_URL"
CONTRACT_URL: str | None = os.environ.get(CONTRACT_URL_VAR) or None
REMOTE = CONTRACT_URL is not None

# The FHIR spec answers a stale If-Match with 412 Precondition Failed (R4 http.html#concurrency),
# and so does the embedded store. HAPI FHIR JPA answers 409 Conflict instead (HAPI-0989, its
# ResourceVersionConflictException); the gateway treats both as a version conflict. Only a
# remote server gets that leeway, so the embedded store is held to the spec.
VERSION_CONFLICT = frozenset({409, 412}) if REMOTE else frozenset({412})

# An unsupported request Content-Type is 415 Unsupported Media Type (RFC 9110 section 15.5.16),
# which the embedded store answers. HAPI answers 400 Bad Request (HAPI-0449, "Incorrect
# Content-Type header value"), so a remote server may answer either.
UNSUPPORTED_MEDIA_TYPE = frozenset({400, 415}) if REMOTE else frozenset({415})
