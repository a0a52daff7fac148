"""A deterministic instruction set with tests, for `benchmarks/bench_execution.py`.

Fifteen task families (clamp, counting above a threshold, grades, sums of
multiples, searches, leap years, powers, digit sums, character counts, runs,
discounts, gcd, counting in a range, FizzBuzz), each written in Python,
JavaScript and C (FizzBuzz, which returns strings, in Python and JavaScript
only): small functions with loops, branches, boundaries, constants and default
arguments. Each family has six variants that change the constants (thresholds,
bases, defaults) or the function's name, and the tests (`COVERAGE`):

* `full` (variants 0 and 2): the tests reach every branch and boundary the code
  has (equal values at a comparison, the error branch, the default argument);
* `partial` (1 and 3): they leave gaps, as real test suites do: the error
  branch is never reached, the default argument is always overridden, no input
  lies on a comparison's boundary. Mutants there survive the tests;
* `smoke` (4): one call, the first of the partial tests, as in a row whose
  tests are a single example;
* `type` (5, Python and JavaScript only): that one call's result is checked for
  its type only (`isinstance`, `typeof`), as weakly generated tests do. Nearly
  every mutant survives them: verification should reject these rows.

The tests are HumanEval-shaped: Python `def check(candidate):` with `assert`s
and an entry point; JavaScript a `node:assert` script defining
`check(candidate)`; C a `main()` of `assert`s appended to the solution. Expected
values come from running the Python solution itself (the JavaScript and C
solutions are the same algorithm; the benchmark reports any that fail their
tests). An error branch is a `ValueError` in Python, a `RangeError` in
JavaScript and a sentinel return value in C. List inputs come from a
`random.Random` seeded per family and variant, so every run builds the same rows.

Rows: `instruction`, `solution`, `language`, `test`, `entry_point`, plus the
benchmark's own `family` and `coverage`.

    python benchmarks/execution_tasks.py [--out tasks.jsonl]
"""

import argparse
import dataclasses
import json
import random
import string
import sys
from collections.abc import Callable


LANGUAGES = ("Python", "JavaScript", "C")
COVERAGE = ("full", "partial", "full", "partial", "smoke", "type")
"""How thoroughly each variant's tests cover its code (see the module docstring)."""
VARIANTS = len(COVERAGE)


@dataclasses.dataclass(frozen=True)
class Char:
    """A one-character result: a string in Python and JavaScript, a `char` in C."""

    value: str


class Raises:
    """An expected error: `ValueError` in Python, `RangeError` in JavaScript, the sentinel in C."""


Case = tuple
"""The arguments of one test call, its expected value computed. A call shorter than the
function's parameters leaves the last ones to their defaults (`Family.default`); C, which has
no default arguments, passes the defaults' values."""


@dataclasses.dataclass(frozen=True)
class Family:
    """One task family: its code per language and how its variants differ.

    Attributes:
        name: the family's name (`family` in the rows).
        names: the function's name per variant (cycled), snake_case (JavaScript: camelCase).
        instruction: a `string.Template` over `$lang`, `$f` and the constants.
        code: language → `string.Template` of the solution, over `$f` and the constants.
        constants: the constants per variant (cycled).
        cases: (rng, constants, full) → the test calls.
        default: the constants (comma-separated) that are the last parameters' defaults, if any.
        c_error: the C expression a failing call returns (where Python raises).
        result: wraps an expected value for rendering (`Char` for grades).
    """

    name: str
    names: tuple[str, ...]
    instruction: str
    code: dict[str, str]
    constants: tuple[dict, ...] = ({},)
    cases: Callable[[random.Random, dict, bool], list[Case]] = lambda rng, k, full: []
    default: str | None = None
    c_error: str = ""
    result: Callable[[object], object] = lambda value: value


