"""The 834 and 837P writers (generators/clinical/x12.py): every interchange they write is read
back by pyx12 and validated against its 005010 implementation guide map (005010X220A1,
005010X222A1), then its envelopes are counted and its values compared with the records."""

import dataclasses
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import pyx12.validation  # type: ignore[import-untyped]

from generators.clinical.model import Address, ClinicalRecord, Coverage, Payer, Person, Provider, ServiceLine, Visit
from generators.clinical.npi import is_valid_npi, npi_check_digit
from generators.clinical.x12 import X12Options, X12Totals, claims_837p, enrollment_834
from tests.x12_reading import Read, envelopes_agree

Writer = Callable[..., Iterator[bytes]]

OPTIONS = X12Options(
    sender_id="SENDER01", receiver_id="RECEIVER01", created=datetime(2026, 11, 1, 9, 30), control_number=42
)
# Every separator is a character of the X12 basic set that names and addresses also use.
CUSTOM = dataclasses.replace(
    OPTIONS,
    element_separator="+",
    segment_terminator="'",
    component_separator="/",
    repetition_separator="!",
    line_break="",
    control_number=7,
)

BC_PAYER = Payer("Medical Services Plan of British Columbia", "BCMSP")
ON_PAYER = Payer("Ontario Health Insurance Plan", "OHIP")
BC_CLINIC = Provider(
    f"112345678{npi_check_digit('112345678')}",
    "Cedar Family Practice",
    "98-2345678",
    Address("1200 Main Street", "Vancouver", "BC", "V6A 2S5"),
    "6045550142",
)
ON_CLINIC = Provider(
    f"145678123{npi_check_digit('145678123')}",
    "Rideau Community Clinic",
    "985678123",
    Address("99 Bank Street", "Ottawa", "ON", "K1P 6B9"),
    "6135550129",
)
# Fourteen codes: more than the twelve an 837P claim holds.
MANY_DIAGNOSES = tuple(f"E11.{n}" for n in range(10)) + ("I10", "J45.909", "E78.5", "Z00.00")


def _record(index: int, province: str = "BC", visits: int = 1, **person: Any) -> ClinicalRecord:
    payer, clinic = (BC_PAYER, BC_CLINIC) if province == "BC" else (ON_PAYER, ON_CLINIC)
    letter = "V" if province == "BC" else "K"
    fields: dict[str, Any] = {
        "patient_id": f"patient-{index}",
        "member_id": f"9{index:08d}1",
        "given": "Carl",
        "family": "Hunt",
        "birth_date": date(1940 + index % 60, 1 + index % 12, 1 + index % 28),
        "gender": "female" if index % 2 else "male",
        "address": Address(f"{100 + index} Rios Place", "Prince George", province, f"{letter}3G 3T{index % 10}"),
        "phone": f"+1 778 555 01{index % 100:02d}",
    } | person
    return ClinicalRecord(
        index=index,
        person=Person(**fields),
        coverage=Coverage(payer, f"{province}00007", "HLT", date(2016, 10, 15)),
        provider=clinic,
        visits=tuple(_visit(index, number) for number in range(1, visits + 1)),
        resources=(),
    )


def _visit(index: int, number: int) -> Visit:
    """Visits of one, two or three lines; those of three have the fourteen diagnoses."""
    lines = (
        ServiceLine("99213", 11000, 1, (1,)),
        ServiceLine("36415", 1000, 2, (1, 2)),
        ServiceLine("80061", 3500, 1, (2, 12, 13, 1, 3)),
    )[: 1 + number % 3]
    diagnoses = MANY_DIAGNOSES if number % 3 == 2 else ("J45.909", "E78.5", "I10")
    return Visit(f"E{index}-{number}", f"{index}-{number}", date(2025, 1 + number % 12, 10), diagnoses, lines)


# What names and addresses must survive: accents, letters NFKD cannot reduce, and every
# separator of both option sets.
AWKWARD = _record(
    90,
    "ON",
    visits=2,
    given="Zoë Ångström*~:^",
    family="O'Brien-Łukasz+/!",
    address=Address("12 Rue de l'Église, Unit #5", "Québec", "ON", "K1A 0B1"),
    gender="other",
    phone="not a phone",
)
RECORDS = [_record(n, "BC" if n < 4 else "ON", visits=1 + n % 4) for n in range(8)] + [AWKWARD]


def _write(writer: Writer, records: list[ClinicalRecord], options: X12Options) -> tuple[bytes, X12Totals]:
    totals = X12Totals()
    chunks = list(writer(records, options, totals=totals))
    assert all(isinstance(chunk, bytes) for chunk in chunks)
    return b"".join(chunks), totals


