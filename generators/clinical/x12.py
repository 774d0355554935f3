"""X12 005010 output of clinical records: 834 enrolment (005010X220A1) and 837P claims (005010X222A1).

Both writers stream: they take records one at a time and yield each record's segments as
ASCII bytes, so memory stays flat however many records pass. One call writes one
interchange (ISA/IEA) holding one functional group (GS/GE); a new transaction set
(ST/SE) starts when the current one holds `max_per_transaction` members or claims, as
the guides recommend (5000), and for the 834 also when the payer or group changes, since
the header names them. Nothing is written for no records. An interchange can also be
made in parts apart (`transaction_sets`, numbered from where the caller says, between
`interchange_header` and `interchange_trailer`): how workers each write a shard's sets.

Representation choices:
- Text is upper-cased and reduced to the X12 basic character set: accents are stripped
  (NFKD), letters without a decomposition are spelled out, any other character, the
  configured separators included, becomes a space. Identifiers are upper-cased too.
- Canadian addresses: N402 is the province (the guides' state code list holds the
  provinces), N403 the postal code without its space, N404 "CA"; N404 is left out only
  for US addresses, as the guides ask.
- Gender: female F, male M, other and unknown U (DMG03 knows no other value).
- Phones are written in the North American form the guides ask for (ten digits, AAABBBCCCC);
  a member phone that is not a NANP number is left out rather than written unchecked.
- 837P: the patient is the subscriber (SBR02 18, no 2000C loop); a provincial plan is
  "other non-federal program" (SBR09 11). SV105 is left out: the guide wants it only when
  a line's place of service differs from the claim's, and a visit has one. At most 12
  diagnoses fit a claim: later ones are dropped, and a line may point at the first 12
  only, with up to 4 pointers. No claim-level date is required for an office visit; each
  line has its service date (DTP*472).
"""

import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import ClassVar, Literal

from generators.clinical.model import Address, ClinicalRecord, Coverage, Person, Provider, Visit, dollars
from generators.clinical.npi import is_valid_npi

GENDER_CODES = {"female": "F", "male": "M", "other": "U", "unknown": "U"}

# What the 837P can carry: 12 diagnoses per claim (HI), 4 pointers per line (SV107),
# 50 lines per claim (2400) and 100 claims per subscriber (2300).
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
MAX_LINES = 50
MAX_CLAIMS_PER_SUBSCRIBER = 100

# The X12 basic character set, less lower case, which upper-casing has already removed.
_BASIC = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"&'()*+,-./:;?=")
# Letters and marks NFKD does not reduce to ASCII, as readers of the names would spell them.
_SPELLED = str.maketrans(
    {"Ø": "O", "Ł": "L", "Đ": "D", "Ħ": "H", "Æ": "AE", "Œ": "OE", "Þ": "TH", "Ð": "D", "’": "'", "‘": "'"}
    | {"“": '"', "”": '"', "–": "-", "—": "-"}
)