def _clamp_cases(rng: random.Random, _k: dict, full: bool) -> list[Case]:
    low = rng.randint(-20, 0)
    high = low + rng.randint(5, 30)
    cases = [(low + 2, low, high), (low - 7, low, high), (high + 9, low, high), (high - 1, low, high)]
    if full:
        cases += [(low, low, high), (high, low, high), (low - 1, low, high), (3, 4, 4), (0, high, low)]
    return cases


def _values(rng: random.Random, count: int, low: int, high: int, avoid: tuple[int, ...] = ()) -> list[int]:
    values = []
    while len(values) < count:
        value = rng.randint(low, high)
        if value not in avoid:
            values.append(value)
    return values


def _count_above_cases(rng: random.Random, k: dict, full: bool) -> list[Case]:
    t = k["T"]
    explicit = t + rng.randint(1, 4)
    cases = [(_values(rng, 6, t - 20, t + 20, (t, explicit)), explicit) for _ in range(3)]
    cases.append(([], explicit))
    if full:
        cases += [([t, t + 1, t - 1, t],), (_values(rng, 7, t - 9, t + 9),), ([t + 1] * 3, t)]
    return cases


def _grade_cases(_rng: random.Random, k: dict, full: bool) -> list[Case]:
    a, b, c, d = k["A"], k["B"], k["C"], k["D"]
    cases = [((a + 100) // 2,), ((a + b) // 2,), ((b + c) // 2,), ((c + d) // 2,)]
    if full:
        cases += [(a,), (a - 1,), (b,), (b - 1,), (c,), (c - 1,), (d,), (d - 1,), (0,)]
    return cases


def _sum_multiples_cases(_rng: random.Random, k: dict, full: bool) -> list[Case]:
    a, b = k["A"], k["B"]
    plain = [n for n in range(a * b + 1, 4 * a * b) if n % a and n % b][:3]
    cases = [(n, a, b) for n in plain] + [(plain[0], b, a + 1)]
    if full:
        cases += [(a * b,), (b,), (1,), (2 * a * b + a,)]
    return cases


def _search_cases(rng: random.Random, _k: dict, full: bool) -> list[Case]:
    xs = sorted(set(_values(rng, 9, -30, 60)))
    cases = [(xs, xs[len(xs) // 2]), (xs, xs[len(xs) // 2 + 1]), (xs, xs[1])]
    if full:
        cases += [(xs, xs[0]), (xs, xs[-1]), (xs, xs[-1] + 5), (xs, xs[0] - 3), ([], 4), ([7], 7)]
    return cases


def _leap_cases(rng: random.Random, _k: dict, full: bool) -> list[Case]:
    years = [4 * rng.randint(400, 520) + 1, 4 * rng.randint(400, 520) + 2, 2024, 1996, 2023]
    years = [y + 4 if y % 100 == 0 else y for y in years]
    if full:
        years += [2000, 1900, 2100, 2400, 1600]
    return [(y,) for y in years]


def _power_cases(rng: random.Random, _k: dict, full: bool) -> list[Case]:
    cases = [(rng.randint(2, 6), rng.randint(2, 5)) for _ in range(3)] + [(-3, 3)]
    if full:
        cases += [(5, 0), (7, 1), (0, 3), (2, -1)]
    return cases


def _digit_cases(rng: random.Random, k: dict, full: bool) -> list[Case]:
    base = k["B"]
    cases = [(rng.randint(base + 1, 50_000),) for _ in range(3)] + [(base * base + 3,)]
    if full:
        cases += [(0,), (-rng.randint(100, 9_999),), (base - 1,), (base,)]
    return cases


def _count_chars_cases(rng: random.Random, k: dict, full: bool) -> list[Case]:
    words = ["banana", "syzygy", "rhythm", "queueing", "strength", "xylophone", "jazz", "pyramid"]
    rng.shuffle(words)
    cases = [(words[0],), (" ".join(words[1:3]),), ("",)]
    if full:
        cases += [(words[3].upper(),), (k["V"] * 2,), (k["V"].upper() + "bcd",)]
    return cases


def _run_cases(rng: random.Random, _k: dict, full: bool) -> list[Case]:
    middle = [1, 4, 4, 4, 2, 5, 5, 3]
    cases = [(middle,), ([rng.randint(0, 9)] + [8, 8, 6, 8],), ([3, 1, 3],)]
    if full:
        cases += [([],), ([9],), ([2, 5, 7, 7, 7, 7],), ([6, 6, 6],)]
    return cases


def _order_cases(rng: random.Random, k: dict, full: bool) -> list[Case]:
    q = k["Q"]
    cases = [(rng.randint(3, 40), max(1, q // 3)), (rng.randint(3, 40), 4 * q), (rng.randint(3, 40), 3 * q + 2)]
    if full:
        cases += [(25, q), (25, q - 1), (100, q + 1), (9, 0)]
    return cases


def _gcd_cases(rng: random.Random, _k: dict, full: bool) -> list[Case]:
    g = rng.randint(2, 9)
    cases = [(g * 6, g * 4), (g * 35, g * 10), (17, 5), (g * 9, g * 9)]
    if full:
        cases += [(0, 12), (15, 0), (-g * 8, g * 12), (g * 3, -g * 21)]
    return cases


def _between_cases(rng: random.Random, k: dict, full: bool) -> list[Case]:
    low, high = k["L"], k["H"]
    explicit = (low - 3, high + 4)
    inner = _values(rng, 8, low - 15, high + 15, (*explicit, low, high, low - 1, high + 1))
    cases = [(inner, *explicit), (inner[:4], *explicit), ([], *explicit)]
    if full:
        cases += [([low, high, low - 1, high + 1],), (inner,)]
    return cases


def _fizzbuzz_cases(_rng: random.Random, k: dict, full: bool) -> list[Case]:
    a, b = k["A"], k["B"]
    cases = [(a * b, a, b), (a * (b + 1), a, b), (1, a, b)]
    if full:
        cases += [(b * (a + 1),), (2 * a * b,), (a * b + 1,)]
    return cases


FAMILIES: tuple[Family, ...] = (
    Family(
        "clamp",
        ("clamp", "clip_value", "bound", "limit_to_range", "keep_within", "saturate"),
        "Write a $lang function `$f(x, low, high)` that returns x limited to the range [low, high]; it "
        "is an error when low exceeds high.",
        {
            "Python": """\
def $f(x, low, high):
    if low > high:
        raise ValueError('low must not exceed high')
    if x < low:
        return low
    if x > high:
        return high
    return x
""",
            "JavaScript": """\
function $f(x, low, high) {
  if (low > high) {
    throw new RangeError('low must not exceed high');
  }
  if (x < low) {
    return low;
  }
  if (x > high) {
    return high;
  }
  return x;
}
""",
            "C": """\
#include <limits.h>

int $f(int x, int low, int high) {
    if (low > high) {
        return INT_MIN;
    }
    if (x < low) {
        return low;
    }
    if (x > high) {
        return high;
    }
    return x;
}
""",
        },
        cases=_clamp_cases,
        c_error="INT_MIN",
    ),
    Family(
        "count_above",
        ("count_above",),
        "Write a $lang function `$f` that counts the values of a list greater than a threshold (default "
        "$T; in C the list comes with its length and the threshold is always given).",
        {
            "Python": """\
def $f(xs, threshold=$T):
    count = 0
    for x in xs:
        if x > threshold:
            count += 1
    return count
""",
            "JavaScript": """\
function $f(xs, threshold = $T) {
  let count = 0;
  for (const x of xs) {
    if (x > threshold) {
      count += 1;
    }
  }
  return count;
}
""",
            "C": """\
int $f(const int *xs, int n, int threshold) {
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (xs[i] > threshold) {
            count += 1;
        }
    }
    return count;
}
""",
        },
        constants=({"T": 0}, {"T": 5}, {"T": 10}, {"T": 50}, {"T": 100}, {"T": -10}),
        cases=_count_above_cases,
        default="T",
    ),
    Family(
        "grade",
        ("letter_grade",),
        "Write a $lang function `$f(score)` that returns the letter grade: A from $A, B from $B, C from "
        "$C, D from $D, F below.",
        {
            "Python": """\
def $f(score):
    if score >= $A:
        return 'A'
    elif score >= $B:
        return 'B'
    elif score >= $C:
        return 'C'
    elif score >= $D:
        return 'D'
    return 'F'
""",
            "JavaScript": """\
function $f(score) {
  if (score >= $A) {
    return 'A';
  } else if (score >= $B) {
    return 'B';
  } else if (score >= $C) {
    return 'C';
  } else if (score >= $D) {
    return 'D';
  }
  return 'F';
}
""",
            "C": """\
char $f(int score) {
    if (score >= $A) {
        return 'A';
    } else if (score >= $B) {
        return 'B';
    } else if (score >= $C) {
        return 'C';
    } else if (score >= $D) {
        return 'D';
    }
    return 'F';
}
""",
        },
        constants=(
            {"A": 90, "B": 80, "C": 70, "D": 60},
            {"A": 85, "B": 70, "C": 55, "D": 40},
            {"A": 80, "B": 65, "C": 50, "D": 35},
            {"A": 75, "B": 60, "C": 45, "D": 30},
            {"A": 70, "B": 55, "C": 40, "D": 25},
            {"A": 95, "B": 85, "C": 75, "D": 65},
        ),
        cases=_grade_cases,
        result=Char,
    ),
    Family(
        "sum_multiples",
        ("sum_multiples",),
        "Write a $lang function `$f(limit, a, b)` that sums the numbers from 1 below limit divisible by "
        "a or b (defaults a = $A, b = $B where the language has default arguments).",
        {
            "Python": """\
def $f(limit, a=$A, b=$B):
    total = 0
    for i in range(1, limit):
        if i % a == 0 or i % b == 0:
            total += i
    return total
""",
            "JavaScript": """\
function $f(limit, a = $A, b = $B) {
  let total = 0;
  for (let i = 1; i < limit; i++) {
    if (i % a === 0 || i % b === 0) {
      total += i;
    }
  }
  return total;
}
""",
            "C": """\
long $f(int limit, int a, int b) {
    long total = 0;
    for (int i = 1; i < limit; i++) {
        if (i % a == 0 || i % b == 0) {
            total += i;
        }
    }
    return total;
}
""",
        },
        constants=(
            {"A": 3, "B": 5},
            {"A": 2, "B": 7},
            {"A": 4, "B": 6},
            {"A": 5, "B": 9},
            {"A": 6, "B": 10},
            {"A": 7, "B": 8},
        ),
        cases=_sum_multiples_cases,
        default="A,B",
    ),
    Family(
        "find_index",
        ("find_index", "index_of", "position_of", "locate", "first_position", "search_index"),
        "Write a $lang function `$f(xs, target)` that returns the index of the first element equal to "
        "target, or -1 when there is none (in C the list comes with its length).",
        {
            "Python": """\
def $f(xs, target):
    for i in range(len(xs)):
        if xs[i] == target:
            return i
    return -1
""",
            "JavaScript": """\
function $f(xs, target) {
  for (let i = 0; i < xs.length; i++) {
    if (xs[i] === target) {
      return i;
    }
  }
  return -1;
}
""",
            "C": """\
int $f(const int *xs, int n, int target) {
    for (int i = 0; i < n; i++) {
        if (xs[i] == target) {
            return i;
        }
    }
    return -1;
}
""",
        },
        cases=_search_cases,
    ),
    Family(
        "binary_search",
        ("binary_search", "bisect_find", "search_sorted", "sorted_index", "find_sorted", "halving_search"),
        "Write a $lang function `$f(xs, target)` that finds target in the sorted list xs by binary "
        "search and returns its index, or -1 (in C the list comes with its length).",
        {
            "Python": """\
def $f(xs, target):
    lo = 0
    hi = len(xs) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if xs[mid] == target:
            return mid
        if xs[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1
""",
            "JavaScript": """\
function $f(xs, target) {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (xs[mid] === target) {
      return mid;
    }
    if (xs[mid] < target) {
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return -1;
}
""",
            "C": """\
int $f(const int *xs, int n, int target) {
    int lo = 0;
    int hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (xs[mid] == target) {
            return mid;
        }
        if (xs[mid] < target) {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return -1;
}
""",
        },
        cases=_search_cases,
    ),
    Family(
        "leap_year",
        ("is_leap", "leap_year", "is_leap_year", "has_leap_day", "leap_check", "is_bissextile"),
        "Write a $lang function `$f(year)` that tells whether year is a Gregorian leap year.",
        {
            "Python": """\
def $f(year):
    if year % 400 == 0:
        return True
    if year % 100 == 0:
        return False
    return year % 4 == 0
""",
            "JavaScript": """\
function $f(year) {
  if (year % 400 === 0) {
    return true;
  }
  if (year % 100 === 0) {
    return false;
  }
  return year % 4 === 0;
}
""",
            "C": """\
int $f(int year) {
    if (year % 400 == 0) {
        return 1;
    }
    if (year % 100 == 0) {
        return 0;
    }
    return year % 4 == 0;
}
""",
        },
        cases=_leap_cases,
    ),
    Family(
        "power",
        ("power", "int_pow", "raise_to", "pow_int", "repeated_product", "exponentiate"),
        "Write a $lang function `$f(base, exp)` that raises base to a non-negative integer exponent "
        "with a loop; a negative exponent is an error.",
        {
            "Python": """\
def $f(base, exp):
    if exp < 0:
        raise ValueError('negative exponent')
    result = 1
    for _ in range(exp):
        result *= base
    return result
""",
            "JavaScript": """\
function $f(base, exp) {
  if (exp < 0) {
    throw new RangeError('negative exponent');
  }
  let result = 1;
  for (let i = 0; i < exp; i++) {
    result *= base;
  }
  return result;
}
""",
            "C": """\
long $f(long base, int exp) {
    if (exp < 0) {
        return -1;
    }
    long result = 1;
    for (int i = 0; i < exp; i++) {
        result *= base;
    }
    return result;
}
""",
        },
        cases=_power_cases,
        c_error="-1",
    ),
    Family(
        "digit_sum",
        ("digit_sum",),
        "Write a $lang function `$f(n)` that sums the digits of n written in base $B, ignoring its sign.",
        {
            "Python": """\
def $f(n):
    n = abs(n)
    total = 0
    while n > 0:
        total += n % $B
        n //= $B
    return total
""",
            "JavaScript": """\
function $f(n) {
  n = Math.abs(n);
  let total = 0;
  while (n > 0) {
    total += n % $B;
    n = Math.floor(n / $B);
  }
  return total;
}
""",
            "C": """\
int $f(int n) {
    if (n < 0) {
        n = -n;
    }
    int total = 0;
    while (n > 0) {
        total += n % $B;
        n /= $B;
    }
    return total;
}
""",
        },
        constants=({"B": 10}, {"B": 2}, {"B": 8}, {"B": 16}, {"B": 3}, {"B": 5}),
        cases=_digit_cases,
    ),
    Family(
        "count_chars",
        ("count_chars",),
        "Write a $lang function `$f(text)` that counts the characters of text, in either case, that are among '$V'.",
        {
            "Python": """\
def $f(text):
    count = 0
    for ch in text.lower():
        if ch in '$V':
            count += 1
    return count
""",
            "JavaScript": """\
function $f(text) {
  let count = 0;
  for (const ch of text.toLowerCase()) {
    if ('$V'.includes(ch)) {
      count += 1;
    }
  }
  return count;
}
""",
            "C": """\
#include <ctype.h>
#include <string.h>

int $f(const char *text) {
    int count = 0;
    for (int i = 0; text[i] != '\\0'; i++) {
        if (strchr("$V", tolower((unsigned char)text[i])) != NULL) {
            count += 1;
        }
    }
    return count;
}
""",
        },
        constants=({"V": "aeiou"}, {"V": "aeiouy"}, {"V": "xyz"}, {"V": "rstln"}, {"V": "qwerty"}, {"V": "bcd"}),
        cases=_count_chars_cases,
    ),
    Family(
        "longest_run",
        ("longest_run", "max_streak", "longest_plateau", "run_length", "longest_repeat", "longest_chain"),
        "Write a $lang function `$f(xs)` that returns the length of the longest run of equal adjacent "
        "values (0 for an empty list; in C the list comes with its length).",
        {
            "Python": """\
def $f(xs):
    if not xs:
        return 0
    best = 1
    current = 1
    for i in range(1, len(xs)):
        if xs[i] == xs[i - 1]:
            current += 1
            if current > best:
                best = current
        else:
            current = 1
    return best
""",
            "JavaScript": """\
function $f(xs) {
  if (xs.length === 0) {
    return 0;
  }
  let best = 1;
  let current = 1;
  for (let i = 1; i < xs.length; i++) {
    if (xs[i] === xs[i - 1]) {
      current += 1;
      if (current > best) {
        best = current;
      }
    } else {
      current = 1;
    }
  }
  return best;
}
""",
            "C": """\
int $f(const int *xs, int n) {
    if (n == 0) {
        return 0;
    }
    int best = 1;
    int current = 1;
    for (int i = 1; i < n; i++) {
        if (xs[i] == xs[i - 1]) {
            current += 1;
            if (current > best) {
                best = current;
            }
        } else {
            current = 1;
        }
    }
    return best;
}
""",
        },
        cases=_run_cases,
    ),
    Family(
        "order_total",
        ("order_total",),
        "Write a $lang function `$f(price, quantity)` that returns price times quantity, with a $P% "
        "discount (rounded down) from $Q items on.",
        {
            "Python": """\
def $f(price, quantity):
    total = price * quantity
    if quantity >= $Q:
        total = total * (100 - $P) // 100
    return total
""",
            "JavaScript": """\
function $f(price, quantity) {
  let total = price * quantity;
  if (quantity >= $Q) {
    total = Math.floor(total * (100 - $P) / 100);
  }
  return total;
}
""",
            "C": """\
long $f(long price, int quantity) {
    long total = price * quantity;
    if (quantity >= $Q) {
        total = total * (100 - $P) / 100;
    }
    return total;
}
""",
        },
        constants=(
            {"Q": 10, "P": 5},
            {"Q": 20, "P": 10},
            {"Q": 5, "P": 15},
            {"Q": 50, "P": 20},
            {"Q": 3, "P": 25},
            {"Q": 100, "P": 30},
        ),
        cases=_order_cases,
    ),
    Family(
        "gcd",
        ("gcd", "greatest_common_divisor", "common_factor", "euclid", "gcd_euclid", "highest_common_factor"),
        "Write a $lang function `$f(a, b)` that returns the greatest common divisor of a and b "
        "(non-negative, with gcd(n, 0) = |n|), by Euclid's algorithm.",
        {
            "Python": """\
def $f(a, b):
    a = abs(a)
    b = abs(b)
    while b != 0:
        a, b = b, a % b
    return a
""",
            "JavaScript": """\
function $f(a, b) {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) {
    const rest = a % b;
    a = b;
    b = rest;
  }
  return a;
}
""",
            "C": """\
int $f(int a, int b) {
    if (a < 0) {
        a = -a;
    }
    if (b < 0) {
        b = -b;
    }
    while (b != 0) {
        int rest = a % b;
        a = b;
        b = rest;
    }
    return a;
}
""",
        },
        cases=_gcd_cases,
    ),
    Family(
        "count_between",
        ("count_between",),
        "Write a $lang function `$f(xs, low, high)` that counts the values of xs in [low, high], both "
        "ends included (defaults low = $L, high = $H where the language has default arguments).",
        {
            "Python": """\
def $f(xs, low=$L, high=$H):
    count = 0
    for x in xs:
        if low <= x <= high:
            count += 1
    return count
""",
            "JavaScript": """\
function $f(xs, low = $L, high = $H) {
  let count = 0;
  for (const x of xs) {
    if (x >= low && x <= high) {
      count += 1;
    }
  }
  return count;
}
""",
            "C": """\
int $f(const int *xs, int n, int low, int high) {
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (xs[i] >= low && xs[i] <= high) {
            count += 1;
        }
    }
    return count;
}
""",
        },
        constants=(
            {"L": 0, "H": 10},
            {"L": -5, "H": 5},
            {"L": 1, "H": 100},
            {"L": 10, "H": 20},
            {"L": -10, "H": 0},
            {"L": 50, "H": 60},
        ),
        cases=_between_cases,
        default="L,H",
    ),
    Family(
        "fizzbuzz",
        ("fizzbuzz",),
        "Write a $lang function `$f(n, a, b)` that returns 'FizzBuzz' when n is divisible by a and b, "
        "'Fizz' by a only, 'Buzz' by b only, else n as a string (defaults a = $A, b = $B).",
        {
            "Python": """\
def $f(n, a=$A, b=$B):
    if n % a == 0 and n % b == 0:
        return 'FizzBuzz'
    if n % a == 0:
        return 'Fizz'
    if n % b == 0:
        return 'Buzz'
    return str(n)
""",
            "JavaScript": """\
function $f(n, a = $A, b = $B) {
  if (n % a === 0 && n % b === 0) {
    return 'FizzBuzz';
  }
  if (n % a === 0) {
    return 'Fizz';
  }
  if (n % b === 0) {
    return 'Buzz';
  }
  return String(n);
}
""",
        },
        constants=(
            {"A": 3, "B": 5},
            {"A": 2, "B": 7},
            {"A": 3, "B": 4},
            {"A": 5, "B": 6},
            {"A": 7, "B": 11},
            {"A": 2, "B": 3},
        ),
        cases=_fizzbuzz_cases,
        default="A,B",
    ),
)
"""The task families, in the order rows are built."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _value(value: object, language: str) -> str:
    """A literal of `value` in `language` (lists in C become a compound literal and its length)."""
    if isinstance(value, Char):
        return f"'{value.value}'" if language == "C" else repr(value.value)
    if isinstance(value, bool):
        return {"Python": repr(value), "JavaScript": str(value).lower()}.get(language, str(int(value)))
    if isinstance(value, list) and language == "C":
        items = ", ".join(map(str, value))
        return f"(const int[]){{{items}}}, {len(value)}" if value else "(const int *)0, 0"
    if isinstance(value, str):
        return json.dumps(value) if language != "Python" else repr(value)
    return repr(value) if language == "Python" else json.dumps(value)


def _expected(family: Family, solution: str, name: str, case: Case) -> object:
    """What the Python solution returns for `case` (`Raises` for a `ValueError`)."""
    namespace: dict = {}
    exec(compile(solution, f"<{family.name}>", "exec"), namespace)  # our own template code
    try:
        return family.result(namespace[name](*case))
    except ValueError:
        return Raises()


def _type_line(language: str, call: str, expected: object) -> str:
    kind = {bool: ("bool", "boolean"), int: ("int", "number"), str: ("str", "string"), Char: ("str", "string")}
    python, javascript = kind[type(expected)]
    if language == "Python":
        return f"    assert isinstance({call}, {python})"
    return f"  assert.strictEqual(typeof {call}, '{javascript}');"


def _test_line(language: str, call: str, expected: object, c_error: str) -> str:
    if isinstance(expected, Raises):
        if language == "Python":
            return (
                f"    try:\n        {call}\n    except ValueError:\n        pass\n"
                "    else:\n        raise AssertionError('expected a ValueError')"
            )
        if language == "JavaScript":
            return f"  assert.throws(() => {call}, RangeError);"
        return f"    assert({call} == {c_error});"
    literal = _value(expected, language)
    if language == "Python":
        return f"    assert {call} == {literal}"
    if language == "JavaScript":
        method = "deepStrictEqual" if isinstance(expected, list) else "strictEqual"
        return f"  assert.{method}({call}, {literal});"
    return f"    assert({call} == {literal});"


def render_tests(
    language: str, function: str, cases: list[tuple[Case, Case, object]], c_error: str, types_only: bool = False
) -> str:
    """The HumanEval-shaped tests of `cases` ((call args, C args, expected) triples).

    With `types_only` (Python and JavaScript), each call's result is checked for its type, not its value.
    """
    lines = []
    for call_args, c_args, expected in cases:
        args = c_args if language == "C" else call_args
        callee = function if language == "C" else "candidate"
        call = f"{callee}({', '.join(_value(a, language) for a in args)})"
        lines.append(
            _type_line(language, call, expected) if types_only else _test_line(language, call, expected, c_error)
        )
    body = "\n".join(lines)
    if language == "Python":
        return f"def check(candidate):\n{body}\n"
    if language == "JavaScript":
        return f"const assert = require('node:assert');\n\nfunction check(candidate) {{\n{body}\n}}\n"
    return f"#include <assert.h>\n\nint main(void) {{\n{body}\n    return 0;\n}}\n"


def family_rows(family: Family, variant: int, languages: tuple[str, ...] = LANGUAGES) -> list[dict]:
    """The rows of one variant of `family`, one per language it is written in."""
    constants = family.constants[variant % len(family.constants)]
    snake = family.names[variant % len(family.names)]
    coverage = COVERAGE[variant % len(COVERAGE)]
    cases = family.cases(random.Random(f"{family.name}:{variant}"), constants, coverage == "full")
    if coverage in ("smoke", "type"):
        cases = cases[:1]
    python = string.Template(family.code["Python"]).substitute(f=snake, **constants)
    defaults = [constants[key] for key in family.default.split(",")] if family.default else []
    arity = max(map(len, cases))
    checked = [
        (case, (*case, *defaults[len(defaults) - (arity - len(case)) :]), _expected(family, python, snake, case))
        for case in cases
    ]
    rows = []
    for language in languages:
        if language not in family.code or (coverage == "type" and language == "C"):
            continue
        name = _camel(snake) if language == "JavaScript" else snake
        solution = string.Template(family.code[language]).substitute(f=name, **constants)
        instruction = string.Template(family.instruction).substitute(lang=language, f=name, **constants)
        rows.append(
            {
                "instruction": instruction,
                "solution": solution,
                "language": language,
                "test": render_tests(language, name, checked, family.c_error, types_only=coverage == "type"),
                "entry_point": name,
                "family": family.name,
                "coverage": coverage,
            }
        )
    return rows


def build_tasks(languages: tuple[str, ...] = LANGUAGES, variants: int = VARIANTS) -> list[dict]:
    """Every row: variant by variant, family by family, language by language (the same on every run).

    Raises:
        ValueError: two rows share an instruction and a solution (and so a pair id).
    """
    rows = [row for v in range(variants) for family in FAMILIES for row in family_rows(family, v, languages)]
    if len({(row["instruction"], row["solution"]) for row in rows}) != len(rows):
        raise ValueError("two tasks share an instruction and a solution")
    return rows


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--out", help="write the JSONL rows here (default: standard output)")
    args = cli.parse_args()
    rows = build_tasks()
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        counts = {lang: sum(r["language"] == lang for r in rows) for lang in LANGUAGES}
        print(f"{len(rows)} tasks ({', '.join(f'{lang} {n}' for lang, n in counts.items())}) → {args.out}")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
