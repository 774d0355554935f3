"""Vital signs: their names, LOINC codes, UCUM units and physiological ranges, and the
vital-signs `Observation`s (FHIR R4 vital signs profile) that hold them.

Notes and interactions keep vital signs alike: one `Observation` per sign, the blood
pressure as one panel with a systolic and a diastolic component.

| name | FHIR |
|---|---|
| heart_rate | 8867-4, `/min` |
| respiratory_rate | 9279-1, `/min` |
| bp_systolic, bp_diastolic | panel 85354-9, components 8480-6 and 8462-4, `mm[Hg]` |
| temperature_c | 8310-5, `Cel` |
| spo2 | 2708-6 and 59408-5, `%` |
| weight_kg | 29463-7, `kg` |
| height_cm | 8302-2, `cm` |
"""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from mappers.primitives import element, elements, number, text

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
VITAL_SIGNS_CATEGORY = {
    "coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}],
    "text": "Vital Signs",
}


@dataclass(frozen=True)
class VitalSign:
    """One vital sign: its LOINC codings (the first is the one it is known by), its UCUM
    unit and the range a living patient's value lies in."""

    name: str
    codings: tuple[tuple[str, str], ...]
    unit: str
    low: float
    high: float
    # Values are kept to this many decimals (a temperature to 0.1 °C).
    decimals: int

    @property
    def code(self) -> str:
        return self.codings[0][0]

    def range_text(self) -> str:
        return f"{self.low:g}-{self.high:g} {self.unit}"


VITAL_SIGNS: dict[str, VitalSign] = {
    sign.name: sign
    for sign in (
        VitalSign("heart_rate", (("8867-4", "Heart rate"),), "/min", 20, 250, 0),
        VitalSign("respiratory_rate", (("9279-1", "Respiratory rate"),), "/min", 4, 60, 0),
        VitalSign("bp_systolic", (("8480-6", "Systolic blood pressure"),), "mm[Hg]", 50, 300, 0),
        VitalSign("bp_diastolic", (("8462-4", "Diastolic blood pressure"),), "mm[Hg]", 20, 200, 0),
        VitalSign("temperature_c", (("8310-5", "Body temperature"),), "Cel", 30, 45, 1),
        VitalSign(
            "spo2",
            (("2708-6", "Oxygen saturation in Arterial blood"), ("59408-5", "Oxygen saturation by Pulse oximetry")),
            "%",
            50,
            100,
            0,
        ),
        VitalSign("weight_kg", (("29463-7", "Body weight"),), "kg", 0.5, 500, 1),
        VitalSign("height_cm", (("8302-2", "Body height"),), "cm", 30, 250, 1),
    )
}
BLOOD_PRESSURE_PANEL = ("85354-9", "Blood pressure panel with all children optional")
_BLOOD_PRESSURE = ("bp_systolic", "bp_diastolic")
_BY_CODE = {code: sign for sign in VITAL_SIGNS.values() for code, _ in sign.codings}


# Whole-number signs stay integers (a heart rate of 72, not 72.0), as they were written.
Measure = int | float


class Vitals(BaseModel):
    """Vital signs, each in the unit its name says; absent ones are null."""

    heart_rate: Measure | None = Field(None, description="Beats per minute.", examples=[72])
    respiratory_rate: Measure | None = Field(None, description="Breaths per minute.", examples=[14])
    bp_systolic: Measure | None = Field(None, description="Systolic blood pressure, mm Hg.", examples=[120])
    bp_diastolic: Measure | None = Field(None, description="Diastolic blood pressure, mm Hg.", examples=[78])
    temperature_c: Measure | None = Field(None, description="Body temperature, degrees Celsius.", examples=[36.6])
    spo2: Measure | None = Field(None, description="Oxygen saturation, percent.", examples=[98])
    weight_kg: Measure | None = Field(None, description="Body weight, kilograms.", examples=[70.5])
    height_cm: Measure | None = Field(None, description="Body height, centimetres.", examples=[172])

    def present(self) -> dict[str, Measure]:
        """The signs that have a value."""
        return {name: value for name, value in self.model_dump().items() if value is not None}