@dataclass(frozen=True, slots=True)
class X12Options:
    """Who exchanges the interchange, how it is delimited, and its control numbers.

    `created` dates the interchange (ISA09/10, GS04/05, BGN, BHT); it is passed in so the
    same records give the same bytes. `control_number` is ISA13, also GS06; each
    interchange a sender sends needs a new one.
    """

    sender_id: str
    receiver_id: str
    created: datetime
    sender_name: str = "SYNTHETIC CLINICAL RECORDS"
    receiver_name: str = "SYNTHETIC PAYER"
    contact_name: str = "EDI SUPPORT"
    contact_phone: str = "6045550100"
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    usage: Literal["T", "P"] = "T"
    element_separator: str = "*"
    segment_terminator: str = "~"
    component_separator: str = ":"
    repetition_separator: str = "^"
    line_break: str = "\n"
    control_number: int = 1
    max_per_transaction: int = 5000

    def __post_init__(self) -> None:
        separators = self.separators
        if (
            any(len(s) != 1 or not s.isascii() or s.isalnum() or s.isspace() for s in separators)
            or len(set(separators)) != 4
        ):
            raise ValueError("the four separators must be distinct single ASCII characters, neither letters nor digits")
        if self.line_break.strip("\r\n"):
            raise ValueError("a line break is made of carriage returns and line feeds only")
        for name in ("sender_id", "receiver_id"):
            value = getattr(self, name)
            # ISA06/ISA08 are padded with spaces, so an id's own spaces at its end would be lost.
            if (
                not 2 <= len(value) <= 15
                or value != value.strip()
                or any(c not in _BASIC or c in separators for c in value)
            ):
                raise ValueError(f"{name} must be 2-15 characters of the X12 basic set, free of separators")
        if not (len(self.contact_phone) == 10 and self.contact_phone.isdigit()):
            raise ValueError("contact_phone must be ten digits (AAABBBCCCC)")
        if not 1 <= self.control_number <= 999_999_999:
            raise ValueError("control_number must fit nine digits")
        if self.max_per_transaction < 1:
            raise ValueError("max_per_transaction must be at least 1")

    @property
    def separators(self) -> tuple[str, str, str, str]:
        return (self.element_separator, self.segment_terminator, self.component_separator, self.repetition_separator)


@dataclass(slots=True)
class X12Totals:
    """What a writer has written so far, updated before each chunk is yielded."""

    records: int = 0
    members: int = 0
    claims: int = 0
    transactions: int = 0
    segments: int = 0


Transaction = Literal["834", "837"]


def enrollment_834(
    records: Iterable[ClinicalRecord], options: X12Options, *, totals: X12Totals | None = None
) -> Iterator[bytes]:
    """An 834 interchange enrolling each record's person as a subscriber of their coverage."""
    return _Enrollment(options, totals or X12Totals()).chunks(records)


def claims_837p(
    records: Iterable[ClinicalRecord], options: X12Options, *, totals: X12Totals | None = None
) -> Iterator[bytes]:
    """An 837P interchange billing each visit of each record as one claim of its provider."""
    return _Claims(options, totals or X12Totals()).chunks(records)


def transaction_sets(
    transaction: Transaction,
    records: Iterable[ClinicalRecord],
    options: X12Options,
    *,
    first_set: int,
    totals: X12Totals | None = None,
) -> bytes:
    """The transaction sets (ST to SE, numbered from `first_set`) of `records`, without
    the envelopes: what a part of the records contributes to an interchange made of many
    parts, each made apart (`interchange_header`, then each part's sets, then
    `interchange_trailer` with the number of sets)."""
    writer = _WRITERS[transaction](options, totals or X12Totals(), first_set=first_set)
    return b"".join(writer.sets(records))


def interchange_header(transaction: Transaction, options: X12Options) -> bytes:
    """ISA and GS of an interchange of `transaction` sets."""
    return _WRITERS[transaction](options, X12Totals()).envelope_header()


def interchange_trailer(transaction: Transaction, options: X12Options, sets: int) -> bytes:
    """GE and IEA of an interchange holding `sets` transaction sets."""
    return _WRITERS[transaction](options, X12Totals()).envelope_trailer(sets)


