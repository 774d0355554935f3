"""Who may do what: bearer API keys and JWTs, SMART-style scopes, and local development."""

from fhir_gateway.security.api_keys import ApiKey, new_api_key
from fhir_gateway.security.authentication import LOCAL_DEVELOPER, Authenticator, refuse_authentication
from fhir_gateway.security.principal import Principal, principal_of
from fhir_gateway.security.requirements import authorize, requires
from fhir_gateway.security.scopes import Need

__all__ = [
    "LOCAL_DEVELOPER",
    "ApiKey",
    "Authenticator",
    "Need",
    "Principal",
    "authorize",
    "new_api_key",
    "principal_of",
    "refuse_authentication",
    "requires",
]
