import subprocess
import sys

import pytest

from schemas.records import PairRecord, RejectRecord
from transforms.code.functions import (
    FunctionChange,
    FunctionSpan,
    changed_functions,
    extract_functions,
    focused_pairs,
    focused_snippet,
    function_pairs,
)
from transforms.code.parsing import parse_code


PYTHON = '''import functools


def top(x):
    key = lambda v: -v
    return sorted(x, key=key)


class Cache(Base):  # a comment in the header
    """A cache."""

    def __init__(self, size):
        self.size = size

    def get(self, k):
        def miss():
            return None
        return self.d.get(k) or miss()

    @property
    def n(self):
        return self.size

    @n.setter
    def n(self, v):
        self.size = v

    class Entry:
        def touch(self):
            pass


@functools.cache
def outer():
    def inner():
        def innermost():
            return 1
        return innermost()
    return inner
'''

JAVASCRIPT = """import x from "y";

export function render(items) {
  const total = items.reduce((a, b) => a + b, 0);
  function format(n) {
    return `${n}`;
  }
  items.forEach(function (item) { console.log(item); });
  return format(total);
}

const double = (n) => n * 2;
const handler = async function (req) { return req; };
function* ids() { yield 1; }

class Store extends Base {
  constructor(db) { super(); this.db = db; }
  get size() { return this.db.size; }
  set size(v) { this.db.size = v; }
  static create() { return new Store(null); }
  *[Symbol.iterator]() { yield* this.db; }
  onChange = () => { this.emit(); };
}

Store.prototype.legacy = function () { return 1; };

module.exports = {
  parse(text) { return JSON.parse(text); },
  stringify: (v) => JSON.stringify(v),
};
"""

JAVA = """package demo;

import java.util.*;

/** Javadoc. */
public class Repo<T> extends Base {
  private final List<T> items = new ArrayList<>();

  public Repo() { this(10); }
  public Repo(int capacity) { super(capacity); }

  public int size() { return items.size(); }
  public int size(boolean live) { return live ? items.size() : 0; }

  public Comparator<T> order() {
    Runnable r = () -> System.out.println("x");
    return new Comparator<T>() {
      @Override
      public int compare(T a, T b) { return 0; }
    };
  }

  abstract static class Node { abstract void visit(); void leave() {} }

  interface Listener { default void on() {} void off(); }

  enum Kind { A, B; boolean first() { return this == A; } }

  record Pair(int a, int b) { Pair { assert a <= b; } int sum() { return a + b; } }
}
"""

CSHARP = """using System;

namespace Shop.Orders
{
    /// <summary>Orders.</summary>
    [Serializable]
    public class OrderService : IService
    {
        public OrderService(IRepo repo) { _repo = repo; }
        ~OrderService() { }

        public decimal Total(Order o)
        {
            decimal Tax(decimal v) => v * 0.2m;
            Func<decimal, decimal> round = v => Math.Round(v, 2);
            return round(o.Net + Tax(o.Net));
        }

        public decimal Total(Order o, decimal discount) => Total(o) - discount;
        public static Money operator +(OrderService s, Money m) { return m; }
        public int Count { get { return 0; } }
        public abstract void Reset();
    }

    struct Point { public int Len() { return 0; } }
    interface IService { void Run() { } }
}
"""

GO = """package server

import "net/http"

type Server struct{ addr string }

// Start runs the server.
func (s *Server) Start() error {
\thandler := func(w http.ResponseWriter, r *http.Request) {}
\treturn http.ListenAndServe(s.addr, http.HandlerFunc(handler))
}

func (s Server) Addr() string { return s.addr }

func (Server) Kind() string { return "http" }

func (c *Cache[K]) Get(k K) {}

func New(addr string) *Server { return &Server{addr: addr} }

func init() {}

func init() { _ = 1 }

func assembly()
"""

C = """#include <stdlib.h>
#include <string.h>

/* Block comment. */
static int cmp(const void *a, const void *b) { return *(int *)a - *(int *)b; }

char *dup(const char *s)
{
    char *p = malloc(strlen(s) + 1);
    return p ? strcpy(p, s) : NULL;
}

int (*pick(int k))(const void *, const void *) { return cmp; }

int proto(int x);

int main(void)
{
    int v[] = {3, 1, 2};
    qsort(v, 3, sizeof v[0], pick(0));
    return 0;
}
"""

