"""Synthetic immunization records: one Patient, one or two Immunizations and, in BC, an
AllergyIntolerance each, the same for the same seed, province and reference date.

The Patient is the gateway's own mapping (`mappers.patient`) of a generated patient, so
the API reads it back like any patient it created; the generator then adds what only it
knows, as documented extensions: consent status, ethnicity, risk factors, and the
preferred language (`communication`). A second identifier, the patient's UUID (which is
also its resource id and its Bundle fullUrl), sits beside the provincial health number.

Records are cut into shards (`generators.shards`): record n is made from its shard's
random stream, advanced through the shard's earlier records, and its ids and health
number depend on n alone. So the n-th record of a seed is the same whatever the count
asked for, the first record asked for, or the number of processes making them.

The mapper validates a pydantic model per patient, which costs more than making the rest
of the record. So the Patient is built here as the dict the mapper would return for the
same fields, its constant parts (identifier type and system, name-key system) taken from
the mapper's output for a template patient; tests hold the two equal.

A patient is drawn first (`Demographics`) and made a Patient after: what needs no FHIR
(the clinical generator's tables and claims) takes the patient as drawn, without the Patient.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import islice
from random import Random
from typing import Any, NamedTuple, TypeVar

from generators import catalog
from generators.bundles import Record, Resource, urn
from generators.identifiers import HealthNumbers, RecordIds
from generators.places import CITIES, STREET_TYPES, phone_number, postal_code
from generators.pools import NamePools, draw_pools
from generators.shards import SHARD_SIZE, shard_random
from generators.vaccinations import EARLIEST_AGE_DAYS, ClinicalFactory, iso_date
from mappers import patient as patient_mapper
from mappers.name_keys import name_keys

DEFAULT_SYSTEM_BASE = "https://fhir-gateway.dev"
UUID_SYSTEM = "urn:ietf:rfc:3986"
# Marks every generated resource as test data, so it can be found (`_tag`) and told apart.
SYNTHETIC_TAG = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
    "code": "HTEST",
    "display": "test health data",
}

_OLDEST_DAYS = 95 * 365
_TWO_IMMUNIZATIONS_RATE = 0.4
_MIDDLE_NAME_RATE = 0.4
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

T = TypeVar("T")


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


@dataclass(frozen=True)
class _Name:
    """A pool name with what a record needs of it: its e-mail mailbox and its name keys
    (as ranks in the sorted list of every pool name's keys: ints sort faster than text)."""

    text: str
    mailbox: str
    keys: frozenset[int]


@dataclass(frozen=True)
class _NameParts:
    female_given: tuple[_Name, ...]
    male_given: tuple[_Name, ...]
    family: tuple[_Name, ...]
    streets: tuple[str, ...]
    # One shared `meta.tag` entry per name key, in key order.
    key_tags: tuple[dict[str, str], ...]


@cache
def _name_parts(seed: int, system_base: str) -> _NameParts:
    pools: NamePools = draw_pools(seed)
    key_system = patient_mapper.name_key_system(system_base)
    keys_of = {name: name_keys(name) for name in (*pools.female_given, *pools.male_given, *pools.family)}
    ordered = sorted({key for keys in keys_of.values() for key in keys})
    rank = {key: position for position, key in enumerate(ordered)}
    names = {name: _Name(name, _mailbox(name), frozenset(rank[key] for key in keys)) for name, keys in keys_of.items()}
    key_tags = tuple({"system": key_system, "code": key} for key in ordered)
    return _NameParts(
        female_given=tuple(names[name] for name in pools.female_given),
        male_given=tuple(names[name] for name in pools.male_given),
        family=tuple(names[name] for name in pools.family),
        streets=pools.streets,
        key_tags=key_tags,
    )


class Demographics(NamedTuple):
    """A patient as drawn, before it is a FHIR Patient: what the other formats write of a
    patient is taken from here, without the Patient."""

    patient_id: str
    health_number: str
    gender: str
    given: list[str]
    family: str
    birth_day: int  # a day ordinal
    street: str
    city: str
    province: str
    postal_code: str
    phone: str
    email: str
    # Ranks of the name keys of the given and family names (`_Name.keys`).
    name_keys: frozenset[int]
    # The Patient's extensions and its `communication`, prebuilt parts shared between patients.
    extensions: list[dict[str, Any]]
    communication: list[dict[str, Any]]


class RecordGenerator:
    """Generates the records of one province from one seed.

    `reference_date` is "today" for the records: nothing happens after it. The record at
    index n is the same whatever the count, the start or the shard it is made in.
    Resources share prebuilt parts (codings, extensions, tags), so they are to be read,
    not changed.
    """

    def __init__(
        self,
        province: str,
        seed: int,
        reference_date: date,
        *,
        system_base: str = DEFAULT_SYSTEM_BASE,
    ) -> None:
        province = province.upper()
        if province not in CITIES:
            raise ValueError(f"unsupported province {province!r}: expected one of {', '.join(CITIES)}")
        self.province = province
        self.system_base = system_base
        # The province is part of the seed: BC and ON runs of one seed share no ids.
        self.seed_text = f"{province}:{seed}"
        run_rng = Random(self.seed_text)
        self._ids = RecordIds(run_rng)
        self._health_numbers = HealthNumbers(province, run_rng)
        self._names = _name_parts(seed, system_base)
        self._today = reference_date.toordinal()
        self._cities = CITIES[province]
        self._meta = {"tag": [SYNTHETIC_TAG]}
        self._clinical = ClinicalFactory(system_base, self._meta)
        self._languages = tuple(
            [{"language": {"coding": [_coding(catalog.BCP47, code, display)], "text": display}, "preferred": True}]
            for code, display in catalog.LANGUAGES
        )
        self._consents = self._extensions("consent-status", catalog.CONSENT_STATE, catalog.CONSENT_STATES)
        self._ethnicities = self._extensions("ethnicity", f"{system_base}/CodeSystem/ethnicity", catalog.ETHNICITIES)
        self._risk_factors = self._extensions("risk-factor", catalog.SNOMED, catalog.RISK_FACTORS)
        insurance = self._template()["identifier"][0]
        self._insurance_type, self._insurance_system = insurance["type"], insurance["system"]
        self._cursor: Iterator[Record] | None = None

    def records(self, count: int, start: int = 0) -> Iterator[Record]:
        """The records with indexes start to start + count - 1, in order."""
        return islice(self._from(start, self._record, care=True), count)

    def people(self, count: int, start: int = 0) -> Iterator[Demographics]:
        """The patients of those records, as drawn: the same patients, made faster."""
        return islice(self._from(start, self._person, care=False), count)

    def people_and_records(self, count: int, start: int = 0) -> Iterator[tuple[Demographics, Record]]:
        """Both: each record with its patient as drawn."""
        return islice(self._from(start, self._person_and_record, care=True), count)

    def record(self) -> Record:
        """The record after the last one this method returned (the first: record 0)."""
        if self._cursor is None:
            self._cursor = self._from(0, self._record, care=True)
        return next(self._cursor)

    def _from(self, start: int, make: Callable[[Random, Random | None, int], T], *, care: bool) -> Iterator[T]:
        """What `make` makes of every record from index `start` on, from the shard's
        patients' stream and (with `care`) the stream of what was given to them."""
        shard = start // SHARD_SIZE
        while True:
            # Patients and what was given to them come from streams of their own, so that
            # patients can be made without the rest, and are the same either way.
            rng = shard_random(self.seed_text, shard)
            care_rng = shard_random(f"{self.seed_text}:immunizations", shard) if care else None
            first = shard * SHARD_SIZE
            # A shard's records come from one stream: the ones before `start` are made
            # (and dropped) to bring it where record `start` begins.
            for index in range(first, max(first, start)):
                make(rng, care_rng, index)
            for index in range(max(first, start), first + SHARD_SIZE):
                yield make(rng, care_rng, index)
            shard += 1

    def _person(self, rng: Random, care: Random | None, index: int) -> Demographics:
        return self._demographics(rng, index, self._ids.stem(index))

    def _record(self, rng: Random, care: Random | None, index: int) -> Record:
        return self._person_and_record(rng, care, index)[1]

    def _person_and_record(self, rng: Random, care: Random | None, index: int) -> tuple[Demographics, Record]:
        """Record `index`: the Patient first, then (drawn from `care`) its Immunizations,
        then its allergy (BC)."""
        assert care is not None, "a record's care is drawn from the care stream"
        stem = self._ids.stem(index)
        person = self._demographics(rng, index, stem)
        record: Record = [self._patient(person)]
        today, birth_day = self._today, person.birth_day
        patient_ref = {"reference": urn(person.patient_id)}
        if care.random() < _TWO_IMMUNIZATIONS_RATE:
            ids, allergy_id = [f"{stem}1", f"{stem}2"], f"{stem}3"
        else:
            ids, allergy_id = [f"{stem}1"], f"{stem}2"
        record += self._clinical.immunizations(care, ids, patient_ref, self.province, birth_day, today)
        if self.province == "BC":
            record.append(self._clinical.allergy(care, allergy_id, patient_ref, birth_day, today))
        return person, record

    def _demographics(self, rng: Random, index: int, stem: str) -> Demographics:
        # Picks are inlined (`pool[int(random() * len(pool))]`): a call each would cost a
        # tenth of the patient.
        random = rng.random
        names = self._names
        birth_day = self._today - EARLIEST_AGE_DAYS - int(random() * (_OLDEST_DAYS - EARLIEST_AGE_DAYS))
        draw = random()
        gender = "female" if draw < 0.49 else "male" if draw < 0.98 else "other"
        # Names follow the gender; a patient of another gender gets either kind.
        given_pool = names.female_given if draw < 0.49 or draw >= 0.99 else names.male_given
        first = given_pool[int(random() * len(given_pool))]
        if random() < _MIDDLE_NAME_RATE:
            middle = given_pool[int(random() * len(given_pool))]
            given = [first.text, middle.text]
            mailbox = f"{first.mailbox}{middle.mailbox}"
            keys = first.keys | middle.keys
        else:
            given, mailbox, keys = [first.text], first.mailbox, first.keys
        families = names.family
        family = families[int(random() * len(families))]
        cities = self._cities
        city = cities[int(random() * len(cities))]
        streets = names.streets
        street = (
            f"{1 + int(random() * 9999)} {streets[int(random() * len(streets))]} "
            f"{STREET_TYPES[int(random() * len(STREET_TYPES))]}"
        )
        phone = phone_number(rng, city)
        email = f"{mailbox}.{family.mailbox}@{_EMAIL_DOMAINS[int(random() * len(_EMAIL_DOMAINS))]}"
        postal = postal_code(rng, city)
        consents, ethnicities, risks = self._consents, self._ethnicities, self._risk_factors
        extensions = [consents[int(random() * len(consents))], ethnicities[int(random() * len(ethnicities))]]
        # No, one or two distinct risk factors.
        draw = random() * 3
        if draw >= 1:
            first_risk = int((draw - int(draw)) * len(risks))
            extensions.append(risks[first_risk])
            if draw >= 2:
                extensions.append(risks[(first_risk + 1 + int(random() * (len(risks) - 1))) % len(risks)])
        languages = self._languages
        return Demographics(
            f"{stem}0",
            self._health_numbers.at(index),
            gender,
            given,
            family.text,
            birth_day,
            street,
            city.name,
            self.province,
            postal,
            phone,
            email,
            keys | family.keys,
            extensions,
            languages[int(random() * len(languages))],
        )

    def _patient(self, person: Demographics) -> Resource:
        """What `mappers.patient.to_fhir` makes of these fields, key for key and in its
        order, with the generator's extensions."""
        # A name's keys are its words' keys (name_keys works word by word), so the keys of
        # the given names and the family name are the union of each name's.
        key_tags = self._names.key_tags
        tags = [key_tags[key] for key in sorted(person.name_keys)]
        tags.append(SYNTHETIC_TAG)
        patient_id = person.patient_id
        return {
            "resourceType": "Patient",
            "id": patient_id,
            "meta": {"tag": tags},
            "identifier": [
                {"type": self._insurance_type, "system": self._insurance_system, "value": person.health_number},
                {"system": UUID_SYSTEM, "value": f"urn:uuid:{patient_id}"},
            ],
            "name": [{"use": "official", "family": person.family, "given": person.given}],
            "telecom": [{"system": "phone", "value": person.phone}, {"system": "email", "value": person.email}],
            "gender": person.gender,
            "birthDate": iso_date(person.birth_day),
            "address": [
                {
                    "line": [person.street],
                    "city": person.city,
                    "state": person.province,
                    "postalCode": person.postal_code,
                    "country": "CA",
                }
            ],
            "extension": person.extensions,
            "communication": person.communication,
        }

    def _template(self) -> Resource:
        """The mapper's Patient for a patient of the province with a health number."""
        domain = patient_mapper.Patient(
            province=self.province, insurance_no=self._health_numbers.at(0), given_name="A", family_name="B"
        )
        return patient_mapper.to_fhir(domain, system_base=self.system_base)

    def _extensions(self, name: str, system: str, codes: tuple[tuple[str, str], ...]) -> tuple[dict[str, Any], ...]:
        """One prebuilt extension per code of `{base}/StructureDefinition/<name>`."""
        url = f"{self.system_base}/StructureDefinition/{name}"
        return tuple(
            {"url": url, "valueCodeableConcept": {"coding": [_coding(system, code, display)], "text": display}}
            for code, display in codes
        )


def _mailbox(name: str) -> str:
    return "".join(character for character in name.lower() if character.isalnum())