class _Text:
    """Values made safe to write: basic character set, no separators, within a length."""

    def __init__(self, separators: Iterable[str]) -> None:
        kept = _BASIC - set(separators)
        self._table = {code: (chr(code) if chr(code) in kept else " ") for code in range(128)}
        # What a value may hold to be written as it is, upper-cased (an identifier: no space).
        self._kept = "".join(sorted(kept))
        self._plain = self._kept.replace(" ", "")
        # Codes, names and cities come back again and again; street lines and ids do not
        # (they go through `unique` and `identifier`), so a bounded cache keeps its hits.
        self._recurring = lru_cache(maxsize=4096)(self._clean)

    def __call__(self, value: str, limit: int) -> str:
        """A value that recurs, and that its element requires."""
        return self._required(self._recurring(value, limit), value)

    def optional(self, value: str, limit: int) -> str:
        """A value that recurs, possibly empty."""
        return self._recurring(value, limit)

    def unique(self, value: str, limit: int) -> str:
        """A value seldom seen twice, that its element requires."""
        return self._required(self._clean(value, limit), value)

    def identifier(self, value: str, limit: int) -> str:
        """An identifier is never cut short: a shortened one would name something else."""
        upper = value.upper()
        # Stripping every allowed character leaves nothing: the identifier is clean already.
        if upper and len(upper) <= limit and not upper.strip(self._plain):
            return upper
        text = self.unique(value, limit + 1)
        if len(text) > limit:
            raise ValueError(f"{value!r} is longer than the {limit} characters X12 allows here")
        return text

    def _clean(self, value: str, limit: int) -> str:
        value = value.upper()
        # Stripping every allowed character leaves something: that needs replacing.
        if value.strip(self._kept):
            if not value.isascii():
                value = unicodedata.normalize("NFKD", value.translate(_SPELLED)).encode("ascii", "ignore").decode()
            value = value.translate(self._table)
        return " ".join(value.split())[:limit].rstrip()

    @staticmethod
    def _required(text: str, value: str) -> str:
        # An element the guide requires, left empty, would make the whole segment invalid.
        if not text:
            raise ValueError(f"{value!r} has nothing X12 can carry")
        return text


@lru_cache(maxsize=4096)
def _day(day: date) -> str:
    return day.isoformat().replace("-", "")


def _nanp_phone(phone: str) -> str | None:
    digits = "".join(filter(str.isdigit, phone))
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    # Neither an area code nor an exchange starts with 0 or 1 in the North American plan.
    return digits if len(digits) == 10 and digits[0] not in "01" and digits[3] not in "01" else None


