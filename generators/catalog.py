"""The clinical vocabulary synthetic records draw from: vaccines, allergies and patient extras.

Vaccines carry a SNOMED CT concept (the international vaccine-product concepts the Canadian
edition includes, or a Canadian-extension concept where one names the product) with the
matching CDC CVX code beside it, and what a Canadian immunization record says about the
product: manufacturer, route, injection sites and dose volume.
"""

from dataclasses import dataclass

SNOMED = "http://snomed.info/sct"
CVX = "http://hl7.org/fhir/sid/cvx"
ACT_SITE = "http://terminology.hl7.org/CodeSystem/v3-ActSite"
ROUTE = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
CONSENT_STATE = "http://hl7.org/fhir/consent-state-codes"
BCP47 = "urn:ietf:bcp:47"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"

# Where a vaccine goes: arms for most, thighs too for young children; none by mouth or nose.
ARMS = ("LA", "RA")
ARMS_AND_THIGHS = ("LA", "RA", "LT", "RT")
SITE_DISPLAYS = {"LA": "left arm", "RA": "right arm", "LT": "left thigh", "RT": "right thigh"}
ROUTE_DISPLAYS = {
    "IM": "Injection, intramuscular",
    "SQ": "Injection, subcutaneous",
    "NASINHLC": "Inhalation, nasal",
    "PO": "Swallow, oral",
}


@dataclass(frozen=True)
class Vaccine:
    """One vaccine product family as an immunization record names it."""

    snomed: str
    snomed_display: str
    cvx: str
    cvx_display: str
    text: str
    manufacturers: tuple[str, ...]
    route: str
    sites: tuple[str, ...]
    dose_ml: float
    # The youngest age (years) at which the product is given in the synthetic records.
    min_age: int
    # The year from which the product is given in Canada.
    since: int


