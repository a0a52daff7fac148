"""Secret-scan tests. Every planted secret is assembled at run time from pieces and
seeded random characters, so this file holds no string a secret scanner would flag."""

import base64
import json
import random
import re
import string

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.transforms.filters.helpers import assert_conserved, make_pair, stage_counters
from transforms.filters import secrets
from transforms.filters.secrets import FilterSecrets, Finding, find_secrets, mask_secrets, secret_reject


RNG = random.Random(7)
ALNUM = string.ascii_letters + string.digits
LOWER_HEX = "0123456789abcdef"
LOWER_ALNUM = string.ascii_lowercase + string.digits


def rand(n, alphabet=ALNUM):
    return "".join(RNG.choice(alphabet) for _ in range(n))


def b64url(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


AWS_KEY = "AK" + "IA" + rand(16, string.ascii_uppercase + string.digits)
AWS_SECRET = rand(40)
GITHUB = "gh" + "p_" + rand(36)
SLACK = "xo" + "xb-" + rand(11, string.digits) + "-" + rand(12, string.digits) + "-" + rand(24, LOWER_HEX + "xyz")
KEY_BODY = "\n".join(base64.b64encode(RNG.randbytes(48)).decode() for _ in range(6))
PRIVATE_KEY = "-----BEGIN RSA " + "PRIVATE KEY-----\n" + KEY_BODY + "\n-----END RSA " + "PRIVATE KEY-----"
JWT = b64url({"alg": "HS256", "typ": "JWT"}) + "." + b64url({"sub": "1234567890", "admin": True}) + "." + rand(43)

# (secret type, a line of code holding one, the secret itself)
SAMPLES = [
    ("AWS Access Key", f'client = boto3.client("s3", aws_access_key_id="{AWS_KEY}")', AWS_KEY),
    ("AWS Access Key", f'aws_secret_access_key = "{AWS_SECRET}"', AWS_SECRET),
    ("Azure Storage Account access key", "conn = 'DefaultEndpointsProtocol=https;AccountKey=" + rand(86) + "=='", None),
    ("Basic Auth Credentials", 'DB_URL = "postgres://admin:' + "Xk9" + rand(9) + '@db.internal:5432/app"', None),
    ("Discord Bot Token", 'bot.run("M' + rand(23) + "." + rand(6) + "." + rand(27) + '")', None),
    ("GitHub Token", f"headers = {{'Authorization': 'token {GITHUB}'}}", GITHUB),
    ("GitHub Token", 'TOKEN = "github' + "_pat_" + rand(82) + '"', None),
    ("GitLab Token", 'gl = gitlab.Gitlab(url, private_token="glp' + "at-" + rand(20) + '")', None),
    ("JSON Web Token", f'auth = "Bearer {JWT}"', JWT),
    ("Mailchimp Access Key", 'MAILCHIMP_KEY = "' + rand(32, LOWER_HEX) + '-us12"', None),
    ("NPM tokens", "//registry.npmjs.org/:_auth" + "Token=npm_" + rand(36), None),
    ("OpenAI Token", 'openai.api_key = "sk-' + rand(20) + "T3Blbk" + "FJ" + rand(20) + '"', None),
    ("Private Key", f'KEY = """{PRIVATE_KEY}"""', None),
    ("PyPI Token", "password = pypi-AgEI" + "cHlwaS5vcmc" + rand(80), None),
    ("SendGrid API Key", 'sg = SendGridAPIClient("SG.' + rand(22) + "." + rand(43) + '")', None),
    ("Slack Token", f'client = WebClient(token="{SLACK}")', SLACK),
    (
        "Slack Token",
        'HOOK = "https://hooks.slack.com/services/T' + rand(10) + "/B" + rand(10) + "/" + rand(24) + '"',
        None,
    ),
    ("Square OAuth Secret", 'SQUARE_SECRET = "sq0' + "csp-" + rand(43) + '"', None),
    ("Stripe Access Key", 'stripe.api_key = "sk' + "_live_" + rand(24) + '"', None),
    ("Telegram Bot Token", 'bot = telebot.TeleBot("' + rand(9, string.digits) + ":" + rand(35) + '")', None),
    ("Twilio API Key", 'account_sid = "A' + "C" + rand(32, LOWER_HEX) + '"', None),
    ("Hugging Face Token", 'login(token="hf' + "_" + rand(34, string.ascii_letters) + '")', None),
    ("Anthropic API Key", 'key = "sk-ant-' + "api03-" + rand(93) + '"', None),
]

CLEAN_CODE = """import getpass
import hashlib
import uuid

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5_OF_ABC = "900150983cd24fb0d6963f7d28e17f72"
SHA1_OF_ABC = "a9993e364706816aba3e25717850c26c9cd0d89d"
TEST_VECTOR = "U29tZSB0ZXN0IHZlY3RvciBmb3IgYmFzZTY0IGRlY29kaW5nLCBub3RoaW5nIG1vcmUu"
B64_KEY_FIXTURE = 'q2wJzZ3kZpXx3nT0aHf4K9Lw8s7VbYmQeRtUiOpAsDfGhJkL'
REQUEST_ID = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
DOC_KEY = "AKIAIOSFODNN7EXAMPLE"
PLACEHOLDER = "AKIAXXXXXXXXXXXXXXXX"
DSN = "postgres://user:pass@localhost:5432/test"
TEMPLATE = "mongodb://{username}:{password}@{host}:{port}"
PROXY = "socks5h://<username>:<password>@proxy-host"
PEM_HEADER = "-----BEGIN RSA PRIVATE KEY-----"


def login():
    user = input("user: ")
    password = getpass.getpass()
    password = input()
    token = os.environ["GITHUB_TOKEN"]
    return hashlib.sha256(password.encode()).hexdigest(), token


def is_pem(text):
    return text.startswith(PEM_HEADER)
"""


@pytest.mark.parametrize(("kind", "line", "secret"), SAMPLES, ids=[f"{s[0]}-{i}" for i, s in enumerate(SAMPLES)])
def test_each_detector_finds_its_format(kind, line, secret):
    # find_secrets only hands the detectors the lines its indicator regex hits, so this also
    # checks that the indicators cover every detector's format.
    text = "def setup():\n    pass\n" + line + "\n# end\n"
    findings = find_secrets(text)
    assert {f.type for f in findings} == {kind}
    assert {f.line for f in findings} == {3}
    masked = mask_secrets(text, findings)
    assert f"<secret:{kind}>" in masked
    assert masked.endswith("\n# end\n") and masked.startswith("def setup():")
    if secret is not None:
        assert secret not in masked
        assert [f.value for f in findings] == [secret]


def _near_indicators(rng):
    """A random text of noise and pieces of indicators, whole or (half of them) cut short."""

    def pick(n, alphabet=ALNUM + "_-"):
        return "".join(rng.choice(alphabet) for _ in range(n))

    def any_case(text):
        return "".join(c.upper() if rng.random() < 0.5 else c for c in text)

    pieces = [
        *secrets._LITERALS,
        "A3T" + pick(1, string.ascii_uppercase),
        "ABIA",
        "ACCA",
        "AKIA",
        "ASIA",
        "AccountKey=",
        "AC" + pick(32, LOWER_ALNUM),
        "SK" + pick(32, LOWER_ALNUM),
        "SG.",
        "gh" + rng.choice("pousr") + "_",
        "github_pat_",
        "gl" + rng.choice(["pat", "dt", "ft", "soat", "rt", "cbt", "imt", "ptt", "agent", "oas"]) + "-",
        "-us" + pick(1, string.digits),
        rng.choice("'\"") + pick(40, ALNUM + "/+") + rng.choice("'\""),
        rng.choice("MNO") + pick(rng.randint(23, 25)) + "." + pick(6) + ".",
        "://" + pick(5) + ":" + pick(8) + "@",
        "://" + any_case("hooks.slack.com"),
        ":" + pick(35),
        any_case("xox" + rng.choice("abposr")) + "-",
    ]
    parts = []
    for _ in range(rng.randint(0, 3)):
        piece = rng.choice(pieces)
        cut = rng.randint(1, len(piece)) if rng.random() < 0.5 else len(piece)
        parts += [pick(rng.randint(0, 30), ALNUM + " \n'\":./@-_+"), piece[:cut]]
    return "".join(parts)


def test_screen_passes_every_text_the_indicators_match():
    # find_secrets skips the texts _may_hold_secret rejects, so it must pass whatever _INDICATORS matches.
    rng = random.Random(11)
    texts = [line for _, line, _ in SAMPLES] + [CLEAN_CODE, PRIVATE_KEY] + [_near_indicators(rng) for _ in range(5000)]
    branches = [*map(re.escape, secrets._LITERALS), *secrets._PATTERNS, secrets._SLACK]
    assert secrets._INDICATORS.pattern == "|".join(branches)
    hits = dict.fromkeys(branches, 0)
    for text in texts:
        if secrets._INDICATORS.search(text):
            assert secrets._may_hold_secret(text), text
        for branch in branches:
            hits[branch] += bool(re.search(branch, text))
    assert min(hits.values()) > 20, hits  # each branch was put to the test
    assert sum(not secrets._may_hold_secret(text) for text in texts) > 1000  # and the screen does reject


def test_private_key_block_is_masked_whole():
    text = f"key = '''{PRIVATE_KEY}'''\nprint(key)\n"
    [finding] = find_secrets(text)
    assert finding == Finding("Private Key", 1, PRIVATE_KEY)
    assert mask_secrets(text, [finding]) == "key = '''<secret:Private Key>'''\nprint(key)\n"
    assert "BEGIN" not in repr(finding) and KEY_BODY[:20] not in repr(finding)


def test_ordinary_code_is_not_flagged():
    assert find_secrets(CLEAN_CODE) == []
    assert find_secrets("") == []


@pytest.mark.parametrize("field", ["input", "chosen", "rejected"])
def test_secret_in_any_field_rejects_with_masked_payload(field):
    planted = {
        "input": f"Rotate the key in this snippet:\n```\n{PRIVATE_KEY}\n```\nand {GITHUB}",
        "chosen": f"s3 = boto3.client('s3', aws_access_key_id='{AWS_KEY}')\nslack = '{SLACK}'\n",
        "rejected": f"s3 = boto3.client('s3', aws_access_key_id='{AWS_KEY}')\n",
    }[field]
    pair = make_pair("9" * 16)._replace(**{field: planted})
    reason, detail, row = secret_reject(pair)
    assert reason == "secret"
    expected = {
        "input": "input: GitHub Token, Private Key (line 3, 12)",
        "chosen": "chosen: AWS Access Key, Slack Token (line 1, 2)",
        "rejected": "rejected: AWS Access Key (line 1)",
    }[field]
    assert detail == expected
    dumped = json.dumps(row)
    for secret in (AWS_KEY, GITHUB, SLACK, KEY_BODY.splitlines()[0]):
        assert secret not in dumped and secret not in detail
    assert set(row) == {"idx", "input", "chosen", "rejected", "language", "aspect", "source"}
    assert "<secret:" in row[field]
    assert secret_reject(make_pair("8" * 16, prompt=CLEAN_CODE, chosen=CLEAN_CODE, rejected=CLEAN_CODE)) is None


def test_value_found_in_one_field_is_masked_in_all():
    pair = make_pair("7" * 16, chosen=f'aws_secret_access_key = "{AWS_SECRET}"\n', rejected=f"k = '{AWS_SECRET}'\n")
    _, detail, row = secret_reject(pair)
    assert detail == "chosen: AWS Access Key (line 1)"
    assert AWS_SECRET not in row["rejected"] and row["rejected"] == "k = '<secret:AWS Access Key>'\n"


def test_filter_secrets_pipeline():
    pairs = [
        make_pair("1" * 16, chosen=CLEAN_CODE, rejected=CLEAN_CODE),
        make_pair("2" * 16, chosen=SAMPLES[0][1]),
        make_pair("3" * 16, prompt=f"Why does this fail?\n{PRIVATE_KEY}"),
    ]
    p = TestPipeline()
    out = p | beam.Create(pairs) | FilterSecrets()
    assert_that(out.main | beam.Map(lambda r: r.idx), equal_to(["1" * 16]), label="CheckMain")
    got = out.rejected | beam.Map(lambda r: (r.stage, r.reason, r.record_id, r.detail))
    want = [
        ("secret_scan", "secret", "2" * 16, "chosen: AWS Access Key (line 1)"),
        ("secret_scan", "secret", "3" * 16, "input: Private Key (line 2)"),
    ]
    assert_that(got, equal_to(want), label="CheckRejected")
    leaks = out.rejected | beam.Filter(lambda r: AWS_KEY in r.payload or KEY_BODY[:40] in r.payload)
    assert_that(leaks, equal_to([]), label="CheckMasked")
    result = p.run()
    result.wait_until_finish()
    counters = stage_counters(result, "secret_scan")
    assert counters == {"in": 3, "out": 1, "rejected:secret": 2}
    assert_conserved(counters)


def test_masking_also_hides_the_other_half_of_a_credential_pair():
    from transforms.filters.secrets import Finding, mask_secrets

    key_id, secret = "AKIA" + "Q" * 16, "0VKIuYAscaQzw+S8ml2qJ0JZ" + "EjYt9ktY3nLl0BNX"
    text = f"id={key_id} secret={secret}\nname = a_very_long_identifier_left_alone\n"
    masked = mask_secrets(text, [Finding("AWS Access Key", 1, key_id)])
    assert key_id not in masked and secret not in masked
    assert "a_very_long_identifier_left_alone" in masked


TOKENS = {
    "github": ("GitHub Token", GITHUB),
    "aws": ("AWS Access Key", AWS_KEY),
    "private_key": ("Private Key", PRIVATE_KEY),
}
OTHER_COLUMNS = ["label_details", "repository", "file_path", "source", "system"]


def planted_in(column, token):
    """A plausible value of `column` that holds `token`."""
    return {
        "label_details": json.dumps({"judge": {"votes": [1, 1]}, "instruct": {"note": f"token = '{token}'"}}),
        "repository": f"https://{token}@example.org/acme/widgets",
        "file_path": f"src/{token}.py" if "\n" not in token else f"src/{token}",
        "source": f"commits {token}",
        "system": f"You are a reviewer. Use this key:\n{token}\n",
    }[column]


@pytest.mark.parametrize("token", sorted(TOKENS))
@pytest.mark.parametrize("column", OTHER_COLUMNS)
def test_secret_in_any_string_column_rejects(column, token):
    kind, secret = TOKENS[token]
    pair = make_pair("6" * 16)._replace(**{column: planted_in(column, secret)})
    reason, detail, row = secret_reject(pair)
    assert reason == "secret" and detail.startswith(f"{column}: {kind}")
    dumped = json.dumps(row)
    for piece in {secret, secret.splitlines()[len(secret.splitlines()) // 2]}:  # a key's body line, escaped or not
        assert piece not in dumped and piece not in detail
    assert "<secret:" in row[column]


def test_filter_secrets_pipeline_scans_every_string_column():
    clean = make_pair("1" * 16, chosen=CLEAN_CODE)._replace(
        repository="acme/widgets", file_path="a.py", label_details='{"judge": {}}', system="Be brief."
    )
    pairs = [clean] + [
        make_pair(str(i) * 16)._replace(**{column: planted_in(column, GITHUB)})
        for i, column in enumerate(OTHER_COLUMNS, start=2)
    ]
    p = TestPipeline()
    out = p | beam.Create(pairs) | FilterSecrets()
    assert_that(out.main | beam.Map(lambda r: r.idx), equal_to(["1" * 16]), label="CheckMain")
    got = out.rejected | beam.Map(lambda r: (r.record_id, r.detail))
    want = [
        (str(i) * 16, f"{column}: GitHub Token (line {2 if column == 'system' else 1})")
        for i, column in enumerate(OTHER_COLUMNS, start=2)
    ]
    assert_that(got, equal_to(want), label="CheckRejected")
    leaks = out.rejected | beam.Filter(lambda r: GITHUB in r.payload or GITHUB in r.detail)
    assert_that(leaks, equal_to([]), label="CheckMasked")
    result = p.run()
    result.wait_until_finish()
    assert_conserved(stage_counters(result, "secret_scan"))