class _Interchange(ABC):
    """The envelopes: ISA/GS opened with the first transaction set, ST/SE counted, GE/IEA at the end."""

    functional_id: ClassVar[str]
    transaction: ClassVar[str]
    guide: ClassVar[str]

    def __init__(self, options: X12Options, totals: X12Totals, *, first_set: int = 1) -> None:
        self.options = options
        self.totals = totals
        self.text = _Text(options.separators)
        self.e = e = options.element_separator
        self.c = options.component_separator
        self._joint = options.segment_terminator + options.line_break
        created = options.created
        self.date = _day(created.date())
        self.time = f"{created.hour:02d}{created.minute:02d}"
        self.reference = f"{options.control_number:09d}"
        self._isa = (
            f"ISA{e}00{e}{'':10}{e}00{e}{'':10}{e}{options.sender_qualifier:2}{e}{options.sender_id:15}"
            f"{e}{options.receiver_qualifier:2}{e}{options.receiver_id:15}{e}{self.date[2:]}{e}{self.time}"
            f"{e}{options.repetition_separator}{e}00501{e}{self.reference}{e}0{e}{options.usage}"
            f"{e}{options.component_separator}"
        )
        self._gs = (
            f"GS{e}{self.functional_id}{e}{options.sender_id}{e}{options.receiver_id}{e}{self.date}{e}{self.time}"
            f"{e}{options.control_number}{e}X{e}{self.guide}"
        )
        self.st_number = first_set - 1
        self.sets_made = 0
        self.in_transaction = False
        self.loops_in_transaction = 0
        self._written = 0
        self._st_position = 0

    def chunks(self, records: Iterable[ClinicalRecord]) -> Iterator[bytes]:
        """The whole interchange; nothing for no records."""
        started = False
        for chunk in self.sets(records):
            if not started:
                started = True
                yield self.envelope_header()
            yield chunk
        if started:
            yield self.envelope_trailer(self.sets_made)

    def sets(self, records: Iterable[ClinicalRecord]) -> Iterator[bytes]:
        """The transaction sets of `records`, as each record's segments are made."""
        for record in records:
            out: list[str] = []
            self.add(record, out)
            self.totals.records += 1
            if out:
                yield self._flush(out)
        if self.in_transaction:
            out = []
            self.close_transaction(out)
            yield self._flush(out)

    def envelope_header(self) -> bytes:
        self.totals.segments += 2
        return self._encode([self._isa, self._gs])

    def envelope_trailer(self, sets: int) -> bytes:
        self.totals.segments += 2
        e = self.e
        return self._encode([f"GE{e}{sets}{e}{self.options.control_number}", f"IEA{e}1{e}{self.reference}"])

    @abstractmethod
    def add(self, record: ClinicalRecord, out: list[str]) -> None:
        """Append the record's segments, opening and closing transaction sets as they fill."""

    @abstractmethod
    def header(self, record: ClinicalRecord, out: list[str]) -> None:
        """Append the segments between ST and the first loop, for a set opened by `record`."""

    def open_transaction(self, record: ClinicalRecord, out: list[str]) -> None:
        self.st_number += 1
        self.sets_made += 1
        self.in_transaction = True
        self.loops_in_transaction = 0
        self._st_position = self._written + len(out)
        e = self.e
        out.append(f"ST{e}{self.transaction}{e}{self.st_number:04d}{e}{self.guide}")
        self.header(record, out)
        self.totals.transactions += 1

    def close_transaction(self, out: list[str]) -> None:
        count = self._written + len(out) - self._st_position + 1
        out.append(f"SE{self.e}{count}{self.e}{self.st_number:04d}")
        self.in_transaction = False

    def name(self, person: Person) -> str:
        """NM103 and NM104 of a person; the first name may be empty."""
        text = self.text
        return f"{text(person.family, 60)}{self.e}{text.optional(person.given, 35)}"

    def address(self, address: Address, out: list[str]) -> None:
        text, e = self.text, self.e
        out.append(f"N3{e}{text.unique(address.line, 55)}")
        postal = text.unique(address.postal_code, 16).replace(" ", "")
        country = "" if address.country == "US" else f"{e}{text(address.country, 3)}"
        out.append(f"N4{e}{text(address.city, 30)}{e}{text(address.province, 2)}{e}{postal}{country}")

    def _flush(self, out: list[str]) -> bytes:
        self._written += len(out)
        self.totals.segments += len(out)
        return self._encode(out)

    def _encode(self, segments: list[str]) -> bytes:
        joint = self._joint
        return (joint.join(segments) + joint).encode("ascii")


class _Enrollment(_Interchange):
    functional_id = "BE"
    transaction = "834"
    guide = "005010X220A1"

    def __init__(self, options: X12Options, totals: X12Totals, *, first_set: int = 1) -> None:
        super().__init__(options, totals, first_set=first_set)
        self._coverage_key: tuple[str, str] | None = None

    def add(self, record: ClinicalRecord, out: list[str]) -> None:
        coverage = record.coverage
        key = (coverage.payer.payer_id, coverage.group_number)
        if self.in_transaction and (
            key != self._coverage_key or self.loops_in_transaction == self.options.max_per_transaction
        ):
            self.close_transaction(out)
        if not self.in_transaction:
            self._coverage_key = key
            self.open_transaction(record, out)
        self._member(record.person, coverage, out)
        self.loops_in_transaction += 1
        self.totals.members += 1

    def header(self, record: ClinicalRecord, out: list[str]) -> None:
        text, e, coverage = self.text, self.e, record.coverage
        group = text.identifier(coverage.group_number, 50)
        out.append(f"BGN{e}00{e}{self.reference}{self.st_number:04d}{e}{self.date}{e}{self.time}{e}{e}{e}{e}2")
        out.append(f"REF{e}38{e}{group}")
        out.append(f"DTP{e}007{e}D8{e}{self.date}")
        # The plan's sponsor is known by its group number: the records name no employer.
        out.append(f"N1{e}P5{e}{e}94{e}{group}")
        payer = coverage.payer
        out.append(f"N1{e}IN{e}{text(payer.name, 60)}{e}94{e}{text.identifier(payer.payer_id, 80)}")

    def _member(self, person: Person, coverage: Coverage, out: list[str]) -> None:
        text, e = self.text, self.e
        start = _day(coverage.start)
        out.append(f"INS{e}Y{e}18{e}021{e}28{e}A{e}{e}{e}FT")
        out.append(f"REF{e}0F{e}{text.identifier(person.member_id, 50)}")
        out.append(f"REF{e}1L{e}{text.identifier(coverage.group_number, 50)}")
        out.append(f"DTP{e}356{e}D8{e}{start}")
        # No trailing separator when there is no first name.
        out.append(f"NM1{e}IL{e}1{e}{self.name(person)}".rstrip(e))
        phone = _nanp_phone(person.phone)
        if phone:
            out.append(f"PER{e}IP{e}{e}HP{e}{phone}")
        self.address(person.address, out)
        out.append(f"DMG{e}D8{e}{_day(person.birth_date)}{e}{GENDER_CODES[person.gender]}")
        out.append(f"HD{e}021{e}{e}HLT{e}{text(coverage.plan_code, 50)}{e}IND")
        out.append(f"DTP{e}348{e}D8{e}{start}")