CPP = """#include <vector>

namespace net {

template <typename T>
class Conn : public Base {
 public:
  explicit Conn(int fd) : fd_(fd) {}
  ~Conn() { close(fd_); }
  int send(const T& msg) { return write(fd_, msg); }
  int send(const T& msg, int flags) { return write(fd_, msg, flags); }
  template <typename U> U as() const { return static_cast<U>(fd_); }
  bool operator==(const Conn& o) const { return fd_ == o.fd_; }
  void flush();
  Conn(const Conn&) = delete;

 private:
  int fd_;
};

template <typename T>
void Conn<T>::flush() {
  auto done = [this](int n) { return n == 0; };
  done(0);
}

int free_fn(int x) { return x; }

}  // namespace net

template <typename T>
T clamp(T v, T lo, T hi) { return v < lo ? lo : (v > hi ? hi : v); }

struct Point { int x, y; int norm() const { return x * x + y * y; } };

int Point2::norm2() const { return 0; }
"""

RUBY = """require "json"

module Billing
  class Invoice < Base
    def initialize(lines)
      @lines = lines
    end

    def total
      @lines.sum { |l| l.amount }
    end

    def each_line
      @lines.each do |l|
        yield l
      end
    end

    def self.build(data)
      new(JSON.parse(data))
    end

    class << self
      def empty
        new([])
      end
    end

    private

    def tax = total * 0.2
  end

  def self.version
    "1.0"
  end
end

def helper(x)
  square = ->(v) { v * v }
  square.(x)
end
"""

FIXTURES = {"Python": PYTHON, "JavaScript": JAVASCRIPT, "Java": JAVA, "C#": CSHARP}
FIXTURES |= {"Go": GO, "C": C, "C++": CPP, "Ruby": RUBY}

EXPECTED = {
    "Python": [
        ("top", "function"),
        ("Cache.__init__", "constructor"),
        ("Cache.get", "method"),
        ("Cache.get.miss", "function"),
        ("Cache.n", "method"),
        ("Cache.n#2", "method"),
        ("Cache.Entry.touch", "method"),
        ("outer", "function"),
        ("outer.inner", "function"),
        ("outer.inner.innermost", "function"),
    ],
    "JavaScript": [
        ("render", "function"),
        ("render.format", "function"),
        ("double", "function"),
        ("handler", "function"),
        ("ids", "function"),
        ("Store.constructor", "constructor"),
        ("Store.size", "method"),
        ("Store.size#2", "method"),
        ("Store.create", "method"),
        ("Store.[Symbol.iterator]", "method"),
        ("Store.onChange", "method"),
        ("Store.prototype.legacy", "method"),
        ("module.exports.parse", "method"),
        ("module.exports.stringify", "method"),
    ],
    "Java": [
        ("Repo.Repo", "constructor"),
        ("Repo.Repo#2", "constructor"),
        ("Repo.size", "method"),
        ("Repo.size#2", "method"),
        ("Repo.order", "method"),
        ("Repo.order.compare", "method"),
        ("Repo.Node.leave", "method"),
        ("Repo.Listener.on", "method"),
        ("Repo.Kind.first", "method"),
        ("Repo.Pair.Pair", "constructor"),
        ("Repo.Pair.sum", "method"),
    ],
    "C#": [
        ("Shop.Orders.OrderService.OrderService", "constructor"),
        ("Shop.Orders.OrderService.~OrderService", "method"),
        ("Shop.Orders.OrderService.Total", "method"),
        ("Shop.Orders.OrderService.Total.Tax", "function"),
        ("Shop.Orders.OrderService.Total#2", "method"),
        ("Shop.Orders.OrderService.operator+", "method"),
        ("Shop.Orders.Point.Len", "method"),
        ("Shop.Orders.IService.Run", "method"),
    ],
    "Go": [
        ("(*Server).Start", "method"),
        ("Server.Addr", "method"),
        ("Server.Kind", "method"),
        ("(*Cache).Get", "method"),
        ("New", "function"),
        ("init", "function"),
        ("init#2", "function"),
    ],
    "C": [("cmp", "function"), ("dup", "function"), ("pick", "function"), ("main", "function")],
    "C++": [
        ("net::Conn::Conn", "constructor"),
        ("net::Conn::~Conn", "method"),
        ("net::Conn::send", "method"),
        ("net::Conn::send#2", "method"),
        ("net::Conn::as", "method"),
        ("net::Conn::operator==", "method"),
        ("net::Conn::flush", "method"),
        ("net::free_fn", "function"),
        ("clamp", "function"),
        ("Point::norm", "method"),
        ("Point2::norm2", "method"),
    ],
    "Ruby": [
        ("Billing::Invoice#initialize", "constructor"),
        ("Billing::Invoice#total", "method"),
        ("Billing::Invoice#each_line", "method"),
        ("Billing::Invoice.build", "method"),
        ("Billing::Invoice.empty", "method"),
        ("Billing::Invoice#tax", "method"),
        ("Billing.version", "method"),
        ("helper", "function"),
    ],
}

