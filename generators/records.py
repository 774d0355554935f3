"""Synthetic immunization records: one Patient, one or two Immunizations and, in BC, an
AllergyIntolerance each, the same for the same seed, province and reference date.

The Patient is the gateway's own mapping (`mappers.patient`) of a generated patient, so
the API reads it back like any patient it created; the generator then adds what only it
knows, as documented extensions: consent status, ethnicity, risk factors, and the
preferred language (`communication`). A second identifier, the patient's UUID (which is
also its resource id and its Bundle fullUrl), sits beside the provincial health number.
"""

from collections.abc import Iterator
from datetime import date
from random import Random
from typing import Any

from generators import catalog
from generators.bundles import Record, Resource, urn
from generators.clinical import EARLIEST_AGE_DAYS, ClinicalFactory
from generators.identifiers import HealthNumbers, UuidSource
from generators.places import CITIES, STREET_TYPES, phone_number, postal_code
from generators.pools import draw_pools
from mappers import patient as patient_mapper

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


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


class RecordGenerator:
    """Generates the records of one province from one seed.

    `reference_date` is "today" for the records: nothing happens after it. Records come
    out in order; the n-th record of a seed is the same whatever the count asked for.
    Resources share prebuilt parts (codings, extensions), so they are to be read, not changed.
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
        self._rng = Random(f"{province}:{seed}")
        self._pools = pools = draw_pools(seed)
        self._next_id = UuidSource(self._rng)
        self._health_numbers = HealthNumbers(province, self._rng)
        self._today = reference_date.toordinal()
        self._cities = CITIES[province]
        self._mailboxes = {
            name: _mailbox(name) for pool in (pools.female_given, pools.male_given, pools.family) for name in pool
        }
        self._meta = {"tag": [SYNTHETIC_TAG]}
        self._clinical = ClinicalFactory(system_base, self._meta)
        self._languages = tuple(
            [{"language": {"coding": [_coding(catalog.BCP47, code, display)], "text": display}, "preferred": True}]
            for code, display in catalog.LANGUAGES
        )
        self._consents = self._extensions("consent-status", catalog.CONSENT_STATE, catalog.CONSENT_STATES)
        self._ethnicities = self._extensions("ethnicity", f"{system_base}/CodeSystem/ethnicity", catalog.ETHNICITIES)
        self._risk_factors = self._extensions("risk-factor", catalog.SNOMED, catalog.RISK_FACTORS)

    def records(self, count: int) -> Iterator[Record]:
        """The next `count` records."""
        for _ in range(count):
            yield self.record()

    def record(self) -> Record:
        """The next record: the Patient first, then its Immunizations, then its allergy (BC)."""
        rng = self._rng
        today = self._today
        patient_id = self._next_id()
        birth_day = today - EARLIEST_AGE_DAYS - int(rng.random() * (_OLDEST_DAYS - EARLIEST_AGE_DAYS))
        patient = self._patient(rng, patient_id, birth_day)
        patient_ref = {"reference": urn(patient_id)}
        count = 2 if rng.random() < _TWO_IMMUNIZATIONS_RATE else 1
        ids = [self._next_id() for _ in range(count)]
        record: Record = [patient]
        record += self._clinical.immunizations(rng, ids, patient_ref, self.province, birth_day, today)
        if self.province == "BC":
            record.append(self._clinical.allergy(rng, self._next_id(), patient_ref, birth_day, today))
        return record

    def _patient(self, rng: Random, patient_id: str, birth_day: int) -> Resource:
        pools = self._pools
        draw = rng.random()
        gender = "female" if draw < 0.49 else "male" if draw < 0.98 else "other"
        # Names follow the gender; a patient of another gender gets either kind.
        given_pool = pools.female_given if draw < 0.49 or draw >= 0.99 else pools.male_given
        mailboxes = self._mailboxes
        given = _pick(rng, given_pool)
        mailbox = mailboxes[given]
        if rng.random() < _MIDDLE_NAME_RATE:
            middle = _pick(rng, given_pool)
            given, mailbox = f"{given} {middle}", f"{mailbox}{mailboxes[middle]}"
        family = _pick(rng, pools.family)
        city = _pick(rng, self._cities)
        street = f"{1 + int(rng.random() * 9999)} {_pick(rng, pools.streets)} {_pick(rng, STREET_TYPES)}"
        domain = patient_mapper.Patient.model_validate(
            {
                "id": patient_id,
                "province": self.province,
                "insurance_no": self._health_numbers(),
                "given_name": given,
                "family_name": family,
                "birth_date": date.fromordinal(birth_day),
                "gender": gender,
                "phone": phone_number(rng, city),
                "email": f"{mailbox}.{mailboxes[family]}@{_pick(rng, _EMAIL_DOMAINS)}",
                "address": {
                    "line": [street],
                    "city": city.name,
                    "province": self.province,
                    "postal_code": postal_code(rng, city),
                    "country": "CA",
                },
            }
        )
        resource = patient_mapper.to_fhir(domain, system_base=self.system_base)
        resource.setdefault("meta", {}).setdefault("tag", []).append(SYNTHETIC_TAG)
        resource["identifier"].append({"system": UUID_SYSTEM, "value": urn(patient_id)})
        extensions = [_pick(rng, self._consents), _pick(rng, self._ethnicities)]
        # No, one or two distinct risk factors.
        risks = self._risk_factors
        draw = rng.random() * 3
        if draw >= 1:
            first = int((draw - int(draw)) * len(risks))
            extensions.append(risks[first])
            if draw >= 2:
                extensions.append(risks[(first + 1 + int(rng.random() * (len(risks) - 1))) % len(risks)])
        resource["extension"] = extensions
        resource["communication"] = _pick(rng, self._languages)
        return resource

    def _extensions(self, name: str, system: str, codes: tuple[tuple[str, str], ...]) -> tuple[dict[str, Any], ...]:
        """One prebuilt extension per code of `{base}/StructureDefinition/<name>`."""
        url = f"{self.system_base}/StructureDefinition/{name}"
        return tuple(
            {"url": url, "valueCodeableConcept": {"coding": [_coding(system, code, display)], "text": display}}
            for code, display in codes
        )


def _pick(rng: Random, choices: tuple[Any, ...]) -> Any:
    return choices[int(rng.random() * len(choices))]


def _mailbox(name: str) -> str:
    return "".join(character for character in name.lower() if character.isalnum())
