"""Every error codepref reports to its user, in one hierarchy under `CodeprefError`.

The command line (`pipelines.cli.main`) catches `CodeprefError` once and prints
its message, which says what to fix, with the exit status of its kind:

    UsageError          2  a bad flag, config key or input; the message names the caller's flag or key
    ReleaseError        2  a run that must not be published (`pipelines.publish`)
    AuditError          2  a bad audit argument or audit folder (`pipelines.audit`)
    ServerError         2  the local LLM server cannot start (`pipelines.llm_server`)
    EndpointError       3  an LLM endpoint refused the run (401, 403, 404, an unset key variable)
    LLMErrorShareError  4  the run finished, but an LLM stage rejected too many pairs as `llm_error`

Anything else is a bug and keeps its traceback. The errors live here, in the
lowest layer, so that schemas, transforms and pipelines raise the same classes.
`EndpointError` is raised inside Beam's workers, so it must stay picklable: its
only argument is its message. How it is found again through Beam's wrapping is
`transforms.llm.errors.find_endpoint_error`.
"""

__all__ = [
    "AuditError",
    "CodeprefError",
    "EndpointError",
    "LLMErrorShareError",
    "ReleaseError",
    "ServerError",
    "UsageError",
]

from typing import Any


class CodeprefError(Exception):
    """An error whose message tells the user what to do; the command line prints it without a traceback."""


class UsageError(CodeprefError):
    """A bad argument, config key or input; the message names the caller's own flag or key and says what to do."""


class ReleaseError(CodeprefError):
    """A run that must not be published; the message says why and what to do."""


class AuditError(CodeprefError):
    """A bad argument or a missing/invalid audit folder; the message says what to do."""


class ServerError(CodeprefError, RuntimeError):
    """The local LLM server could not be started; the message says what to do."""


class EndpointError(CodeprefError):
    """An endpoint refused the run (bad key, no permission, unknown model): labelling cannot go on.

    The message is one line that names the endpoint, the status and what to check,
    and never holds the key.
    """


class LLMErrorShareError(CodeprefError):
    """Some LLM stage rejected more than the allowed share of its pairs as `llm_error`.

    Attributes:
        manifest: the run's manifest, already written.
        problems: one line per stage over the limit.
    """

    def __init__(self, problems: list[str], manifest: dict[str, Any]) -> None:
        super().__init__("; ".join(problems))
        self.problems, self.manifest = problems, manifest

    def __reduce__(self) -> tuple:
        """Pickles with both arguments (the default would call the class with the message alone)."""
        return type(self), (self.problems, self.manifest)
