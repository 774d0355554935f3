"""CORS for the configured origins only."""

from starlette.middleware.cors import CORSMiddleware


class CorsMiddleware(CORSMiddleware):
    pass
