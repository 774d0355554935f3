"""The web console as the gateway serves it: one page for every console path, its files from
a fixed list, a policy that lets the page run only its own scripts, and `/` pointing to it.
(What the pages do is tested in a browser: tests/ui.)"""

import re

import httpx
import pytest

pytestmark = pytest.mark.anyio

_IMPORTS = re.compile(r'^import [^;]+ from "\./(?P<name>[\w-]+\.js)";', re.MULTILINE)


@pytest.mark.parametrize("path", ["/ui", "/ui/", "/ui/generate", "/ui/patients/p-1/notes/n-1", "/ui/no/such/page"])
async def test_every_console_path_is_the_one_page(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/ui/static/console.js"></script>' in response.text
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy


async def test_the_scripts_and_everything_they_import_are_served(client: httpx.AsyncClient) -> None:
    waiting, served = ["console.js"], set()
    while waiting:
        name = waiting.pop()
        if name in served:
            continue
        response = await client.get(f"/ui/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("text/javascript")
        served.add(name)
        waiting += [match["name"] for match in _IMPORTS.finditer(response.text)]
    assert {"api.js", "dom.js", "patients.js", "summary.js", "generate.js"} <= served
    style = await client.get("/ui/static/console.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("name", ["router.py", "shell.html", "missing.js", "__init__.py"])
async def test_nothing_else_on_disk_is_served(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/ui/static/{name}")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "path", ["/ui/static/..%2Frouter.py", "/ui/static/../router.py", "/ui/static/%2E%2E/router.py"]
)
async def test_a_path_out_of_the_files_is_a_page_never_a_file(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert "APIRouter" not in response.text
    assert response.status_code in (200, 404)


async def test_the_root_links_to_the_console_and_the_api_documentation(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert '<a href="/ui">' in response.text and '<a href="/docs">' in response.text


async def test_the_api_keeps_its_own_policy(client: httpx.AsyncClient) -> None:
    response = await client.get("/patients")

    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
