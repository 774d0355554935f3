"""What each encounter is billed as: a Claim, and the ExplanationOfBenefit that answers it.

The Claim itemises the encounter and points at its diagnoses, procedures and immunizations (a
prescription has a pharmacy Claim of its own). The ExplanationOfBenefit carries the referral
and the coverage as contained resources (`#referral`, `#coverage`), as Synthea writes them.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from tests.synthea.elements import Json, coding, concept, date_time, money
from tests.synthea.terminology import BLUE_BUTTON, CVX, SNOMED, TERMINOLOGY, Code
from tests.synthea.visit import Visit

PAYERS = ("Blue Cross Blue Shield", "Aetna", "Medicare", "UnitedHealthcare", "Cigna Health")


@dataclass
class Charges:
    """What an encounter produced that its Claim lists, as (fullUrl, code) pairs."""

    diagnoses: list[tuple[str, Code]] = field(default_factory=list)
    procedures: list[tuple[str, Code]] = field(default_factory=list)
    immunizations: list[tuple[str, Code]] = field(default_factory=list)


def _claim_type(code: str) -> Json:
    return {"coding": [coding(f"{TERMINOLOGY}claim-type", code)]}


def _claim(visit: Visit, claim_type: str, total: float) -> Json:
    """A Claim whose first item is the encounter itself."""
    return {
        "resourceType": "Claim",
        "status": "active",
        "type": _claim_type(claim_type),
        "use": "claim",
        "patient": visit.patient,
        "billablePeriod": visit.period,
        "created": date_time(visit.end),
        "provider": visit.refs.organization(visit.hospital),
        "priority": {"coding": [coding(f"{TERMINOLOGY}processpriority", "normal")]},
        "facility": visit.refs.location(visit.hospital),
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": visit.rng.choice(PAYERS)}}],
        "item": [
            {
                "sequence": 1,
                "productOrService": concept(SNOMED, *visit.kind.type),
                "encounter": [visit.encounter_ref],
            }
        ],
        "total": money(total),
    }


def encounter_claim(visit: Visit, charges: Charges) -> str:
    """The institutional Claim of the encounter, one item per charge after the encounter's own."""
    rng = visit.rng
    claim = _claim(visit, "institutional", 0)
    items = claim["item"]
    total = rng.uniform(50, 150)
    for sequence, (url, code) in enumerate(charges.diagnoses, start=1):
        claim.setdefault("diagnosis", []).append({"sequence": sequence, "diagnosisReference": {"reference": url}})
        items.append(
            {"sequence": len(items) + 1, "diagnosisSequence": [sequence], "productOrService": concept(SNOMED, *code)}
        )
    for sequence, (url, code) in enumerate(charges.procedures, start=1):
        cost = rng.uniform(100, 900)
        total += cost
        claim.setdefault("procedure", []).append({"sequence": sequence, "procedureReference": {"reference": url}})
        items.append(
            {
                "sequence": len(items) + 1,
                "procedureSequence": [sequence],
                "productOrService": concept(SNOMED, *code),
                "net": money(cost),
            }
        )
    for sequence, (url, code) in enumerate(charges.immunizations, start=1):
        cost = rng.uniform(100, 200)
        total += cost
        category = {"coding": [coding(f"{TERMINOLOGY}claiminformationcategory", "info")]}
        claim.setdefault("supportingInfo", []).append(
            {"sequence": sequence, "category": category, "valueReference": {"reference": url}}
        )
        items.append(
            {
                "sequence": len(items) + 1,
                "informationSequence": [sequence],
                "productOrService": concept(CVX, *code),
                "net": money(cost),
            }
        )
    claim["total"] = money(total)
    return visit.built.add(claim)


def medication_claim(visit: Visit, prescription: str) -> str:
    """The pharmacy Claim of a prescription."""
    claim = _claim(visit, "pharmacy", visit.rng.uniform(5, 300))
    claim["prescription"] = {"reference": prescription}
    return visit.built.add(claim)


