import pytest

from transforms.hashing import stable_hash, stable_unit


def test_stable_hash_is_the_first_64_bits_of_sha256():
    assert stable_hash("") == 0xE3B0C44298FC1C14
    assert stable_hash("a\udc80") != stable_hash("a")  # lone surrogates hash, not raise
    assert 0 <= stable_hash("codepref") < 2**64


def test_stable_hash_blake2b_is_its_8_byte_digest():
    assert stable_hash("codepref", "blake2b") == 17226142601874031442
    with pytest.raises(ValueError, match="unknown digest"):
        stable_hash("codepref", "md5")


def test_stable_unit_is_the_hash_over_its_range():
    assert stable_unit("") == 0xE3B0C44298FC1C14 / 2.0**64
    assert stable_unit("codepref", "blake2b") == 0.9338310616248462
    assert stable_unit("codepref", bits=32) == 457933045 / 2**32  # the top 32 bits, exactly
    assert 0 <= stable_unit("a\udc80") < 1
    for bits in (0, 65):
        with pytest.raises(ValueError, match="bits"):
            stable_unit("codepref", bits=bits)
