"""Tests for `transforms.code.mutations`: operators per language, determinism, reject reasons, properties."""

import json
import os
import random
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.code.mutations import (
    OPERATORS,
    REJECT_ADDS_COMMENT,
    REJECT_NO_DIFFERENCE,
    REJECT_REASONS,
    REJECT_STRUCTURE_CHANGED,
    REJECT_UNPARSEABLE,
    Mutant,
    Site,
    apply_site,
    find_sites,
    mutants,
    mutate,
    mutation_reject,
)
from transforms.code.parsing import GRAMMARS, parse_code


FIXTURES = {
    "C": """\
#include <stdbool.h>
#include <stddef.h>

/* Sums the first n readings above a threshold. */
static int clamp(int value, int low, int high)
{
    if (value < low)
        return low;
    return value > high ? high : value;
}

int sum_above(const int *readings, size_t n, int threshold, bool strict)
{
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        int r = readings[i];
        if (r >= threshold && (strict || r != 0)) {
            total += clamp(r, 0, 100) * 2;
        }
    }
    while (total > 1000) {
        total = total / 2;
        total -= 1;
    }
    return total;
}

const char *label(int score)
{
    if (score == 0)
        return NULL;
    return score > 50 ? "high" : "low";
}

bool is_valid(int x)
{
    return x % 2 == 0 || x > 10;
}
""",
    "C++": """\
#include <string>
#include <vector>

namespace stats {

// Returns the index of the first value above the limit, or -1.
int first_above(const std::vector<int>& values, int limit) {
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i] > limit && values[i] != 0) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

const char* grade(int score) {
    if (score < 0) {
        return nullptr;
    }
    return score >= 90 ? "A" : "B";
}

class Window {
public:
    explicit Window(int size) : size_(size) {}

    int total(const std::vector<int>& xs) const {
        int sum = 0;
        int count = 0;
        while (count < size_ || sum == 0) {
            sum += xs[count] * 3;
            count = count + 1;
        }
        return sum - offset(count, size_);
    }

    bool empty() const { return size_ == 0; }

private:
    static int offset(int a, int b) { return a / b; }
    int size_;
};

}  // namespace stats
""",
    "C#": """\
using System;
using System.Collections.Generic;

namespace Shop
{
    public static class Pricing
    {
        // Applies the bulk discount to every line total.
        public static decimal Total(IList<decimal> prices, int quantity, bool member)
        {
            decimal total = 0;
            for (int i = 0; i < prices.Count; i++)
            {
                total += prices[i] * quantity;
            }
            if (quantity >= 10 && member || total > 500)
            {
                total = total - Discount(total, quantity);
            }
            return total;
        }

        public static decimal Discount(decimal amount, int quantity)
        {
            return quantity > 20 ? amount / 10 : amount % 7;
        }

        public static string Tier(int points)
        {
            if (points == 0)
            {
                return null;
            }
            while (points > 1000)
            {
                points -= 1000;
                points = points / 2;
            }
            return points < 100 ? "basic" : "gold";
        }

        public static bool IsEligible(int age)
        {
            return age >= 18;
        }
    }
}
""",
    "Go": """\
package queue

import "errors"

// ErrEmpty is returned when popping an empty queue.
var ErrEmpty = errors.New("queue: empty")

type Queue struct {
	items []int
	limit int
}

func New(limit int) *Queue {
	if limit <= 0 {
		return nil
	}
	return &Queue{limit: limit}
}

// Push appends v and reports whether it fit.
func (q *Queue) Push(v int) bool {
	if len(q.items) >= q.limit || v < 0 {
		return false
	}
	q.items = append(q.items, v)
	return true
}

func (q *Queue) Pop() (int, error) {
	if len(q.items) == 0 {
		return 0, ErrEmpty
	}
	v := q.items[0]
	q.items = q.items[1:]
	return v, nil
}

func Sum(xs []int, n int) int {
	total := 0
	for i := 0; i < n; i++ {
		total += xs[i] * 2
		total = total - i/3
	}
	return scale(total, n)
}

func scale(value, factor int) int {
	return value*10 + factor
}

func max(a, b int) int {
	if a > b && a != 0 {
		return a
	}
	return b
}
""",
    "Java": """\
package com.acme.grades;

import java.util.List;

/** Computes simple statistics over student scores. */
public final class Scores {

    private final int passMark;

    public Scores(int passMark) {
        this.passMark = passMark;
    }

    public int countPassing(List<Integer> scores) {
        int count = 0;
        for (int i = 0; i < scores.size(); i++) {
            if (scores.get(i) >= passMark || scores.get(i) == 100) {
                count++;
            }
        }
        return count;
    }

    public double average(int[] values, int n) {
        int sum = 0;
        int k = 0;
        while (k < n && values[k] > 0) {
            sum += values[k] * 2;
            k = k + 1;
        }
        return n == 0 ? 0 : (double) sum / n - offset(sum, n);
    }

    public String best(List<String> names) {
        if (names.isEmpty()) {
            return null;
        }
        return names.get(0);
    }

    public boolean isPass(int score) {
        return score >= passMark;
    }

    private static int offset(int a, int b) {
        return a % b;
    }
}
""",
    "JavaScript": """\
'use strict';

// Pagination helpers for the list views.
function pageCount(total, size) {
  if (size <= 0 || total < 0) {
    return 0;
  }
  return Math.ceil(total / size);
}

function pageItems(items, page, size) {
  const start = page * size;
  const result = [];
  for (let i = start; i < start + size; i++) {
    if (i >= items.length && page !== 0) {
      break;
    }
    result.push(items[i]);
  }
  return result;
}

function findUser(users, id) {
  let index = 0;
  while (index < users.length) {
    if (users[index].id === id) {
      return users[index];
    }
    index = index + 1;
  }
  return null;
}

function isLastPage(page, total, size) {
  return page + 1 === pageCount(total, size) ? true : false;
}

module.exports = { pageCount, pageItems, findUser, isLastPage };
""",
    "Python": """\
\"\"\"Moving averages over sensor readings.\"\"\"

from typing import Optional


def moving_average(values: list[float], window: int) -> list[float]:
    \"\"\"Returns the mean of each full window.\"\"\"
    if window <= 0 or window > len(values):
        return []
    out = []
    total = sum(values[:window])
    out.append(total / window)
    for i in range(window, len(values)):
        total += values[i] - values[i - window]
        out.append(total / window)
    return out


def first_spike(values: list[float], limit: float) -> Optional[int]:
    index = 0
    while index < len(values):
        if values[index] > limit and not values[index] == 0:
            return index
        index = index + 1
    return None


def is_stable(values: list[float], tolerance: float = 0.5) -> bool:
    spread = max(values) - min(values) if values else 0
    return spread < tolerance * 2


def clamp(value: int, low: int, high: int) -> int:
    if value < low:
        return low
    return min(value, high)
""",
    "Ruby": """\
# frozen_string_literal: true

# Keeps a bounded history of recent scores.
class ScoreBoard
  def initialize(limit)
    @limit = limit
    @scores = []
  end

  def add(score)
    return false if score.negative? || @scores.size >= @limit

    @scores << score
    true
  end

  def top(count)
    sorted = @scores.sort.reverse
    sorted[0...count]
  end

  def average(window)
    total = 0
    (0...window).each do |i|
      total += @scores[i] * 2
    end
    total = total / window - 1
    total
  end

  def rank(score)
    position = 0
    while position < @scores.size && @scores[position] > score
      position += 1
    end
    position == 0 ? nil : position
  end

  def leader
    return nil if @scores.empty?

    find_best(@scores, 1)
  end

  def find_best(list, count)
    list.max(count).first
  end
end
""",
}
LANGUAGES = sorted(FIXTURES)


