import json

from tests.transforms.code.test_stages import pair
from transforms.code.planted import bug_reject, mutant_pair


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