# (old → new) edits per language: one real change, one nested-only change, one
# whitespace/comment-only edit, one added function; and what must be reported.
EDITS = {
    "Python": (
        [
            ("return 1\n", "return 2\n"),
            ("self.d.get(k) or", "self.d[k] or"),
            ("return sorted(x, key=key)", "return sorted( x,key = key )  # sorted"),
            ("    class Entry:", "    def put(self, k, v):\n        pass\n\n    class Entry:"),
        ],
        ["Cache.get", "outer.inner.innermost"],
    ),
    "JavaScript": (
        [
            ("return `${n}`;", "return `${n}!`;"),
            ("new Store(null)", "new Store(undefined)"),
            ("const double = (n) => n * 2;", "const double = (n) =>\n  n*2; // twice"),
            ("function* ids", "function added() {}\nfunction* ids"),
        ],
        ["render.format", "Store.create"],
    ),
    "Java": (
        [
            ("{ return 0; }\n    };", "{ return 1; }\n    };"),
            (": 0; }", ": -1; }"),
            (
                "public int size() { return items.size(); }",
                "public int size() {\n    /* n */ return items.size();\n  }",
            ),
            ("  abstract static", "  void added() {}\n\n  abstract static"),
        ],
        ["Repo.size#2", "Repo.order.compare"],
    ),
    "C#": (
        [
            ("0.2m", "0.25m"),
            ("- discount;", "- discount * 2;"),
            ("public int Len() { return 0; }", "public int Len()\n    {\n        // zero\n        return 0;\n    }"),
            ("    struct Point", "    class Added { void A() { } }\n    struct Point"),
        ],
        ["Shop.Orders.OrderService.Total.Tax", "Shop.Orders.OrderService.Total#2"],
    ),
    "Go": (
        [
            ("ListenAndServe(s.addr", 'ListenAndServe(":"+s.addr'),
            ("_ = 1", "_ = 2"),
            ("{ return s.addr }", "{\n\t// the address\n\treturn s.addr\n}"),
            ("func New", "func Added() {}\n\nfunc New"),
        ],
        ["(*Server).Start", "init#2"],
    ),
    "C": (
        [
            ("strlen(s) + 1", "strlen(s) + 2"),
            ("return 0;\n}", "return   0; /* ok */\n}"),
            ("int proto", "void added(void) {}\nint proto"),
        ],
        ["dup"],
    ),
    "C++": (
        [
            ("n == 0", "n <= 0"),
            ("msg, flags)", "msg, flags | 1)"),
            ("{ return v < lo ? lo : (v > hi ? hi : v); }", "{\n  // clamp\n  return v<lo ? lo : (v>hi ? hi : v);\n}"),
            ("int free_fn", "void added() {}\nint free_fn"),
        ],
        ["net::Conn::send#2", "net::Conn::flush"],
    ),
    "Ruby": (
        [
            ("l.amount }", "l.amount * 2 }"),
            ("new([])", "new([nil])"),
            ("        yield l\n", "        # each\n        yield   l\n"),
            ("def helper", "def added; end\n\ndef helper"),
        ],
        ["Billing::Invoice#total", "Billing::Invoice.empty"],
    ),
}
LANGUAGES = sorted(FIXTURES)


def edited(language):
    code = FIXTURES[language]
    for old, new in EDITS[language][0]:
        assert code.count(old) == 1, (language, old)
        code = code.replace(old, new)
    return code


