"""Stage `secret_scan`: drops pairs that carry a credential or a private key.

`FilterSecrets`: PCollection[PairRecord] → `transforms.manifest.StageOutputs` (`main`, `rejected`, one report).
Every string column a pair publishes (`FIELDS`: the prompt `input`, `chosen`,
`rejected`, and `system`, `source`, `repository`, `file_path`, `label_details`,
... but not `commit_message`, which is never written) is scanned with
`find_secrets`; a pair with any finding is rejected `secret`, the detail naming
each field, the secret types and their lines (never the value), the payload being
the pair's row (plus each other field that held a secret) with every found value
replaced by `<secret:TYPE>` (`mask_secrets`).

Detectors: detect-secrets' format-specific plugins (`PLUGINS`: AWS, Azure
storage, basic-auth URLs, Discord, GitHub, GitLab, JWT, Mailchimp, npm, OpenAI,
private keys, PyPI, SendGrid, Slack, Square, Stripe, Telegram, Twilio) plus
three formats it lacks (`EXTRA_FORMATS`: GitHub fine-grained tokens, Hugging
Face and Anthropic keys). Left out: the high-entropy plugins (every hash and test
vector in code), the public-IP plugin (not a secret), the IBM, Cloudant,
SoftLayer and Artifactory plugins (keyword-driven or loose), and
KeywordDetector: on 150 MB of ordinary library code (15,230 files) it flagged
108 lines in 43 files, all test fixtures (`'password': 'admin123'`) or plain
code (`secret_type = 'Stripe Access Key'`); it does not flag
`password = getpass()`, but its false positives are not acceptable.

Each value is checked before it counts (`_plausible`): no detect-secrets
templated (`{password}`, `<token>`, `${X}`), sequential or UUID value, at least
6 distinct characters (`AKIAXXXXXXXXXXXXXXXX`), not AWS's documented `EXAMPLE`
key; a basic-auth password needs 8+ characters of 2+ kinds (so `user:pass@`
and `postgres:postgres@` are not flagged); a private key header needs a base64
body within 400 characters (so code that tests for the header is not flagged).
A private key's value is its whole block, up to the END line.

Speed: only the lines that cheap indicators hit (`_INDICATORS`, a superset of
what the detectors match) go to the detectors; full detect-secrets on every line
ran at 0.46 MB/s. The indicators' alternation runs at 10-20 MB/s, because `re`
tries its branches at most positions, so each text is first screened
(`_may_hold_secret`): `in` for each literal, a search per other branch (each
starts with a literal character, which `re` finds by a fast scan), and "xox" in
the lowercased text for Slack's case-insensitive prefix; only a text that
passes is searched with `_INDICATORS`. On the first 20,000 pairs of the scale
corpus (60,000 texts, 85 M characters), on the shared 2-core development machine
(one core, the other nearly idle), finding the candidate lines took 5.1-5.5 s
without the screen and 1.3-1.7 s with it (50-65 M characters/s); `find_secrets`
found the same 54 texts' secrets in 1.3-1.5 s instead of 5.2-5.5 s. Before the
screen, on 150 MB of library code it ran at 10-11 MB/s and found nothing, as
did the full scan. The tests check that every detector's format passes the
indicators, and that the screen passes every text the indicators match.

Reasons: `secret`, `scan_failed` (the scan raised). Counters (namespace
`codepref.secret_scan`): `in`, `out`, `rejected:<reason>`, `error:<exc_type>`.
"""

__all__ = [
    "EXTRA_FORMATS",
    "FilterSecrets",
    "Finding",
    "PLUGINS",
    "build_detectors",
    "find_secrets",
    "mask_secrets",
    "secret_reject",
]

import dataclasses
import functools
import re
import typing
import urllib.parse
from collections.abc import Iterator, Sequence
from typing import Any

import apache_beam as beam

from schemas.records import PairRecord, RejectRecord
from transforms.filters import PairFilterFn, apply_pair_filter, pair_row


STAGE = "secret_scan"
SECRET = "secret"
SCAN_FAILED = "scan_failed"
UNPUBLISHED = ("commit_message",)
"""String fields of a `PairRecord` that no output holds (only the prompts see the message)."""
FIELDS: tuple[str, ...] = tuple(
    name
    for name, kind in typing.get_type_hints(PairRecord).items()
    if (kind is str or str in typing.get_args(kind)) and name not in UNPUBLISHED
)
"""The string fields scanned, in `PairRecord` order: every string column of the pair schema."""
PRIVATE_KEY = "Private Key"
BASIC_AUTH = "Basic Auth Credentials"

PLUGINS: tuple[str, ...] = (
    "AWSKeyDetector",
    "AzureStorageKeyDetector",
    "BasicAuthDetector",
    "DiscordBotTokenDetector",
    "GitHubTokenDetector",
    "GitLabTokenDetector",
    "JwtTokenDetector",
    "MailchimpDetector",
    "NpmDetector",
    "OpenAIDetector",
    "PrivateKeyDetector",
    "PypiTokenDetector",
    "SendGridDetector",
    "SlackDetector",
    "SquareOAuthDetector",
    "StripeDetector",
    "TelegramBotTokenDetector",
    "TwilioKeyDetector",
)
"""detect-secrets plugin class names used."""

