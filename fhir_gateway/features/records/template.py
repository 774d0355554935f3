"""The record written without a language model: the seed's layout, filled from the codes'
descriptions only, and labelled as what it is. The same codes give the same record."""

from fhir_gateway.features.records.schemas import CptCode, IcdCode

LABEL = "SYNTHETIC RECORD - written offline from code descriptions; it describes no real patient."


def offline_record(diagnoses: list[IcdCode], procedures: list[CptCode]) -> str:
    main, *others = diagnoses
    procedure_lines = [f"- CPT {p.code} (category {p.category})" for p in procedures] or ["- None recorded"]
    secondary = "; ".join(f"{d.description} ({d.code})" for d in others) or "None"
    plan = [
        f"{index}. {d.description} ({d.code}): evaluate and treat per current guidelines; reassess at follow-up."
        for index, d in enumerate(diagnoses, start=1)
    ]
    return "\n".join(
        [
            LABEL,
            "",
            "Visit Summary",
            f"Admitting Diagnosis: {main.description} ({main.code})",
            "Discharge Diagnosis: Same as admitting diagnosis",
            f"Secondary Diagnoses: {secondary}",
            f"Patient presenting for evaluation and management of {main.description.lower()}.",
            "Procedures:",
            *procedure_lines,
            "Condition upon Discharge: Stable",
            "",
            "History and Physical",
            "Allergies: No known drug allergies",
            "Medications Upon Admission: None recorded",
            "Social History: Not recorded",
            "Review of Systems: As in the visit summary",
            "",
            "Assessment & Plan",
            *plan,
            "",
            "Prescriptions",
            "None recorded: an offline record names no medication.",
            "",
            "Follow-Up",
            "Follow up with the primary care physician in 2 weeks, sooner if symptoms worsen.",
        ]
    )
