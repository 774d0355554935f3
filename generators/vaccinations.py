"""Immunization and AllergyIntolerance resources for one synthetic patient, as FHIR R4 JSON.

Built as plain dicts for speed. Every part that depends only on the catalog entry (a
vaccine's codings, route, dose; an allergy's code) is built once at import and shared
between resources, so resources returned here must be treated as read-only.
Dates are day ordinals (`date.toordinal()`), so date arithmetic is integer arithmetic.
"""

from bisect import bisect_right
from datetime import date
from functools import lru_cache
from random import Random
from typing import Any

from generators import catalog
from generators.catalog import Allergy, Vaccine

Resource = dict[str, Any]

# Days after birth that are safely past the n-th birthday, leap days included.
_DAYS_PER_YEAR = 365.25
_AFTER_BIRTHDAY_MARGIN = 2
# A second dose comes four weeks to six months after the first.
_SECOND_DOSE_GAP = (28, 180)
_SECOND_DOSE_SPREAD = _SECOND_DOSE_GAP[1] - _SECOND_DOSE_GAP[0] + 1
_LOT_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"

EXEMPTION_RATE = 0.05
FEVER_RATE = 0.08

_VACCINES_BY_AGE = tuple(sorted(catalog.VACCINES, key=lambda vaccine: vaccine.min_age))


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


