"""A synthetic medical record written without a language model: the original generator's
layout (visit summary, history and physical, assessment and plan, prescriptions,
follow-up), filled from the codes' descriptions only and labelled as what it is. The same
codes give the same record."""

# Who a synthetic record kept as a note is by.
AUTHOR = "Synthetic record generator"
LABEL = "SYNTHETIC RECORD - written offline from code descriptions; it describes no real patient."


def offline_record(diagnoses: list[tuple[str, str]], procedures: list[tuple[str, str]]) -> str:
    """The record of `diagnoses` ((ICD-10-CM code, description), the first the main one)
    and `procedures` ((CPT code, category))."""
    (main_code, main), *others = diagnoses
    procedure_lines = [f"- CPT {code} (category {category})" for code, category in procedures] or ["- None recorded"]
    secondary = "; ".join(f"{description} ({code})" for code, description in others) or "None"
    plan = [
        f"{index}. {description} ({code}): evaluate and treat per current guidelines; reassess at follow-up."
        for index, (code, description) in enumerate(diagnoses, start=1)
    ]
    return "\n".join(
        [
            LABEL,
            "",
            "Visit Summary",
            f"Admitting Diagnosis: {main} ({main_code})",
            "Discharge Diagnosis: Same as admitting diagnosis",
            f"Secondary Diagnoses: {secondary}",
            f"Patient presenting for evaluation and management of {main.lower()}.",
            "Procedures:",
            *procedure_lines,
            "Condition upon Discharge: Stable",
            "",
            "History and Physical",
            "Allergies: Not recorded",
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