class _Claims(_Interchange):
    functional_id = "HC"
    transaction = "837"
    guide = "005010X222A1"

    def __init__(self, options: X12Options, totals: X12Totals, *, first_set: int = 1) -> None:
        super().__init__(options, totals, first_set=first_set)
        text, e = self.text, self.e
        self._submitter = (
            f"NM1{e}41{e}2{e}{text(options.sender_name, 60)}{e}{e}{e}{e}{e}46{e}{options.sender_id}",
            f"PER{e}IC{e}{text(options.contact_name, 60)}{e}TE{e}{options.contact_phone}",
            f"NM1{e}40{e}2{e}{text(options.receiver_name, 60)}{e}{e}{e}{e}{e}46{e}{options.receiver_id}",
        )
        # A claim's diagnoses, its lines and its clinic recur across records (the lines are
        # keyed by their values: the model's classes are not frozen, so not hashable).
        self._diagnoses = lru_cache(maxsize=4096)(self._diagnosis_segment)
        self._service = lru_cache(maxsize=4096)(self._service_segment)
        self._provider_segments = lru_cache(maxsize=256)(self._provider_loop)
        self._hl = 0
        self._provider_hl = 0
        self._provider: Provider | None = None
        self._subscriber: ClinicalRecord | None = None
        self._claims_of_subscriber = 0

    def add(self, record: ClinicalRecord, out: list[str]) -> None:
        options, provider = self.options, record.provider
        for visit in record.visits:
            if self.in_transaction and self.loops_in_transaction == options.max_per_transaction:
                self.close_transaction(out)
            if not self.in_transaction:
                self.open_transaction(record, out)
            # Records of one clinic share its object: identity settles most comparisons.
            if not self._provider_hl or (provider is not self._provider and provider != self._provider):
                self._billing_provider(provider, out)
            if self._subscriber is not record or self._claims_of_subscriber == MAX_CLAIMS_PER_SUBSCRIBER:
                self._subscriber_loop(record, out)
            self._claim(visit, out)
            self.loops_in_transaction += 1
            self._claims_of_subscriber += 1
            self.totals.claims += 1

    def header(self, record: ClinicalRecord, out: list[str]) -> None:
        e = self.e
        out.append(f"BHT{e}0019{e}00{e}{self.reference}{self.st_number:04d}{e}{self.date}{e}{self.time}{e}CH")
        out.extend(self._submitter)
        self._hl = 0
        self._provider_hl = 0
        self._subscriber = None

    def _billing_provider(self, provider: Provider, out: list[str]) -> None:
        self._provider = provider
        self._hl += 1
        self._provider_hl = self._hl
        e = self.e
        out.append(f"HL{e}{self._hl}{e}{e}20{e}1")
        out.extend(self._provider_segments(provider))
        self._subscriber = None

    def _provider_loop(self, provider: Provider) -> tuple[str, ...]:
        if not is_valid_npi(provider.npi):
            raise ValueError(f"provider {provider.name!r} has no valid NPI: {provider.npi!r}")
        text, e = self.text, self.e
        segments = [f"NM1{e}85{e}2{e}{text(provider.name, 60)}{e}{e}{e}{e}{e}XX{e}{provider.npi}"]
        self.address(provider.address, segments)
        # EI: the tax number as nine digits without separators, as the guide writes it.
        segments.append(f"REF{e}EI{e}{''.join(c for c in provider.tax_id if c.isdigit())}")
        return tuple(segments)

    def _subscriber_loop(self, record: ClinicalRecord, out: list[str]) -> None:
        text, e = self.text, self.e
        person, coverage = record.person, record.coverage
        self._hl += 1
        self._subscriber = record
        self._claims_of_subscriber = 0
        out.append(f"HL{e}{self._hl}{e}{self._provider_hl}{e}22{e}0")
        out.append(f"SBR{e}P{e}18{e}{text.identifier(coverage.group_number, 50)}{e}{e}{e}{e}{e}{e}11")
        out.append(f"NM1{e}IL{e}1{e}{self.name(person)}{e}{e}{e}{e}MI{e}{text.identifier(person.member_id, 80)}")
        self.address(person.address, out)
        out.append(f"DMG{e}D8{e}{_day(person.birth_date)}{e}{GENDER_CODES[person.gender]}")
        payer = coverage.payer
        out.append(f"NM1{e}PR{e}2{e}{text(payer.name, 60)}{e}{e}{e}{e}{e}PI{e}{text.identifier(payer.payer_id, 80)}")

    def _claim(self, visit: Visit, out: list[str]) -> None:
        text, e, c = self.text, self.e, self.c
        if not visit.lines:
            raise ValueError(f"claim {visit.claim_id!r} bills no service line")
        if len(visit.lines) > MAX_LINES:
            raise ValueError(f"claim {visit.claim_id!r} has {len(visit.lines)} lines; an 837P claim holds {MAX_LINES}")
        if not visit.diagnoses:
            raise ValueError(f"claim {visit.claim_id!r} has no diagnosis")
        diagnoses = self._diagnoses(visit.diagnoses[:MAX_DIAGNOSES])
        out.append(
            f"CLM{e}{text.identifier(visit.claim_id, 38)}{e}{dollars(visit.total_cents)}{e}{e}{e}"
            f"{text(visit.place_of_service, 2)}{c}B{c}1{e}Y{e}A{e}Y{e}Y"
        )
        out.append(diagnoses)
        served = f"DTP{e}472{e}D8{e}{_day(visit.day)}"
        count = min(len(visit.diagnoses), MAX_DIAGNOSES)
        for number, line in enumerate(visit.lines, 1):
            out.append(f"LX{e}{number}")
            out.append(
                self._service(line.cpt, line.charge_cents * line.units, line.units, line.diagnosis_pointers, count)
            )
            out.append(served)

    def _diagnosis_segment(self, codes: tuple[str, ...]) -> str:
        e, c, text = self.e, self.c, self.text
        principal, *others = (text(code.replace(".", ""), 30) for code in codes)
        return f"HI{e}ABK{c}{principal}" + "".join(f"{e}ABF{c}{code}" for code in others)

    def _service_segment(self, cpt: str, cents: int, units: int, pointed: tuple[int, ...], diagnoses: int) -> str:
        e, c = self.e, self.c
        pointers = [p for p in pointed if 1 <= p <= diagnoses][:MAX_POINTERS]
        if not pointers:
            raise ValueError(f"service line {cpt!r} points at none of the {diagnoses} diagnoses its claim carries")
        return f"SV1{e}HC{c}{self.text(cpt, 48)}{e}{dollars(cents)}{e}UN{e}{units}{e}{e}{e}{c.join(map(str, pointers))}"


_WRITERS: dict[Transaction, type[_Interchange]] = {"834": _Enrollment, "837": _Claims}
