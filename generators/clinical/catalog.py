"""What synthetic clinical records are made of: common diagnoses of family practice, and for
each what it brings to a chart: how often it is seen, which labs are drawn, what is
prescribed and how it moves the vital signs and the lab values.

Diagnoses are ICD-10-CM codes; their descriptions are read from the release the gateway
ships (`mappers.icd10cm`), never written here. Labs are LOINC with UCUM units and adult
reference ranges. Medications are plain text: RxNorm cannot ship offline here. Procedures
are CPT codes without descriptions (the AMA licenses those), with a synthetic fee each.
"""

from dataclasses import dataclass, field

from generators.clinical.model import Address, Payer, Provider
from generators.clinical.npi import npi_check_digit


@dataclass(frozen=True)
class LabTest:
    loinc: str
    display: str
    unit: str
    low: float
    high: float
    decimals: int


@dataclass(frozen=True)
class LabPanel:
    """A panel as a DiagnosticReport names it, with the CPT code it is billed by."""

    loinc: str
    display: str
    cpt: str
    tests: tuple[LabTest, ...]


@dataclass(frozen=True)
class Diagnosis:
    icd10: str
    chronic: bool
    # The youngest age (years) at which it is diagnosed here, and how common it is.
    min_age: int
    weight: int
    # Visits for it: a range for chronic ones (follow-ups), one for acute ones.
    visits: tuple[int, int]
    panels: tuple[str, ...] = ()
    medication: str | None = None
    # Vital signs (mappers.vitals names) and lab tests (LOINC) it moves, to this range.
    vitals: dict[str, tuple[float, float]] = field(default_factory=dict)
    labs: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Whether respiratory rate and oxygen saturation are measured at its visits.
    respiratory: bool = False


def _lab(loinc: str, display: str, unit: str, low: float, high: float, decimals: int = 0) -> LabTest:
    return LabTest(loinc, display, unit, low, high, decimals)


