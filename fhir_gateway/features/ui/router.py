"""`/ui`: the web console, and `/`, which points to it.

Every console path answers the same page, whose scripts draw what the path names and
fetch the data from the public API with the user's own credentials: the console has no
access of its own, so it serves no data and needs none. Its files are served from a fixed
list, so no path can name anything else on disk.
"""

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)

_HERE = Path(__file__).parent
_STATIC = _HERE / "static"
_ASSETS = {path.name: path for path in _STATIC.iterdir() if path.suffix in {".js", ".css", ".svg"}}
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
_SHELL = (_HERE / "shell.html").read_text(encoding="utf-8")
_LANDING = (_HERE / "landing.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
async def landing() -> HTMLResponse:
    return HTMLResponse(_LANDING)


@router.get("/ui/static/{name}")
async def asset(name: str) -> FileResponse:
    path = _ASSETS.get(name)
    if path is None:
        raise HTTPException(404, "no such file of the console")
    # The scripts change with the gateway: revalidated on every load, never stale.
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})


# After the files: every other console path is a page.
@router.get("/ui", response_class=HTMLResponse)
@router.get("/ui/{page:path}", response_class=HTMLResponse)
async def console(page: str = "") -> HTMLResponse:
    return HTMLResponse(_SHELL)
