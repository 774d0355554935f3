"""Generate the store's FHIR R4 tables from the specification's own definitions.

The definitions come from HAPI FHIR's packaging of the R4 specification (CC0), a jar on
Maven Central: taken from the local Maven repository when it is there, else downloaded and
checked against its published SHA-1. The tables land in fhir_gateway/embedded/definitions/:

- search_parameters.json: every R4 search parameter by resource type (and the common ones);
- resource_types.json: the concrete resource types and complex datatypes;
- required_codes.json: the codes of every required binding, and the bindings whose codes
  cannot be listed from the specification alone.

Run it with `.venv/bin/python scripts/generate_fhir_definitions.py`; it uses the standard
library only, and writes the same bytes every time for the same jar.
"""

import argparse
import hashlib
import io
import json
import re
import sys
import urllib.request
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

GROUP = "ca.uhn.hapi.fhir"
ARTIFACT = "hapi-fhir-validation-resources-r4"
VERSION = "8.8.0"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
LOCAL_REPOSITORY = Path.home() / ".m2" / "repository"
OUTPUT = Path(__file__).resolve().parents[1] / "fhir_gateway" / "embedded" / "definitions"

_MODEL = "org/hl7/fhir/r4/model"
SEARCH_PARAMETERS = f"{_MODEL}/sp/search-parameters.json"
PROFILES = {"resources": f"{_MODEL}/profile/profiles-resources.xml", "types": f"{_MODEL}/profile/profiles-types.xml"}
TERMINOLOGY = [f"{_MODEL}/valueset/{name}" for name in ("valuesets.xml", "v3-codesystems.xml", "v2-tables.xml")]

FHIR = "{http://hl7.org/fhir}"
# The abstract types search parameters are defined on for every resource.
COMMON_BASES = ("Resource", "DomainResource")


def jar_path() -> Path:
    """Where the jar sits in the local Maven repository (it may be missing)."""
    return LOCAL_REPOSITORY.joinpath(*GROUP.split("."), ARTIFACT, VERSION, f"{ARTIFACT}-{VERSION}.jar")


def jar_url() -> str:
    return f"{MAVEN_CENTRAL}/{GROUP.replace('.', '/')}/{ARTIFACT}/{VERSION}/{ARTIFACT}-{VERSION}.jar"


def load_jar() -> tuple[bytes, str]:
    """The jar's bytes and SHA-1, checked against the published checksum."""
    local = jar_path()
    if local.is_file():
        data = local.read_bytes()
        checksum = local.with_name(local.name + ".sha1")
        expected = checksum.read_text().split()[0] if checksum.is_file() else None
    else:
        print(f"downloading {jar_url()}", file=sys.stderr)
        with urllib.request.urlopen(jar_url(), timeout=120) as response:
            data = response.read()
        with urllib.request.urlopen(jar_url() + ".sha1", timeout=30) as response:
            expected = response.read().decode().split()[0]
    sha1 = hashlib.sha1(data).hexdigest()
    if expected is not None and expected.lower() != sha1:
        raise SystemExit(f"{ARTIFACT}-{VERSION}.jar: SHA-1 {sha1} does not match the published {expected}")
    return data, sha1


def _value(element: ET.Element, name: str) -> str | None:
    child = element.find(FHIR + name)
    return None if child is None else child.get("value")


def _values(element: ET.Element, name: str) -> list[str]:
    return [child.get("value", "") for child in element.findall(FHIR + name)]


def _strip_version(url: str) -> str:
    # Canonical references may pin a version (`...|4.0.1`); the jar holds one version of each.
    return url.split("|", 1)[0]


# Search parameters ----------------------------------------------------------------------


def _outside_quotes(text: str) -> Iterator[tuple[int, str, int]]:
    """Each character of a FHIRPath expression outside string literals, with the parenthesis depth after it."""
    depth, quote = 0, ""
    for index, char in enumerate(text):
        if quote:
            if char == quote and text[index - 1] != "\\":
                quote = ""
        elif char in "'`\"":
            quote = char
        else:
            depth += (char == "(") - (char == ")")
            yield index, char, depth


