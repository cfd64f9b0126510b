"""Domain errors raised by services and selectors; the web and API layers map them to responses."""


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    """A stale version or an action the current state does not allow."""

    status = 409


class Invalid(DomainError):
    """Bad input; ``errors`` maps field names to Chinese messages."""

    status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field, code="invalid")
        self.errors = errors