def test_fixtures_parse_cleanly():
    for language, code in FIXTURES.items():
        assert not parse_code(code, language)[1].has_error, language
        assert not parse_code(edited(language), language)[1].has_error, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_extract_functions_names_and_kinds(language):
    spans = extract_functions(FIXTURES[language], language)
    assert [(s.qualified_name, s.kind) for s in spans] == EXPECTED[language]
    assert len({s.qualified_name for s in spans}) == len(spans)


@pytest.mark.parametrize("language", LANGUAGES)
def test_spans_point_into_the_source(language):
    code = FIXTURES[language]
    data = code.encode()
    lines = code.split("\n")
    for span in extract_functions(code, language):
        assert isinstance(span, FunctionSpan)
        assert data[span.start_byte : span.end_byte].decode() == span.text
        assert span.text.split("\n")[0] in lines[span.start_line - 1]
        assert span.text.split("\n")[-1] in lines[span.end_line - 1]
        assert span.end_line - span.start_line == span.text.count("\n")
        assert lines[span.start_line - 1].startswith(span.indent)
        assert span.name in span.qualified_name


def test_starts_are_in_source_order():
    for language, code in FIXTURES.items():
        starts = [s.start_byte for s in extract_functions(code, language)]
        assert starts == sorted(starts), language


@pytest.mark.parametrize("language", LANGUAGES)
def test_focused_snippet_parses_for_every_function(language):
    for span in extract_functions(FIXTURES[language], language):
        snippet = focused_snippet(span, language)
        _, stats = parse_code(snippet, language)
        assert not stats.has_error, f"{span.qualified_name}:\n{snippet}"
        assert span.text in snippet
        assert snippet.startswith(span.context.split("\n")[0] if span.context else "")


@pytest.mark.parametrize("language", LANGUAGES)
def test_changed_functions_finds_exactly_the_changed_ones(language):
    changes = changed_functions(FIXTURES[language], edited(language), language)
    assert sorted(c.qualified_name for c in changes) == sorted(EDITS[language][1])
    for change in changes:
        assert isinstance(change, FunctionChange)
        assert change.old.qualified_name == change.new.qualified_name == change.qualified_name
        assert change.old.text != change.new.text
    assert changed_functions(FIXTURES[language], FIXTURES[language], language) == []


def test_changes_come_in_new_source_order():
    names = [c.qualified_name for c in changed_functions(PYTHON, edited("Python"), "Python")]
    assert names == ["Cache.get", "outer.inner.innermost"]


def test_python_context_and_snippet_keep_the_source_indentation():
    spans = {s.qualified_name: s for s in extract_functions(PYTHON, "Python")}
    get = spans["Cache.get"]
    assert get.context == "class Cache(Base):"
    assert get.indent == "    " and get.start_line == 15
    assert focused_snippet(get, "Python") == (
        "class Cache(Base):\n    def get(self, k):\n        def miss():\n            return None\n"
        "        return self.d.get(k) or miss()\n"
    )
    assert spans["Cache.n"].text.startswith("@property\n    def n(self):")
    assert spans["outer"].text.startswith("@functools.cache\ndef outer():")
    assert spans["outer.inner.innermost"].context == "def outer():\n    def inner():"
    assert spans["Cache.Entry.touch"].context == "class Cache(Base):\n    class Entry:"


def test_python_indented_top_level_code_is_wrapped_to_parse():
    code = "import sys\nif sys.version_info > (3,):\n    def f(x):\n        return x\n"
    [span] = extract_functions(code, "Python")
    assert span.context == "" and span.indent == "    "
    snippet = focused_snippet(span, "Python")
    assert snippet == "if True:\n    def f(x):\n        return x\n"
    assert not parse_code(snippet, "Python")[1].has_error


