"""The patients slice's own errors; each becomes problem details with its status."""

from fastapi import HTTPException, status


class DuplicatePatient(HTTPException):
    """Another patient already holds this MRN or insurance number."""

    def __init__(self, clashes: list[str], holder_id: str) -> None:
        verb = "is" if len(clashes) == 1 else "are"
        super().__init__(
            status.HTTP_409_CONFLICT, f"{' and '.join(clashes)} {verb} already held by patient {holder_id!r}."
        )
