from transforms.hashing import stable_hash


def test_stable_hash_is_the_first_64_bits_of_sha256():
    assert stable_hash("") == 0xE3B0C44298FC1C14
    assert stable_hash("a\udc80") != stable_hash("a")  # lone surrogates hash, not raise
    assert 0 <= stable_hash("codepref") < 2**64
