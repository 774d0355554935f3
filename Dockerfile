# syntax=docker/dockerfile:1

# Both stages share one interpreter: the venv built in the first stage links to it.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build

# Keep in step with UV_VERSION in the Makefile, so the image resolves uv.lock as `make` does.
ARG UV_VERSION=0.13.8
RUN pip install --no-cache-dir --disable-pip-version-check uv==${UV_VERSION}

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev


FROM ${PYTHON_IMAGE}

# Tesseract reads scanned notes (PNG, JPEG, PDFs without a text layer).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --home-dir /app --no-create-home gateway

WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY fhir_gateway ./fhir_gateway
COPY mappers ./mappers
# The generators load the demo dataset (into an empty embedded store at start, or into
# HAPI as compose's one-shot `seed` service) and make what /api/generate/{format} streams.
COPY generators ./generators
# The embedded store's default SQLite file lives in ./data; the service user must own it.
RUN mkdir data && chown gateway:gateway data

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8000

USER gateway:gateway
EXPOSE 8000

# Slim images ship no curl: probe liveness with the standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['PORT'] + '/health', timeout=4)"]

CMD ["python", "-m", "fhir_gateway", "serve"]
