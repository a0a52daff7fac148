import pydantic
import pytest

from schemas.config_files import field_errors, read_yaml


def test_read_yaml_names_the_file_and_what_is_wrong(tmp_path):
    (tmp_path / "empty.yaml").write_text("")
    assert read_yaml(str(tmp_path / "empty.yaml"), "--x") == {}
    (tmp_path / "ok.yaml").write_text("a: [1, 2]\n")
    assert read_yaml(str(tmp_path / "ok.yaml"), "--x") == {"a": [1, 2]}
    with pytest.raises(ValueError, match=r"--x .*missing.yaml: no such file"):
        read_yaml(str(tmp_path / "missing.yaml"), "--x")
    (tmp_path / "bad.yaml").write_text("a: [1,\n")
    with pytest.raises(ValueError, match=r"filters: .*bad.yaml: not valid YAML"):
        read_yaml(str(tmp_path / "bad.yaml"), "filters:")


def test_field_errors_give_the_dotted_path_of_each_field():
    class Inner(pydantic.BaseModel):
        n: int

    class Outer(pydantic.BaseModel):
        inner: list[Inner]

    with pytest.raises(pydantic.ValidationError) as raised:
        Outer.model_validate({"inner": [{"n": 1}, {"n": "x"}]})
    assert field_errors(raised.value).startswith("inner.1.n: Input should be a valid integer")
