"""Generate the ICD-10-CM code table the gateway checks diagnosis codes against.

The codes and their descriptions come from the CDC's ICD-10-CM release that the
`simple-icd-10-cm` package ships (public domain; its seven-character codes included, their
descriptions composed as the package composes them). The table keeps what a diagnosis is
recorded with: categories and subcategories, not chapters or blocks. It lands in
mappers/data/icd10cm.tsv.gz, one `code<TAB>description` line per code in the release's
order, written the same bytes every time for the same release.

The package parses the whole tabular XML into memory (about 190 MB, 2 s); the table is
20 MB loaded and read in a fraction of a second, so the gateway reads the table, and only
this script needs the package.

    .venv/bin/python scripts/generate_icd10cm_table.py
"""

import gzip
import io
import warnings
from collections.abc import Iterator
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "mappers" / "data" / "icd10cm.tsv.gz"
RELEASE = "April 2026"


def rows() -> Iterator[tuple[str, str]]:
    """(code, description) of every category and subcategory of the release."""
    with warnings.catch_warnings():
        # It reads its data with importlib.resources.read_text, deprecated on Python 3.11 and 3.12.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as table

    for code in table.get_all_codes(True):
        if table.is_category_or_subcategory(code):
            yield code, " ".join(str(table.get_description(code)).split())


def table_bytes() -> bytes:
    """The gzipped table (no file name or time in the header: the same bytes every run)."""
    text = "".join(f"{code}\t{description}\n" for code, description in rows())
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as archive:
        archive.write(text.encode("utf-8"))
    return buffer.getvalue()


def main() -> None:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(table_bytes())
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size:,} bytes; ICD-10-CM {RELEASE})")


if __name__ == "__main__":
    main()
