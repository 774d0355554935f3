"""Synthetic clinical records: a patient's diagnoses, the visits each brings, and what was
measured, drawn, prescribed and billed at each, the same for the same seed.

A diagnosis drives the rest: a chronic one (hypertension, diabetes...) is followed up every
few months from its onset and has its medication and its labs; an acute one (a sore
throat) is one visit and resolves. Vital signs and lab values are normal unless the
patient's diagnoses move them. Each visit's claim bills the visit and the panels drawn,
for the diagnoses the visit addressed (the one it was for first, then the patient's other
chronic problems of that day).

The patient, their immunizations and allergy come from the immunization generator of the
same seed, so a clinical run and an immunization run of one seed describe the same people.
Records are made shard by shard (`generators.shards`): record n depends on the seed and n
alone, whatever the number of workers making them.
"""

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import accumulate, islice
from random import Random

from generators.bundles import Record
from generators.clinical import catalog
from generators.clinical.catalog import Diagnosis
from generators.clinical.model import (
    Address,
    ClinicalRecord,
    Coverage,
    LabReport,
    Person,
    Prescription,
    Problem,
    ServiceLine,
    Visit,
)
from generators.identifiers import uuid_prefix
from generators.records import DEFAULT_SYSTEM_BASE, Demographics, RecordGenerator
from generators.shards import SHARD_SIZE, shard_random, spans

_BY_CODE = {diagnosis.icd10: diagnosis for diagnosis in catalog.DIAGNOSES}

_UTC_OFFSETS = {"BC": -8, "ON": -5}
_DAYS_PER_YEAR = 365.25
# Chronic problems are diagnosed within the last ten years; acute ones within the last
# three, so a chart shows recent care.
_CHRONIC_LOOKBACK = 3650
_ACUTE_LOOKBACK = 1095
# Follow-ups of a chronic problem come every three to six months.
_FOLLOW_UP_GAP = (90, 180)
_LAB_AT_FOLLOW_UP_RATE = 0.5
_PROBLEMS_PER_PATIENT = ((1, 0.5), (2, 0.85), (3, 1.0))
_CLINIC_OPENS, _CLINIC_CLOSES = 8 * 60, 17 * 60
_MAX_DIAGNOSES = 12
# A chart holds at most this many visits, so that a shard's claims (SHARD_SIZE patients')
# fit the one 837 transaction set the implementation guide allows them (5000 claims).
MAX_VISITS = 5
_PLAN_CODE = "HLT"
# An id is 36 characters: a per-seed prefix, then the record's index and the resource's
# place in it, so ids depend on the record alone. Problems, visits and prescriptions take
# places from 000 on, vital signs from 800 on, lab reports and their results from a00 on:
# the care's ids are the same whether or not what was measured is made. A record uses a
# few hundred places at most (MAX_VISITS visits, seven vital signs and a few panels each).
_INDEX_DIGITS = 9
_CARE_PLACES = tuple(f"{place:03x}" for place in range(0x800))
_VITAL_PLACES = tuple(f"{place:03x}" for place in range(0x800, 0xA00))
_RESULT_PLACES = tuple(f"{place:03x}" for place in range(0xA00, 0x1000))


@dataclass(slots=True)
class _Streams:
    """What one record's care is drawn from: the care's random stream and ids, and those
    of its vital signs and of its lab results, when they are wanted."""

    rng: Random
    ids: Iterator[str]
    vitals: Random | None
    vital_ids: Iterator[str]
    results: Random | None
    result_ids: Iterator[str]


