# Two commands matter: `make run` (gateway on the embedded store) and `make test` (the whole suite).
# Both set everything up on a fresh machine: a pinned uv in .tools/, then .venv/ from uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: run fhir test fuzz bench screenshots setup clean

setup: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Dependencies compiled to bytecode once, here: every command and test process starts faster,
# also where Python is told not to write bytecode caches itself (PYTHONDONTWRITEBYTECODE).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	touch $@

# The local-development command serves without authentication unless told otherwise
# (`make run IS_LOCAL_DEV=false` with API_KEYS or a JWT issuer in .env).
IS_LOCAL_DEV ?= true

run: setup
	IS_LOCAL_DEV=$(IS_LOCAL_DEV) $(VENV)/bin/python -m fhir_gateway serve

fhir: setup
	$(VENV)/bin/python -m fhir_gateway fhir

# One process per core (pytest-xdist). Not --dist=loadfile: under it, schemathesis runs none
# of the operations a parametrized test covers, and says they passed.
test: setup
	$(VENV)/bin/python -m pytest --numprocesses=auto $(PYTEST_ARGS)

# schemathesis, every check, >= FUZZ_CASES (3000) cases against a gateway on a fresh temporary
# store (tests/fuzz/run.py; FUZZ_SEED, FUZZ_WORKERS; FUZZ_ARGS go to `st run`).
fuzz: setup
	$(VENV)/bin/python -m tests.fuzz.run $(FUZZ_ARGS)

bench: setup
	$(VENV)/bin/python bench/store.py

# Full-page PNGs of every page of the web console at desktop and phone widths, in
# docs/screenshots/, from a gateway on a fresh temporary store given demo data (needs Chromium).
screenshots: setup
	$(VENV)/bin/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .tools .pytest_cache

# HAPI FHIR JPA server without Docker (hapi/pom.xml, Maven caches its dependencies in ~/.m2):
# `make hapi` serves it on ${HAPI_PORT:-8080}; `make hapi-test` runs the contract suite and the
# simplified-API tests against it. PostgreSQL when SPRING_DATASOURCE_URL is set, else in-memory H2.
HAPI_JAR := hapi/target/hapi-fhir-server.jar
HAPI_SOURCES := hapi/pom.xml $(shell find hapi/src -type f)

.PHONY: hapi hapi-test

$(HAPI_JAR): $(HAPI_SOURCES)
	mvn -B -q -f hapi/pom.xml package
	@# Maven leaves an up-to-date jar untouched; make must still see it as newer than its sources.
	touch $@

hapi: $(HAPI_JAR)
	hapi/run.sh serve

hapi-test: setup $(HAPI_JAR)
	hapi/run.sh test $(PYTEST_ARGS)