def _identifiers(code, language):
    tree, _ = parse_code(code, language)
    found, stack = set(), [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "identifier":
            found.add(node.text)
        stack.extend(node.children)
    return found


def _snippet(code, site):
    return code.encode()[site.start_byte : site.end_byte].decode()


# --- every operator in every language ---------------------------------------------------------


def test_fixtures_cover_the_target_languages_and_parse():
    assert set(FIXTURES) == set(GRAMMARS)
    for language, code in FIXTURES.items():
        assert not parse_code(code, language)[1].has_error, language


@pytest.mark.parametrize("operator", OPERATORS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_operator_applies_in_every_language(language, operator):
    code = FIXTURES[language]
    sites = find_sites(code, language, [operator])
    assert sites, f"{operator} found no site in {language}"
    assert all(s.operator == operator for s in sites)
    reasons = [mutation_reject(code, apply_site(code, s), language) for s in sites]
    assert any(r is None for r in reasons)
    # On these clean fixtures every site gives an acceptable mutant.
    assert [(s, r) for s, r in zip(sites, reasons, strict=True) if r] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_mutants_add_no_identifier(language):
    code = FIXTURES[language]
    names = _identifiers(code, language)
    for site in find_sites(code, language):
        assert _identifiers(apply_site(code, site), language) <= names, site


@pytest.mark.parametrize("language", LANGUAGES)
def test_sites_are_in_source_order_with_their_location(language):
    code = FIXTURES[language]
    sites = find_sites(code, language)
    assert sites == find_sites(code, language)
    assert [(s.start_byte, s.end_byte) for s in sites] == sorted((s.start_byte, s.end_byte) for s in sites)
    assert len(set(sites)) == len(sites)
    lines = code.encode().split(b"\n")
    for site in sites:
        assert isinstance(site, Site)
        before = b"\n".join(lines[: site.line - 1])
        assert site.start_byte == len(before) + (1 if site.line > 1 else 0) + site.column


# --- what each operator does --------------------------------------------------------------------


def _replacements(code, language, operator):
    return [(_snippet(code, s), s.replacement) for s in find_sites(code, language, [operator])]


def test_relational_flip_leaves_templates_shifts_arrows_and_strings_alone():
    cpp = "int f(std::vector<int> v, int a) { auto p = &v; int s = a << 2; return p->size() < a ? s : 0; }\n"
    assert _replacements(cpp, "C++", "relational_flip") == [("<", ">")]
    js = 'const f = (a, b) => a >= b; const s = "a < b"; // a == b\n'
    assert _replacements(js, "JavaScript", "relational_flip") == [(">=", "<=")]
    java = "class A { List<String> xs; boolean f(int a) { return a != 1; } }\n"
    assert _replacements(java, "Java", "relational_flip") == [("!=", "==")]
    py = "def f(a, b):\n    return a is None or b not in a\n"
    assert _replacements(py, "Python", "relational_flip") == [("is", "is not"), ("not in", "in")]


def test_arithmetic_swap_skips_string_concatenation_and_collections():
    js = "function f(a, b) { return 'x' + a + (a - b) * 2; }\n"
    assert _replacements(js, "JavaScript", "arithmetic_swap") == [("-", "+"), ("*", "/")]
    py = "def f(a, n):\n    s = '-' * n\n    t = [0] * n\n    s += 'x'\n    return a // n + a % n\n"
    assert _replacements(py, "Python", "arithmetic_swap") == [("//", "/"), ("+", "-"), ("%", "*")]
    go = "package p\n\nfunc f(a, b int) int {\n\ta += b\n\treturn a\n}\n"
    assert _replacements(go, "Go", "arithmetic_swap") == [("+=", "-=")]


def test_boundary_off_by_one_shifts_indices_bounds_and_ranges():
    py = "def f(xs, n):\n    for i in range(n):\n        xs[i] = xs[i + 1]\n    return xs[1:n]\n"
    got = _replacements(py, "Python", "boundary_off_by_one")
    assert ("n", "n + 1") in got and ("n", "n - 1") in got  # range stop and slice end
    assert ("i", "i + 1") in got and ("i", "i - 1") in got  # subscript
    assert ("i + 1", "i + 2") in got and ("i + 1", "i") in got  # `i + 1` ± 1 is rewritten, not stacked
    assert ("1", "0") in got and ("1", "2") in got  # slice start
    c = "int f(int *xs, int n) { int s = 0; for (int i = 0; i < n; i++) s += xs[i]; return s; }\n"
    got = _replacements(c, "C", "boundary_off_by_one")
    assert ("<", "<=") in got and ("n", "n + 1") in got and ("n", "n - 1") in got and ("i", "i + 1") in got
    rb = "def f(xs, n)\n  (0..n).map { |i| xs[i] }\nend\n"
    got = _replacements(rb, "Ruby", "boundary_off_by_one")
    assert ("..", "...") in got and ("i", "i + 1") in got
    js = "function f(m, key) { return m[key]; }\n"  # a map lookup, not an index
    assert _replacements(js, "JavaScript", "boundary_off_by_one") == []


def test_negate_condition_wraps_or_unwraps():
    c = "int f(int a, int b) { if (!(a > b)) return 1; while (a) a--; return a > 0 ? a : b; }\n"
    assert _replacements(c, "C", "negate_condition") == [("!(a > b)", "a > b"), ("a", "!a"), ("a > 0", "!(a > 0)")]
    py = "def f(a, b):\n    if not a:\n        return 1\n    elif a and b:\n        return 2\n    return a if b else 0"
    got = _replacements(py, "Python", "negate_condition")
    assert got == [("not a", "a"), ("a and b", "not (a and b)"), ("b", "not b")]
    go = "package p\n\nfunc f(a, b int) bool {\n\tif x := a + b; x > 3 {\n\t\treturn true\n\t}\n\treturn false\n}\n"
    assert _replacements(go, "Go", "negate_condition") == [("x > 3", "!(x > 3)")]
    rb = "def f(a)\n  return 1 unless a.empty?\n  a.size > 2 ? 3 : 4\nend\n"
    assert _replacements(rb, "Ruby", "negate_condition") == [("a.empty?", "!a.empty?"), ("a.size > 2", "!(a.size > 2)")]


def test_logical_swap_uses_each_languages_operators():
    assert _replacements("x = a and (b or c)\n", "Python", "logical_swap") == [("and", "or"), ("or", "and")]
    assert _replacements("x = a && b || c\n", "Ruby", "logical_swap") == [("&&", "||"), ("||", "&&")]
    assert _replacements("x = a and b\n", "Ruby", "logical_swap") == [("and", "or")]


def test_constant_change_skips_strings_comments_imports_annotations_and_sizes():
    java = '@Retry(times = 3)\nclass A { int f() { String s = "7"; return 0 + 41; } } // 5\n'
    assert _replacements(java, "Java", "constant_change") == [("0", "1"), ("41", "42")]
    c = "#include <stdio.h>\n#define N 8\nint f(void) { char buf[16]; return true ? 1 : 2; }\n"
    assert _replacements(c, "C", "constant_change") == [("true", "false"), ("1", "0"), ("2", "3")]
    py = "import os\n\n\n@cache(size=4)\ndef f(x: Tuple[int, 3]) -> bool:\n    return x + 1 > 0 or False\n"
    assert _replacements(py, "Python", "constant_change") == [("1", "2"), ("0", "1"), ("False", "True")]


def test_return_value_change_keeps_the_kind():
    py = "def f(x):\n    if x:\n        return True\n    if x > 3:\n        return x > 9\n    return 0\n"
    assert _replacements(py, "Python", "return_value_change") == [
        ("True", "False"),
        ("x > 9", "not (x > 9)"),
        ("0", "1"),
    ]
    # Typed languages get null only where another return already returns null.
    java = "class A { String f(String s) { if (s == null) return null; return s.trim(); } int g(A p) { return p.n; } }"
    assert _replacements(java, "Java", "return_value_change") == [("s.trim()", "null")]
    c = "char *f(char *s) { if (!s) return NULL; return s + 1; }\nint g(int a) { return a; }\n"
    assert _replacements(c, "C", "return_value_change") == [("s + 1", "NULL")]
    # Dynamic languages get null where the function has another non-null return.
    js = "function f(a) { if (a) { return a.x; } return a.y; }\nfunction g(a) { return a.z; }\n"
    assert _replacements(js, "JavaScript", "return_value_change") == [("a.x", "null"), ("a.y", "null")]


def test_delete_statement_keeps_used_declarations_returns_and_python_indentation():
    py = (
        "def f(xs):\n"
        '    """Doc."""\n'
        "    total = 0\n"
        "    log.info('start')\n"
        "    for x in xs:\n"
        "        total += x\n"
        "        total *= 2\n"
        "    return total\n"
    )
    sites = find_sites(py, "Python", ["delete_statement"])
    assert [_snippet(py, s) for s in sites] == ["        total += x\n", "        total *= 2\n"]
    for site in sites:
        assert mutation_reject(py, apply_site(py, site), "Python") is None
    c = "int f(int a) { int b = a * 2; int unused = 3; a += 1; return b; }\n"
    assert [_snippet(c, s) for s in find_sites(c, "C", ["delete_statement"])] == ["int unused = 3; ", "a += 1; "]
    js = "function f(a, b) {\n  a++; /* x */ b++;\n  b--; // y\n  return a + b;\n}\n"
    assert [_snippet(js, s) for s in find_sites(js, "JavaScript", ["delete_statement"])] == [
        "a++; ",
        "b++;",
        "  b--; // y\n",
    ]
    rb = "def f(a)\n  a += 1\n  a *= 2\n  a\nend\n"
    assert [_snippet(rb, s) for s in find_sites(rb, "Ruby", ["delete_statement"])] == ["  a += 1\n", "  a *= 2\n"]


def test_swap_call_arguments_only_swaps_distinct_positional_arguments():
    py = "r = f(a, b, c=1)\ng(x, x)\nh(name, 'fmt')\nprint(a, b)\n"
    assert _replacements(py, "Python", "swap_call_arguments") == [("a, b", "b, a")]
    cs = "class A { void F() { G(a, b, name: c); } }\n"
    assert _replacements(cs, "C#", "swap_call_arguments") == [("a, b", "b, a")]
    go = "package p\n\nfunc f() {\n\tcopy(dst, src)\n\tys := append(xs, y)\n\t_ = ys\n}\n"
    assert _replacements(go, "Go", "swap_call_arguments") == [("dst, src", "src, dst")]


def test_swap_skips_lambdas_formatters_and_mixed_kinds():
    go = (
        'package p\n\nfunc f() {\n\tsort.Slice(xs, func(i, j int) bool { return i < j })\n\tfmt.Errorf("%d", a, b)\n}\n'
    )
    assert _replacements(go, "Go", "swap_call_arguments") == []
    js = "s.replace(/a/g, 'b');\ns.replace('a', 'b');\n"
    assert _replacements(js, "JavaScript", "swap_call_arguments") == [("'a', 'b'", "'b', 'a'")]


def test_python_main_guard_is_never_mutated():
    py = 'def main():\n    return 0\n\n\nif __name__ == "__main__":\n    main()\n'
    assert {s.operator for s in find_sites(py, "Python")} == {"constant_change", "return_value_change"}


# --- mutate: determinism ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_mutate_is_deterministic_and_valid(language):
    code = FIXTURES[language]
    first = mutate(code, language, "pair-1")
    assert isinstance(first, Mutant)
    assert first == mutate(code, language, "pair-1")
    assert mutation_reject(code, first.code, language) is None
    assert first.operator in OPERATORS
    line = code.splitlines()[first.line - 1]
    assert first.before in code and (first.before.strip() == "" or first.before.strip().split("\n")[0] in line + "\n")


@pytest.mark.parametrize("language", LANGUAGES)
def test_mutants_start_with_mutates_answer_and_are_distinct_and_valid(language):
    code = FIXTURES[language]
    found = mutants(code, language, "pair-1", limit=12)
    assert found[0] == mutate(code, language, "pair-1")
    assert 1 < len(found) <= 12 and len({m.code for m in found}) == len(found)
    assert all(mutation_reject(code, m.code, language) is None for m in found)
    assert found == mutants(code, language, "pair-1", limit=12)
    assert mutants(code, language, "pair-1", limit=3) == found[:3]
    with pytest.raises(ValueError, match="limit"):
        mutants(code, language, "pair-1", limit=0)


@pytest.mark.parametrize("language", LANGUAGES)
def test_different_seeds_usually_pick_different_sites(language):
    code = FIXTURES[language]
    mutants = [mutate(code, language, f"seed-{i}") for i in range(20)]
    assert len({(m.operator, m.line, m.column, m.after) for m in mutants}) >= 10
    assert len({m.operator for m in mutants}) >= 5  # operators are drawn first, so all get a turn


def test_mutate_is_the_same_in_fresh_processes_with_other_hash_seeds():
    script = (
        "import json, sys; sys.path.insert(0, 'tests/transforms/code'); import test_mutations as t; "
        "from transforms.code.mutations import mutate; "
        "print(json.dumps({k: mutate(v, k, 's1') for k, v in t.FIXTURES.items()}))"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    runs = [
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    here = {k: list(mutate(v, k, "s1")) for k, v in FIXTURES.items()}
    assert json.loads(runs[0]) == here


def test_mutate_does_not_touch_the_global_rng():
    random.seed(1234)
    state = random.getstate()
    mutate(FIXTURES["Python"], "Python", "x")
    assert random.getstate() == state


def test_mutate_respects_the_operator_subset_and_returns_none_without_sites():
    code = FIXTURES["Go"]
    for seed in ("a", "b", "c"):
        assert mutate(code, "Go", seed, ("logical_swap",)).operator == "logical_swap"
    assert mutate("package p\n", "Go", "a") is None
    assert mutate("x = 'a'\n", "Python", "a", ("swap_call_arguments",)) is None


def test_unknown_operator_or_language_raises():
    with pytest.raises(ValueError, match="unknown mutation operators"):
        find_sites("x = 1\n", "Python", ["typo"])
    with pytest.raises(ValueError):
        mutate("x = 1\n", "Cobol", "s")


def test_apply_site_works_on_bytes():
    code = 'def f():\n    s = "é"\n    return 1 < 2\n'
    site = find_sites(code, "Python", ["relational_flip"])[0]
    assert apply_site(code, site) == 'def f():\n    s = "é"\n    return 1 > 2\n'
    with pytest.raises(ValueError):
        apply_site(code, site._replace(end_byte=10_000))


# --- mutation_reject ----------------------------------------------------------------------------


_SAME, _COMMENT, _SHAPE = REJECT_NO_DIFFERENCE, REJECT_ADDS_COMMENT, REJECT_STRUCTURE_CHANGED


def test_reject_reasons_are_the_documented_ones():
    assert REJECT_REASONS == ("unparseable", "no_difference", "adds_comment", "structure_changed")


@pytest.mark.parametrize(
    ("language", "original", "mutated", "reason"),
    [
        ("C", "int f(int a) { return a < 1; }\n", "int f(int a) { return a > 1; }\n", None),
        ("C", "int f(int a) { return a < 1; }\n", "int f(int a) { return a < ; }\n", REJECT_UNPARSEABLE),
        ("Python", "def f(a):\n    return a\n", "def f(a):\n    return (a\n", REJECT_UNPARSEABLE),
        ("Go", "package p\n\nfunc f() int { return 1 }\n", "package p\n\nfunc f() int {\n\treturn   1\n}\n", _SAME),
        ("Java", "class A { int f() { return 1; } }\n", "class A { int f() { /* hm */ return 1; } }\n", _SAME),
        ("Python", "def f(a):\n    return a + 1\n", "def f(a):\n    return a - 1  # off by two\n", _COMMENT),
        ("Ruby", "def f(a)\n  a + 1\nend\n", "def f(a)\n  # bug here\n  a - 1\nend\n", _COMMENT),
        (
            "JavaScript",
            "function f() { return 1; }\nfunction g() { return 2; }\n",
            "function f() { return 1; }\n",
            _SHAPE,
        ),
        ("C#", "class A { int F() { return 1; } }\n", "class A { int G() { return 2; } }\n", _SHAPE),
        (
            "C++",
            "int f() { return 1; }\nint g() { return 2; }\n",
            "int g() { return 2; }\nint f() { return 1; }\n",
            _SHAPE,
        ),
    ],
)
def test_mutation_reject_reasons(language, original, mutated, reason):
    assert mutation_reject(original, mutated, language) == reason


def test_mutation_reject_sees_python_indentation_and_string_whitespace():
    original = "def f(a):\n    if a:\n        a += 1\n        a *= 2\n    return a\n"
    dedented = "def f(a):\n    if a:\n        a += 1\n    a *= 2\n    return a\n"
    assert mutation_reject(original, dedented, "Python") is None
    assert mutation_reject('x = "a b"\n', 'x = "a  b"\n', "Python") is None


def test_mutation_reject_only_counts_new_syntax_errors():
    broken = "int f( { return 1 < 2; }\n"
    assert mutation_reject(broken, broken.replace("<", ">"), "C") is None
    assert mutation_reject(broken, broken.replace("return", "return ("), "C") == REJECT_UNPARSEABLE


def test_mutation_reject_allows_removing_or_moving_comments():
    original = "def f(a):\n    # add one\n    return a + 1\n"
    assert mutation_reject(original, "def f(a):\n    return a - 1\n", "Python") is None


# --- property: random programs from a per-language template grammar ----------------------------

_VARS = ("a", "b", "n")


def _random_expr(rng, depth=0):
    roll = rng.random()
    if depth >= 2 or roll < 0.5:
        kind = rng.choice(("lit", "var", "idx"))
        return (kind, rng.randrange(13)) if kind == "lit" else (kind, rng.choice(_VARS))
    if roll < 0.85:
        return ("bin", rng.choice("+-*/%"), _random_expr(rng, depth + 1), _random_expr(rng, depth + 1))
    return ("call", _random_expr(rng, depth + 1), _random_expr(rng, depth + 1))


def _random_cond(rng, depth=0):
    roll = rng.random()
    if depth >= 2 or roll < 0.6:
        return ("cmp", rng.choice(("<", "<=", ">", ">=", "==", "!=")), _random_expr(rng, 1), _random_expr(rng, 1))
    if roll < 0.85:
        return ("logic", rng.choice(("and", "or")), _random_cond(rng, depth + 1), _random_cond(rng, depth + 1))
    return ("not", _random_cond(rng, depth + 1))


def _random_stmts(rng, depth, low, high):
    return [_random_stmt(rng, depth) for _ in range(rng.randint(low, high))]


def _random_stmt(rng, depth=0):
    roll = rng.random()
    if depth >= 2 or roll < 0.55:
        kind = rng.choice(("assign", "assign", "call", "return"))
        if kind == "assign":
            return ("assign", rng.choice("ab"), _random_expr(rng))
        return ("call", _random_expr(rng), _random_expr(rng)) if kind == "call" else ("return", _random_expr(rng))
    if roll < 0.75:
        return ("if", _random_cond(rng), _random_stmts(rng, depth + 1, 1, 3), _random_stmts(rng, depth + 1, 0, 2))
    if roll < 0.9:
        return ("while", _random_cond(rng), _random_stmts(rng, depth + 1, 1, 3))
    return ("for", _random_expr(rng), _random_stmts(rng, depth + 1, 1, 3))


def _random_program(seed):
    """A program of the template grammar: statements, then a final value or boolean expression."""
    rng = random.Random(seed)
    return _random_stmts(rng, 0, 1, 5), (_random_cond(rng) if rng.random() < 0.4 else _random_expr(rng))


class _Render:
    """Renders the template grammar in one language (C-like syntax by default)."""

    AND, OR, NOT, CALL = "&&", "||", "!", "g"
    HEAD = "int g(int x, int y) { return x - y; }\n\n"
    FUNC = "{ret} f(int a, int b, int n, int *xs) {{\n{body}}}\n"
    FOR = "for (int i = 0; i < {bound}; i++) {{"
    IF, WHILE, ELSE, END = "if ({c}) {{", "while ({c}) {{", "} else {", "}"
    INDENT, SEMI, RETURN, BOOL, INT = "    ", ";", "return {e}", "int", "int"
    DEPTH = 1

    def expr(self, e):
        kind = e[0]
        if kind == "lit":
            return str(e[1])
        if kind == "var":
            return e[1]
        if kind == "idx":
            return f"xs[{e[1]}]"
        if kind == "bin":
            return f"({self.expr(e[2])} {e[1]} {self.expr(e[3])})"
        return f"{self.CALL}({self.expr(e[1])}, {self.expr(e[2])})"

    def cond(self, c):
        if c[0] == "cmp":
            return f"({self.expr(c[2])} {c[1]} {self.expr(c[3])})"
        if c[0] == "logic":
            return f"({self.cond(c[2])} {self.AND if c[1] == 'and' else self.OR} {self.cond(c[3])})"
        return f"{self.NOT}{self.cond(c[1])}"

    def stmt(self, s, depth):
        pad = self.INDENT * depth
        kind = s[0]
        if kind == "assign":
            return [f"{pad}{s[1]} = {self.expr(s[2])}{self.SEMI}"]
        if kind == "call":
            return [f"{pad}{self.CALL}({self.expr(s[1])}, {self.expr(s[2])}){self.SEMI}"]
        if kind == "return":
            return [pad + self.RETURN.format(e=self.expr(s[1])) + self.SEMI]
        if kind == "for":
            head, body = self.FOR.format(bound=self.expr(s[1])), s[2]
        else:
            head, body = (self.IF if kind == "if" else self.WHILE).format(c=self.cond(s[1])), s[2]
        lines = [pad + head] + [line for b in body for line in self.stmt(b, depth + 1)]
        if kind == "if" and s[3]:
            lines += [pad + self.ELSE] + [line for b in s[3] for line in self.stmt(b, depth + 1)]
        return [*lines, pad + self.END] if self.END else lines

    def program(self, p):
        stmts, tail = p
        is_bool = tail[0] in ("cmp", "logic", "not")
        last = self.cond(tail) if is_bool else self.expr(tail)
        body = [line for s in stmts for line in self.stmt(s, self.DEPTH)]
        body.append(self.INDENT * self.DEPTH + self.RETURN.format(e=last) + self.SEMI)
        ret = self.BOOL if is_bool else self.INT
        return self.HEAD + self.FUNC.format(ret=ret, body="".join(line + "\n" for line in body))


class _RenderCpp(_Render):
    FUNC = "{ret} f(int a, int b, int n, const std::vector<int>& xs) {{\n{body}}}\n"
    BOOL = "bool"


class _RenderCSharp(_Render):
    HEAD = "class P\n{\n    static int G(int x, int y) { return x - y; }\n\n"
    FUNC = "    static {ret} F(int a, int b, int n, int[] xs) {{\n{body}    }}\n}}\n"
    CALL, BOOL, DEPTH = "G", "bool", 2


class _RenderJava(_RenderCSharp):
    HEAD = "class P {\n    static int g(int x, int y) { return x - y; }\n\n"
    FUNC = "    static {ret} f(int a, int b, int n, int[] xs) {{\n{body}    }}\n}}\n"
    CALL, BOOL = "g", "boolean"


class _RenderJavaScript(_Render):
    HEAD = "function g(x, y) {\n  return x - y;\n}\n\n"
    FUNC = "function f(a, b, n, xs) {{\n{body}}}\n"
    FOR = "for (let i = 0; i < {bound}; i++) {{"
    INDENT = "  "


class _RenderGo(_Render):
    HEAD = "package p\n\nfunc g(x int, y int) int {\n\treturn x - y\n}\n\n"
    FUNC = "func f(a int, b int, n int, xs []int) {ret} {{\n{body}}}\n"
    FOR = "for i := 0; i < {bound}; i++ {{"
    IF, WHILE = "if {c} {{", "for {c} {{"
    INDENT, SEMI, BOOL = "\t", "", "bool"


class _RenderPython(_Render):
    AND, OR, NOT = "and", "or", "not "
    HEAD = "def g(x, y):\n    return x - y\n\n\n"
    FUNC = "def f(a, b, n, xs):\n{body}"
    FOR = "for i in range({bound}):"
    IF, WHILE, ELSE, END = "if {c}:", "while {c}:", "else:", None
    SEMI = ""


class _RenderRuby(_RenderPython):
    AND, OR, NOT = "&&", "||", "!"
    HEAD = "def g(x, y)\n  x - y\nend\n\n"
    FUNC = "def f(a, b, n, xs)\n{body}end\n"
    FOR = "(0...{bound}).each do |i|"
    IF, WHILE, ELSE, END = "if {c}", "while {c}", "else", "end"
    INDENT = "  "


_RENDERERS = {
    "C": _Render(),
    "C#": _RenderCSharp(),
    "C++": _RenderCpp(),
    "Go": _RenderGo(),
    "Java": _RenderJava(),
    "JavaScript": _RenderJavaScript(),
    "Python": _RenderPython(),
    "Ruby": _RenderRuby(),
}


@pytest.mark.parametrize("language", LANGUAGES)
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program_seed=st.integers(0, 2**32), seed=st.text(max_size=8))
def test_mutate_property_on_generated_programs(language, program_seed, seed):
    code = _RENDERERS[language].program(_random_program(program_seed))
    assert not parse_code(code, language)[1].has_error, code
    mutant = mutate(code, language, seed)
    assert mutant is not None  # every generated program has at least a comparison or a literal
    assert mutant == mutate(code, language, seed)
    assert not parse_code(mutant.code, language)[1].has_error
    assert mutant.code != code
    assert mutation_reject(code, mutant.code, language) is None
    assert _identifiers(mutant.code, language) <= _identifiers(code, language)


@pytest.mark.parametrize("language", LANGUAGES)
@settings(max_examples=15, derandomize=True, deadline=None)
@given(cut=st.tuples(st.floats(0, 1), st.floats(0, 1)), seed=st.text(max_size=4))
def test_mutate_never_raises_on_broken_code(language, cut, seed):
    code = FIXTURES[language]
    a, b = sorted(int(x * len(code)) for x in cut)
    broken = code[:a] + code[b:]
    find_sites(broken, language)
    mutant = mutate(broken, language, seed)
    assert mutant is None or mutation_reject(broken, mutant.code, language) is None