def implausible(values: dict[str, Measure]) -> dict[str, str]:
    """Why each value of `values` (by vital-sign name) cannot be a living patient's: outside
    its range, a systolic pressure not above the diastolic, or the other half of a blood
    pressure reading that is one of those (a reading misread that badly keeps neither half)."""
    reasons = {
        name: f"outside {VITAL_SIGNS[name].range_text()}"
        for name, value in values.items()
        if not VITAL_SIGNS[name].low <= value <= VITAL_SIGNS[name].high
    }
    systolic, diastolic = values.get("bp_systolic"), values.get("bp_diastolic")
    if systolic is None or diastolic is None:
        return reasons
    refused = [name for name in _BLOOD_PRESSURE if name in reasons]
    if not refused and systolic <= diastolic:
        reasons["bp_systolic"] = reasons["bp_diastolic"] = "systolic pressure not above diastolic"
    for name in _BLOOD_PRESSURE:
        if refused and name not in reasons:
            reasons[name] = f"the reading's {refused[0].removeprefix('bp_')} pressure is {reasons[refused[0]]}"
    return reasons


def rounded(name: str, value: float) -> Measure:
    """`value` kept to the precision of the vital sign `name` (an integer when that is whole)."""
    decimals = VITAL_SIGNS[name].decimals
    return round(value) if decimals == 0 else round(value, decimals)


def observations(vitals: Vitals, *, subject: dict[str, str], effective: str) -> list[dict[str, Any]]:
    """One vital-signs `Observation` per sign of `vitals` (blood pressure as one panel), about
    `subject` at `effective`; the caller adds what links them to their source."""
    present = vitals.present()
    found: list[dict[str, Any]] = []
    for name, value in present.items():
        if name in _BLOOD_PRESSURE:
            continue
        sign = VITAL_SIGNS[name]
        found.append(
            _observation(sign.codings, subject, effective) | {"valueQuantity": _quantity(sign, value)},
        )
    if pressures := [name for name in _BLOOD_PRESSURE if name in present]:
        panel = _observation((BLOOD_PRESSURE_PANEL,), subject, effective)
        panel["component"] = [
            {"code": _concept(VITAL_SIGNS[name].codings), "valueQuantity": _quantity(VITAL_SIGNS[name], present[name])}
            for name in pressures
        ]
        found.append(panel)
    return found


def from_observations(resources: list[dict[str, Any]]) -> Vitals:
    """The vital signs a list of Observations holds (others are ignored; for a sign held
    twice, the first)."""
    values: dict[str, Measure] = {}
    for resource in resources:
        code = _loinc_codes(element(resource.get("code")))
        if BLOOD_PRESSURE_PANEL[0] in code:
            for component in elements(resource.get("component")):
                _take(values, _loinc_codes(element(component.get("code"))), component)
        else:
            _take(values, code, resource)
    return Vitals(**values)


def sign_name(concept: dict[str, Any]) -> str | None:
    """The vital sign a CodeableConcept names by its LOINC code (a panel's component, say)."""
    return next((_BY_CODE[code].name for code in _loinc_codes(concept) if code in _BY_CODE), None)


def _take(values: dict[str, Measure], codes: list[str], holder: dict[str, Any]) -> None:
    sign = next((_BY_CODE[code] for code in codes if code in _BY_CODE), None)
    quantity = element(holder.get("valueQuantity"))
    value = quantity.get("value")
    unit = text(quantity.get("code")) or text(quantity.get("unit"))
    if sign is not None and number(value) is not None and unit == sign.unit and sign.name not in values:
        values[sign.name] = value


def _loinc_codes(concept: dict[str, Any]) -> list[str]:
    return [
        code
        for coding in elements(concept.get("coding"))
        if coding.get("system") == LOINC and (code := text(coding.get("code")))
    ]


def _observation(codings: tuple[tuple[str, str], ...], subject: dict[str, str], effective: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [VITAL_SIGNS_CATEGORY],
        "code": _concept(codings),
        "subject": subject,
        "effectiveDateTime": effective,
    }


def _concept(codings: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {
        "coding": [{"system": LOINC, "code": code, "display": display} for code, display in codings],
        "text": codings[0][1],
    }


def _quantity(sign: VitalSign, value: Measure) -> dict[str, Any]:
    return {"value": value, "unit": sign.unit, "system": UCUM, "code": sign.unit}