VACCINES: tuple[Vaccine, ...] = (
    Vaccine(
        snomed="871831003",
        snomed_display=(
            "Vaccine product containing only Measles morbillivirus and Mumps orthorubulavirus and Rubella virus "
            "antigens"
        ),
        cvx="03",
        cvx_display="MMR",
        text="Measles, mumps and rubella vaccine",
        manufacturers=("GlaxoSmithKline Inc.", "Merck Canada Inc."),
        route="SQ",
        sites=ARMS_AND_THIGHS,
        dose_ml=0.5,
        min_age=1,
        since=1975,
    ),
    Vaccine(
        snomed="871908002",
        snomed_display=(
            "Vaccine product containing only Human alphaherpesvirus 3 and Measles morbillivirus and Mumps "
            "orthorubulavirus and Rubella virus antigens"
        ),
        cvx="94",
        cvx_display="MMRV",
        text="Measles, mumps, rubella and varicella vaccine",
        manufacturers=("GlaxoSmithKline Inc.", "Merck Canada Inc."),
        route="SQ",
        sites=ARMS_AND_THIGHS,
        dose_ml=0.5,
        min_age=1,
        since=2008,
    ),
    Vaccine(
        snomed="871919004",
        snomed_display="Vaccine product containing only Human alphaherpesvirus 3 antigen",
        cvx="21",
        cvx_display="varicella",
        text="Varicella vaccine",
        manufacturers=("Merck Canada Inc.", "GlaxoSmithKline Inc."),
        route="SQ",
        sites=ARMS_AND_THIGHS,
        dose_ml=0.5,
        min_age=1,
        since=1998,
    ),
    Vaccine(
        snomed="871887006",
        snomed_display=(
            "Vaccine product containing only Bordetella pertussis and Clostridium tetani and Corynebacterium "
            "diphtheriae and Haemophilus influenzae type b and Human poliovirus antigens"
        ),
        cvx="120",
        cvx_display="DTaP-Hib-IPV",
        text="Diphtheria, tetanus, acellular pertussis, polio and Hib vaccine",
        manufacturers=("Sanofi Pasteur Limited", "GlaxoSmithKline Inc."),
        route="IM",
        sites=ARMS_AND_THIGHS,
        dose_ml=0.5,
        min_age=1,
        since=1997,
    ),
    Vaccine(
        snomed="871875004",
        snomed_display=(
            "Vaccine product containing only Bordetella pertussis and Clostridium tetani and Corynebacterium "
            "diphtheriae antigens"
        ),
        cvx="115",
        cvx_display="Tdap",
        text="Tetanus, diphtheria and acellular pertussis vaccine",
        manufacturers=("Sanofi Pasteur Limited", "GlaxoSmithKline Inc."),
        route="IM",
        sites=ARMS,
        dose_ml=0.5,
        min_age=11,
        since=2000,
    ),
    Vaccine(
        snomed="871822003",
        snomed_display="Vaccine product containing only Hepatitis B virus antigen",
        cvx="43",
        cvx_display="Hep B, adult",
        text="Hepatitis B vaccine",
        manufacturers=("GlaxoSmithKline Inc.", "Merck Canada Inc."),
        route="IM",
        sites=ARMS,
        dose_ml=1.0,
        min_age=11,
        since=1987,
    ),
    Vaccine(
        snomed="871751006",
        snomed_display="Vaccine product containing only Hepatitis A virus antigen",
        cvx="52",
        cvx_display="Hep A, adult",
        text="Hepatitis A vaccine",
        manufacturers=("GlaxoSmithKline Inc.", "Merck Canada Inc."),
        route="IM",
        sites=ARMS,
        dose_ml=1.0,
        min_age=19,
        since=1996,
    ),
    Vaccine(
        snomed="1209197008",
        snomed_display=(
            "Vaccine product containing only Human papillomavirus 6, 11, 16, 18, 31, 33, 45, 52 and 58 antigens"
        ),
        cvx="165",
        cvx_display="HPV9",
        text="Human papillomavirus 9-valent vaccine",
        manufacturers=("Merck Canada Inc.",),
        route="IM",
        sites=ARMS,
        dose_ml=0.5,
        min_age=9,
        since=2015,
    ),
    Vaccine(
        snomed="51451000087105",
        snomed_display=(
            "Vaccine product containing only Streptococcus pneumoniae Danish serotype 1, 3, 4, 5, 6A, 6B, 7F, 9V, "
            "14, 18C, 19A, 19F, and 23F capsular polysaccharide antigens conjugated"
        ),
        cvx="133",
        cvx_display="Pneumococcal conjugate PCV 13",
        text="Pneumococcal 13-valent conjugate vaccine",
        manufacturers=("Pfizer Canada ULC",),
        route="IM",
        sites=ARMS_AND_THIGHS,
        dose_ml=0.5,
        min_age=1,
        since=2010,
    ),
    Vaccine(
        snomed="871873006",
        snomed_display="Vaccine product containing only Neisseria meningitidis serogroup A, C, W135 and Y antigens",
        cvx="136",
        cvx_display="Meningococcal MCV4O",
        text="Meningococcal quadrivalent conjugate vaccine",
        manufacturers=("GlaxoSmithKline Inc.",),
        route="IM",
        sites=ARMS,
        dose_ml=0.5,
        min_age=11,
        since=2010,
    ),
    Vaccine(
        snomed="836377006",
        snomed_display="Vaccine product containing Influenza virus antigen",
        cvx="150",
        cvx_display="Influenza, injectable, quadrivalent, preservative free",
        text="Influenza vaccine, quadrivalent",
        manufacturers=("Sanofi Pasteur Limited", "GlaxoSmithKline Inc."),
        route="IM",
        sites=ARMS,
        dose_ml=0.5,
        min_age=1,
        since=2014,
    ),
    Vaccine(
        snomed="871768005",
        snomed_display="Influenza vaccine in nasal dose form",
        cvx="149",
        cvx_display="influenza, live, intranasal, quadrivalent",
        text="Live attenuated influenza vaccine, intranasal",
        manufacturers=("AstraZeneca Canada Inc.",),
        route="NASINHLC",
        sites=(),
        dose_ml=0.2,
        min_age=2,
        since=2010,
    ),
    Vaccine(
        snomed="1156183006",
        snomed_display=(
            "Vaccine product containing only Human alphaherpesvirus 3 recombinant surface glycoprotein E antigen"
        ),
        cvx="187",
        cvx_display="zoster recombinant",
        text="Recombinant zoster vaccine",
        manufacturers=("GlaxoSmithKline Inc.",),
        route="IM",
        sites=ARMS,
        dose_ml=0.5,
        min_age=50,
        since=2018,
    ),
    Vaccine(
        snomed="961000221100",
        snomed_display="Vaccine product containing only Salmonella enterica subspecies enterica serovar Typhi antigen",
        cvx="25",
        cvx_display="typhoid, oral",
        text="Typhoid vaccine, oral",
        manufacturers=("Emergent BioSolutions Canada Inc.",),
        route="PO",
        sites=(),
        dose_ml=1.0,
        min_age=6,
        since=1990,
    ),
    Vaccine(
        snomed="28581000087106",
        snomed_display="Pfizer-BioNTech Comirnaty COVID-19 mRNA vaccine",
        cvx="208",
        cvx_display="SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose",
        text="COVID-19 mRNA vaccine (Comirnaty)",
        manufacturers=("Pfizer Canada ULC",),
        route="IM",
        sites=ARMS,
        dose_ml=0.3,
        min_age=12,
        since=2021,
    ),
    Vaccine(
        snomed="28571000087109",
        snomed_display="Moderna Spikevax COVID-19 mRNA vaccine",
        cvx="207",
        cvx_display="SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 100 mcg/0.5mL dose",
        text="COVID-19 mRNA vaccine (Spikevax)",
        manufacturers=("Moderna Biopharma Canada Corporation",),
        route="IM",
        sites=ARMS,
        dose_ml=0.5,
        min_age=12,
        since=2021,
    ),
)

# Why a vaccine was not given (Immunization.statusReason when status is not-done).
EXEMPTION_REASONS: tuple[tuple[str, str], ...] = (
    ("IMMUNE", "immunity"),
    ("MEDPREC", "medical precaution"),
    ("PATOBJ", "patient objection"),
    ("RELIG", "religious objection"),
    ("PHILISOP", "philosophical objection"),
)

