"""Where the web console lives: its pages and files under `/ui`, and `/`, which links to them.

They hold no data (what they show, they fetch with the user's own credentials): anyone may
load them, and they are pages to render, unlike the API's answers. Authentication and the
security headers both ask `is_console_path`; the console's routes are in features/ui.
"""

CONSOLE_PATHS = frozenset({"/", "/ui"})
CONSOLE_PREFIX = "/ui/"


def is_console_path(path: str) -> bool:
    return path in CONSOLE_PATHS or path.startswith(CONSOLE_PREFIX)
