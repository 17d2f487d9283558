"""The errors a user sees: the command line turns each into one line on stderr."""


class BnlabError(Exception):
    """A user-facing failure: bad params, a missing or corrupt input file."""


class ParamsError(BnlabError):
    """params.yaml (or a config written from it) is missing, malformed or out of range."""


class DataError(BnlabError):
    """A data file is missing, truncated or malformed."""


class OutputError(BnlabError):
    """An output cannot be written: a full disk, a read-only folder."""


class Terminated(BaseException):
    """The process got SIGTERM; raised so that open MLflow runs end KILLED."""


def describe(exc: BaseException) -> str:
    """An exception in one string, as a failed MLflow run keeps it in its ``error`` tag."""
    return f"{type(exc).__name__}: {exc}"[:5000]