def split_expression(expression: str) -> list[str]:
    """The parts of a FHIRPath union (`a | b`) at the top level, outer parentheses removed."""
    parts, start = [], 0
    for index, char, depth in _outside_quotes(expression):
        if char == "|" and depth == 0:
            parts.append(expression[start:index])
            start = index + 1
    parts.append(expression[start:])
    return [_unwrap(part.strip()) for part in parts if part.strip()]


def _unwrap(part: str) -> str:
    while part.startswith("(") and _closing(part) == len(part) - 1:
        part = part[1:-1].strip()
    return part


def _closing(text: str) -> int:
    """Index of the parenthesis closing the one that opens `text`."""
    return next((index for index, char, depth in _outside_quotes(text) if char == ")" and depth == 0), -1)


_ROOT = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _root(part: str) -> str:
    match = _ROOT.match(part.lstrip("( "))
    return match.group() if match else ""


def _rooted(part: str, base: str) -> str:
    """A relative part (`name`, as InsurancePlan's `name | alias`) rooted at its base, as all others are."""
    opening = len(part) - len(part.lstrip("("))
    return f"{part[:opening]}{base}.{part[opening:]}"


def search_parameter_tables(
    bundle: dict[str, Any], resource_types: list[str]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[str]]:
    """The common parameters, the parameters of each resource type, and what to report."""
    definitions = [entry["resource"] for entry in bundle["entry"]]
    by_url = {definition["url"]: definition for definition in definitions}
    type_names = set(resource_types) | set(COMMON_BASES)
    common: dict[str, Any] = {}
    resources: dict[str, dict[str, Any]] = {name: {} for name in resource_types}
    notes: list[str] = []
    for definition in definitions:
        parts = split_expression(definition.get("expression", ""))
        placed: set[str] = set()
        for base in definition["base"]:
            table = common if base in COMMON_BASES else resources.get(base)
            if table is None:
                notes.append(f"{definition['id']}: base {base} is not a concrete R4 resource type; skipped")
                continue
            own = [part for part in parts if _root(part) == base or _root(part) not in type_names]
            placed.update(own)
            own = [_rooted(part, base) if _root(part) not in type_names else part for part in own]
            code = definition["code"]
            if code in table:
                notes.append(f"{definition['id']}: {base}.{code} is already defined; the first definition kept")
                continue
            table[code] = {
                "type": definition["type"],
                "expressions": own,
                "targets": list(definition.get("target", [])),
                "components": _components(definition, base, by_url, notes),
            }
        for part in parts:
            if part not in placed:
                notes.append(f"{definition['id']}: expression part {part!r} applies to none of its bases")
        for part in parts:
            if _root(part) not in type_names:
                notes.append(f"{definition['id']}: expression part {part!r} is relative: rooted at each base")
    return common, resources, notes


def _components(definition: dict[str, Any], base: str, by_url: dict[str, Any], notes: list[str]) -> list[Any]:
    components = []
    for component in definition.get("component", []):
        target = by_url.get(component["definition"])
        if target is None or base not in target["base"]:
            notes.append(f"{definition['id']}: component {component['definition']} is not a parameter of {base}")
            continue
        components.append({"param": target["code"], "expression": component["expression"]})
    return components


# Structure definitions --------------------------------------------------------------------


def structure_definitions(xml: bytes) -> Iterator[ET.Element]:
    yield from ET.parse(io.BytesIO(xml)).getroot().iter(FHIR + "StructureDefinition")


def concrete_names(definitions: Iterable[ET.Element], kind: str) -> list[str]:
    """Names of the non-abstract specializations of a kind (constraints such as SimpleQuantity are profiles)."""
    return sorted(
        _value(definition, "type") or ""
        for definition in definitions
        if _value(definition, "kind") == kind
        and _value(definition, "abstract") == "false"
        and _value(definition, "derivation") == "specialization"
    )


