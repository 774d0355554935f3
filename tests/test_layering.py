"""The import rules of `.importlinter` hold, and each of them would catch its violation.

The contracts run through `lint-imports`, in a subprocess: once on this repository, and
once per contract on a small stand-in tree that breaks exactly that contract (a tree
whose packages have the same names as the real ones, so it cannot share a process with
them).
"""

import configparser
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / ".importlinter"
# `lint-imports` of this interpreter's environment; it looks for the packages in its cwd.
LINT_IMPORTS = (sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()")
_RESULT_LINE = re.compile(r"^(?P<name>.+) (?P<result>KEPT|BROKEN)$")

# A tree that keeps every contract: the allowed imports of each package, one of each kind.
LAWFUL_TREE = {
    "mappers/__init__.py": "",
    "mappers/patient.py": "import fhir.resources\n",
    "generators/__init__.py": "import mappers.patient\nimport fhir_gateway.fhir_client\n",
    "generators/uploader.py": "import fhir_gateway.fhir_client\n",
    # Every module a contract forbids must exist for it to be checked.
    **{
        f"generators/{name}.py": ""
        for name in ("auth", "cli", "demo", "demo_parts", "pipeline", "settings", "targets", "visits")
    },
    "generators/clinical/__init__.py": "import mappers\n",
    "fhir_gateway/__init__.py": "",
    "fhir_gateway/settings.py": "",
    "fhir_gateway/fhir_client.py": "",
    "fhir_gateway/app.py": (
        "import fhir_gateway.embedded.store\n"
        "import fhir_gateway.features.health.router\n"
        "import fhir_gateway.features.notes.router\n"
        "import fhir_gateway.features.generate.router\n"
    ),
    "fhir_gateway/embedded/__init__.py": "import fhir_gateway.embedded.store\n",
    "fhir_gateway/embedded/store.py": "import fhir_gateway.embedded.schema\n",
    "fhir_gateway/embedded/schema.py": "",
    "fhir_gateway/features/__init__.py": "",
    "fhir_gateway/features/health/__init__.py": "",
    "fhir_gateway/features/health/router.py": "import fhir_gateway.fhir_client\n",
    "fhir_gateway/features/notes/__init__.py": "",
    "fhir_gateway/features/notes/router.py": "import fhir_gateway.settings\nimport mappers.patient\n",
    "fhir_gateway/features/generate/__init__.py": "",
    "fhir_gateway/features/generate/router.py": "import generators.clinical\n",
}

# One unlawful import per contract, keyed by the contract's section name.
VIOLATIONS = {
    "mappers-are-pure": ("mappers/patient.py", "import fhir_gateway.settings\n"),
    "embedded-store-stands-alone": ("fhir_gateway/embedded/schema.py", "import fhir_gateway.settings\n"),
    "feature-slices-independent": ("fhir_gateway/features/notes/router.py", "import fhir_gateway.features.health\n"),
    "gateway-without-generators": ("fhir_gateway/settings.py", "import generators.uploader\n"),
    "record-makers-stand-alone": ("generators/clinical/__init__.py", "import fhir_gateway.settings\n"),
}


def contract_names() -> dict[str, str]:
    """Contract section id -> contract name, as `.importlinter` declares them."""
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    prefix = "importlinter:contract:"
    return {
        section.removeprefix(prefix): parser[section]["name"]
        for section in parser.sections()
        if section.startswith(prefix)
    }


def lint(root: Path) -> tuple[int, dict[str, str]]:
    """Run the contracts on the packages under `root`: exit code, and each contract's result."""
    result = subprocess.run(
        [*LINT_IMPORTS, "--config", str(CONFIG), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    results = {
        match["name"]: match["result"]
        for line in result.stdout.splitlines()
        if (match := _RESULT_LINE.match(line.strip()))
    }
    return result.returncode, results


def write_tree(root: Path, files: dict[str, str]) -> None:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


def test_every_contract_is_declared() -> None:
    assert set(contract_names()) == set(VIOLATIONS)


def test_this_repository_keeps_every_contract() -> None:
    code, results = lint(REPO)

    assert results == {name: "KEPT" for name in contract_names().values()}
    assert code == 0


def test_the_lawful_stand_in_tree_keeps_every_contract(tmp_path: Path) -> None:
    write_tree(tmp_path, LAWFUL_TREE)

    code, results = lint(tmp_path)

    assert results == {name: "KEPT" for name in contract_names().values()}
    assert code == 0


@pytest.mark.parametrize("contract", sorted(VIOLATIONS))
def test_each_contract_catches_its_violation(tmp_path: Path, contract: str) -> None:
    path, unlawful_import = VIOLATIONS[contract]
    write_tree(tmp_path, {**LAWFUL_TREE, path: LAWFUL_TREE[path] + unlawful_import})

    code, results = lint(tmp_path)

    names = contract_names()
    assert results == {name: "BROKEN" if key == contract else "KEPT" for key, name in names.items()}
    assert code != 0
