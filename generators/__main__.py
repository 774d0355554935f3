"""`python -m generators`: see `generators.cli`."""

from generators.cli import app

if __name__ == "__main__":
    app()