def snapshot_elements(definitions: Iterable[ET.Element]) -> Iterator[ET.Element]:
    for definition in definitions:
        if _value(definition, "derivation") != "specialization":
            continue
        snapshot = definition.find(FHIR + "snapshot")
        if snapshot is not None:
            yield from snapshot.findall(FHIR + "element")


# Terminology ------------------------------------------------------------------------------


class NotEnumerable(Exception):
    """A value set whose codes cannot be listed from the jar alone."""


class Terminology:
    """The jar's value sets and code systems, expanded to plain code lists."""

    def __init__(self, documents: Iterable[bytes]) -> None:
        self.value_sets: dict[str, ET.Element] = {}
        self.code_systems: dict[str, ET.Element] = {}
        for document in documents:
            for resource in ET.parse(io.BytesIO(document)).getroot().iter():
                if resource.tag == FHIR + "ValueSet":
                    self.value_sets.setdefault(_value(resource, "url") or "", resource)
                elif resource.tag == FHIR + "CodeSystem":
                    self.code_systems.setdefault(_value(resource, "url") or "", resource)

    def expand(self, url: str, seen: tuple[str, ...] = ()) -> list[str]:
        """The codes of a value set, in the order the specification lists them."""
        url = _strip_version(url)
        if url in seen:
            raise NotEnumerable(f"value set {url} includes itself")
        value_set = self.value_sets.get(url)
        if value_set is None:
            raise NotEnumerable(f"value set {url} is not defined in the specification")
        compose = value_set.find(FHIR + "compose")
        if compose is None:
            raise NotEnumerable(f"value set {url} has no compose")
        codes: dict[str, None] = {}
        for include in compose.findall(FHIR + "include"):
            codes.update(dict.fromkeys(self._include(include, (*seen, url))))
        for exclude in compose.findall(FHIR + "exclude"):
            for code in self._include(exclude, (*seen, url)):
                codes.pop(code, None)
        return list(codes)

    def _include(self, include: ET.Element, seen: tuple[str, ...]) -> list[str]:
        if include.find(FHIR + "filter") is not None:
            raise NotEnumerable("it selects codes by filter")
        system = _value(include, "system")
        concepts = [_value(concept, "code") or "" for concept in include.findall(FHIR + "concept")]
        value_sets = [self.expand(url, seen) for url in _values(include, "valueSet")]
        if system is not None:
            codes = concepts or self._all_codes(system)
        elif value_sets:
            codes = value_sets[0]
        else:
            raise NotEnumerable("an include names neither a system nor a value set")
        # Several value sets (and a system) in one include select their intersection.
        selections = [set(value_set) for value_set in value_sets]
        return [code for code in codes if all(code in selection for selection in selections)]

    def _all_codes(self, system: str) -> list[str]:
        code_system = self.code_systems.get(system)
        if code_system is None:
            raise NotEnumerable(f"code system {system} is not defined in the specification")
        if _value(code_system, "content") != "complete":
            raise NotEnumerable(f"code system {system} is not complete in the specification")
        return [_value(concept, "code") or "" for concept in code_system.iter(FHIR + "concept")]


def required_code_tables(
    elements: Iterable[ET.Element], terminology: Terminology
) -> tuple[dict[str, list[str]], dict[str, str], dict[str, str]]:
    """Codes of each required binding, the content references, and the bindings left open."""
    bindings: dict[str, list[str]] = {}
    not_enumerable: dict[str, str] = {}
    content_references: dict[str, str] = {}
    for element in elements:
        path = _value(element, "path") or ""
        reference = _value(element, "contentReference")
        if reference is not None:
            content_references[path] = reference.removeprefix("#")
        binding = element.find(FHIR + "binding")
        if binding is None or _value(binding, "strength") != "required":
            continue
        url = _value(binding, "valueSet")
        if url is None:
            not_enumerable[path] = "(none): the binding names no value set"
            continue
        try:
            bindings[path] = terminology.expand(url)
        except NotEnumerable as reason:
            not_enumerable[path] = f"{_strip_version(url)}: {reason}"
    return bindings, content_references, not_enumerable