def _basic_characters_only(parsed: Read) -> None:
    # ISA11 and ISA16 hold separators, which may lie outside the basic set (^ does).
    for _, segment in parsed.segments[1:]:
        for ref_des, _, _, value in segment.values_iterator():
            assert not pyx12.validation.not_match_re("AN", value, "B"), (ref_des, value)


@pytest.mark.parametrize("options", [OPTIONS, CUSTOM], ids=["default-separators", "custom-separators"])
def test_the_834_enrols_every_member_validly(read_x12: Callable[[bytes], Read], options: X12Options) -> None:
    data, totals = _write(enrollment_834, RECORDS, options)
    parsed = read_x12(data)
    assert parsed.errors == [] and parsed.valid
    # A transaction set per payer: the header names it.
    envelopes_agree(parsed, expected_sets=2)
    _basic_characters_only(parsed)
    assert parsed.values("N104", "1000B") == ["BCMSP", "OHIP"]
    assert len(parsed.find("INS", "2000")) == totals.members == len(RECORDS)
    assert parsed.values("REF02", "2000")[::2] == [record.person.member_id for record in RECORDS]
    assert parsed.values("NM103", "2100A")[:2] == ["HUNT", "HUNT"]
    assert parsed.values("DMG03", "2100A") == ["M", "F"] * 4 + ["U"]
    assert parsed.values("HD03", "2300") == ["HLT"] * len(RECORDS)
    assert parsed.values("DTP03", "2300") == ["20161015"] * len(RECORDS)
    # A member without a North American phone number has no PER.
    assert parsed.values("PER04", "2100A") == [f"77855501{n:02d}" for n in range(8)]


def test_the_834_starts_a_transaction_set_when_one_is_full(read_x12: Callable[[bytes], Read]) -> None:
    data, totals = _write(enrollment_834, RECORDS, dataclasses.replace(OPTIONS, max_per_transaction=3))
    parsed = read_x12(data)
    assert parsed.errors == []
    # BC members 0-3 fill one set and start another; ON members 4-7 and the awkward one, two more.
    envelopes_agree(parsed, expected_sets=4)
    assert totals.transactions == 4 and totals.segments == len(parsed.segments)


@pytest.mark.parametrize("options", [OPTIONS, CUSTOM], ids=["default-separators", "custom-separators"])
def test_the_837p_bills_every_visit_validly(read_x12: Callable[[bytes], Read], options: X12Options) -> None:
    data, totals = _write(claims_837p, RECORDS, options)
    parsed = read_x12(data)
    assert parsed.errors == [] and parsed.valid
    envelopes_agree(parsed, expected_sets=1)
    _basic_characters_only(parsed)
    visits = [visit for record in RECORDS for visit in record.visits]
    assert len(parsed.find("CLM", "2300")) == totals.claims == len(visits)
    assert parsed.values("CLM01") == [visit.claim_id for visit in visits]
    assert parsed.values("NM109", "2010AA") == [BC_CLINIC.npi, ON_CLINIC.npi]
    assert parsed.values("NM109", "2010BA") == [record.person.member_id for record in RECORDS]
    assert parsed.values("NM109", "2010BB") == ["BCMSP"] * 4 + ["OHIP"] * 5
    assert parsed.values("REF02", "2010AA") == ["982345678", "985678123"]
    assert parsed.values("N403", "2010AA") == ["V6A2S5", "K1P6B9"]


def test_the_837p_claims_carry_what_the_visits_billed(read_x12: Callable[[bytes], Read]) -> None:
    parsed = read_x12(_write(claims_837p, RECORDS, OPTIONS)[0])
    visits = [visit for record in RECORDS for visit in record.visits]
    claims = parsed.find("CLM")
    his = parsed.find("HI")
    lines = iter(parsed.find("SV1"))
    for visit, clm, hi in zip(visits, claims, his, strict=True):
        codes = [code.replace(".", "") for code in visit.diagnoses[:12]]
        assert len(hi) == len(codes)
        assert [hi.get_value(f"HI{n:02d}-2") for n in range(1, len(codes) + 1)] == codes
        assert [hi.get_value(f"HI{n:02d}-1") for n in range(1, len(codes) + 1)] == ["ABK"] + ["ABF"] * (len(codes) - 1)
        billed = [next(lines) for _ in visit.lines]
        charges = [Decimal(sv1.get_value("SV102")) for sv1 in billed]
        assert charges == [Decimal(line.charge_cents * line.units) / 100 for line in visit.lines]
        assert clm.get_value("CLM02") == f"{visit.total_cents // 100}.{visit.total_cents % 100:02d}"
        assert Decimal(clm.get_value("CLM02")) == sum(charges)
        assert clm.get_value("CLM05-1") == "11" and clm.get_value("CLM05-2") == "B"
    # The third line points at diagnoses 2, 12, 13, 1 and 3: the 13th is not on the claim,
    # and SV107 holds four pointers.
    pointers = {sv1.get_value("SV107") for sv1 in parsed.find("SV1")}
    assert pointers == {"1", "1:2", "2:12:1:3"}


