"""One error hierarchy: every error meant for the user is a CodeprefError, and the run-ending ones pickle."""

import pickle

import pytest

from data_cards.card import CardSecretError
from schemas.errors import (
    AuditError,
    CodeprefError,
    EndpointError,
    LLMErrorShareError,
    ReleaseError,
    ServerError,
    UsageError,
)
from transforms.spill import TempLocationError


@pytest.mark.parametrize("kind", [UsageError, ReleaseError, AuditError, ServerError, EndpointError])
def test_every_error_is_a_codepref_error_and_keeps_its_message(kind):
    error = kind("--input x*.jsonl: matched no file")
    assert isinstance(error, CodeprefError) and str(error) == "--input x*.jsonl: matched no file"


def test_the_errors_of_other_layers_sit_under_the_hierarchy():
    assert issubclass(TempLocationError, UsageError) and issubclass(TempLocationError, ValueError)
    assert issubclass(CardSecretError, ReleaseError) and issubclass(CardSecretError, ValueError)
    assert issubclass(ServerError, RuntimeError)


def test_the_run_ending_errors_cross_process_boundaries():
    refusal = pickle.loads(pickle.dumps(EndpointError("endpoint gpt: 401 Unauthorized: check OPENAI_API_KEY")))
    assert type(refusal) is EndpointError and str(refusal) == "endpoint gpt: 401 Unauthorized: check OPENAI_API_KEY"
    share = pickle.loads(pickle.dumps(LLMErrorShareError(["rate: 9 of 10", "judge: 5 of 5"], {"stages": []})))
    assert str(share) == "rate: 9 of 10; judge: 5 of 5"
    assert share.problems == ["rate: 9 of 10", "judge: 5 of 5"] and share.manifest == {"stages": []}