# Who gave the vaccine, as the record names them (display only: no Organization resources).
PERFORMERS: dict[str, tuple[str, ...]] = {
    "BC": (
        "Vancouver Coastal Health Public Health",
        "Fraser Health Public Health",
        "Island Health Public Health",
        "Interior Health Public Health",
        "Northern Health Public Health",
        "Community pharmacy",
    ),
    "ON": (
        "Toronto Public Health",
        "Ottawa Public Health",
        "Peel Public Health",
        "Middlesex-London Health Unit",
        "Public Health Sudbury & Districts",
        "Community pharmacy",
    ),
}


@dataclass(frozen=True)
class Allergy:
    """An allergy or intolerance as a SNOMED CT finding, with what FHIR says about its kind."""

    snomed: str
    display: str
    text: str
    category: str
    type: str
    criticalities: tuple[str, ...]


ALLERGIES: tuple[Allergy, ...] = (
    Allergy("91936005", "Allergy to penicillin", "Penicillin allergy", "medication", "allergy", ("high", "low")),
    Allergy("293586001", "Allergy to aspirin", "Aspirin intolerance", "medication", "intolerance", ("low",)),
    Allergy("91935009", "Allergy to peanut", "Peanut allergy", "food", "allergy", ("high",)),
    Allergy("300913006", "Shellfish allergy", "Shellfish allergy", "food", "allergy", ("high", "low")),
    Allergy("91930004", "Allergy to eggs", "Egg allergy", "food", "allergy", ("low", "unable-to-assess")),
    Allergy("425525006", "Allergy to dairy product", "Dairy allergy", "food", "intolerance", ("low",)),
    Allergy("424213003", "Allergy to bee venom", "Bee sting allergy", "environment", "allergy", ("high",)),
    Allergy("300916003", "Latex allergy", "Latex allergy", "environment", "allergy", ("high", "low")),
    Allergy("419474003", "Allergy to mould", "Mould allergy", "environment", "allergy", ("low",)),
    Allergy("232347008", "Dander (animal) allergy", "Pet dander allergy", "environment", "allergy", ("low",)),
    Allergy("418689008", "Allergy to grass pollen", "Grass pollen allergy", "environment", "allergy", ("low",)),
    Allergy("232350006", "House dust mite allergy", "Dust mite allergy", "environment", "allergy", ("low",)),
)

# How an allergic reaction showed itself (SNOMED CT clinical findings), with a fitting severity.
MANIFESTATIONS: tuple[tuple[str, str, str], ...] = (
    ("126485001", "Urticaria", "mild"),
    ("271807003", "Eruption of skin", "mild"),
    ("267036007", "Dyspnea", "moderate"),
    ("422587007", "Nausea", "mild"),
    ("39579001", "Anaphylaxis", "severe"),
)

ALLERGY_CLINICAL_STATUSES = (("active", "Active"), ("inactive", "Inactive"), ("resolved", "Resolved"))
ALLERGY_VERIFICATION_STATUSES = (("confirmed", "Confirmed"), ("unconfirmed", "Unconfirmed"))

# Preferred languages, as BCP 47 tags, weighted towards what Canadians speak at home.
LANGUAGES: tuple[tuple[str, str], ...] = (
    ("en-CA", "English (Canada)"),
    ("en-CA", "English (Canada)"),
    ("en-CA", "English (Canada)"),
    ("en-CA", "English (Canada)"),
    ("fr-CA", "French (Canada)"),
    ("zh", "Chinese"),
    ("pa", "Punjabi"),
    ("es", "Spanish"),
    ("tl", "Tagalog"),
    ("ar", "Arabic"),
)

# Consent to disclose immunization records, in FHIR's consent-state codes.
CONSENT_STATES: tuple[tuple[str, str], ...] = (
    ("active", "Active"),
    ("active", "Active"),
    ("active", "Active"),
    ("proposed", "Proposed"),
    ("rejected", "Rejected"),
    ("inactive", "Inactive"),
)

# Race-based and ethnic groups as Canadian health data standards ask about them; the
# gateway's own code system, since FHIR R4 has none for Canada.
ETHNICITIES: tuple[tuple[str, str], ...] = (
    ("white", "White"),
    ("east-asian", "East Asian"),
    ("south-asian", "South Asian"),
    ("southeast-asian", "Southeast Asian"),
    ("black", "Black"),
    ("indigenous", "Indigenous"),
    ("middle-eastern", "Middle Eastern"),
    ("latino", "Latino"),
    ("another", "Another race category"),
    ("not-disclosed", "Prefer not to answer"),
)

# Conditions that change immunization advice (SNOMED CT findings and disorders).
RISK_FACTORS: tuple[tuple[str, str], ...] = (
    ("77176002", "Smoker"),
    ("44054006", "Diabetes mellitus type 2"),
    ("38341003", "Hypertensive disorder"),
    ("195967001", "Asthma"),
    ("13645005", "Chronic obstructive lung disease"),
    ("709044004", "Chronic kidney disease"),
    ("414916001", "Obesity"),
    ("86406008", "Human immunodeficiency virus infection"),
    ("370388006", "Patient immunocompromised"),
)