class ClinicalGenerator:
    """Generates the clinical records of one province from one seed; `reference_date` is
    "today" for them: nothing happens after it."""

    def __init__(
        self, province: str, seed: int, reference_date: date, *, system_base: str = DEFAULT_SYSTEM_BASE
    ) -> None:
        self._people = RecordGenerator(province, seed, reference_date, system_base=system_base)
        self.province = province = self._people.province
        self.system_base = system_base
        self._seed_text = f"clinical:{province}:{seed}"
        self._id_prefix = uuid_prefix(Random(self._seed_text))
        self._today = reference_date.toordinal()
        self._payer = catalog.PAYERS[province]
        self._providers = catalog.clinic_providers(province)
        self._group = f"{province}{seed % 100000:05d}"
        self._offset = _UTC_OFFSETS[province]
        self._weights = tuple(accumulate(diagnosis.weight for diagnosis in catalog.DIAGNOSES))

    def records(
        self,
        count: int,
        start: int = 0,
        *,
        care: bool = True,
        fhir: bool = True,
        vitals: bool = True,
        results: bool = True,
    ) -> Iterator[ClinicalRecord]:
        """The records with indices `start` .. `start + count - 1`.

        Without `care`, records hold the person, their coverage and clinic only (what an
        enrolment file needs); without `fhir`, they hold no FHIR resources (what tables
        and claims need: the patient as drawn is their person); without `vitals` or
        `results`, their visits hold no vital signs or no lab results (claims need
        neither, tables no results: the panels drawn are known either way). Each is made
        faster, and the parts a record holds are the same either way, since each part is
        drawn from a random stream of its own.
        """
        for span in spans(count, start):
            first = span.shard * SHARD_SIZE
            care_rng = shard_random(self._seed_text, span.shard) if care else None
            vital_rng = shard_random(f"{self._seed_text}:vitals", span.shard) if care and vitals else None
            result_rng = shard_random(f"{self._seed_text}:results", span.shard) if care and results else None
            enrolment_rng = shard_random(f"{self._seed_text}:enrolment", span.shard)
            people = (
                self._people.people_and_records(span.stop - first, first)
                if fhir
                else ((person, []) for person in self._people.people(span.stop - first, first))
            )
            for index, (drawn, resources) in enumerate(people, start=first):
                # Records before `start` are made too: the random streams must pass through them.
                record = self._record(enrolment_rng, care_rng, vital_rng, result_rng, index, drawn, resources)
                if index >= span.start:
                    yield record

    def _record(
        self,
        enrolment_rng: Random,
        care_rng: Random | None,
        vital_rng: Random | None,
        result_rng: Random | None,
        index: int,
        drawn: Demographics,
        resources: Record,
    ) -> ClinicalRecord:
        birth_day = drawn.birth_day
        person = Person(
            patient_id=drawn.patient_id,
            member_id=drawn.health_number,
            given=" ".join(drawn.given),
            family=drawn.family,
            birth_date=date.fromordinal(birth_day),
            gender=drawn.gender,
            address=Address(drawn.street, drawn.city, drawn.province, drawn.postal_code),
            phone=drawn.phone,
        )
        provider = self._providers[int(enrolment_rng.random() * len(self._providers))]
        coverage_start = max(birth_day, self._today - int(enrolment_rng.random() * _CHRONIC_LOOKBACK) - 365)
        coverage = Coverage(self._payer, self._group, _PLAN_CODE, date.fromordinal(coverage_start))
        problems: tuple[Problem, ...] = ()
        visits: tuple[Visit, ...] = ()
        if care_rng is not None:
            prefix = f"{self._id_prefix}{index:0{_INDEX_DIGITS}x}"
            streams = _Streams(
                care_rng,
                map(prefix.__add__, _CARE_PLACES),
                vital_rng,
                map(prefix.__add__, _VITAL_PLACES),
                result_rng,
                map(prefix.__add__, _RESULT_PLACES),
            )
            problems, diagnoses = self._problems(care_rng, birth_day, streams.ids)
            visits = self._visits(streams, problems, diagnoses, birth_day, index)
        # The immunization generator refers by urn:uuid inside its Bundles; the clinical
        # record refers by type and id, which holds in Bundles and in NDJSON alike.
        reference = {"reference": f"Patient/{person.patient_id}"}
        for resource in resources[1:]:
            resource["patient"] = reference
        return ClinicalRecord(
            index=index,
            person=person,
            coverage=coverage,
            provider=provider,
            visits=visits,
            resources=tuple(resources),
            problems=problems,
            utc_offset_hours=self._offset,
        )

    def _problems(
        self, rng: Random, birth_day: int, ids: Iterator[str]
    ) -> tuple[tuple[Problem, ...], tuple[Diagnosis, ...]]:
        """One to three distinct diagnoses the patient was old enough for, with their onsets."""
        age_today = (self._today - birth_day) / _DAYS_PER_YEAR
        draw = rng.random()
        wanted = next(count for count, below in _PROBLEMS_PER_PATIENT if draw < below)
        chosen: list[Diagnosis] = []
        for _ in range(wanted * 3):
            pick = catalog.DIAGNOSES[bisect_right(self._weights, rng.random() * self._weights[-1])]
            if pick.min_age <= age_today and pick not in chosen:
                chosen.append(pick)
                if len(chosen) == wanted:
                    break
        if not chosen:
            # The youngest patients have an upper respiratory infection, which any age can.
            chosen.append(next(d for d in catalog.DIAGNOSES if d.min_age <= age_today))
        problems = []
        for diagnosis in chosen:
            earliest = birth_day + int(diagnosis.min_age * _DAYS_PER_YEAR) + 1
            lookback = _CHRONIC_LOOKBACK if diagnosis.chronic else _ACUTE_LOOKBACK
            earliest = max(earliest, self._today - lookback)
            onset = earliest + int(rng.random() * max(1, self._today - earliest))
            abatement = None
            if not diagnosis.chronic and onset + 21 <= self._today:
                abatement = date.fromordinal(onset + 7 + int(rng.random() * 14))
            problems.append(Problem(next(ids), diagnosis.icd10, diagnosis.chronic, date.fromordinal(onset), abatement))
        return tuple(problems), tuple(chosen)

    def _visits(
        self,
        streams: _Streams,
        problems: tuple[Problem, ...],
        diagnoses: tuple[Diagnosis, ...],
        birth_day: int,
        index: int,
    ) -> tuple[Visit, ...]:
        random = streams.rng.random
        today = self._today
        planned: list[tuple[int, int, bool]] = []  # (day, problem, first visit for it)
        for number, (problem, diagnosis) in enumerate(zip(problems, diagnoses, strict=True)):
            day = problem.onset.toordinal()
            low, high = diagnosis.visits
            for visit in range(low + int(random() * (high - low + 1))):
                if day > today:
                    break
                planned.append((day, number, visit == 0))
                day += _FOLLOW_UP_GAP[0] + int(random() * (_FOLLOW_UP_GAP[1] - _FOLLOW_UP_GAP[0]))
        planned.sort()
        if len(planned) > MAX_VISITS:
            # Every problem keeps its first visit; follow-ups fill what is left, earliest first.
            firsts = [visit for visit in planned if visit[2]]
            follow_ups = [visit for visit in planned if not visit[2]][: MAX_VISITS - len(firsts)]
            planned = sorted(firsts + follow_ups)
        chronic_since = [problem.onset.toordinal() if problem.chronic else None for problem in problems]
        visits = []
        for claim_number, (day, number, first) in enumerate(planned, start=1):
            # What else the patient is being treated for that day is addressed too.
            others = [
                other
                for other, since in enumerate(chronic_since)
                if other != number and since is not None and since <= day
            ]
            addressed = [number, *others][:_MAX_DIAGNOSES]
            visits.append(
                self._visit(streams, day, addressed, first, problems, diagnoses, birth_day, f"{index}-{claim_number}")
            )
        return tuple(visits)

    @staticmethod
    def _visit(
        streams: _Streams,
        day: int,
        addressed: list[int],
        first: bool,
        problems: tuple[Problem, ...],
        diagnoses: tuple[Diagnosis, ...],
        birth_day: int,
        claim_stem: str,
    ) -> Visit:
        random, ids = streams.rng.random, streams.ids
        main = diagnoses[addressed[0]]
        principal = problems[addressed[0]]
        age = (day - birth_day) / _DAYS_PER_YEAR
        encounter_id = next(ids)
        codes = tuple([problems[number].code for number in addressed])
        drawn = first or random() < _LAB_AT_FOLLOW_UP_RATE
        panels = main.panels if drawn else ()
        prescriptions = ()
        if first and main.medication is not None:
            prescriptions = (Prescription(next(ids), main.medication, principal.condition_id, main.chronic),)
        start = _CLINIC_OPENS + 15 * int(random() * ((_CLINIC_CLOSES - _CLINIC_OPENS) // 15))
        minutes = 15 + 5 * int(random() * 4)
        vitals: tuple[tuple[str, float, str], ...] = ()
        if streams.vitals is not None:
            vitals = _vitals(streams.vitals, codes, age, streams.vital_ids)
        labs: tuple[LabReport, ...] = ()
        if streams.results is not None:
            results, result_ids = streams.results, streams.result_ids
            labs = tuple([_lab(results, panel, codes, result_ids) for panel in panels])
        return Visit(
            encounter_id=encounter_id,
            claim_id=claim_stem,
            day=date.fromordinal(day),
            diagnoses=codes,
            lines=(_visit_line(main, age, len(addressed)), *_lab_lines(panels)),
            panels=_panel_codes(panels),
            start_minute=start,
            minutes=minutes,
            condition_ids=tuple([problems[number].condition_id for number in addressed]),
            vitals=vitals,
            labs=labs,
            prescriptions=prescriptions,
        )


def _vitals(
    rng: Random, addressed: tuple[str, ...], age: float, ids: Iterator[str]
) -> tuple[tuple[str, float, str], ...]:
    random = rng.random
    pressure_id = next(ids)
    measured = [
        (name, round(low + random() * spread, digits), pressure_id if shared else next(ids))
        for name, low, spread, digits, shared in _vital_draws(addressed)
    ]
    height, weight = _body(rng, age)
    measured += (("height_cm", height, next(ids)), ("weight_kg", weight, next(ids)))
    return tuple(measured)


def _lab(rng: Random, panel: str, addressed: tuple[str, ...], ids: Iterator[str]) -> LabReport:
    loinc, ranges = _lab_draws(panel, addressed)
    random = rng.random
    values = tuple(
        [
            round(low + random() * spread, decimals) if decimals else float(round(low + random() * spread))
            for low, spread, decimals in ranges
        ]
    )
    report_id = next(ids)
    return LabReport(report_id, loinc, tuple(islice(ids, len(ranges))), values)


@cache
def _lab_draws(panel: str, addressed: tuple[str, ...]) -> tuple[str, tuple[tuple[float, float, int], ...]]:
    """A panel's LOINC and, per test, the range its value is drawn from (low, spread; the
    principal diagnosis prevails) and the decimals kept."""
    moved: dict[str, tuple[float, float]] = {}
    for code in reversed(addressed):
        moved.update(_BY_CODE[code].labs)
    ranges = []
    for test in catalog.PANELS[panel].tests:
        low, high = moved.get(test.loinc, (test.low, test.high))
        ranges.append((low, high - low, test.decimals))
    return catalog.PANELS[panel].loinc, tuple(ranges)


@cache
def _vital_draws(addressed: tuple[str, ...]) -> tuple[tuple[str, float, float, int | None, bool], ...]:
    """The vital signs measured at a visit for these diagnoses: name, the range drawn from
    (low, spread; the principal diagnosis prevails), the decimals kept (None: an integer)
    and whether it is half of the blood pressure (one Observation for both halves).
    Breathing is measured when a diagnosis is respiratory."""
    ranges = dict(catalog.NORMAL_VITALS)
    for code in reversed(addressed):
        ranges.update(_BY_CODE[code].vitals)
    names = ["bp_systolic", "bp_diastolic", "heart_rate", "temperature_c"]
    if any(_BY_CODE[code].respiratory for code in addressed):
        names += ["respiratory_rate", "spo2"]
    return tuple(
        (
            name,
            ranges[name][0],
            ranges[name][1] - ranges[name][0],
            1 if name == "temperature_c" else None,
            name.startswith("bp_"),
        )
        for name in names
    )


def _visit_line(main: Diagnosis, age: float, addressed: int) -> ServiceLine:
    """The visit itself: preventive by age, else an office visit of low complexity, or
    moderate when it addressed more than one problem; it points at up to four diagnoses
    (all a professional claim's service line can)."""
    if main.icd10 in catalog.PREVENTIVE_CODES:
        code = next(code for below, code in catalog.PREVENTIVE_BY_AGE if age < below)
    else:
        code = catalog.VISIT_MODERATE if addressed > 1 else catalog.VISIT_LOW
    return _line(code, min(addressed, 4))


@cache
def _line(code: str, pointers: int) -> ServiceLine:
    # Lines are shared between visits: there are only so many of them.
    return ServiceLine(code, catalog.FEES[code], 1, tuple(range(1, pointers + 1)))


@cache
def _panel_codes(panels: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(catalog.PANELS[panel].loinc for panel in panels)


@cache
def _lab_lines(panels: tuple[str, ...]) -> tuple[ServiceLine, ...]:
    """Drawing blood and each panel, for the principal diagnosis."""
    if not panels:
        return ()
    return (_line(catalog.VENIPUNCTURE, 1), *(_line(catalog.PANELS[panel].cpt, 1) for panel in panels))


def _body(rng: Random, age: float) -> tuple[float, float]:
    """Height (cm) and weight (kg) plausible for the age."""
    if age < 18:
        height = min(180.0, 75 + 6.2 * age) * (0.93 + rng.random() * 0.14)
        body_mass_index = 15.5 + 0.25 * age + rng.random() * 3
    else:
        height = 152 + rng.random() * 36
        body_mass_index = 19.5 + rng.random() * 14
    return round(height, 1), round(body_mass_index * (height / 100) ** 2, 1)
