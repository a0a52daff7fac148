from schemas.labels import label_name, normalize_language, pair_language


def test_pair_language_takes_aliases_and_prose():
    assert [pair_language(x) for x in ("cpp", " CSharp ", "nl", "NL", "Rust", None)] == [
        "C++",
        "C#",
        "NL",
        "NL",
        None,
        None,
    ]
    assert normalize_language("NL") is None


def test_label_name_decodes_ids_only():
    names = ("a", "b")
    assert [label_name(names, v) for v in (0, 1)] == ["a", "b"]
    assert [label_name(names, v) for v in (2, -1, True, False, 1.0, "a", None)] == [None] * 7
