import json

from tests.transforms.code.test_stages import pair
from transforms.code.mutations import OPERATORS
from transforms.code.planted import bug_reject, mutant_pair, mutation_details


def test_mutant_pair_and_bug_validation():
    code = "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n        return hi\n    return x\n"
    seed = pair("5" * 16, code, "")
    mutated = mutant_pair(seed, ("relational_flip",), 77)
    assert mutated.rejected != seed.chosen
    assert json.loads(mutated.label_details)["mutation"]["operator"] == "relational_flip"
    assert mutant_pair(seed, ("relational_flip",), 77) == mutated
    assert bug_reject(seed.chosen, seed.chosen + "\n# the bug is here\n", "Python") is not None
    assert bug_reject(seed.chosen, seed.chosen + "\ndef extra():\n    return 1\n", "Python") is not None
    assert bug_reject(seed.chosen, seed.chosen.replace("x < lo", "x <= lo"), "Python") is None


def test_a_pair_with_tests_keeps_a_pool_whose_first_mutant_is_the_one_without_tests():
    code = "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n        return hi\n    return x\n"
    plain = mutant_pair(pair("6" * 16, code, ""), OPERATORS, 77, pool=8)
    assert plain.mutants == ()  # no tests: one mutant, no pool, as before
    tested = mutant_pair(pair("6" * 16, code, "")._replace(tests="assert clamp(1, 0, 2) == 1\n"), OPERATORS, 77, pool=8)
    assert 1 < len(tested.mutants) <= 8
    assert tested.rejected == plain.rejected == tested.mutants[0].code
    assert len({m.code for m in tested.mutants}) == len(tested.mutants)
    assert all(bug_reject(code, m.code, "Python") is None for m in tested.mutants)
    assert json.loads(tested.label_details)["mutation"] == mutation_details(tested.mutants[0])
    assert mutant_pair(pair("6" * 16, code, "")._replace(tests="x"), OPERATORS, 77, pool=8) == tested._replace(
        tests="x"
    )