EXTRA_FORMATS: tuple[tuple[str, str], ...] = (
    ("GitHub Token", r"github_pat_[A-Za-z0-9_]{82}"),
    ("Hugging Face Token", r"hf_[A-Za-z]{34}(?![A-Za-z0-9])"),
    ("Anthropic API Key", r"sk-ant-[a-z]+\d\d-[A-Za-z0-9_-]{80,}"),
)
"""(secret type, regex) of formats detect-secrets has no plugin for."""

# Cheap indicators of the detectors' formats, together a superset of what they match: literals, patterns that
# start with a literal character, and Slack's case-insensitive prefix.
_LITERALS = (
    "GR1348941",
    "eyJ",
    "T3BlbkFJ",
    "PRIVATE KEY",
    "PuTTY-User-Key",
    "pypi-AgE",
    "sq0csp-",
    "k_live_",
    "_authToken",
    "hf_",
    "sk-ant-",
)
_PATTERNS = (
    r"A(?:3T[A-Z0-9]|BIA|CCA|KIA|SIA|ccountKey=|C[a-z0-9]{32})",
    r"S(?:K[a-z0-9]{32}|G\.)",
    r"g(?:h[pousr]_|ithub_pat_|l(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-)",
    r"-us\d",
    r"'[0-9a-zA-Z/+]{40}['\"]",
    r'"[0-9a-zA-Z/+]{40}[\'"]',
    r"M[\w-]{23,25}\.[\w-]{6}\.",
    r"N[\w-]{23,25}\.[\w-]{6}\.",
    r"O[\w-]{23,25}\.[\w-]{6}\.",
    r":(?://(?:[^\s/@]*:[^\s/]*@|(?i:hooks\.slack\.com))|[\w-]{35})",
)
_SLACK = r"[xX][oO][xX][abposrABPOSR]-"
_INDICATORS = re.compile("|".join([*map(re.escape, _LITERALS), *_PATTERNS, _SLACK]))
_SCREENS = tuple(map(re.compile, _PATTERNS))


def _may_hold_secret(text: str) -> bool:
    """Returns False only when `_INDICATORS` finds nothing, about 5 times faster.

    `re` finds a pattern's literal first character with a fast scan, but tries an
    alternation of branches that start with different characters at nearly every
    position (10-20 MB/s). So each literal is looked for with `in` (a C substring
    search), each pattern with its own scan, and Slack's prefix in the lowercased text.
    """
    return (
        any(literal in text for literal in _LITERALS)
        or any(screen.search(text) for screen in _SCREENS)
        or "xox" in text.lower()
    )


_KEY_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|Private-MAC: *[0-9a-fA-F]+")
_KEY_BODY = re.compile(r"[A-Za-z0-9+/]{40}")
_LEFT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/")
_RIGHT = _LEFT | {"="}


@dataclasses.dataclass(frozen=True)
class Finding:
    """A secret found in a text.

    Attributes:
        type: the detector's secret type, such as "AWS Access Key".
        line: the 1-based line it starts on.
        value: the secret (a whole private key block); only for masking, never printed.
    """

    type: str
    line: int
    value: str = dataclasses.field(repr=False)


@functools.cache
def build_detectors() -> tuple[Any, ...]:
    """Returns the detect-secrets plugin instances used, `PLUGINS` then `EXTRA_FORMATS` (cached)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    classes = {cls.__name__: cls for cls in get_mapping_from_secret_type_to_class().values()}
    extras = [
        type(f"Extra{i}Detector", (RegexBasedDetector,), {"secret_type": kind, "denylist": (re.compile(regex),)})
        for i, (kind, regex) in enumerate(EXTRA_FORMATS)
    ]
    return tuple(cls() for cls in [*(classes[name] for name in PLUGINS), *extras])


def _candidate_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """Yields `(line number, line start, line)` for each line the indicators hit."""
    if not _may_hold_secret(text):
        return
    line_no, counted_to, last_start = 1, 0, -1
    for match in _INDICATORS.finditer(text):
        start = text.rfind("\n", 0, match.start()) + 1
        if start == last_start:
            continue
        line_no += text.count("\n", counted_to, start)
        counted_to = last_start = start
        end = text.find("\n", start)
        yield line_no, start, text[start : len(text) if end < 0 else end]


def _values(kind: str, raw: str, line: str, text: str, line_start: int) -> Iterator[str]:
    """Yields each occurrence of a detector's match, widened to the whole secret."""
    if kind == BASIC_AUTH:  # the plugin yields exactly the password
        yield raw
        return
    at = line.find(raw)
    while at >= 0:
        begin, end = at, at + len(raw)
        if kind == PRIVATE_KEY:  # the whole block, from its dashes to the END line (or the text's end)
            begin = line_start + at
            while begin > 0 and text[begin - 1] == "-":
                begin -= 1
            tail = _KEY_END.search(text, begin)
            if _KEY_BODY.search(text, begin, begin + 400):  # a header alone (code that checks for it) is no key
                yield text[begin : tail.end() if tail else len(text)]
        else:
            while begin > 0 and line[begin - 1] in _LEFT:
                begin -= 1
            while end < len(line) and line[end] in _RIGHT:
                end += 1
            yield line[begin:end]
        at = line.find(raw, at + len(raw))