PANELS: dict[str, LabPanel] = {
    panel.loinc: panel
    for panel in (
        LabPanel(
            "58410-2",
            "CBC panel - Blood by Automated count",
            "85027",
            (
                _lab("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 4.0, 11.0, 1),
                _lab("789-8", "Erythrocytes [#/volume] in Blood by Automated count", "10*6/uL", 4.2, 5.9, 2),
                _lab("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12.0, 17.5, 1),
                _lab("4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "%", 36.0, 52.0, 1),
                _lab("787-2", "MCV [Entitic volume] by Automated count", "fL", 80.0, 100.0, 0),
                _lab("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 150.0, 400.0, 0),
            ),
        ),
        LabPanel(
            "51990-0",
            "Basic metabolic panel - Blood",
            "80048",
            (
                _lab("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 70.0, 99.0),
                _lab("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", 7.0, 20.0),
                _lab("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.6, 1.3, 2),
                _lab("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 135.0, 145.0),
                _lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.5, 5.1, 1),
                _lab("2075-0", "Chloride [Moles/volume] in Serum or Plasma", "mmol/L", 98.0, 107.0),
                _lab("2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "mmol/L", 22.0, 29.0),
                _lab("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 8.6, 10.3, 1),
            ),
        ),
        LabPanel(
            "24331-1",
            "Lipid 1996 panel - Serum or Plasma",
            "80061",
            (
                _lab("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 125.0, 200.0),
                _lab("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", 40.0, 150.0),
                _lab("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "mg/dL", 40.0, 90.0),
                _lab("13457-7", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation", "mg/dL", 50, 130),
            ),
        ),
        LabPanel(
            "4548-4",
            "Hemoglobin A1c/Hemoglobin.total in Blood",
            "83036",
            (_lab("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4.0, 5.6, 1),),
        ),
        LabPanel(
            "3016-3",
            "Thyrotropin [Units/volume] in Serum or Plasma",
            "84443",
            (_lab("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L", 0.4, 4.0, 2),),
        ),
    )
}

CBC, BMP, LIPIDS, A1C, TSH = "58410-2", "51990-0", "24331-1", "4548-4", "3016-3"

DIAGNOSES: tuple[Diagnosis, ...] = (
    Diagnosis(
        "I10",
        chronic=True,
        min_age=30,
        weight=20,
        visits=(2, 4),
        panels=(BMP,),
        medication="amlodipine 5 mg oral tablet",
        vitals={"bp_systolic": (138, 165), "bp_diastolic": (88, 102)},
    ),
    Diagnosis(
        "E11.9",
        chronic=True,
        min_age=35,
        weight=12,
        visits=(2, 4),
        panels=(A1C, BMP),
        medication="metformin 500 mg oral tablet",
        labs={"4548-4": (6.8, 9.6), "2345-7": (130, 230)},
    ),
    Diagnosis(
        "E78.5",
        chronic=True,
        min_age=30,
        weight=12,
        visits=(1, 2),
        panels=(LIPIDS,),
        medication="atorvastatin 20 mg oral tablet",
        labs={"2093-3": (215, 290), "13457-7": (145, 195), "2571-8": (160, 320)},
    ),
    Diagnosis(
        "J45.909",
        chronic=True,
        min_age=5,
        weight=8,
        visits=(1, 3),
        medication="salbutamol 100 mcg/actuation inhaler",
        vitals={"respiratory_rate": (18, 24), "spo2": (93, 97)},
        respiratory=True,
    ),
    Diagnosis(
        "E03.9",
        chronic=True,
        min_age=20,
        weight=6,
        visits=(1, 2),
        panels=(TSH,),
        medication="levothyroxine 75 mcg oral tablet",
        labs={"3016-3": (5.5, 12.0)},
    ),
    Diagnosis(
        "D50.9",
        chronic=True,
        min_age=12,
        weight=5,
        visits=(1, 2),
        panels=(CBC,),
        medication="ferrous sulfate 300 mg oral tablet",
        labs={"718-7": (8.5, 11.4), "787-2": (66, 79), "4544-3": (27, 35)},
    ),
    Diagnosis("F32.A", chronic=True, min_age=16, weight=6, visits=(2, 3), medication="sertraline 50 mg oral tablet"),
    Diagnosis(
        "K21.9",
        chronic=True,
        min_age=18,
        weight=5,
        visits=(1, 2),
        medication="pantoprazole 40 mg delayed-release oral tablet",
    ),
    Diagnosis(
        "J06.9",
        chronic=False,
        min_age=1,
        weight=14,
        visits=(1, 1),
        vitals={"temperature_c": (37.6, 38.6), "heart_rate": (86, 106)},
        respiratory=True,
    ),
    Diagnosis(
        "J02.9",
        chronic=False,
        min_age=3,
        weight=6,
        visits=(1, 1),
        medication="amoxicillin 500 mg oral capsule",
        vitals={"temperature_c": (37.8, 39.2)},
    ),
    Diagnosis(
        "H66.90",
        chronic=False,
        min_age=1,
        weight=4,
        visits=(1, 1),
        medication="amoxicillin 250 mg/5 mL oral suspension",
        vitals={"temperature_c": (37.5, 38.8)},
    ),
    Diagnosis(
        "N39.0", chronic=False, min_age=12, weight=6, visits=(1, 1), medication="nitrofurantoin 100 mg oral capsule"
    ),
    Diagnosis("M54.50", chronic=False, min_age=18, weight=7, visits=(1, 1), medication="ibuprofen 400 mg oral tablet"),
    Diagnosis("Z00.00", chronic=False, min_age=18, weight=10, visits=(1, 1), panels=(CBC, LIPIDS)),
)

# How each medication is taken: the dosage instruction's text.
DOSAGES: dict[str, str] = {
    "amlodipine 5 mg oral tablet": "Take 1 tablet by mouth once daily.",
    "metformin 500 mg oral tablet": "Take 1 tablet by mouth twice daily with meals.",
    "atorvastatin 20 mg oral tablet": "Take 1 tablet by mouth once daily at bedtime.",
    "salbutamol 100 mcg/actuation inhaler": "Inhale 2 puffs every 4 to 6 hours as needed for wheeze.",
    "levothyroxine 75 mcg oral tablet": "Take 1 tablet by mouth once daily before breakfast.",
    "ferrous sulfate 300 mg oral tablet": "Take 1 tablet by mouth once daily.",
    "sertraline 50 mg oral tablet": "Take 1 tablet by mouth once daily.",
    "pantoprazole 40 mg delayed-release oral tablet": "Take 1 tablet by mouth once daily before breakfast.",
    "amoxicillin 500 mg oral capsule": "Take 1 capsule by mouth twice daily for 10 days.",
    "amoxicillin 250 mg/5 mL oral suspension": "Take 10 mL by mouth twice daily for 7 days.",
    "nitrofurantoin 100 mg oral capsule": "Take 1 capsule by mouth twice daily for 5 days.",
    "ibuprofen 400 mg oral tablet": "Take 1 tablet by mouth every 6 to 8 hours as needed for pain.",
}

# The office visit of an established patient (low, moderate complexity), the preventive
# visit by age (18-39, 40-64, 65 and over), and blood drawing.
VISIT_LOW, VISIT_MODERATE = "99213", "99214"
PREVENTIVE_BY_AGE = ((40, "99395"), (65, "99396"), (200, "99397"))
VENIPUNCTURE = "36415"
PREVENTIVE_CODES = ("Z00.00",)

# Synthetic fees, in cents.
FEES: dict[str, int] = {
    "99213": 11_000,
    "99214": 16_500,
    "99395": 19_000,
    "99396": 21_000,
    "99397": 23_000,
    "36415": 1_000,
    "85027": 2_100,
    "80048": 2_400,
    "80061": 3_500,
    "83036": 2_600,
    "84443": 4_200,
}

# Vital signs of a well adult (mappers.vitals names), before a diagnosis moves them.
NORMAL_VITALS: dict[str, tuple[float, float]] = {
    "heart_rate": (58, 88),
    "respiratory_rate": (12, 18),
    "bp_systolic": (104, 132),
    "bp_diastolic": (64, 84),
    "temperature_c": (36.3, 37.2),
    "spo2": (96, 99),
}

PAYERS: dict[str, Payer] = {
    "BC": Payer("Medical Services Plan of British Columbia", "BCMSP"),
    "ON": Payer("Ontario Health Insurance Plan", "OHIP"),
}

# Synthetic clinics: name, the nine digits their NPI starts with, address, phone.
CLINICS: dict[str, tuple[tuple[str, str, Address, str], ...]] = {
    "BC": (
        ("Cedar Family Practice", "112345678", Address("1200 Main Street", "Vancouver", "BC", "V6A 2S5"), "6045550142"),
        (
            "Harbourview Medical Clinic",
            "123456781",
            Address("45 Wharf Street", "Victoria", "BC", "V8W 1T4"),
            "2505550177",
        ),
        (
            "Okanagan Health Centre",
            "134567812",
            Address("880 Bernard Avenue", "Kelowna", "BC", "V1Y 6P5"),
            "2505550108",
        ),
    ),
    "ON": (
        (
            "Maple Leaf Family Health Team",
            "145678123",
            Address("250 Bloor Street West", "Toronto", "ON", "M5S 1V8"),
            "4165550163",
        ),
        ("Rideau Community Clinic", "156781234", Address("99 Bank Street", "Ottawa", "ON", "K1P 6B9"), "6135550129"),
        (
            "Lakeshore Medical Associates",
            "167812345",
            Address("12 King Street", "Hamilton", "ON", "L8P 1A1"),
            "9055550191",
        ),
    ),
}


def clinic_providers(province: str) -> tuple[Provider, ...]:
    return tuple(
        Provider(
            npi=first_nine + npi_check_digit(first_nine),
            name=name,
            tax_id=f"98{first_nine[2:]}",
            address=address,
            phone=phone,
        )
        for name, first_nine, address, phone in CLINICS[province]
    )
