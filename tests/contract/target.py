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

# A PUT that creates answers 201, and the embedded store names the new version in Location, as a
# create does. HAPI sends only Content-Location (`.../_history/1`), which RFC 9110 (section 15.3.2)
# allows: without a Location, the target URI of the PUT identifies the new resource.
CREATED_BY_PUT_LOCATION_HEADERS = ("Location", "Content-Location") if REMOTE else ("Location",)

# Bundle.entry.response.etag is "the ETag for the resource"; the spec's transaction-response
# example (bundle-response) writes it W/"1", as HTTP writes an ETag, and so does the embedded
# store. HAPI writes the bare versionId ("1").
BUNDLE_ETAG_FORMATS = ('W/"{}"', "{}") if REMOTE else ('W/"{}"',)

# R4 update answers an ETag, and the embedded store answers one to a PATCH too. HAPI answers a
# PATCH without ETag (Content-Location and the body's meta.versionId carry the new version).
PATCH_ANSWERS_ETAG = not REMOTE

# The CapabilityStatement lists each system interaction served. HAPI serves batch Bundles but
# lists only `transaction` (and `history-system`); the embedded store lists both.
DECLARED_SYSTEM_INTERACTIONS = frozenset({"transaction"}) if REMOTE else frozenset({"transaction", "batch"})

# R4 search.html#prefix: `ge1980` also matches a date "fully contained" in 1980 (and `le1980`
# likewise). HAPI FHIR 8.8 matches only dates after (before) the whole year, as gt and lt do.
PARTIAL_DATE_GE_LE_OUTSIDE_SPEC = "HAPI FHIR reads ge1980 as gt1980 and le1980 as lt1980 (outside R4 search prefixes)"

# R4 datatypes.html#string: no characters below U+0020 but tab, CR and LF. HAPI stores them.
CONTROL_CHARACTERS_OUTSIDE_SPEC = "HAPI FHIR stores strings with control characters, which R4 strings may not hold"

# R4 search.html#_sort leaves it to the server how a repeating element sorts. The embedded store
# sorts a string parameter by its values in document order (`given`: the official name's given
# names, first given name first, as the name reads); descending is the reverse. HAPI FHIR JPA 8.8
# sorts each resource by its smallest value ascending and by its largest descending, over every
# name ("Christian Adrian" comes first by "Adrian"). Both are within the spec.
GIVEN_NAMES_IN_DOCUMENT_ORDER = "the given names as they read, first given name first"
SMALLEST_AND_LARGEST_GIVEN_NAME = "the smallest given name ascending, the largest descending"
REPEATED_GIVEN_NAME_SORTS = (
    frozenset({GIVEN_NAMES_IN_DOCUMENT_ORDER, SMALLEST_AND_LARGEST_GIVEN_NAME})
    if REMOTE
    else frozenset({GIVEN_NAMES_IN_DOCUMENT_ORDER})
)

# R4 search.html#string matches strings "after both have been normalized by case and accent". The
# embedded store folds letters that Unicode does not decompose into a letter and an accent as their
# base letters (ø o, æ ae, ł l, þ th), as the gateway's fuzzy name keys do, so "soren" finds "Søren".
# HAPI FHIR 8.8 strips combining accents only: "soren" misses "Søren", "søren" finds it. Whether ø
# is an accented o the spec does not say; HAPI's reading is the narrower one.
FOLDS_UNDECOMPOSABLE_LETTERS = not REMOTE

# R4 search.html#number: without a prefix, or with eq or ne, a number stands for the range of the
# precision it is written to (`0.7` is 0.65 up to 0.75, `0.70` is 0.695 up to 0.705), and
# search.html#quantity applies the same rule to quantities (`5.4` is 5.35 up to 5.45). The
# embedded store follows it. HAPI FHIR 8.8 compares a quantity exactly (`5.4` finds 5.4, not 5.36
# or 5.44) and a number within a narrow band of its own (`0.7` finds 0.696 and 0.704, not 0.66;
# `7` finds 7, not 6.6). With gt, lt, ge or le both compare exactly, as R4 says they should.
EQ_SPANS_THE_PRECISION = not REMOTE

# R4 search.html#composite: the parts of a composite value match in the same element, so
# `component-code-value-quantity=8480-6$gt100` finds the blood pressures whose systolic component
# is over 100. HAPI FHIR 8.8 matches the code in one component and the value in any other: a
# pressure with a low systolic and a diastolic over 100 matches too.
COMPOSITE_PARTS_MATCH_ONE_COMPONENT = not REMOTE

# R4 search.html#modifiers defines `:identifier` on reference parameters: it matches the
# identifier a Reference carries (`subject:identifier=sys|val`), which the embedded store
# searches. HAPI FHIR 8.8 refuses the modifier: 400, HAPI-2498 "Unsupported search modifier(s)".
REFERENCE_IDENTIFIER_MODIFIER = not REMOTE

# R4 http.html#trules: a conditional reference (`Patient?identifier=sys|val`) that matches nothing
# fails the transaction with "an error", and names no status. The embedded store answers 400, as
# HAPI does for a reference to a resource that does not exist (HAPI-1094). For a conditional
# reference HAPI answers 404 (HAPI-1091 "Invalid match URL ... - No resources match this search").
UNMATCHED_CONDITIONAL_REFERENCE = frozenset({400, 404}) if REMOTE else frozenset({400})

# R4 http.html: an error should carry an OperationOutcome. A request line over 8 KB never reaches
# HAPI FHIR: its servlet container (Tomcat) refuses it with a 400 and an HTML page. The embedded
# store reads any URL it is given and refuses what is too big in it with an OperationOutcome that
# names the parameter.
LONG_URL_BYTES = 8 * 1024
LONG_URLS_ANSWER_AN_OPERATION_OUTCOME = not REMOTE

# R4 search.html#errors: a server unable to execute a search "may return an error", with an
# OperationOutcome detailing the cause. The embedded store refuses a parameter with more values,
# or a search with more parameters, than it plans a query for: 400, naming the parameter. HAPI
# FHIR 8.8 runs 2,000 `_tag` values or 1,001 `name` values and answers 200.
MANY_VALUES_ANSWERS = frozenset({200, 400}) if REMOTE else frozenset({400})