# Output -------------------------------------------------------------------------------------


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def _layout(value: Any, depth: int, indent: int = 0) -> str:
    """JSON with the first `depth` levels of objects and arrays one item a line, the rest compact."""
    if depth == 0 or not isinstance(value, dict | list) or not value:
        return _compact(value)
    pad = " " * (indent + 1)
    if isinstance(value, dict):
        items = [f"{pad}{_compact(key)}: {_layout(value[key], depth - 1, indent + 1)}" for key in sorted(value)]
        brackets = "{}"
    else:
        items = [f"{pad}{_layout(item, depth - 1, indent + 1)}" for item in value]
        brackets = "[]"
    return brackets[0] + "\n" + ",\n".join(items) + "\n" + " " * indent + brackets[1]


# How many levels of each top-level entry get a line per item: one search parameter, one
# resource type, one binding a line.
_LINE_DEPTHS = {"resources": 2, "common": 1, "resource_types": 1, "datatypes": 1} | dict.fromkeys(
    ("bindings", "content_references", "not_enumerable"), 1
)


def _document(table: dict[str, Any]) -> str:
    lines = [f" {_compact(key)}: {_layout(table[key], _LINE_DEPTHS.get(key, 0), 1)}" for key in sorted(table)]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def generate(output: Path, jar: bytes, sha1: str) -> list[str]:
    """Write the three tables into `output`; the lines of the summary to print."""
    archive = zipfile.ZipFile(io.BytesIO(jar))
    bundle = json.loads(archive.read(SEARCH_PARAMETERS))
    fhir_versions = {entry["resource"].get("version") for entry in bundle["entry"]}
    if len(fhir_versions) != 1:
        raise SystemExit(f"search parameters of several FHIR versions: {sorted(map(str, fhir_versions))}")
    source = {"artifact": f"{GROUP}:{ARTIFACT}", "version": VERSION, "sha1": sha1, "fhirVersion": fhir_versions.pop()}

    resource_definitions = list(structure_definitions(archive.read(PROFILES["resources"])))
    type_definitions = list(structure_definitions(archive.read(PROFILES["types"])))
    resource_types = concrete_names(resource_definitions, "resource")
    datatypes = concrete_names(type_definitions, "complex-type")

    common, resources, notes = search_parameter_tables(bundle, resource_types)
    terminology = Terminology(archive.read(name) for name in TERMINOLOGY)
    bindings, content_references, not_enumerable = required_code_tables(
        snapshot_elements(resource_definitions + type_definitions), terminology
    )

    tables = {
        "search_parameters.json": {"source": source, "common": common, "resources": resources},
        "resource_types.json": {"source": source, "resource_types": resource_types, "datatypes": datatypes},
        "required_codes.json": {
            "source": source,
            "bindings": bindings,
            "content_references": content_references,
            "not_enumerable": not_enumerable,
        },
    }
    output.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        (output / name).write_text(_document(table), encoding="utf-8")

    parameters = sum(len(table) for table in resources.values())
    return [
        *notes,
        f"search_parameters.json: {len(common)} common, {parameters} on {len(resources)} resource types",
        f"resource_types.json: {len(resource_types)} resource types, {len(datatypes)} datatypes",
        f"required_codes.json: {len(bindings)} bindings with their codes, {len(not_enumerable)} not enumerable, "
        f"{len(content_references)} content references",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"directory of the tables (default {OUTPUT})")
    arguments = parser.parse_args()
    jar, sha1 = load_jar()
    for line in generate(arguments.output, jar, sha1):
        print(line)


if __name__ == "__main__":
    main()
