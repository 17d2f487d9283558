"""The one exception type the command line turns into a one-line message."""


class BnlabError(Exception):
    """A user-facing failure: bad params, a missing or corrupt input file."""


class Terminated(BaseException):
    """The process got SIGTERM; raised so that open MLflow runs end KILLED."""