def _is_symbol(ch: str) -> bool:
    return not ch.isalnum() and not ch.isspace()


def _plausible(kind: str, value: str) -> bool:
    """False for placeholders and templates (see the module docstring)."""
    from detect_secrets.filters.heuristic import is_potential_uuid, is_sequential_string, is_templated_secret

    if kind == PRIVATE_KEY:
        return True
    if len(set(value)) < 6 or "example" in value.lower():
        return False
    if is_templated_secret(value) or is_sequential_string(value) or is_potential_uuid(value):
        return False
    if kind == BASIC_AUTH:
        plain = urllib.parse.unquote(value)
        kinds = sum(any(map(test, plain)) for test in (str.islower, str.isupper, str.isdigit, _is_symbol))
        return len(plain) >= 8 and kinds >= 2
    return True


def find_secrets(text: str, detectors: Sequence[Any] | None = None) -> list[Finding]:
    """Returns the secrets in a text, one `Finding` per distinct (type, value).

    Args:
        text: any text (code, a prompt).
        detectors: detect-secrets plugin instances; defaults to `build_detectors()`.
    """
    detectors = build_detectors() if detectors is None else detectors
    found: dict[tuple[str, str], Finding] = {}
    for line_no, line_start, line in _candidate_lines(text):
        for detector in detectors:
            kind = detector.secret_type
            for raw in set(detector.analyze_string(line)):
                for value in _values(kind, raw, line, text, line_start):
                    if (kind, value) not in found and _plausible(kind, value):
                        found[kind, value] = Finding(kind, line_no, value)
    return list(found.values())


_LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}=*")


def mask_secrets(text: str, findings: Sequence[Finding]) -> str:
    """Returns the text with each finding's value replaced by `<secret:TYPE>`.

    Credentials come in pairs (an AWS key id beside its secret key, a user beside a
    token), and a detector may see only one of them, so on every line where a secret
    was masked, any other run of 20+ key characters is masked too (`<secret:nearby>`).
    """
    for finding in sorted(findings, key=lambda f: len(f.value), reverse=True):
        text = text.replace(finding.value, f"<secret:{finding.type}>")
    if "<secret:" not in text:
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if "<secret:" in line:
            lines[i] = _LONG_TOKEN.sub("<secret:nearby>", line)
    return "\n".join(lines)


def secret_reject(pair: PairRecord, detectors: Sequence[Any] | None = None) -> tuple[str, str, dict] | None:
    """Returns `(secret, detail, masked row)` when any field holds a secret, else None.

    Args:
        pair: the pair to scan (its string `FIELDS`; None is nothing to scan).
        detectors: as for `find_secrets`.
    """
    texts = {field: getattr(pair, field) for field in FIELDS}
    found = {field: find_secrets(text, detectors) for field, text in texts.items() if isinstance(text, str)}
    if not any(found.values()):
        return None
    parts = []
    for field, findings in found.items():
        if findings:
            kinds = sorted({f.type for f in findings})
            lines = sorted({f.line for f in findings})
            parts.append(f"{field}: {', '.join(kinds)} (line {', '.join(map(str, lines))})")
    every = [f for findings in found.values() for f in findings]
    row = pair_row(pair)
    row.update({field: texts[field] for field, findings in found.items() if findings})
    for field, value in row.items():
        if isinstance(value, str):
            row[field] = mask_secrets(value, every)
    return SECRET, "; ".join(parts), row


class _SecretFn(PairFilterFn):
    def __init__(self) -> None:
        super().__init__(STAGE)

    def setup(self) -> None:
        super().setup()
        self._detectors = build_detectors()

    def check(self, pair: PairRecord) -> RejectRecord | None:
        problem = secret_reject(pair, self._detectors)
        return None if problem is None else self.reject(pair, *problem)


@dataclasses.dataclass
class FilterSecrets(beam.PTransform):
    """Rejects pairs holding credentials or private keys; see the module docstring.

    Outputs (`StageOutputs`): `main` (kept `PairRecord`s), `rejected`
    (`RejectRecord`s, reasons `secret` and `scan_failed`; payloads masked), one report.

    Attributes:
        threshold: the share of failed pairs above which the job fails (a bug).
    """

    threshold: float = 0.05

    def expand(self, pairs: beam.PCollection[PairRecord]):  # returns StageOutputs
        return apply_pair_filter(pairs, _SecretFn(), SCAN_FAILED, self.threshold)