def test_the_837p_starts_a_transaction_set_when_one_is_full(read_x12: Callable[[bytes], Read]) -> None:
    options = dataclasses.replace(OPTIONS, max_per_transaction=4)
    data, totals = _write(claims_837p, RECORDS, options)
    parsed = read_x12(data)
    assert parsed.errors == []
    # A record's visits may straddle two sets: each set then names the clinic and the
    # subscriber again.
    envelopes_agree(parsed, expected_sets=-(-totals.claims // 4))
    assert len(parsed.find("HL", "2000B")) > len(RECORDS)


def test_names_and_addresses_keep_no_separator_nor_accent(read_x12: Callable[[bytes], Read]) -> None:
    default = read_x12(_write(enrollment_834, [AWKWARD], OPTIONS)[0])
    custom = read_x12(_write(enrollment_834, [AWKWARD], CUSTOM)[0])
    assert default.errors == custom.errors == []
    (name,), (street,), (city,) = default.find("NM1"), default.find("N3"), default.find("N4")
    assert (name.get_value("NM103"), name.get_value("NM104")) == ("O'BRIEN-LUKASZ+/!", "ZOE ANGSTROM")
    assert street.get_value("N301") == "12 RUE DE L'EGLISE, UNIT 5"
    assert [city.get_value(f"N40{n}") for n in range(1, 5)] == ["QUEBEC", "ON", "K1A0B1", "CA"]
    # With apostrophe, plus and slash as separators, they become spaces too.
    (name,), (street,) = custom.find("NM1"), custom.find("N3")
    assert (name.get_value("NM103"), name.get_value("NM104")) == ("O BRIEN-LUKASZ", "ZOE ANGSTROM* :")
    assert street.get_value("N301") == "12 RUE DE L EGLISE, UNIT 5"


def test_line_breaks_are_optional_and_separators_as_configured() -> None:
    data = b"".join(enrollment_834(RECORDS[:1], CUSTOM))
    assert b"\n" not in data and data.endswith(b"IEA+1+000000007'")
    isa = data[: data.index(b"'")]
    assert len(isa) == 105 and isa[3:4] == b"+" and isa.endswith(b"+!+00501+000000007+0+T+/")
    assert b"".join(enrollment_834(RECORDS[:1], OPTIONS)).count(b"~\n") == len(data.split(b"'")) - 1


def test_the_same_records_give_the_same_bytes_and_no_records_nothing() -> None:
    assert b"".join(claims_837p(RECORDS, OPTIONS)) == b"".join(claims_837p(iter(RECORDS), OPTIONS))
    assert list(enrollment_834([], OPTIONS)) == list(claims_837p([_record(1, visits=0)], OPTIONS)) == []


def test_a_claim_that_cannot_be_billed_is_refused() -> None:
    invalid_npi = dataclasses.replace(RECORDS[0], provider=dataclasses.replace(BC_CLINIC, npi="1123456780"))
    with pytest.raises(ValueError, match="no valid NPI"):
        list(claims_837p([invalid_npi], OPTIONS))
    visit = dataclasses.replace(RECORDS[0].visits[0], lines=(ServiceLine("99213", 11000, 1, (13,)),))
    with pytest.raises(ValueError, match="points at none"):
        list(claims_837p([dataclasses.replace(RECORDS[0], visits=(visit,))], OPTIONS))


def test_the_harness_sees_what_pyx12_rejects(read_x12: Callable[[bytes], Read]) -> None:
    data = b"".join(claims_837p(RECORDS[:2], OPTIONS))
    broken = read_x12(data.replace(b"DMG*D8*19400101*M", b"DMG*D8*19400101*Q").replace(b"SE*", b"SE*9", 1))
    assert not broken.valid
    assert any("DMG03" in error for error in broken.errors) and any("SE count" in error for error in broken.errors)


@pytest.mark.parametrize(
    "change",
    [
        {"element_separator": "~"},
        {"component_separator": "A"},
        {"line_break": " "},
        {"sender_id": "SENDER*01"},
        {"control_number": 10**9},
    ],
)
def test_options_refuse_what_would_break_the_interchange(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(OPTIONS, **change)


def test_npi_check_digit_is_luhn_with_the_80840_prefix() -> None:
    # The example of the CMS NPI check-digit specification.
    assert npi_check_digit("123456789") == "3"
    assert is_valid_npi("1234567893") and not is_valid_npi("1234567890") and not is_valid_npi("3234567891")
    assert is_valid_npi(BC_CLINIC.npi) and is_valid_npi(ON_CLINIC.npi)