def test_brace_languages_close_their_context():
    cpp = {s.qualified_name: s for s in extract_functions(CPP, "C++")}
    send = cpp["net::Conn::send"]
    assert send.context == "namespace net {\ntemplate <typename T> class Conn : public Base {"
    assert focused_snippet(send, "C++") == (
        "namespace net {\ntemplate <typename T> class Conn : public Base {\n"
        "  int send(const T& msg) { return write(fd_, msg); }\n};\n}\n"
    )
    assert cpp["net::Conn::flush"].text.startswith("template <typename T>\nvoid Conn<T>::flush() {")
    assert cpp["net::Conn::flush"].context == "namespace net {"
    assert cpp["net::Conn::as"].text.startswith("template <typename U> U as()")
    java = {s.qualified_name: s for s in extract_functions(JAVA, "Java")}
    assert focused_snippet(java["Repo.size"], "Java") == (
        "public class Repo<T> extends Base {\n  public int size() { return items.size(); }\n}\n"
    )
    assert java["Repo.order.compare"].context.split("\n")[-1] == "    return new Comparator<T>() {"
    assert "  enum Kind {\n    ;\n" in focused_snippet(java["Repo.Kind.first"], "Java")
    cs = {s.qualified_name: s for s in extract_functions(CSHARP, "C#")}
    assert cs["Shop.Orders.OrderService.Total"].context == (
        "namespace Shop.Orders {\n    [Serializable] public class OrderService : IService {"
    )
    js = {s.qualified_name: s for s in extract_functions(JAVASCRIPT, "JavaScript")}
    assert js["module.exports.parse"].context == "module.exports = {"
    assert js["double"].text == "const double = (n) => n * 2;"
    assert js["Store.prototype.legacy"].text == "Store.prototype.legacy = function () { return 1; };"


def test_go_snippets_need_no_package_clause():
    [start] = [s for s in extract_functions(GO, "Go") if s.name == "Start"]
    assert start.context == ""
    assert focused_snippet(start, "Go") == start.text + "\n"


def test_ruby_snippets_close_with_end():
    spans = {s.qualified_name: s for s in extract_functions(RUBY, "Ruby")}
    empty = spans["Billing::Invoice.empty"]
    assert empty.context == "module Billing\n  class Invoice < Base\n    class << self"
    assert focused_snippet(empty, "Ruby") == (
        "module Billing\n  class Invoice < Base\n    class << self\n      def empty\n        new([])\n      end\n"
        "    end\n  end\nend\n"
    )


def test_csharp_file_scoped_namespace():
    code = "namespace Shop.Orders;\n\npublic class A\n{\n    public void Run() { }\n}\n"
    [run] = extract_functions(code, "C#")
    assert run.qualified_name == "Shop.Orders.A.Run"
    assert run.context == "namespace Shop.Orders;\npublic class A {"
    assert not parse_code(focused_snippet(run, "C#"), "C#")[1].has_error


def test_cpp_out_of_line_in_a_namespace_of_the_file_is_a_function():
    code = "namespace util { int f(); }\nint util::f() { return 1; }\nclass K { K(); };\nK::K() {}\n"
    assert [(s.qualified_name, s.kind) for s in extract_functions(code, "C++")] == [
        ("util::f", "function"),
        ("K::K", "constructor"),
    ]


def test_lambdas_callbacks_and_blocks_are_not_functions():
    assert extract_functions("f = lambda x: x\nxs = map(lambda y: y, [])\n", "Python") == []
    assert extract_functions("[1].map((x) => x);\nsetTimeout(function () {}, 1);\n", "JavaScript") == []
    assert extract_functions("[1].each { |x| x }\n[2].map do |y| y end\nl = ->(z) { z }\n", "Ruby") == []
    assert extract_functions("package p\nvar f = func() {}\n", "Go") == []
    assert extract_functions("auto f = [](int x) { return x; };\n", "C++") == []


def test_nested_rule_parent_with_its_own_change_is_reported_alone():
    old = "def outer():\n    def inner():\n        return 1\n    return inner\n"
    both = "def outer():\n    def inner():\n        return 2\n    return inner()\n"
    only_inner = "def outer():\n    def inner():\n        return 2\n    return inner\n"
    renamed = "def outer():\n    def inner2():\n        return 1\n    return inner\n"
    comment = "def outer():\n    # note\n    def inner():\n        return 1  # one\n\n    return inner\n"
    assert [c.qualified_name for c in changed_functions(old, both, "Python")] == ["outer"]
    assert [c.qualified_name for c in changed_functions(old, only_inner, "Python")] == ["outer.inner"]
    assert [c.qualified_name for c in changed_functions(old, renamed, "Python")] == ["outer"]
    assert changed_functions(old, comment, "Python") == []