class _VaccineParts:
    """The parts of an Immunization that depend only on the vaccine, built once."""

    def __init__(self, vaccine: Vaccine) -> None:
        self.vaccine = vaccine
        self.code = {
            "coding": [
                _coding(catalog.SNOMED, vaccine.snomed, vaccine.snomed_display),
                _coding(catalog.CVX, vaccine.cvx, vaccine.cvx_display),
            ],
            "text": vaccine.text,
        }
        self.route = {"coding": [_coding(catalog.ROUTE, vaccine.route, catalog.ROUTE_DISPLAYS[vaccine.route])]}
        self.sites = tuple(
            {"coding": [_coding(catalog.ACT_SITE, site, catalog.SITE_DISPLAYS[site])]} for site in vaccine.sites
        )
        self.dose = {"value": vaccine.dose_ml, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"}
        self.manufacturers = tuple({"display": name} for name in vaccine.manufacturers)
        self.concurrent_value = {"coding": [_coding(catalog.CVX, vaccine.cvx, vaccine.cvx_display)]}
        self.earliest_day = int(max(vaccine.min_age, 1) * _DAYS_PER_YEAR) + _AFTER_BIRTHDAY_MARGIN
        self.since_day = date(vaccine.since, 1, 1).toordinal()

    def first_day(self, birth_day: int) -> int:
        """The first day this vaccine can be given to someone born on `birth_day`."""
        return max(birth_day + self.earliest_day, self.since_day)


_PARTS = tuple(_VaccineParts(vaccine) for vaccine in _VACCINES_BY_AGE)
# Days after birth from which each vaccine may be given, ascending like _PARTS.
_EARLIEST_DAYS = tuple(parts.earliest_day for parts in _PARTS)
# A patient this many days old can have at least one vaccine, given after the first birthday.
EARLIEST_AGE_DAYS = _EARLIEST_DAYS[0] + 1
_EXEMPTIONS = tuple({"coding": [_coding(catalog.ACT_REASON, code, text)]} for code, text in catalog.EXEMPTION_REASONS)
_PERFORMER_FUNCTION = {
    "coding": [_coding("http://terminology.hl7.org/CodeSystem/v2-0443", "AP", "Administering Provider")]
}
_PERFORMERS = {
    province: tuple([{"function": _PERFORMER_FUNCTION, "actor": {"display": name}}] for name in names)
    for province, names in catalog.PERFORMERS.items()
}
_FEVER = {"display": "Fever"}


class _AllergyParts:
    def __init__(self, allergy: Allergy) -> None:
        self.allergy = allergy
        self.code = {"coding": [_coding(catalog.SNOMED, allergy.snomed, allergy.display)], "text": allergy.text}
        self.category = [allergy.category]


_ALLERGIES = tuple(_AllergyParts(allergy) for allergy in catalog.ALLERGIES)
_CLINICAL_STATUSES = tuple(
    {"coding": [_coding(catalog.ALLERGY_CLINICAL, code, display)]}
    for code, display in catalog.ALLERGY_CLINICAL_STATUSES
)
_VERIFICATION_STATUSES = tuple(
    {"coding": [_coding(catalog.ALLERGY_VERIFICATION, code, display)]}
    for code, display in catalog.ALLERGY_VERIFICATION_STATUSES
)
_MANIFESTATIONS = tuple(
    ([{"coding": [_coding(catalog.SNOMED, code, display)]}], severity)
    for code, display, severity in catalog.MANIFESTATIONS
)


class ClinicalFactory:
    """Builds a patient's immunizations and allergy; `system_base` roots the gateway's extension URLs."""

    def __init__(self, system_base: str, meta: dict[str, Any]) -> None:
        self._concurrent_url = f"{system_base}/StructureDefinition/concurrent-vaccine"
        self._meta = meta

    def immunizations(
        self,
        rng: Random,
        ids: list[str],
        patient_ref: dict[str, str],
        province: str,
        birth_day: int,
        today: int,
    ) -> list[Resource]:
        """One or two Immunizations (as many as `ids`) given after the first birthday, never after `today`.

        Two are either doses 1 and 2 of one vaccine, or two vaccines given the same day,
        each naming the other as a concurrent vaccine. The patient must be past
        `EARLIEST_AGE_DAYS` on `today`.
        """
        index = int(rng.random() * bisect_right(_EARLIEST_DAYS, today - birth_day))
        first = _PARTS[index]
        # A reference date older than the product leaves only `today` itself.
        start = min(first.first_day(birth_day), today)
        performer = _pick(rng, _PERFORMERS[province])
        if len(ids) == 1:
            day = _day_between(rng, start, today)
            dose = 1 + (rng.random() < 0.4)
            return [self._immunization(rng, ids[0], patient_ref, first, day, dose, performer)]
        day = _day_between(rng, start, today)
        # Vaccines the patient was old enough for that day; the first one is among them.
        eligible_then = bisect_right(_EARLIEST_DAYS, day - birth_day)
        other = int(rng.random() * (eligible_then - 1))
        second = _PARTS[other + (other >= index)]
        if eligible_then > 1 and second.since_day <= day and rng.random() < 0.4:
            pair = [
                self._immunization(rng, ids[0], patient_ref, first, day, 1, performer),
                self._immunization(rng, ids[1], patient_ref, second, day, 1, performer),
            ]
            pair[0]["extension"] = [{"url": self._concurrent_url, "valueCodeableConcept": second.concurrent_value}]
            pair[1]["extension"] = [{"url": self._concurrent_url, "valueCodeableConcept": first.concurrent_value}]
            return pair
        day = _day_between(rng, start, max(start, today - _SECOND_DOSE_GAP[0]))
        second_day = min(today, day + _SECOND_DOSE_GAP[0] + int(rng.random() * _SECOND_DOSE_SPREAD))
        return [
            self._immunization(rng, ids[0], patient_ref, first, day, 1, performer),
            self._immunization(rng, ids[1], patient_ref, first, second_day, 2, performer),
        ]

    def allergy(
        self, rng: Random, resource_id: str, patient_ref: dict[str, str], birth_day: int, today: int
    ) -> Resource:
        """An AllergyIntolerance with its onset between birth and `today`, recorded on or after it."""
        parts = _pick(rng, _ALLERGIES)
        allergy = parts.allergy
        onset = _day_between(rng, birth_day + 30, today)
        recorded = min(today, onset + int(rng.random() * 60))
        manifestation, severity = _pick(rng, _MANIFESTATIONS)
        clinical = _CLINICAL_STATUSES[0] if rng.random() < 0.8 else _pick(rng, _CLINICAL_STATUSES)
        return {
            "resourceType": "AllergyIntolerance",
            "id": resource_id,
            "meta": self._meta,
            "clinicalStatus": clinical,
            "verificationStatus": _VERIFICATION_STATUSES[rng.random() < 0.15],
            "type": allergy.type,
            "category": parts.category,
            "criticality": _pick(rng, allergy.criticalities),
            "code": parts.code,
            "patient": patient_ref,
            "onsetDateTime": iso_date(onset),
            "recordedDate": iso_date(recorded),
            "reaction": [{"manifestation": manifestation, "severity": severity}],
        }

    def _immunization(
        self,
        rng: Random,
        resource_id: str,
        patient_ref: dict[str, str],
        parts: _VaccineParts,
        day: int,
        dose_number: int,
        performer: list[dict[str, Any]],
    ) -> Resource:
        occurrence = iso_date(day)
        resource: Resource = {
            "resourceType": "Immunization",
            "id": resource_id,
            "meta": self._meta,
            "status": "completed",
            "vaccineCode": parts.code,
            "patient": patient_ref,
            "occurrenceDateTime": occurrence,
            "primarySource": True,
        }
        if rng.random() < EXEMPTION_RATE:
            resource["status"] = "not-done"
            resource["statusReason"] = _pick(rng, _EXEMPTIONS)
            return resource
        n = rng.getrandbits(32)
        letters = _LOT_LETTERS
        resource["manufacturer"] = parts.manufacturers[n % len(parts.manufacturers)]
        resource["lotNumber"] = (
            f"{letters[n % 23]}{letters[n // 23 % 23]}{n // 529 % 10000:04d}{letters[(n >> 27) % 23]}"
        )
        if parts.sites:
            resource["site"] = parts.sites[n // 5290000 % len(parts.sites)]
        resource["route"] = parts.route
        resource["doseQuantity"] = parts.dose
        resource["performer"] = performer
        resource["protocolApplied"] = [{"doseNumberPositiveInt": dose_number}]
        if rng.random() < FEVER_RATE:
            resource["reaction"] = [{"date": occurrence, "detail": _FEVER, "reported": True}]
        return resource


@lru_cache(maxsize=1 << 16)
def iso_date(day: int) -> str:
    """The ISO date of a day ordinal; records hold a few tens of thousands of distinct days."""
    return date.fromordinal(day).isoformat()


def _day_between(rng: Random, first: int, last: int) -> int:
    return first + int(rng.random() * (last - first + 1)) if last > first else last


def _pick(rng: Random, choices: tuple[Any, ...]) -> Any:
    return choices[int(rng.random() * len(choices))]
