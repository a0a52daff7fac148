import pytest

from schemas.build import BuildConfig, MixConfig, load_build_config


def write(path, text):
    path.write_text(text)
    return str(path)


def test_relative_paths_and_included_files_resolve_from_the_config_folder(tmp_path):
    (tmp_path / "conf").mkdir()
    write(tmp_path / "conf" / "llm.yaml", "endpoints: [{name: a, base_url: 'http://x/v1', model: m}]\n")
    write(tmp_path / "conf" / "filters.yaml", "decontamination: {benchmarks: [bench.jsonl]}\n")
    path = write(
        tmp_path / "conf" / "build.yaml",
        """
sources:
  repos: [repo]
  instructions: {files: [tasks.jsonl], language: py}
  preference: [{name: ext, preset: prosec, files: [ext/*.parquet]}]
llm: llm.yaml
filters: filters.yaml
mix: {caps: {ext: 10}, targets: {Security Hardness: {cpp: 3}}}
""",
    )
    cfg = load_build_config(path)
    base = str(tmp_path / "conf")
    assert cfg.sources.repos == (f"{base}/repo",)
    assert cfg.sources.instructions.files == (f"{base}/tasks.jsonl",) and cfg.sources.instructions.language == "Python"
    assert cfg.sources.preference[0].files == (f"{base}/ext/*.parquet",)
    assert cfg.llm.cache == f"{base}/llm-cache.sqlite"
    assert cfg.filters.decontamination.benchmarks == (f"{base}/bench.jsonl",)
    assert cfg.mix.targets == {"Security Hardness": {"C++": 3}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: {}\n", "sources: Value error, name at least one source"),
        ("sources: {repos: [r]}\n", "llm: commit sources"),
        ("sources: {preference: [{name: a, files: [x], hub: h/d}]}\n", "give files or hub, not both"),
        ("sources: {preference: [{name: a, files: [x], langauge: go}]}\n", "sources.preference.0.langauge"),
        ("sources: {preference: [{name: a, files: [x], aspect: Speed}]}\n", "'Speed' is not a criterion"),
        ("sources: {preference: [{name: a, files: [x]}]}\nsystem: {none: 0.5}\n", "must be 1"),
        ("sources: {preference: [{name: a, files: [x]}]}\nmix: {targets: {Speed: {Go: 1}}}\n", "not a criterion"),
        ("- a list\n", "the top level must be a mapping"),
    ],
)
def test_bad_configs_name_the_field(tmp_path, text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        load_build_config(write(tmp_path / "b.yaml", text))


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_build_config(str(tmp_path / "none.yaml"))
    with pytest.raises(ValueError, match="not valid YAML"):
        load_build_config(write(tmp_path / "b.yaml", "sources: [\n"))


def test_mix_caps_must_not_be_negative():
    with pytest.raises(ValueError, match="caps must be >= 0"):
        MixConfig(caps={"a": -1})
    assert (
        BuildConfig.model_validate(
            {
                "sources": {"commit_files": ["x"]},
                "llm": {"endpoints": [{"name": "a", "base_url": "http://x/v1", "model": "m"}]},
            }
        ).system.single
        == 0.6
    )


def test_mine_and_code_are_typed_and_dump_as_the_file_sets_them():
    from schemas.config import CodeConfig, MineConfig

    data = {
        "sources": {"instructions": {"files": ["x"]}},
        "mine": {"licenses": "MIT", "since": "2019-03-01", "allowlist": ["b/y", "a/x"]},
        "code": {"min_depth": 4},
        "target_shard_mb": 2,
    }
    cfg = BuildConfig.model_validate(data)
    assert isinstance(cfg.mine, MineConfig) and isinstance(cfg.code, CodeConfig)
    assert cfg.mine.licenses == ("mit",) and cfg.mine.since == 1551398400 and cfg.mine.target_shard_bytes == 2 << 20
    assert cfg.code.min_depth == 4 and cfg.code.function_level
    dumped = cfg.model_dump(mode="json")
    assert dumped["mine"] == {"licenses": ["mit"], "since": 1551398400, "allowlist": ["a/x", "b/y"]}
    assert dumped["code"] == {"min_depth": 4}
    assert BuildConfig.model_validate(dumped) == cfg
    default = BuildConfig.model_validate({"sources": data["sources"]})
    assert default.mine == MineConfig() and default.code == CodeConfig()
    assert default.model_dump(mode="json")["mine"] == {} and default.model_dump(mode="json")["code"] == {}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("mine: {licences: [mit]}", "mine: licences: Extra inputs are not permitted"),
        ("mine: {licenses: ''}", "mine: licenses: must name at least one licence"),
        ("mine: {since: soon}", "mine: since: 'soon' is not a date"),
        ("mine: {since: 2020-01-01, until: 2019-01-01}", "mine: since must be before until"),
        ("code: {min_depth: 0}", "code: need min_depth >= 1"),
        ("code: {operators: [flip]}", "code: operators: unknown flip; known: relational_flip"),
        ("code: {llm_bugs: true}", "llm: commit sources (and llm_bugs) need an LLM config"),
    ],
)
def test_bad_mine_and_code_settings_name_the_section_and_field(tmp_path, section, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_build_config(write(tmp_path / "b.yaml", f"sources: {{instructions: {{files: [x]}}}}\n{section}\n"))


PRINCIPLES = """
base: Judge it.
criteria:
  Functional_Correctness: FC.
  Memory_Efficiency: ME.
  Readability_Maintainability: RM.
  Runtime_Efficiency: RT.
  Security_Hardness: SH.
"""


def test_principles_come_from_a_file_beside_the_config_or_inline_and_their_texts_are_dumped(tmp_path):
    from pipelines.build import build_config_id

    (tmp_path / "conf").mkdir()
    write(tmp_path / "conf" / "texts.yaml", PRINCIPLES)
    source = "sources: {preference: [{name: a, files: [x]}]}\n"
    plain = load_build_config(write(tmp_path / "conf" / "plain.yaml", source))
    named = load_build_config(write(tmp_path / "conf" / "named.yaml", source + "system: {principles: texts.yaml}\n"))
    inline = "system:\n  principles:\n" + "".join(f"    {line}\n" for line in PRINCIPLES.strip().splitlines())
    inlined = load_build_config(write(tmp_path / "conf" / "inline.yaml", source + inline))
    assert named.system.principles.criteria["Functional Correctness"] == "FC."
    assert inlined.system == named.system
    assert "principles" not in plain.model_dump(mode="json")["system"]  # a config without texts keeps its id
    assert named.model_dump(mode="json")["system"]["principles"]["base"] == "Judge it."  # the texts, not the path
    assert build_config_id(named) == build_config_id(inlined) != build_config_id(plain)
    write(tmp_path / "conf" / "texts.yaml", PRINCIPLES.replace("FC.", "Correct code."))
    assert build_config_id(load_build_config(str(tmp_path / "conf" / "named.yaml"))) != build_config_id(named)


def test_bad_principles_name_the_field_and_a_missing_file_its_key(tmp_path):
    source = "sources: {preference: [{name: a, files: [x]}]}\n"
    with pytest.raises(ValueError, match="system.principles: .*absent.yaml: no such file"):
        load_build_config(write(tmp_path / "a.yaml", source + "system: {principles: absent.yaml}\n"))
    write(tmp_path / "short.yaml", PRINCIPLES.replace("  Security_Hardness: SH.\n", ""))
    with pytest.raises(ValueError, match="system.principles.criteria: .*no text for Security Hardness"):
        load_build_config(write(tmp_path / "b.yaml", source + "system: {principles: short.yaml}\n"))


def test_criterion_names_take_any_spelling_of_the_alias_table(tmp_path):
    text = (
        "sources: {preference: [{name: a, files: [x], aspect: Functional_Correctness}]}\n"
        "mix: {targets: {security_hardness: {Cpp: 2}, Readability & Maintainability: {Go: 1}}}\n"
    )
    cfg = load_build_config(write(tmp_path / "b.yaml", text))
    assert cfg.sources.preference[0].aspect == "Functional Correctness"
    assert cfg.mix.targets == {"Security Hardness": {"C++": 2}, "Readability and Maintainability": {"Go": 1}}
    twice = "sources: {preference: [{name: a, files: [x]}]}\n"
    twice += "mix: {targets: {Security Hardness: {Go: 1}, Security_Hardness: {C: 1}}}\n"
    with pytest.raises(ValueError, match="targets name Security Hardness twice"):
        load_build_config(write(tmp_path / "c.yaml", twice))


def test_a_copy_of_codepref_texts_is_the_default_release(tmp_path):
    from pipelines.build import build_config_id
    from schemas.principles import DEFAULT_PRINCIPLES_PATH

    source = "sources: {preference: [{name: a, files: [x]}]}\n"
    plain = load_build_config(write(tmp_path / "plain.yaml", source))
    copied = load_build_config(
        write(tmp_path / "copy.yaml", source + f"system: {{principles: {DEFAULT_PRINCIPLES_PATH}}}\n")
    )
    assert copied.system.principles is None and build_config_id(copied) == build_config_id(plain)
