"""The patients slice's errors; each becomes problem details with its status."""

from fastapi import HTTPException, status


class PatientNotFound(HTTPException):
    def __init__(self, patient_id: str) -> None:
        super().__init__(status.HTTP_404_NOT_FOUND, f"No patient has id {patient_id!r}.")


class PatientGone(HTTPException):
    def __init__(self, patient_id: str) -> None:
        super().__init__(status.HTTP_410_GONE, f"Patient {patient_id!r} was deleted.")


class StaleVersion(HTTPException):
    def __init__(self, patient_id: str, current: str | None, expected: str) -> None:
        super().__init__(
            status.HTTP_412_PRECONDITION_FAILED,
            f"Patient {patient_id!r} is at version {current}; If-Match named version {expected}.",
        )


class DuplicatePatient(HTTPException):
    """Another patient already holds this MRN or insurance number."""

    def __init__(self, clashes: list[str], holder_id: str) -> None:
        verb = "is" if len(clashes) == 1 else "are"
        super().__init__(
            status.HTTP_409_CONFLICT, f"{' and '.join(clashes)} {verb} already held by patient {holder_id!r}."
        )


class InvalidIfMatch(HTTPException):
    def __init__(self, value: str) -> None:
        super().__init__(status.HTTP_400_BAD_REQUEST, f'If-Match {value!r} is not an ETag of a version, such as W/"3".')
