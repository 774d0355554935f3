"""`python -m fhir_gateway serve` runs the gateway; `python -m fhir_gateway fhir` runs the
embedded FHIR store alone (FHIR R4 at `http://HOST:FHIR_PORT/fhir`). Settings come from
the environment and `.env`."""

import importlib.util
import logging
import logging.config
import os
import subprocess
import sys
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError

from fhir_gateway import store_app
from fhir_gateway.app import create_app
from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.observability import logging_config
from fhir_gateway.security import new_api_key
from fhir_gateway.settings import EMBEDDED, Settings

# One SQLite writer at a time: more processes than this add memory, not throughput.
DEFAULT_MAX_WORKERS = 4

cli = typer.Typer(help="The FHIR gateway.", no_args_is_help=True, add_completion=False)


@cli.command()
def serve() -> None:
    """Serve the gateway on HOST:PORT; an embedded store that holds nothing yet gets the demo dataset first.

    Refuses to start (exit status 2) without authentication configured, unless IS_LOCAL_DEV=true.
    """
    try:
        settings = Settings()
        app = create_app(settings)
    except (ValidationError, ValueError) as exc:
        typer.echo(f"fhir-gateway will not start: {_reason(exc)}", err=True)
        raise typer.Exit(2) from None
    logging.config.dictConfig(logging_config(settings.log_level))
    if settings.is_local_dev:
        logging.getLogger("fhir_gateway").warning(
            "IS_LOCAL_DEV=true: serving WITHOUT authentication, every request acts as the local developer; "
            "set API_KEYS or JWT_* (and IS_LOCAL_DEV=false) anywhere but on your own machine"
        )
    if settings.uses_embedded_store:
        _load_demo_data_if_empty(settings)
    logging.getLogger("fhir_gateway").info(
        "the web console is at http://%s:%s/ui, the API documentation at /docs", settings.host, settings.port
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=logging_config(settings.log_level),
        log_level=settings.log_level.lower(),
        # The gateway writes its own access log, without query strings.
        access_log=False,
        # No banner naming the server software to whoever asks.
        server_header=False,
    )


@cli.command("api-key")
def api_key(
    name: Annotated[str, typer.Argument(help="Who the key is for: it names them in the audit trail.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="A SMART scope to grant; repeat for more. Default: system/*.read system/*.write."),
    ] = None,
) -> None:
    """Make a new API key: the key, for its holder, and the API_KEYS entry (its digest only) for the gateway."""
    try:
        key, configured = new_api_key(name, scope or ["system/*.read", "system/*.write"])
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"key (give it to {name}; it is not kept anywhere): {key}")
    typer.echo(f"API_KEYS entry: {configured.entry()}")


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
    return str(exc)


@cli.command()
def fhir() -> None:
    """Serve the embedded FHIR store alone on HOST:FHIR_PORT, under /fhir."""
    settings = Settings()
    # Opened here first, so that the schema exists (and is upgraded) before workers open it.
    store = EmbeddedStore(settings.embedded_database_url, max_body_bytes=settings.fhir_max_body_bytes)
    workers = (
        1
        if store_app.in_memory(settings.embedded_database_url)
        else settings.fhir_workers or min(os.cpu_count() or 1, DEFAULT_MAX_WORKERS)
    )
    served = {
        "host": settings.host,
        "port": settings.fhir_port,
        "log_config": logging_config(settings.log_level),
        "log_level": settings.log_level.lower(),
        # uvicorn's access log would write search URLs, whose values may name patients.
        "access_log": False,
    }
    try:
        if workers == 1:
            uvicorn.run(store.app, **served)
            return
        store.dispose()
        # Each worker process serves its own store on the same database: SQLite in WAL mode
        # and PostgreSQL both take writers from several processes.
        uvicorn.run(f"{store_app.__name__}:create", factory=True, workers=workers, **served)
    finally:
        store.dispose()


def _load_demo_data_if_empty(settings: Settings) -> None:
    """Load the demo dataset into an empty embedded store, so the API shows data on first start.

    The generators run as a program of their own (`python -m generators demo`): the
    gateway never imports them, and where they are not installed (the Docker image) the
    gateway simply starts empty.
    """
    if importlib.util.find_spec("generators") is None:
        return
    store = EmbeddedStore(settings.embedded_database_url, max_body_bytes=settings.fhir_max_body_bytes)
    try:
        empty = store.is_empty()
    finally:
        store.dispose()
    if not empty:
        return
    command = [sys.executable, "-m", "generators", "demo", "--fhir-url", EMBEDDED]
    result = subprocess.run([*command, "--system-base", settings.identifier_system_base], check=False)
    if result.returncode != 0:
        logging.getLogger(__name__).warning(
            "loading the demo dataset failed (exit status %d); the gateway starts without it", result.returncode
        )


if __name__ == "__main__":
    cli()