def _adjudication(variable: str, display: str, amount: float) -> Json:
    category = coding(f"{BLUE_BUTTON}codesystem/adjudication", f"{BLUE_BUTTON}variables/{variable}", display)
    return {"category": {"coding": [category]}, "amount": money(amount)}


def explanation_of_benefit(visit: Visit, claim_url: str, claim_id: str, charges: Charges) -> str:
    """The ExplanationOfBenefit of the encounter's Claim; it contains the referral and coverage."""
    rng = visit.rng
    payer = rng.choice(PAYERS)
    practitioner = visit.refs.practitioner(visit.clinician)
    subject = visit.subject
    referral: Json = {
        "resourceType": "ServiceRequest",
        "id": "referral",
        "status": "completed",
        "intent": "order",
        "subject": subject,
        "requester": practitioner,
        "performer": [practitioner],
    }
    coverage: Json = {
        "resourceType": "Coverage",
        "id": "coverage",
        "status": "active",
        "type": {"text": payer},
        "beneficiary": subject,
        "payor": [{"display": payer}],
    }
    net = rng.uniform(100, 900)
    item: Json = {
        "sequence": 1,
        "category": {"coding": [coding(f"{BLUE_BUTTON}variables/line_cms_type_srvc_cd", "1", "Medical care")]},
        "productOrService": concept(SNOMED, *visit.kind.type),
        "servicedPeriod": visit.period,
        "locationCodeableConcept": concept(f"{TERMINOLOGY}ex-serviceplace", *visit.kind.place),
        "encounter": [visit.encounter_ref],
        "net": money(net),
        "adjudication": [
            _adjudication("line_coinsrnc_amt", "Line Beneficiary Coinsurance Amount", 0.2 * net),
            _adjudication("line_prvdr_pmt_amt", "Line Provider Payment Amount", 0.8 * net),
            _adjudication("line_sbmtd_chrg_amt", "Line Submitted Charge Amount", net),
            _adjudication("line_alowd_chrg_amt", "Line Allowed Charge Amount", net),
        ],
    }
    resource: Json = {
        "resourceType": "ExplanationOfBenefit",
        "contained": [referral, coverage],
        "identifier": [
            {"system": f"{BLUE_BUTTON}variables/clm_id", "value": claim_id},
            {"system": f"{BLUE_BUTTON}identifier/claim-group", "value": "99999999999"},
        ],
        "status": "active",
        "type": _claim_type("institutional"),
        "use": "claim",
        "patient": subject,
        "billablePeriod": {"start": date_time(visit.end), "end": date_time(visit.end + timedelta(days=365))},
        "created": date_time(visit.end),
        "insurer": {"display": payer},
        "provider": practitioner,
        "referral": {"reference": "#referral"},
        "facility": visit.refs.location(visit.hospital),
        "claim": {"reference": claim_url},
        "outcome": "complete",
        "careTeam": [
            {
                "sequence": 1,
                "provider": practitioner,
                "role": concept(f"{TERMINOLOGY}claimcareteamrole", "primary", "Primary Care Practitioner"),
            }
        ],
        "insurance": [{"focal": True, "coverage": {"reference": "#coverage", "display": payer}}],
        "item": [item],
        "total": [
            {
                "category": concept(f"{TERMINOLOGY}adjudication", "submitted", "Submitted Amount"),
                "amount": money(net),
            }
        ],
        "payment": {"amount": money(0.8 * net)},
    }
    if charges.diagnoses:
        principal = {"coding": [coding(f"{TERMINOLOGY}ex-diagnosistype", "principal")]}
        resource["diagnosis"] = [
            {"sequence": sequence, "diagnosisReference": {"reference": url}, "type": [principal]}
            for sequence, (url, _) in enumerate(charges.diagnoses, start=1)
        ]
    return visit.built.add(resource)
