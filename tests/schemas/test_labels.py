from schemas.labels import normalize_language, pair_language


def test_pair_language_takes_aliases_and_prose():
    assert [pair_language(x) for x in ("cpp", " CSharp ", "nl", "NL", "Rust", None)] == [
        "C++", "C#", "NL", "NL", None, None,
    ]  # fmt: skip
    assert normalize_language("NL") is None
