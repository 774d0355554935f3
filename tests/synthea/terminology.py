"""The code systems and the codes Synthea's exports draw from, a small sample of each."""

from typing import NamedTuple

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
NUCC = "http://nucc.org/provider-taxonomy"
NUBC_DISCHARGE = "http://www.nubc.org/patient-discharge"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
BLUE_BUTTON = "https://bluebutton.cms.gov/resources/"
OMB = "urn:oid:2.16.840.1.113883.6.238"


class Code(NamedTuple):
    code: str
    display: str


class Measure(NamedTuple):
    """A LOINC quantity observation: its code, UCUM unit, and the range its values fall in."""

    code: str
    display: str
    unit: str
    low: float
    high: float


class EncounterKind(NamedTuple):
    """A kind of visit: its SNOMED type, its v3 ActCode class, and the EOB place of service."""

    type: Code
    act_class: str
    place: Code


WELLNESS = EncounterKind(
    Code("162673000", "General examination of patient (procedure)"), "AMB", Code("19", "Off Campus-Outpatient Hospital")
)
AMBULATORY = EncounterKind(
    Code("185345009", "Encounter for symptom (procedure)"), "AMB", Code("21", "Inpatient Hospital")
)
URGENT = EncounterKind(Code("702927004", "Urgent care clinic (environment)"), "AMB", Code("20", "Urgent Care Facility"))
INPATIENT = EncounterKind(
    Code("183452005", "Emergency hospital admission (procedure)"), "IMP", Code("21", "Inpatient Hospital")
)

CONDITIONS = (
    Code("444814009", "Viral sinusitis (disorder)"),
    Code("195662009", "Acute viral pharyngitis (disorder)"),
    Code("10509002", "Acute bronchitis (disorder)"),
    Code("59621000", "Essential hypertension (disorder)"),
    Code("15777000", "Prediabetes (finding)"),
    Code("55822004", "Hyperlipidemia (disorder)"),
)
PROCEDURES = (
    Code("430193006", "Medication reconciliation (procedure)"),
    Code("710824005", "Assessment of health and social care needs (procedure)"),
    Code("117015009", "Throat culture (procedure)"),
    Code("23426006", "Measurement of respiratory function (procedure)"),
    Code("171207006", "Depression screening (procedure)"),
)
MEDICATIONS = (
    Code("313782", "Acetaminophen 325 MG Oral Tablet"),
    Code("308182", "Amoxicillin 250 MG Oral Capsule"),
    Code("314076", "lisinopril 10 MG Oral Tablet"),
    Code("860975", "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"),
    Code("310965", "Ibuprofen 200 MG Oral Tablet"),
)
ADMINISTERED = (
    Code("1719286", "10 ML Furosemide 10 MG/ML Injection"),
    Code("1807513", "0.25 ML Enoxaparin sodium 100 MG/ML Prefilled Syringe"),
)
VACCINES = (
    Code("140", "Influenza, seasonal, injectable, preservative free"),
    Code("113", "Td (adult) preservative free"),
    Code("133", "Pneumococcal conjugate PCV 13"),
    Code("115", "Tdap"),
)
ALLERGENS = (
    (Code("762952008", "Peanut (substance)"), "food"),
    (Code("256277009", "Grass pollen (substance)"), "environment"),
    (Code("264287008", "Animal dander (substance)"), "environment"),
)
DEVICES = (
    Code("337414009", "Blood glucose meter (physical object)"),
    Code("72506001", "Implantable defibrillator, device (physical object)"),
)
SUPPLIES = (
    Code("409534002", "Disposable air-purifying respirator (physical object)"),
    Code("713779008", "Nitrile examination/treatment glove, non-powdered, sterile (physical object)"),
)
CARE_PLANS = (
    (
        Code("53950000", "Respiratory therapy (procedure)"),
        Code("304510005", "Recommendation to avoid exercise (procedure)"),
    ),
    (
        Code("698360004", "Diabetes self management plan (record artifact)"),
        Code("160670007", "Diabetic diet (finding)"),
    ),
)
IMAGING = (
    Code("399208008", "Plain X-ray of chest (procedure)"),
    Code("DX", "Digital Radiography"),
    Code("51185008", "Thoracic structure (body structure)"),
)
XRAY_SOP_CLASS = Code("1.2.840.10008.5.1.4.1.1.1.1", "Digital X-Ray Image Storage – for Presentation")

# Vital signs, each with the profile Synthea names for it.
VITALS = (
    (Measure("8302-2", "Body Height", "cm", 150, 195), "http://hl7.org/fhir/StructureDefinition/bodyheight"),
    (Measure("29463-7", "Body Weight", "kg", 50, 110), "http://hl7.org/fhir/StructureDefinition/bodyweight"),
    (
        Measure("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", 18, 34),
        "http://hl7.org/fhir/StructureDefinition/bmi",
    ),
    (Measure("8867-4", "Heart rate", "/min", 55, 100), "http://hl7.org/fhir/StructureDefinition/heartrate"),
    (Measure("9279-1", "Respiratory rate", "/min", 12, 20), "http://hl7.org/fhir/StructureDefinition/resprate"),
)
PAIN = Measure("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported", "{score}", 0, 4)
BLOOD_PRESSURE = Code("85354-9", "Blood pressure panel with all children optional")
DIASTOLIC = Measure("8462-4", "Diastolic Blood Pressure", "mm[Hg]", 65, 90)
SYSTOLIC = Measure("8480-6", "Systolic Blood Pressure", "mm[Hg]", 100, 140)
SMOKING = (Code("72166-2", "Tobacco smoking status"), Code("266919005", "Never smoked tobacco (finding)"))
METABOLIC_PANEL = Code("51990-0", "Basic metabolic panel - Blood")
METABOLIC = (
    Measure("2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 70, 99),
    Measure("6299-2", "Urea nitrogen [Mass/volume] in Blood", "mg/dL", 7, 20),
    Measure("38483-4", "Creatinine [Mass/volume] in Blood", "mg/dL", 0.6, 1.3),
    Measure("49765-1", "Calcium [Mass/volume] in Blood", "mg/dL", 8.5, 10.2),
    Measure("2947-0", "Sodium [Moles/volume] in Blood", "mmol/L", 136, 145),
    Measure("6298-4", "Potassium [Moles/volume] in Blood", "mmol/L", 3.5, 5.1),
)
NOTE = (Code("34117-2", "History and physical note"), Code("51847-2", "Evaluation+Plan note"))

GIVEN_NAMES = ("Ingrid", "Saul", "Bertram", "Julia", "Frances", "Antonietta", "Werner", "Lesley", "Noel", "Cordie")
FAMILY_NAMES = ("Jacobson", "Casper", "Pyle", "Kilback", "Reynolds", "Yost", "Roob", "Rogahn", "Wolff", "Zemlak")
CITIES = (("Boston", "02118"), ("Cambridge", "02138"), ("Worcester", "01604"), ("Springfield", "01103"))
STREETS = ("Main Street", "Mount Auburn Street", "Elm Road", "Harbor Way", "Pleasant Street")