def test_python_reindentation_that_changes_nesting_is_a_change():
    old = "def f(x):\n    if x:\n        a()\n    b()\n"
    new = "def f(x):\n    if x:\n        a()\n        b()\n"
    assert [c.qualified_name for c in changed_functions(old, new, "Python")] == ["f"]
    moved = "class A:\n    pass\n\n\ndef f(x):\n    if x:\n            a()\n    b()\n"
    assert changed_functions(old, moved, "Python") == []


def test_string_whitespace_is_a_change_but_code_whitespace_is_not():
    old = 'function f() { return "a b"; }\n'
    assert changed_functions(old, 'function f() {\n  return "a  b";\n}\n', "JavaScript")[0].qualified_name == "f"
    assert changed_functions(old, 'function f(){return "a b"}\n', "JavaScript") != []  # a dropped ";" is a change
    assert changed_functions(old, 'function f()  {  return  "a b" ; }\n', "JavaScript") == []


def test_added_and_removed_functions_are_not_paired():
    old = "def a():\n    return 1\n"
    new = "def b():\n    return 2\n"
    assert changed_functions(old, new, "Python") == []
    assert changed_functions("", new, "Python") == []


def test_unknown_language_raises():
    with pytest.raises(ValueError):
        extract_functions("x", "Kotlin")
    with pytest.raises(ValueError):
        changed_functions("x", "y", "Kotlin")
    span = extract_functions(PYTHON, "Python")[0]
    with pytest.raises(ValueError):
        focused_snippet(span, "Kotlin")


def test_broken_code_still_yields_the_intact_functions():
    code = "def ok():\n    return 1\n\ndef broken(:\n    pass\n"
    assert "ok" in [s.qualified_name for s in extract_functions(code, "Python")]


def test_java_anonymous_classes_keep_their_statement_as_context():
    code = (
        "class A {\n  Comparator<X> c = new Comparator<>() { public int compare(X a, X b) { return 0; } };\n"
        "  void run() { list.sort(new Comparator<X>() { public int compare(X a, X b) { return 1; } }); }\n}\n"
    )
    spans = {s.qualified_name: s for s in extract_functions(code, "Java")}
    assert list(spans) == ["A.compare", "A.run", "A.run.compare"]
    assert spans["A.run.compare"].context == "class A {\n  void run() {\n  list.sort(new Comparator<X>() {"
    for span in spans.values():
        snippet = focused_snippet(span, "Java")
        assert not parse_code(snippet, "Java")[1].has_error, snippet
    assert focused_snippet(spans["A.run.compare"], "Java").endswith("\n  });\n  }\n}\n")


def test_deep_nesting_needs_no_recursion():
    depth = 600
    code = "".join(f"function f{i}() {{\n" for i in range(depth)) + "return 1;\n" + "}\n" * depth
    spans = extract_functions(code, "JavaScript")
    assert len(spans) == depth and spans[-1].qualified_name.count(".") == depth - 1
    [change] = changed_functions(code, code.replace("return 1", "return 2"), "JavaScript")
    assert change.qualified_name == spans[-1].qualified_name
    assert not parse_code(focused_snippet(spans[-1], "JavaScript"), "JavaScript")[1].has_error


def test_focused_pairs_are_the_function_pairs_or_a_reject():
    old = "class Cache:\n    def get(self, k):\n        return self.d[k]\n"
    new = old.replace("d[k]", "d.get(k)")
    whole = PairRecord(idx="a" * 16, input="", chosen=new, rejected=old, language="Python", aspect="x", source="x")
    [focused] = focused_pairs(whole, "stage")
    assert [focused] == function_pairs(whole) and "self.d.get(k)" in focused.chosen
    reject = focused_pairs(whole._replace(chosen=old + "# note\n"), "stage")
    assert isinstance(reject, RejectRecord)
    assert (reject.stage, reject.reason, reject.record_id) == ("stage", "no_function_changed", "a" * 16)


def test_the_child_side_module_does_not_import_beam():
    """`FocusChangedFunctions` runs `focused_pairs` in a child process, which imports only this module."""
    code = "import sys, transforms.code.functions; print('apache_beam' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
