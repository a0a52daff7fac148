"""Templates for `benchmarks/scale_corpus.py`: code in eight languages, near-duplicate edits, prompts and secrets.

`CodeGen(rng, language, aspect).file(target_chars)` renders a source file (header,
record type, constants, then functions until the size is reached) and, while it
renders, records *hooks*: small line edits that make the code worse for one
criterion (a flipped comparison, a deleted guard, a list instead of a set, an
unneeded copy, a magic number...). `make_rejected` applies one to three hooks of
the pair's criterion, so `rejected` is `chosen` with a few token-level edits.

Functions come from a handful of shapes (sum, collect, find, group, distinct,
render, validate, query, clamp), each with random names drawn from word lists,
random literals, optional branches, comments and log lines, so that two files
share almost no run of 20 words. Everything draws from the `random.Random` given,
never from a set's iteration order, so output depends on the seed alone.

Also here: `edit_lines`, `rename_identifier` and `respace` (how a near-duplicate
differs from its source), `prompt` and `foreign_prompt` (the task description, in
English or, for the language filter, Spanish, German, French or Chinese),
`benchmark_prompts` (the fake benchmark) and `make_secret` with its renderings.
"""

import random
import re
from collections import Counter
from collections.abc import Sequence
from typing import TypeVar

from transforms.dedup.shingles import WORD


T = TypeVar("T")


def words(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of `text`, as a tuple."""
    return tuple(text.split())


VERBS = words(
    "load parse compute update resolve build fetch apply merge scan collect filter render encode decode validate "
    "normalize register schedule flush sync rank split group count find select prune refresh export archive "
    "reconcile dispatch allocate release format convert aggregate estimate track match transform compress expand "
    "lookup reserve assign attach detach publish consume drain retry replay verify sanitize dedupe sort partition "
    "summarize enrich audit queue throttle persist restore evict rebuild inspect compare"
)
NOUNS = words(
    "user order invoice account session token packet frame buffer record entry event metric sample message request "
    "response route node edge graph queue task job worker device sensor reading price quote ticket payment cart item "
    "product shipment parcel address contact profile document page chunk segment block file path config setting "
    "rule policy permission role tenant region zone cluster shard replica snapshot backup trace span alert report "
    "score rating review comment post thread channel subscriber feed article tag label category asset ledger balance "
    "transfer budget forecast slot booking room guest vehicle trip station pixel image tile layer vertex mesh texture "
    "glyph cursor widget panel column cell query bucket lease lock invite coupon voucher warehouse batch lot supplier "
    "vendor tariff meter patient visit dose course lesson grade student teacher flight seat gate lane carrier"
)
ADJS = words(
    "active pending stale cached raw valid primary local remote current next last default dirty visible hidden "
    "expired unique sorted partial daily nested merged failed archived draft open closed shared public private "
    "recent overdue blocked idle hot cold linked orphan locked verified paid unpaid"
)
FIELDS = {
    "i": words(
        "count quantity retries priority size offset attempts version port score level capacity age_days "
        "duration_ms batch_size depth rank hits misses errors"
    ),
    "f": words("amount price ratio latitude balance temperature load threshold discount rate weight fee margin"),
    "s": words("name status region owner label kind currency email path host category code sku locale"),
    "b": words("active enabled archived verified pinned dirty visible locked"),
}
STATUS = words(
    "pending active failed archived queued done error blocked open closed draft expired paused retrying shipped "
    "refunded cancelled settled held unknown"
)
LOG_TEMPLATES = (
    "skipping {n} with invalid {f}",
    "{f} out of range for {n}",
    "failed to {v} {n}",
    "{n} {f} exceeds the limit",
    "no {a} {n}s found",
    "{v} finished for {n}",
    "unexpected {f} on {n}",
    "retrying {v} of {n}",
    "ignoring {a} {n}",
    "{n} has no {f}",
)
COMMENT_TEMPLATES = (
    "{V} each {n} and keep the {a} ones.",
    "Guard against an empty {n} list.",
    "TODO: {v} {n}s in batches once the upstream API supports it.",
    "Note: {f} may be zero for legacy {n}s.",
    "Keep the {n}s in input order; callers rely on it.",
    "{F} is validated upstream, but check it again here.",
    "The {a} {n}s are rare, so a linear pass is fine.",
    "Callers expect the result sorted by {f}.",
    "See the {n} spec: {a} entries must not be counted twice.",
    "Fast path: nothing to {v}.",
    "{V} before touching the {n} cache.",
    "This mirrors the {a} {n} handling in the {v} job.",
)
MESSAGES = ("{n} must not be empty", "invalid {f}", "{f} must be positive", "unknown {n} {f}", "missing {n}")
SQL_COLUMNS = words("id status amount region owner created_at updated_at name kind priority")


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    """`pick(rng, seq)`, about three times faster (one `random()` call; a different but fixed stream)."""
    return seq[int(rng.random() * len(seq))]


def between(rng: random.Random, lo: int, hi: int) -> int:
    """`between(rng, lo, hi)`, faster in the same way as `pick`."""
    return lo + int(rng.random() * (hi - lo + 1))


def third_person(verb: str) -> str:
    """`fetch` -> `fetches`, `apply` -> `applies`, `load` -> `loads`."""
    if verb.endswith(("s", "sh", "ch", "x", "z")):
        return verb + "es"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def snake(words: list[str]) -> str:
    """`["order", "total"]` -> `order_total`."""
    return "_".join(words)


def camel(words: list[str]) -> str:
    """`["order", "total"]` -> `orderTotal`."""
    return words[0] + "".join(w.capitalize() for w in words[1:])


def pascal(words: list[str]) -> str:
    """`["order", "total"]` -> `OrderTotal`."""
    return "".join(w.capitalize() for w in words)


def upper(words: list[str]) -> str:
    """`["order", "total"]` -> `ORDER_TOTAL`."""
    return "_".join(words).upper()


def kconst(words: list[str]) -> str:
    """`["max", "retries"]` -> `kMaxRetries` (Google C++ style)."""
    return "k" + pascal(words)


STYLES = {"snake": snake, "camel": camel, "pascal": pascal, "upper": upper, "kconst": kconst}

# One table per language. Values are `str.format` templates; a "\n" in a template
# makes several lines, each indented at the level where it is emitted.
_BRACES = {
    "ind": "    ",
    "cmt": "//",
    "null": "null",
    "true": "true",
    "false": "false",
    "and": "&&",
    "or": "||",
    "if": "if ({c}) {{",
    "elif": "}} else if ({c}) {{",
    "else": "}} else {{",
    "end": "}}",
    "while": "while ({c}) {{",
    "forrange": "for (int {i} = 0; {i} {op} {n}; {i}++) {{",
    "decl": "{t} {name} = {e};",
    "aug": "{name} {op}= {e};",
    "inc": "{name}++;",
    "ret": "return {e};",
    "stmt": "{e};",
    "not": "!{e}",
    "idx": "{c}[{i}]",
    "list_ret": "{name}",
    "fld": "{o}.{f}",
    "streq": "{a} == {b}",
    "param": "{t} {name}",
    "level": 0,
    "footer": "",
    "doc_inside": False,
}
LANGS: dict[str, dict] = {
    "Java": {
        **_BRACES,
        "style": ("camel", "camel", "camel", "upper"),
        "types": {
            "i": "int",
            "f": "double",
            "s": "String",
            "b": "boolean",
            "r": "{rec}",
            "L": "List<{rec}>",
            "M": "Map<String, Integer>",
            "C": "Connection",
            "Q": "ResultSet",
            "v": "void",
        },
        "func": "{mod}{ret} {name}({args}) {{",
        "mods": ("public static ", "static ", "private static ", "public "),
        "foreach": "for ({rec} {v} : {coll}) {{",
        "foreach_copy": "for ({rec} {v} : new ArrayList<>({coll})) {{",
        "log": 'LOG.warning("{msg}: " + {arg});',
        "fail": 'throw new IllegalArgumentException("{msg}");',
        "const": "private static final int {name} = {value};",
        "secret": 'private static final String {name} = "{value}";',
        "pem": ('private static final String {name} = """', "    {line}", '    """;'),
        "fld": "{o}.{f}()",
        "len": "{c}.size()",
        "empty": "{c} == null || {c}.isEmpty()",
        "streq": "{b}.equals({a})",
        "idx": "{c}.get({i})",
        "new_list": "List<{rec}> {name} = new ArrayList<>();",
        "new_list_sized": "List<{rec}> {name} = new ArrayList<>({n});",
        "append": "{name}.add({x});",
        "new_map": "Map<String, Integer> {name} = new HashMap<>();",
        "map_inc": "{name}.merge({k}, 1, Integer::sum);",
        "set_fast": "Set<String> {name} = new HashSet<>();",
        "set_slow": "List<String> {name} = new ArrayList<>();",
        "has_fast": "{name}.contains({k})",
        "has_slow": "{name}.contains({k})",
        "add_fast": "{name}.add({k});",
        "add_slow": "{name}.add({k});",
        "sb_fast": "StringBuilder {name} = new StringBuilder();",
        "sb_slow": 'String {name} = "";',
        "sb_add_fast": '{name}.append({e}).append(", ");',
        "sb_add_slow": '{name} += {e} + ", ";',
        "sb_done_fast": "{name}.toString()",
        "sb_done_slow": "{name}",
        "to_str": "String.valueOf({e})",
        "query_safe": 'PreparedStatement stmt = {conn}.prepareStatement("{sql} WHERE {col} = ?");\n'
        "stmt.setString(1, {arg});\nResultSet rows = stmt.executeQuery();",
        "query_unsafe": 'PreparedStatement stmt = {conn}.prepareStatement("{sql} WHERE {col} = \'" + {arg} + "\'");'
        "\nResultSet rows = stmt.executeQuery();",
        "doc": "/**\n * {text}\n */",
        "record": ("public record {rec}(", "{t} {f}", ", ", ") {{}}"),
        "footer": "}}",
        "level": 1,
    },
    "C#": {
        **_BRACES,
        "style": ("camel", "pascal", "pascal", "pascal"),
        "types": {
            "i": "int",
            "f": "double",
            "s": "string",
            "b": "bool",
            "r": "{rec}",
            "L": "IReadOnlyList<{rec}>",
            "M": "Dictionary<string, int>",
            "C": "SqlConnection",
            "Q": "SqlDataReader",
            "v": "void",
        },
        "func": "{mod}{ret} {name}({args})\n{{",
        "mods": ("public static ", "public ", "private static ", "internal "),
        "if": "if ({c})\n{{",
        "elif": "}}\nelse if ({c})\n{{",
        "else": "}}\nelse\n{{",
        "while": "while ({c})\n{{",
        "forrange": "for (var {i} = 0; {i} {op} {n}; {i}++)\n{{",
        "decl": "var {name} = {e};",
        "foreach": "foreach (var {v} in {coll})\n{{",
        "foreach_copy": "foreach (var {v} in {coll}.ToList())\n{{",
        "log": '_logger.LogWarning("{msg}: {{Value}}", {arg});',
        "fail": 'throw new ArgumentException("{msg}");',
        "const": "private const int {name} = {value};",
        "secret": 'private const string {name} = "{value}";',
        "pem": ('private const string {name} = @"', "{line}", '";'),
        "len": "{c}.Count",
        "empty": "{c} == null || {c}.Count == 0",
        "streq": "string.Equals({a}, {b}, StringComparison.Ordinal)",
        "new_list": "var {name} = new List<{rec}>();",
        "new_list_sized": "var {name} = new List<{rec}>({n});",
        "append": "{name}.Add({x});",
        "new_map": "var {name} = new Dictionary<string, int>();",
        "map_inc": "{name}[{k}] = {name}.TryGetValue({k}, out var seen) ? seen + 1 : 1;",
        "set_fast": "var {name} = new HashSet<string>();",
        "set_slow": "var {name} = new List<string>();",
        "has_fast": "{name}.Contains({k})",
        "has_slow": "{name}.Contains({k})",
        "add_fast": "{name}.Add({k});",
        "add_slow": "{name}.Add({k});",
        "sb_fast": "var {name} = new StringBuilder();",
        "sb_slow": "var {name} = string.Empty;",
        "sb_add_fast": '{name}.Append({e}).Append(", ");',
        "sb_add_slow": '{name} += {e} + ", ";',
        "sb_done_fast": "{name}.ToString()",
        "sb_done_slow": "{name}",
        "to_str": "{e}.ToString()",
        "query_safe": "using var command = {conn}.CreateCommand();\n"
        'command.CommandText = "{sql} WHERE {col} = @{col}";\n'
        'command.Parameters.AddWithValue("@{col}", {arg});\nvar rows = command.ExecuteReader();',
        "query_unsafe": "using var command = {conn}.CreateCommand();\n"
        "command.CommandText = $\"{sql} WHERE {col} = '{{{arg}}}'\";\n"
        "var rows = command.ExecuteReader();",
        "doc": "/// <summary>\n/// {text}\n/// </summary>",
        "record": ("public sealed record {rec}(", "{t} {F}", ", ", ");"),
        "footer": "}}",
        "level": 1,
    },
    "C++": {
        **_BRACES,
        "style": ("snake", "snake", "snake", "kconst"),
        "types": {
            "i": "int",
            "f": "double",
            "s": "std::string",
            "b": "bool",
            "r": "{rec}",
            "v": "void",
            "L": "std::vector<{rec}>",
            "M": "std::unordered_map<std::string, int>",
            "C": "db::Connection&",
            "Q": "db::ResultSet",
        },
        "ptypes": {"L": "const std::vector<{rec}>&", "r": "const {rec}&", "s": "const std::string&"},
        "func": "{mod}{ret} {name}({args}) {{",
        "mods": ("", "", "inline ", "static "),
        "forrange": "for (std::size_t {i} = 0; {i} {op} {n}; ++{i}) {{",
        "foreach": "for (const auto& {v} : {coll}) {{",
        "foreach_copy": "for (auto {v} : {coll}) {{",
        "log": "std::cerr << \"{msg}: \" << {arg} << '\\n';",
        "fail": 'throw std::invalid_argument("{msg}");',
        "const": "constexpr int {name} = {value};",
        "secret": 'constexpr const char* {name} = "{value}";',
        "pem": ('constexpr const char* {name} = R"(', "{line}", ')";'),
        "len": "{c}.size()",
        "empty": "{c}.empty()",
        "idx": "{c}.at({i})",
        "new_list": "std::vector<{rec}> {name};",
        "new_list_sized": "std::vector<{rec}> {name};\n{name}.reserve({n});",
        "append": "{name}.push_back({x});",
        "new_map": "std::unordered_map<std::string, int> {name};",
        "map_inc": "++{name}[{k}];",
        "set_fast": "std::unordered_set<std::string> {name};",
        "set_slow": "std::vector<std::string> {name};",
        "has_fast": "{name}.count({k}) > 0",
        "has_slow": "std::find({name}.begin(), {name}.end(), {k}) != {name}.end()",
        "add_fast": "{name}.insert({k});",
        "add_slow": "{name}.push_back({k});",
        "sb_fast": "std::ostringstream {name};",
        "sb_slow": "std::string {name};",
        "sb_add_fast": '{name} << {e} << ", ";',
        "sb_add_slow": '{name} = {name} + {e} + ", ";',
        "sb_done_fast": "{name}.str()",
        "sb_done_slow": "{name}",
        "to_str": "std::to_string({e})",
        "query_safe": 'auto stmt = {conn}.prepare("{sql} WHERE {col} = ?");\nstmt.bind(1, {arg});\n'
        "auto rows = stmt.execute();",
        "query_unsafe": 'auto stmt = {conn}.prepare("{sql} WHERE {col} = \'" + {arg} + "\'");\n'
        "auto rows = stmt.execute();",
        "doc": "/// {text}",
        "record": ("struct {rec} {{", "    {t} {f}{{}};", "\n", "}};"),
        "footer": "}}  // namespace {pkg}",
    },
    "Go": {
        **_BRACES,
        "ind": "\t",
        "null": "nil",
        "style": ("camel", "camel", "pascal", "camel"),
        "types": {
            "i": "int",
            "f": "float64",
            "s": "string",
            "b": "bool",
            "r": "*{rec}",
            "L": "[]{rec}",
            "M": "map[string]int",
            "C": "*sql.DB",
            "Q": "*sql.Rows",
            "v": "",
        },
        "param": "{name} {t}",
        "func": "func {name}({args}) {ret}{{",
        "mods": ("",),
        "if": "if {c} {{",
        "elif": "}} else if {c} {{",
        "while": "for {c} {{",
        "decl": "{name} := {e}",
        "forrange": "for {i} := 0; {i} {op} {n}; {i}++ {{",
        "aug": "{name} {op}= {e}",
        "inc": "{name}++",
        "ret": "return {e}",
        "stmt": "{e}",
        "foreach": "for _, {v} := range {coll} {{",
        "foreach_copy": "for _, {v} := range append([]{rec}(nil), {coll}...) {{",
        "log": 'log.Printf("{msg}: %v", {arg})',
        "fail": 'return {zero}errors.New("{msg}")',
        "const": "const {name} = {value}",
        "secret": 'const {name} = "{value}"',
        "pem": ("const {name} = `", "{line}", "`"),
        "fld": "{o}.{F}",
        "len": "len({c})",
        "empty": "len({c}) == 0",
        "new_list": "var {name} []{rec}",
        "new_list_sized": "{name} := make([]{rec}, 0, {n})",
        "append": "{name} = append({name}, {x})",
        "new_map": "{name} := make(map[string]int)",
        "map_inc": "{name}[{k}]++",
        "set_fast": "{name} := make(map[string]struct{{}})",
        "set_slow": "{name} := []string{{}}",
        "has_fast": "_, ok := {name}[{k}]; ok",
        "has_slow": "slices.Contains({name}, {k})",
        "add_fast": "{name}[{k}] = struct{{}}{{}}",
        "add_slow": "{name} = append({name}, {k})",
        "sb_fast": "var {name} strings.Builder",
        "sb_slow": '{name} := ""',
        "sb_add_fast": '{name}.WriteString({e} + ", ")',
        "sb_add_slow": '{name} += {e} + ", "',
        "sb_done_fast": "{name}.String()",
        "sb_done_slow": "{name}",
        "to_str": "fmt.Sprint({e})",
        "query_safe": 'rows, err := {conn}.Query("{sql} WHERE {col} = $1", {arg})',
        "query_unsafe": 'rows, err := {conn}.Query("{sql} WHERE {col} = \'" + {arg} + "\'")',
        "doc": "// {fn} {text}",
        "record": ("type {rec} struct {{", "\t{F} {t}", "\n", "}}"),
    },
    "C": {
        **_BRACES,
        "null": "NULL",
        "style": ("snake", "snake", "snake", "upper"),
        "types": {
            "i": "int ",
            "f": "double ",
            "s": "const char *",
            "b": "bool ",
            "r": "const struct {rec} *",
            "L": "const struct {rec} *",
            "M": "int *",
            "C": "sqlite3 *",
            "Q": "int ",
            "v": "void ",
            "o": "struct {rec} *",
            "z": "size_t ",
            "c": "char *",
        },
        "param": "{t}{name}",
        "func": "{mod}{ret}{name}({args})\n{{",
        "mods": ("static ", "", "static "),
        "forrange": "for (size_t {i} = 0; {i} {op} {n}; {i}++) {{",
        "decl": "{t}{name} = {e};",
        "foreach": "for (size_t i = 0; i < {n}; i++) {{\n    const struct {rec} *{v} = &{coll}[i];",
        "foreach_copy": "for (size_t i = 0; i < {n}; i++) {{\n    struct {rec} {v}_copy = {coll}[i];\n"
        "    const struct {rec} *{v} = &{v}_copy;",
        "log": 'fprintf(stderr, "{msg}: {spec}\\n", {arg});',
        "fail": 'fprintf(stderr, "{msg}\\n");\nreturn {zero};',
        "const": "#define {name} {value}",
        "secret": 'static const char *{name} = "{value}";',
        "pem": ("static const char *{name} =", '    "{line}\\n"', '    "";'),
        "fld": "{o}->{f}",
        "len": "{n}",
        "empty": "{c} == NULL || {n} == 0",
        "streq": "strcmp({a}, {b}) == 0",
        "idx": "&{c}[{i}]",
        "new_list": "size_t {name}_len = 0;",
        "new_list_sized": "size_t {name}_len = 0;",
        "append": "{name}[{name}_len++] = *{x};",
        "list_ret": "{name}_len",
        "new_map": "memset({name}, 0, sizeof(int) * BUCKET_COUNT);",
        "map_inc": "{name}[hash_key({k}) % BUCKET_COUNT]++;",
        "sb_fast": "size_t {name}_len = 0;",
        "sb_slow": "size_t {name}_len = 0;",
        "sb_add_fast": '{name}_len += (size_t)snprintf({name} + {name}_len, cap - {name}_len, "%s, ", {e});',
        "sb_add_slow": '{name}_len += (size_t)sprintf({name} + {name}_len, "%s, ", {e});',
        "sb_done_fast": "{name}_len",
        "sb_done_slow": "{name}_len",
        "query_safe": "sqlite3_stmt *stmt = NULL;\n"
        'if (sqlite3_prepare_v2({conn}, "{sql} WHERE {col} = ?", -1, &stmt, NULL) != SQLITE_OK) {{\n'
        "    return -1;\n}}\nsqlite3_bind_text(stmt, 1, {arg}, -1, SQLITE_TRANSIENT);",
        "query_unsafe": "sqlite3_stmt *stmt = NULL;\nchar sql[512];\n"
        "sprintf(sql, \"{sql} WHERE {col} = '%s'\", {arg});\n"
        "if (sqlite3_prepare_v2({conn}, sql, -1, &stmt, NULL) != SQLITE_OK) {{\n    return -1;\n}}",
        "doc": "/*\n * {text}\n */",
        "record": ("struct {rec} {{", "    {t}{f};", "\n", "}};"),
    },
    "JavaScript": {
        **_BRACES,
        "ind": "  ",
        "style": ("camel", "camel", "camel", "upper"),
        "types": {
            "i": "let",
            "f": "let",
            "s": "let",
            "b": "let",
            "r": "const",
            "L": "const",
            "M": "const",
            "C": "",
            "Q": "",
            "v": "",
        },
        "param": "{name}",
        "func": "{mod}function {name}({args}) {{",
        "method": "{mod}{name}({args}) {{",
        "mods": ("",),
        "forrange": "for (let {i} = 0; {i} {op} {n}; {i}++) {{",
        "foreach": "for (const {v} of {coll}) {{",
        "foreach_copy": "for (const {v} of [...{coll}]) {{",
        "log": "console.warn(`{msg}: ${{{arg}}}`);",
        "fail": "throw new Error('{msg}');",
        "const": "const {name} = {value};",
        "secret": "const {name} = '{value}';",
        "pem": ("const {name} = `", "{line}", "`;"),
        "len": "{c}.length",
        "empty": "!{c} || {c}.length === 0",
        "streq": "{a} === {b}",
        "new_list": "const {name} = [];",
        "new_list_sized": "const {name} = [];",
        "append": "{name}.push({x});",
        "new_map": "const {name} = new Map();",
        "map_inc": "{name}.set({k}, ({name}.get({k}) ?? 0) + 1);",
        "set_fast": "const {name} = new Set();",
        "set_slow": "const {name} = [];",
        "has_fast": "{name}.has({k})",
        "has_slow": "{name}.includes({k})",
        "add_fast": "{name}.add({k});",
        "add_slow": "{name}.push({k});",
        "sb_fast": "const {name} = [];",
        "sb_slow": "let {name} = '';",
        "sb_add_fast": "{name}.push({e});",
        "sb_add_slow": "{name} += {e} + ', ';",
        "sb_done_fast": "{name}.join(', ')",
        "sb_done_slow": "{name}",
        "to_str": "String({e})",
        "query_safe": "const rows = await {conn}.query('{sql} WHERE {col} = $1', [{arg}]);",
        "query_unsafe": "const rows = await {conn}.query(`{sql} WHERE {col} = '${{{arg}}}'`);",
        "doc": "/**\n * {text}\n */",
        "record": None,
    },
    "Python": {
        **_BRACES,
        "cmt": "#",
        "null": "None",
        "true": "True",
        "false": "False",
        "and": "and",
        "or": "or",
        "style": ("snake", "snake", "snake", "upper"),
        "types": {
            "i": "int",
            "f": "float",
            "s": "str",
            "b": "bool",
            "r": "{rec} | None",
            "L": "list[{rec}]",
            "M": "dict[str, int]",
            "C": "sqlite3.Cursor",
            "Q": "list[tuple]",
            "v": "None",
        },
        "param": "{name}",
        "func": "def {name}({args}){ret}:",
        "mods": ("",),
        "doc_inside": True,
        "if": "if {c}:",
        "elif": "elif {c}:",
        "else": "else:",
        "end": "",
        "while": "while {c}:",
        "forrange": "for {i} in range({n}):",
        "forrange_le": "for {i} in range({n} + 1):",
        "decl": "{name} = {e}",
        "aug": "{name} {op}= {e}",
        "inc": "{name} += 1",
        "ret": "return {e}",
        "stmt": "{e}",
        "not": "not {e}",
        "foreach": "for {v} in {coll}:",
        "foreach_copy": "for {v} in list({coll}):",
        "log": 'logger.warning("{msg}: %s", {arg})',
        "fail": 'raise ValueError("{msg}")',
        "const": "{name} = {value}",
        "secret": '{name} = "{value}"',
        "pem": ('{name} = """', "{line}", '"""'),
        "len": "len({c})",
        "empty": "not {c}",
        "new_list": "{name} = []",
        "new_list_sized": "{name} = []",
        "append": "{name}.append({x})",
        "new_map": "{name} = defaultdict(int)",
        "map_inc": "{name}[{k}] += 1",
        "set_fast": "{name} = set()",
        "set_slow": "{name} = []",
        "has_fast": "{k} in {name}",
        "has_slow": "{k} in {name}",
        "add_fast": "{name}.add({k})",
        "add_slow": "{name}.append({k})",
        "sb_fast": "{name} = []",
        "sb_slow": '{name} = ""',
        "sb_add_fast": "{name}.append({e})",
        "sb_add_slow": '{name} += {e} + ", "',
        "sb_done_fast": '", ".join({name})',
        "sb_done_slow": "{name}",
        "to_str": "str({e})",
        "query_safe": '{conn}.execute("{sql} WHERE {col} = ?", ({arg},))\nrows = {conn}.fetchall()',
        "query_unsafe": "{conn}.execute(f\"{sql} WHERE {col} = '{{{arg}}}'\")\nrows = {conn}.fetchall()",
        "doc": '"""{text}"""',
        "record": ("@dataclass(frozen=True)\nclass {rec}:", "    {f}: {t}", "\n", ""),
    },
    "Ruby": {
        **_BRACES,
        "ind": "  ",
        "cmt": "#",
        "null": "nil",
        "style": ("snake", "snake", "snake", "upper"),
        "types": {k: "" for k in "ifsbrLMCQv"},
        "param": "{name}",
        "func": "def {name}({args})",
        "mods": ("",),
        "if": "if {c}",
        "elif": "elsif {c}",
        "else": "else",
        "end": "end",
        "while": "while {c}",
        "forrange": "(0...{n}).each do |{i}|",
        "forrange_le": "(0..{n}).each do |{i}|",
        "decl": "{name} = {e}",
        "aug": "{name} {op}= {e}",
        "inc": "{name} += 1",
        "ret": "return {e}",
        "stmt": "{e}",
        "foreach": "{coll}.each do |{v}|",
        "foreach_copy": "{coll}.dup.each do |{v}|",
        "log": 'logger.warn("{msg}: #{{{arg}}}")',
        "fail": "raise ArgumentError, '{msg}'",
        "const": "{name} = {value}",
        "secret": "{name} = '{value}'",
        "pem": ("{name} = <<~PEM", "  {line}", "PEM"),
        "len": "{c}.size",
        "empty": "{c}.nil? || {c}.empty?",
        "new_list": "{name} = []",
        "new_list_sized": "{name} = []",
        "append": "{name} << {x}",
        "new_map": "{name} = Hash.new(0)",
        "map_inc": "{name}[{k}] += 1",
        "set_fast": "{name} = Set.new",
        "set_slow": "{name} = []",
        "has_fast": "{name}.include?({k})",
        "has_slow": "{name}.include?({k})",
        "add_fast": "{name}.add({k})",
        "add_slow": "{name} << {k}",
        "sb_fast": "{name} = []",
        "sb_slow": "{name} = ''",
        "sb_add_fast": "{name} << {e}",
        "sb_add_slow": '{name} += "#{{{e}}}, "',
        "sb_done_fast": "{name}.join(', ')",
        "sb_done_slow": "{name}",
        "to_str": "{e}.to_s",
        "query_safe": "rows = {conn}.execute('{sql} WHERE {col} = ?', [{arg}])",
        "query_unsafe": "rows = {conn}.execute(\"{sql} WHERE {col} = '#{{{arg}}}'\")",
        "doc": "# {text}",
        "record": ("{rec} = Struct.new(", ":{f}", ", ", ", keyword_init: true)"),
        "footer": "  end\nend",
        "level": 2,
    },
}
ORGS = words("acme globex initech umbrella hooli vandelay monarch tessera quillon brightwave northwind ostrava")
READ, SPEED, SEC, FC, MEM = range(5)  # indices into CODE_CRITERIA
FLIP = {">": ">=", ">=": ">", "<": "<=", "<=": "<"}


def plural(noun: str) -> str:
    """`entry` -> `entries`, `box` -> `boxes`, `order` -> `orders`."""
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")


class Dialect:
    """One language's table, bound to a record type name and a random source."""

    def __init__(self, lang: str, rng: random.Random, rec: str) -> None:
        t = self.t = LANGS[lang]
        self.lang, self.r, self.rec = lang, rng, rec
        self.ind, self.cmt = t["ind"], t["cmt"]
        self.var, self.fn, self.field, self.const = (STYLES[s] for s in t["style"])
        self.types = {k: v.format(rec=rec) for k, v in t["types"].items()}
        self.ptypes = {k: v.format(rec=rec) for k, v in t.get("ptypes", {}).items()}
        self.counts: dict[str, str] = {}
        self.fails, self.zero, self.org, self.cls = False, "", "", ""
        self.hints = lang == "Python" and rng.random() < 0.5
        self.in_class = lang in ("Python", "JavaScript") and rng.random() < 0.3
        self.level = t["level"] + self.in_class

    def lines(self, key: str, **kw: str) -> list[str]:
        """The template `key` filled with `kw`, as lines."""
        return self.t[key].format(rec=self.rec, **kw).split("\n")

    def x(self, key: str, **kw: str) -> str:
        """The one-line template `key` filled with `kw`."""
        return self.t[key].format(rec=self.rec, **kw)

    def fld(self, obj: str, words: list[str]) -> str:
        """Field `words` of object `obj`."""
        return self.t["fld"].format(o=obj, f=self.field(words), F=pascal(words))

    def len(self, coll: str) -> str:
        """The length of collection `coll` (in C, its count parameter)."""
        return self.t["len"].format(c=coll, n=self.counts.get(coll, "count"))

    def empty(self, coll: str) -> str:
        """A test that `coll` is missing or empty."""
        return self.t["empty"].format(c=coll, n=self.counts.get(coll, "count"))

    def streq(self, a: str, b: str) -> str:
        """A test that strings `a` and `b` are equal."""
        return self.t["streq"].format(a=a, b=b)

    def not_(self, e: str) -> str:
        """The negation of `e`."""
        return self.t["not"].format(e=f"({e})" if " " in e and self.lang != "Python" else e)

    def s(self, text: str) -> str:
        """A string literal (single or double quotes, as the language likes)."""
        return f"'{text}'" if self.lang in ("Ruby", "JavaScript") and self.r.random() < 0.7 else f'"{text}"'

    def ret(self, e: str) -> list[str]:
        """A return statement (Go adds `, nil` in functions that can fail)."""
        return [f"return {e}, nil" if self.lang == "Go" and self.fails else self.x("ret", e=e)]

    def fail(self, msg: str) -> list[str]:
        """The statements that reject bad input: raise, throw, or return an error value."""
        return self.lines("fail", msg=msg, zero=self.zero)

    def log(self, msg: str, arg: str, code: str = "i") -> list[str]:
        """A log statement; `code` is the argument's type (for C's format)."""
        return self.lines("log", msg=msg, arg=arg, spec={"s": "%s", "f": "%.2f"}.get(code, "%d"))

    def func(self, name: str, params: list[tuple[str, str]], ret: str) -> list[str]:
        """A function header; also sets the per-function state (C counts, Go error results)."""
        args = []
        for n, c in params:
            t = self.ptypes.get(c) or self.types[c]
            if self.lang == "C" and c == "L":
                self.counts[n] = "n_" + n
                args.append(f"{t}{n}, size_t n_{n}")
            elif self.lang == "Python":
                args.append(f"{n}: {t}" if self.hints else n)
            else:
                args.append(self.x("param", name=n, t=t))
        if self.in_class and self.lang == "Python":
            args.insert(0, "self")
        rt = self.types[ret]
        if self.lang == "Go":
            rt = (f"({rt}, error) " if rt else "error ") if self.fails else (rt + " " if rt else "")
            self.zero = {"i": "0, ", "f": "0, ", "s": '"", ', "b": "false, "}.get(ret, "nil, ")
        elif self.lang == "Python":
            rt = f" -> {rt}" if self.hints else ""
        elif self.lang == "C":
            self.zero = {"i": "-1", "f": "-1.0", "b": "false", "z": "0", "Q": "-1"}.get(ret, "NULL")
        key = "method" if self.in_class and self.lang == "JavaScript" else "func"
        mod = pick(self.r, self.t["mods"])
        if self.lang == "JavaScript" and ret == "Q":
            mod = "async "
        return self.lines(key, mod=mod, ret=rt, name=name, args=", ".join(args))

    def record(self, fields: list[tuple[list[str], str]]) -> list[str]:
        """The declaration of the record type with `fields` (none in JavaScript)."""
        spec = self.t["record"]
        if spec is None:
            return []
        parts = [spec[1].format(t=self.types[c], f=self.field(w), F=pascal(w)) for w, c in fields]
        if spec[2] == "\n":
            return spec[0].format(rec=self.rec).split("\n") + parts + spec[3].format().split("\n") + [""]
        return [spec[0].format(rec=self.rec) + spec[2].join(parts) + spec[3].format(), ""]

    def header(self, pkg: list[str]) -> list[str]:
        """Package, imports and the opening of the class or module, for package words `pkg`."""
        r, lang, org, cls = self.r, self.lang, pkg[0], pascal(pkg[1:])
        self.org = org
        if lang == "Java":
            more = ["Map", "HashMap", "Set", "HashSet", "Objects", "Optional"]
            imports = ["java.util." + i for i in ["ArrayList", "List"] + r.sample(more, 3)]
            imports += ["java.util.logging.Logger"] + r.sample(["java.sql.Connection", "java.sql.ResultSet"], 1)
            cls += pick(r, ("Service", "Utils", "Processor", "Repository", "Index"))
            logger = f"    private static final Logger LOG = Logger.getLogger({cls}.class.getName());"
            lines = [f"package com.{org}.{pkg[1]};", ""] + [f"import {i};" for i in sorted(imports)]
            return lines + ["", f"public final class {cls} {{", logger, ""]
        if lang == "C#":
            more = ["System.Data.SqlClient", "Microsoft.Extensions.Logging", "System.Threading.Tasks", "System.IO"]
            usings = ["System", "System.Collections.Generic", "System.Linq", "System.Text"] + r.sample(more, 2)
            cls += pick(r, ("Service", "Helpers", "Processor", "Store", "Planner"))
            lines = [f"using {u};" for u in sorted(usings)] + ["", f"namespace {pascal([org])}.{pascal(pkg[1:2])};"]
            return lines + ["", f"public sealed class {cls}", "{", f"    private readonly ILogger<{cls}> _logger;", ""]
        if lang == "C++":
            more = ["algorithm", "unordered_map", "unordered_set", "sstream", "stdexcept", "iostream"]
            includes = [f"#include <{i}>" for i in sorted(r.sample(more, 4) + ["string", "vector"])]
            return [f'#include "{pkg[1]}/{pkg[2]}.h"', ""] + includes + ["", f"namespace {org} {{", ""]
        if lang == "Go":
            imports = sorted(["errors", "fmt", "log"] + r.sample(["database/sql", "slices", "sort", "strings"], 2))
            return [f"package {pkg[1]}", "", "import ("] + [f'\t"{i}"' for i in imports] + [")", ""]
        if lang == "C":
            more = ["stdbool.h", "stdint.h", "errno.h", "sqlite3.h", "ctype.h"]
            includes = [f"#include <{i}>" for i in sorted(["stdio.h", "stdlib.h", "string.h"] + r.sample(more, 2))]
            buckets = f"#define BUCKET_COUNT {pick(r, (16, 32, 64, 128, 256))}"
            return includes + ["", f'#include "{pkg[1]}_{pkg[2]}.h"', "", buckets, ""]
        if lang == "JavaScript":
            mods = r.sample(["fs", "path", "util", "crypto", "events", "os", "assert"], 2)
            lines = ["'use strict';", ""] + [f"const {m} = require('{m}');" for m in mods]
            lines.append(f"const {{ {camel(pkg[1:])} }} = require('./{pkg[1]}');")
            self.cls = cls + pick(r, ("Service", "Store", "Manager"))
            return lines + (["", f"class {self.cls} {{"] if self.in_class else [""])
        if lang == "Python":
            mods = sorted(["logging"] + r.sample(["json", "os", "re", "time", "itertools", "math", "hashlib"], 2))
            lines = [f'"""{pascal(pkg[1:2])} {pkg[2]} helpers for the {org} services."""', ""]
            lines += [f"import {m}" for m in mods] + ["from collections import defaultdict"]
            lines += ["from dataclasses import dataclass", "", "", "logger = logging.getLogger(__name__)", "", ""]
            return lines + ([f"class {cls}Service:"] if self.in_class else [])
        requires = [f"require '{m}'" for m in sorted(["set"] + r.sample(["json", "logger", "time", "digest"], 2))]
        return requires + ["", f"module {pascal([org])}", f"  class {cls}{pick(r, ('Service', 'Job', 'Query'))}"]

    def footer(self, exports: list[str]) -> list[str]:
        """What closes the file: class, namespace or module, and JavaScript's exports."""
        if self.lang == "JavaScript":
            return (["}", ""] if self.in_class else [""]) + ["module.exports = { " + ", ".join(exports) + " };"]
        return self.t["footer"].format(pkg=self.org).split("\n") if self.t["footer"] else []


class Code:
    """A rendered file: its lines, the hooks per criterion and what the prompt needs."""

    __slots__ = ("lines", "hooks", "names", "main", "prefix", "dialect")

    def __init__(self, lines: list[str], hooks: tuple, names: list[str], main: dict, prefix: int, dialect: Dialect):
        self.lines, self.hooks, self.names, self.main, self.prefix = lines, hooks, names, main, prefix
        self.dialect = dialect

    @property
    def text(self) -> str:
        """The file as one string."""
        return "\n".join(self.lines) + "\n"


REC_SUFFIX = ("line", "item", "entry", "info", "state", "summary", "event", "row", "spec", "view")
SHAPES = ("sum", "collect", "find", "group", "distinct", "render", "validate", "query", "clamp")
MAIN_SHAPES = {
    READ: SHAPES,
    SPEED: ("distinct", "render", "sum"),
    SEC: ("query", "validate", "collect", "sum"),
    FC: ("sum", "collect", "find", "group", "validate", "clamp"),
    MEM: ("collect", "sum", "group", "render", "distinct"),
}
STR_EMPTY = {"C#": "string.IsNullOrEmpty({c})", "C": "{c} == NULL || {c}[0] == '\\0'", "Go": '{c} == ""'}
IS_NULL = {"Python": "{v} is None", "Ruby": "{v}.nil?", "Go": "{v} == nil", "C": "{v} == NULL"}
CONTINUE = {"Ruby": "next", "Python": "continue", "Go": "continue"}


class CodeGen:
    """Renders one source file; see the module docstring.

    Args:
        rng: the random source (the file depends on it alone).
        language: one of the eight target language names.
        aspect: index of the criterion the hooks should favour (`READ` ... `MEM`).
    """

    def __init__(self, rng: random.Random, language: str, aspect: int) -> None:
        r = self.r = rng
        self.lang, self.aspect = language, aspect
        self.noun = pick(r, NOUNS)
        rec = [self.noun] if r.random() < 0.6 else [self.noun, pick(r, REC_SUFFIX)]
        self.fields: list[tuple[list[str], str]] = []
        for code in ["i", "f", "s", "b", "s"] + [pick(r, "ifsb") for _ in range(between(r, 0, 3))]:
            name = pick(r, FIELDS[code])
            if all(name != "_".join(w) for w, _ in self.fields):
                self.fields.append((name.split("_"), code))
        self.d = Dialect(language, rng, snake(rec) if language == "C" else pascal(rec))
        self.hooks: tuple[list, ...] = ([], [], [], [], [])
        self.kept = (aspect, FC, READ)  # `make_rejected` falls back on FC, then READ
        self.lines: list[str] = []
        self.level = 0
        self.names: list[str] = []
        self.used: set[str] = set()
        self.consts: list[tuple[str, str]] = []

    # Emission.
    def pad(self) -> str:
        """The indentation of the current level."""
        return self.d.ind * self.level

    def emit(self, lines: list[str]) -> list[str]:
        """Appends `lines` at the current level; returns them indented."""
        pad = self.d.ind * self.level
        out = [pad + line if line else "" for line in lines] if pad else lines
        self.lines += out
        return out

    def open(self, lines: list[str]) -> list[str]:
        """Emits a block opener and enters the block."""
        out = self.emit(lines)
        self.level += 1
        return out

    def mid(self, lines: list[str]) -> None:
        """Emits `else`/`elif` between two blocks."""
        self.level -= 1
        self.emit(lines)
        self.level += 1

    def close(self) -> None:
        """Leaves a block and emits its closer, if the language has one."""
        self.level -= 1
        if self.d.t["end"]:
            self.emit(self.d.lines("end"))

    def hook(self, aspects: tuple[int, ...], *ops: tuple) -> None:
        """Records a hook (line edits `(old lines, new lines)` or `("w", name, new)`) for `aspects`."""
        ops = tuple(op for op in ops if op[0] != op[1])
        if ops:
            for a in aspects:
                if a in self.kept:
                    self.hooks[a].append(ops)

    def alt(self, aspects: tuple[int, ...], good: list[str], bad: list[str], opens: bool = False) -> list[str]:
        """Emits `good` and records the hook `good` -> `bad` at this level."""
        pad = self.pad()
        self.hook(aspects, (tuple(pad + x for x in good), tuple(pad + x for x in bad)))
        out = self.emit(good)
        self.level += opens
        return out

    def block_hook(self, aspects: tuple[int, ...], start: int) -> None:
        """Records a hook deleting every line emitted since `start`."""
        self.hook(aspects, (tuple(self.lines[start:]), ()))

    # Names and values.
    def local(self, *words: str) -> str:
        """A variable name from `words`, recorded as renamable."""
        name = self.d.var([w for part in words for w in part.split("_")])
        if name not in self.used:
            self.used.add(name)
            self.names.append(name)
        return name

    def unique_fn(self, words: list[str]) -> str:
        """A function name from `words`, not used before in this file."""
        name = self.d.fn(words)
        while name in self.used:
            words = [words[0], pick(self.r, ADJS)] + words[1:]
            name = self.d.fn(words)
        self.used.add(name)
        self.names.append(name)
        return name

    def field_of(self, codes: str) -> tuple[list[str], str]:
        """A random field of the record whose type code is in `codes`."""
        return pick(self.r, [f for f in self.fields if f[1] in codes])

    def lit(self, code: str) -> str:
        """A random literal of type `code`."""
        r = self.r
        if code == "f":
            return f"{between(r, 1, 999)}.{between(r, 1, 99):02d}".rstrip("0")
        if code == "s":
            return self.d.s(pick(r, STATUS))
        if code == "b":
            return self.d.t[pick(r, ("true", "false"))]
        small, medium, large = between(r, 2, 9), between(r, 10, 99), between(r, 100, 5000)
        return str(pick(r, (small, medium, large, pick(r, (64, 256, 1024, 3600)))))

    def message(self) -> str:
        """A log message about the domain."""
        r = self.r
        return pick(r, LOG_TEMPLATES).format(
            n=self.noun, f="_".join(self.field_of("ifsb")[0]), v=pick(r, VERBS), a=pick(r, ADJS)
        )

    def comment(self) -> None:
        """Emits a comment line."""
        r = self.r
        f = " ".join(self.field_of("ifsb")[0])
        verb = pick(r, VERBS)
        text = pick(r, COMMENT_TEMPLATES).format(
            n=self.noun, f=f, F=f.capitalize(), v=verb, V=verb.capitalize(), a=pick(r, ADJS)
        )
        self.emit([f"{self.d.cmt} {text}"])

    def cond(self, item: str, rhs: str | None = None) -> tuple[str, str]:
        """A condition on `item` and its planted-bug twin (a flipped comparison or a negation)."""
        d, r = self.d, self.r
        x = 0.0 if rhs else r.random()
        if x < 0.45:
            w, c = self.field_of("if")
            if rhs is None:
                rhs = pick(self.r, self.consts)[0] if self.consts and r.random() < 0.3 else self.lit(c)
            lhs, op = d.fld(item, w), pick(r, tuple(FLIP))
            return f"{lhs} {op} {rhs}", f"{lhs} {FLIP[op]} {rhs}"
        if x < 0.75:
            good = d.streq(d.fld(item, self.field_of("s")[0]), d.s(pick(r, STATUS)))
            return good, (good.replace(" == ", " != ") if " == " in good else d.not_(good))
        f = d.fld(item, self.field_of("b")[0])
        return (f, d.not_(f)) if r.random() < 0.5 else (d.not_(f), f)

    def both(self, item: str, rhs: str | None = None) -> tuple[str, str]:
        """A condition, sometimes a conjunction, and its planted-bug twin (`and` becomes `or`)."""
        good, bad = self.cond(item, rhs)
        if self.r.random() < 0.3:
            other = self.cond(item)[0]
            joint = f" {self.d.t['and']} "
            return good + joint + other, good + f" {self.d.t['or']} " + other
        return good, bad

    # Statements.
    def guard(self, coll: str, check: str | None = None) -> None:
        """Emits `if (check) fail` (default: `coll` is empty); deleting it is a security hook."""
        start = len(self.lines)
        self.open(self.d.lines("if", c=check or self.d.empty(coll)))
        self.emit(self.d.fail(pick(self.r, MESSAGES).format(n=self.noun, f=coll)))
        self.close()
        self.block_hook((SEC,), start)

    def skip(self, item: str) -> None:
        """Emits `if (cond) continue`, with a flipped-condition hook."""
        good, bad = self.cond(item)
        self.alt((FC,), self.d.lines("if", c=good), self.d.lines("if", c=bad), opens=True)
        self.emit([self.d.x("stmt", e=CONTINUE.get(self.lang, "continue"))])
        self.close()

    def loop(self, item: str, coll: str) -> list[str]:
        """Opens a loop over `coll`; iterating over a copy is a memory hook."""
        d, n = self.d, self.d.counts.get(coll, "count")
        good, bad = d.lines("foreach", v=item, coll=coll, n=n), d.lines("foreach_copy", v=item, coll=coll, n=n)
        return self.alt((MEM,), good, bad, opens=True)

    def extra(self, item: str, depth: int) -> None:
        """Emits one filler statement: a comment, a log line, a nested `if` or a derived local."""
        d, r = self.d, self.r
        k = r.random()
        if k < 0.25:
            self.comment()
        elif k < 0.45:
            w, c = self.field_of("ifsb")
            self.emit(d.log(self.message(), d.fld(item, w), c))
        elif k < 0.75 and depth < 3:
            good, bad = self.cond(item)
            self.alt((FC,), d.lines("if", c=good), d.lines("if", c=bad), opens=True)
            for _ in range(between(r, 1, 2)):
                self.extra(item, depth + 1)
            self.close()
        else:
            w, c = self.field_of("if")
            name = self.local(pick(r, ADJS), *w)
            self.emit(d.lines("decl", t=d.types["f"], name=name, e=f"{d.fld(item, w)} * {self.lit('f')}"))
            if r.random() < 0.6:
                self.emit(d.log(self.message(), name, "f"))

    def begin(self, words: list[str], params: list[tuple[str, str]], ret: str, doc: str, fails: bool = False) -> str:
        """Emits the doc comment and header of a function; returns its name."""
        d = self.d
        name = self.unique_fn(words)
        d.fails, d.counts = fails, {}
        text = doc if self.lang != "Go" else doc[0].lower() + doc[1:]
        doc_lines = d.lines("doc", text=text, fn=name) if self.r.random() < 0.8 else []
        if doc_lines and not d.t["doc_inside"]:
            start = len(self.lines)
            self.emit(doc_lines)
            self.block_hook((READ,), start)
        self.open(d.func(name, params, ret))
        if doc_lines and d.t["doc_inside"]:
            start = len(self.lines)
            self.emit(doc_lines)
            self.block_hook((READ,), start)
        if self.r.random() < 0.25:
            self.comment()
        return name

    def finish(self) -> None:
        """Closes the function and adds blank lines."""
        self.close()
        self.emit([""] * (2 if self.lang == "Python" and self.level == 0 else 1))

    def rename(self, name: str) -> None:
        """Records a readability hook that renames `name` to a meaningless short name."""
        short = pick(self.r, ("tmp", "x", "res", "val", "acc", "v2", "buf2", "d", "q", "t1"))
        self.hooks[READ].append((("w", name, short),))

    def coll_item(self) -> tuple[str, str]:
        """Names for a collection of records and one of its items."""
        adj = [pick(self.r, ADJS)] if self.r.random() < 0.4 else []
        return self.local(*adj, plural(self.noun)), self.local(self.noun)

    # Function shapes: each emits one function and returns what a prompt needs to describe it.
    def _sum(self, main: bool) -> dict:
        d, r = self.d, self.r
        coll, item = self.coll_item()
        fw, fc = self.field_of("if")
        limit = self.local(pick(r, ("max", "min", "limit")), *fw)
        guard = r.random() < 0.6 or (main and self.aspect == SEC)
        verb = pick(r, ("sum", "total", "compute", "aggregate", "tally", "accumulate"))
        doc = f"{third_person(verb).capitalize()} the {' '.join(fw)} of the {plural(self.noun)} past the given limit."
        name = self.begin([verb, self.noun, *fw], [(coll, "L"), (limit, fc)], fc, doc, guard)
        if guard:
            self.guard(coll)
        acc = self.local(pick(r, ("total", "sum", "running", "acc")), *fw)
        self.emit(d.lines("decl", t=d.types[fc], name=acc, e="0" if fc == "i" else "0.0"))
        self.rename(acc)
        self.rename(limit)
        rhs = limit
        if r.random() < 0.4 or (main and self.aspect == SPEED):
            rhs = self.local(pick(r, ("cutoff", "bound", "floor", "target")))
            decl = self.emit(d.lines("decl", t=d.types["f"], name=rhs, e=f"{limit} * {self.lit('f')}"))
            head = self.loop(item, coll)
            inner = [self.d.ind + line for line in decl]
            self.hook((SPEED,), (tuple(decl), ()), (tuple(head), tuple(head + inner)))
        else:
            self.loop(item, coll)
        if r.random() < 0.5:
            self.skip(item)
        good, bad = self.cond(item, rhs)
        self.alt((FC,), d.lines("if", c=good), d.lines("if", c=bad), opens=True)
        term = d.fld(item, fw)
        self.alt((FC,), d.lines("aug", name=acc, op="+", e=term), d.lines("aug", name=acc, op="-", e=term))
        if r.random() < 0.5:
            self.extra(item, 2)
        if r.random() < 0.4:
            self.mid(d.lines("else"))
            self.extra(item, 2)
        self.close()
        for _ in range(between(r, 0, 2)):
            self.extra(item, 1)
        self.close()
        self.alt((FC,), d.ret(acc), d.ret("0"))
        self.finish()
        return {"shape": "sum", "fn": name, "field": fw, "coll": coll, "limit": limit}

    def _collect(self, main: bool) -> dict:
        d, r, c_lang = self.d, self.r, self.lang == "C"
        coll, item = self.coll_item()
        fw, fc = self.field_of("if")
        limit = self.local(pick(r, ("min", "max", "threshold")), *fw)
        params = [(coll, "L"), (limit, fc)] + ([("out", "o"), ("cap", "z")] if c_lang else [])
        guard = r.random() < 0.5 or (main and self.aspect == SEC)
        verb = pick(r, ("select", "filter", "collect", "find", "pick", "gather"))
        adj = pick(r, ADJS)
        doc = f"{third_person(verb).capitalize()} the {adj} {plural(self.noun)} whose {' '.join(fw)} passes the limit."
        name = self.begin([verb, adj, plural(self.noun)], params, "z" if c_lang else "L", doc, guard)
        if guard:
            self.guard(coll)
        kind = pick(r, ("selected", "matching", "eligible", "kept", adj))
        res = "out" if c_lang else self.local(kind, plural(self.noun))
        sized, unsized = d.lines("new_list_sized", name=res, n=d.len(coll)), d.lines("new_list", name=res)
        self.alt((MEM,), sized, unsized)
        if not c_lang:
            self.rename(res)
        self.loop(item, coll)
        if r.random() < 0.4:
            self.skip(item)
        good, bad = self.both(item, limit)
        self.alt((FC,), d.lines("if", c=good), d.lines("if", c=bad), opens=True)
        if c_lang:
            start = len(self.lines)
            self.open(d.lines("if", c=f"{res}_len == cap"))
            self.emit([d.x("stmt", e="break")])
            self.close()
            self.block_hook((SEC,), start)
        self.emit([d.x("append", name=res, x=item)])
        if r.random() < 0.5:
            self.extra(item, 2)
        if r.random() < 0.3:
            self.mid(d.lines("else"))
            self.extra(item, 2)
        self.close()
        self.close()
        if r.random() < 0.3:
            self.extra(item, 3)
        self.emit(d.ret(d.x("list_ret", name=res)))
        self.rename(item)
        self.finish()
        return {"shape": "collect", "fn": name, "field": fw, "coll": coll, "limit": limit, "adj": adj}

    def _find(self, main: bool) -> dict:
        d, r = self.d, self.r
        coll, item = self.coll_item()
        fw, _ = self.field_of("s")
        key = self.local(pick(r, ("wanted", "target", "lookup", "expected")), *fw)
        verb = pick(r, ("find", "lookup", "locate", "get", "resolve"))
        doc = f"Returns the first {self.noun} whose {' '.join(fw)} matches, or nothing."
        name = self.begin([verb, self.noun, "by", *fw], [(coll, "L"), (key, "s")], "r", doc)
        if self.lang == "Go":
            self.open(d.lines("forrange", i="i", op="<", n=d.len(coll)))
            self.emit([f"{item} := &{coll}[i]"])
        else:
            self.loop(item, coll)
        good = d.streq(d.fld(item, fw), key)
        bad = good.replace(" == ", " != ") if " == " in good else d.not_(good)
        self.alt((FC,), d.lines("if", c=good), d.lines("if", c=bad), opens=True)
        if r.random() < 0.4:
            self.extra(item, 2)
        self.emit(d.ret(item))
        self.close()
        self.close()
        if r.random() < 0.4:
            self.emit(d.log(self.message(), key, "s"))
        self.emit(d.ret(d.t["null"]))
        self.finish()
        return {"shape": "find", "fn": name, "field": fw, "coll": coll}

    def _group(self, main: bool) -> dict:
        d, r, c_lang = self.d, self.r, self.lang == "C"
        coll, item = self.coll_item()
        fw, _ = self.field_of("s")
        verb = pick(r, ("count", "group", "tally", "index", "bucket"))
        doc = f"{third_person(verb).capitalize()} the {plural(self.noun)} per {' '.join(fw)}."
        params = [(coll, "L")] + ([("counts", "M")] if c_lang else [])
        name = self.begin([verb, plural(self.noun), "by", *fw], params, "i" if c_lang else "M", doc)
        counts = "counts" if c_lang else self.local(plural(self.noun), "by", *fw)
        self.emit(d.lines("new_map", name=counts))
        if c_lang:
            self.emit(["int counted = 0;"])
        self.loop(item, coll)
        if r.random() < 0.5:
            self.skip(item)
        self.emit([d.x("map_inc", name=counts, k=d.fld(item, fw))])
        if c_lang:
            self.alt((FC,), ["counted++;"], ["counted--;"])
        for _ in range(between(r, 0, 2)):
            self.extra(item, 1)
        self.close()
        self.emit(d.ret("counted" if c_lang else counts))
        if not c_lang:
            self.rename(counts)
        self.finish()
        return {"shape": "group", "fn": name, "field": fw, "coll": coll}

    def _distinct(self, main: bool) -> dict:
        if self.lang == "C":
            return self._scan(main)
        d, r = self.d, self.r
        coll, item = self.coll_item()
        fw, _ = self.field_of("s")
        verb = pick(r, ("dedupe", "distinct", "unique", "prune", "merge"))
        doc = f"Drops {plural(self.noun)} whose {' '.join(fw)} was already seen, keeping the first."
        name = self.begin([verb, plural(self.noun)], [(coll, "L")], "L", doc)
        seen, res = self.local("seen", *fw), self.local(pick(r, ("unique", "distinct", "first")), plural(self.noun))
        pad = self.pad()
        ops = [(pad + d.x("set_fast", name=seen), pad + d.x("set_slow", name=seen))]
        self.emit([d.x("set_fast", name=seen)])
        self.emit(d.lines("new_list", name=res))
        self.loop(item, coll)
        key = self.local(*fw) if fw != ["name"] else self.local("key")
        self.emit(d.lines("decl", t=d.types["s"], name=key, e=d.fld(item, fw)))
        pad = self.pad()
        fast, slow = d.x("has_fast", name=seen, k=key), d.x("has_slow", name=seen, k=key)
        ops.append((pad + d.x("if", c=fast).split("\n")[0], pad + d.x("if", c=slow).split("\n")[0]))
        self.open(d.lines("if", c=fast))
        self.emit([d.x("stmt", e=CONTINUE.get(self.lang, "continue"))])
        self.close()
        ops.append((pad + d.x("add_fast", name=seen, k=key), pad + d.x("add_slow", name=seen, k=key)))
        self.emit([d.x("add_fast", name=seen, k=key), d.x("append", name=res, x=item)])
        if r.random() < 0.5:
            self.extra(item, 1)
        self.close()
        self.emit(d.ret(res))
        self.hook((SPEED,), *(((a,), (b,)) for a, b in ops))
        self.finish()
        return {"shape": "distinct", "fn": name, "field": fw, "coll": coll}

    def _scan(self, main: bool) -> dict:
        d, r = self.d, self.r
        text = self.local(self.noun, pick(r, ("text", "label", "line", "name")))
        test = pick(r, ("isupper", "isdigit", "isspace", "ispunct", "isalpha"))
        name = self.begin(["count", test[2:], "chars"], [(text, "s")], "z", f"Counts the {test[2:]} characters.")
        self.guard(text, f"{text} == NULL")
        self.emit(["size_t hits = 0;"])
        decl = self.emit([f"size_t len = strlen({text});"])
        head = self.open(["for (size_t i = 0; i < len; i++) {"])
        self.hook((SPEED,), (tuple(decl), ()), (tuple(head), (head[0].replace("< len", f"< strlen({text})"),)))
        self.open([f"if ({test}((unsigned char){text}[i])) {{"])
        self.alt((FC,), ["hits++;"], ["hits--;"])
        self.close()
        self.close()
        self.emit(d.ret("hits"))
        self.finish()
        return {"shape": "scan", "fn": name, "field": [test[2:]], "coll": text}

    def _render(self, main: bool) -> dict:
        d, r, c_lang = self.d, self.r, self.lang == "C"
        coll, item = self.coll_item()
        fw, fc = self.field_of("s" if c_lang else "ifsb")
        verb = pick(r, ("format", "render", "join", "describe", "summarize"))
        params = [(coll, "L")] + ([("buf", "c"), ("cap", "z")] if c_lang else [])
        doc = f"{third_person(verb).capitalize()} the {' '.join(fw)} of every {self.noun} as one line."
        name = self.begin([verb, self.noun, *fw], params, "z" if c_lang else "s", doc)
        sb = "buf" if c_lang else self.local(pick(r, ("parts", "text", "summary", "line", "out")))
        pad = self.pad()
        ops = [((pad + d.x("sb_fast", name=sb),), (pad + d.x("sb_slow", name=sb),))]
        self.emit([d.x("sb_fast", name=sb)])
        self.loop(item, coll)
        if r.random() < 0.4:
            self.skip(item)
        value = d.fld(item, fw)
        value = value if fc == "s" else d.x("to_str", e=value)
        pad = self.pad()
        ops.append(((pad + d.x("sb_add_fast", name=sb, e=value),), (pad + d.x("sb_add_slow", name=sb, e=value),)))
        self.emit([d.x("sb_add_fast", name=sb, e=value)])
        if r.random() < 0.4:
            self.extra(item, 2)
        self.close()
        pad = self.pad()
        done_fast, done_slow = d.ret(d.x("sb_done_fast", name=sb)), d.ret(d.x("sb_done_slow", name=sb))
        ops.append(((pad + done_fast[0],), (pad + done_slow[0],)))
        self.emit(done_fast)
        self.hook((SPEED, SEC) if c_lang else (SPEED,), *ops)
        self.finish()
        return {"shape": "render", "fn": name, "field": fw, "coll": coll}

    def _validate(self, main: bool) -> dict:
        d, r = self.d, self.r
        item = self.local(self.noun)
        verb = pick(r, ("validate", "check", "verify", "accept", "is_valid"))
        name = self.begin([*verb.split("_"), self.noun], [(item, "r")], "b", f"Checks that a {self.noun} is usable.")
        null = IS_NULL.get(self.lang, "{v} == null").format(v=item)
        if self.lang != "C++":
            self.guard(item, null) if r.random() < 0.5 else self.check([null], [null], False)
        checked = []
        for w, c in r.sample(self.fields, min(len(self.fields), between(r, 2, 4))):
            f = d.fld(item, w)
            checked.append(w)
            if c == "s":
                good = STR_EMPTY.get(self.lang, d.t["empty"]).format(c=f, n="0")
                self.check([good], [d.not_(good)], r.random() < 0.5)
            elif c == "b":
                self.check([d.not_(f)], [f], r.random() < 0.5)
            else:
                lo, hi = "0", pick(self.r, self.consts)[0] if self.consts else self.lit(c)
                good = f"{f} < {lo} {d.t['or']} {f} > {hi}"
                self.check([good], [f"{f} <= {lo} {d.t['or']} {f} >= {hi}"], r.random() < 0.5)
        self.emit(d.ret(d.t["true"]))
        self.finish()
        return {"shape": "validate", "fn": name, "field": checked[0], "fields": checked, "coll": item}

    def check(self, good: list[str], bad: list[str], log: bool) -> None:
        """Emits `if (good) return false` with a flip hook, and a hook deleting the whole check."""
        d = self.d
        start = len(self.lines)
        self.alt((FC,), d.lines("if", c=good[0]), d.lines("if", c=bad[0]), opens=True)
        if log:
            self.emit(d.log(self.message(), d.s(self.noun), "s"))
        self.emit(d.ret(d.t["false"]))
        self.close()
        self.block_hook((SEC,), start)

    def _query(self, main: bool) -> dict:
        d, r, lang = self.d, self.r, self.lang
        fw, _ = self.field_of("s")
        conn = {"Python": "cursor", "Ruby": "db", "Go": "db", "C": "db", "C++": "conn"}.get(lang, "connection")
        arg = self.local(*fw)
        verb = pick(r, ("load", "fetch", "query", "read", "list"))
        doc = f"{third_person(verb).capitalize()} the {plural(self.noun)} with the given {' '.join(fw)}."
        name = self.begin([verb, plural(self.noun), "by", *fw], [(conn, "C"), (arg, "s")], "Q", doc, fails=True)
        check = STR_EMPTY.get(lang, d.t["empty"]).format(c=arg, n="0")
        self.guard(arg, check)
        sql = f"SELECT {', '.join(r.sample(SQL_COLUMNS, between(r, 2, 5)))} FROM {snake([plural(self.noun)])}"
        safe = d.lines("query_safe", conn=conn, sql=sql, col=snake(fw), arg=arg)
        self.alt((SEC,), safe, d.lines("query_unsafe", conn=conn, sql=sql, col=snake(fw), arg=arg))
        if lang == "Go":
            self.open(["if err != nil {"])
            self.emit([f'return nil, fmt.Errorf("{verb} {plural(self.noun)}: %w", err)'])
            self.close()
        if lang == "C":
            self.emit(["int count = 0;"])
            self.open(["while (sqlite3_step(stmt) == SQLITE_ROW) {"])
            self.emit(["count++;"])
            self.close()
            self.emit(["sqlite3_finalize(stmt);"])
        if r.random() < 0.5:
            self.emit(d.log(self.message(), arg, "s"))
        self.emit(d.ret("count" if lang == "C" else "rows"))
        self.finish()
        return {"shape": "query", "fn": name, "field": fw, "coll": plural(self.noun)}

    def _clamp(self, main: bool) -> dict:
        d, r = self.d, self.r
        fw, _ = self.field_of("f")
        value, lo, hi = self.local(*fw), self.local("min", *fw), self.local("max", *fw)
        verb = pick(r, ("normalize", "clamp", "scale", "bound"))
        doc = f"{third_person(verb).capitalize()} a {' '.join(fw)} into the [{lo}, {hi}] range."
        name = self.begin([verb, *fw], [(value, "f"), (lo, "f"), (hi, "f")], "f", doc, fails=True)
        self.guard(lo, f"{lo} > {hi}")
        self.alt((FC,), d.lines("if", c=f"{value} < {lo}"), d.lines("if", c=f"{value} <= {lo}"), opens=True)
        self.emit(d.ret(lo))
        self.level -= 1
        self.alt((FC,), d.lines("elif", c=f"{value} > {hi}"), d.lines("elif", c=f"{value} >= {hi}"), opens=True)
        self.emit(d.ret(hi))
        self.close()
        span = self.local("span")
        self.emit(d.lines("decl", t=d.types["f"], name=span, e=f"{hi} - {lo}"))
        self.alt((FC,), d.ret(f"({value} - {lo}) / {span}"), d.ret(f"({value} - {lo}) / {hi}"))
        self.finish()
        return {"shape": "clamp", "fn": name, "field": fw, "coll": value}

    # The file.
    def file(self, target: int) -> Code:
        """Renders a file of about `target` characters (one function at least)."""
        d, r = self.d, self.r
        pkg = [pick(r, ORGS), pick(r, NOUNS), self.noun]
        self.emit(d.header(pkg))
        self.level = d.level
        if target > 900 and not (self.lang == "Python" and d.in_class):
            self.emit(d.record(self.fields))
        for _ in range(between(r, 0, 3)):
            words = [pick(r, ("max", "min", "default", "batch")), *self.field_of("i")[0]]
            name, value = d.const(words), str(pick(r, (3, 5, 8, 10, 16, 50, 100, 500, 1000)))
            if all(name != n for n, _ in self.consts):
                self.emit(d.lines("const", name=name, value=value))
                self.consts.append((name, value))
        if self.consts:
            self.emit([""] * (2 if self.lang == "Python" else 1))
        prefix = len(self.lines)
        main = getattr(self, "_" + pick(r, MAIN_SHAPES[self.aspect]))(True)
        size, counted = 0, 0
        while size < target:
            size += sum(map(len, self.lines[counted:])) + len(self.lines) - counted
            counted = len(self.lines)
            if size < target:
                getattr(self, "_" + pick(r, SHAPES))(False)
        while self.lines[-1] == "":
            self.lines.pop()
        for name, value in self.consts:  # readability: inline a named constant as a magic number
            pattern = re.compile(rf"\b{name}\b")
            for line in self.lines[prefix:]:
                if name in line and pattern.search(line):
                    self.hook((READ,), ((line,), (pattern.sub(value, line),)))
        self.level = 0
        self.emit(d.footer([d.cls] if d.in_class else self.exported()))
        return Code(self.lines, self.hooks, self.names, main, prefix, d)

    def exported(self) -> list[str]:
        """The names of top-level JavaScript functions, for `module.exports`."""
        return [line.split("function ")[1].split("(")[0] for line in self.lines if line.startswith("function ")]


def apply_ops(lines: list[str], ops: tuple) -> bool:
    """Applies one hook's line edits in place; False (and nothing changed) when a line is missing."""
    spans = []
    for op in ops:
        if op[0] == "w":
            continue
        old = op[0]
        try:
            i = lines.index(old[0])
        except ValueError:
            return False
        while lines[i : i + len(old)] != list(old):
            try:
                i = lines.index(old[0], i + 1)
            except ValueError:
                return False
        spans.append((i, len(old), op[1]))
    for i, n, new in sorted(spans, reverse=True):
        lines[i : i + n] = new
    return True


def make_rejected(rng: random.Random, code: Code, aspect: int) -> str:
    """`code` made worse for criterion `aspect` by one to three of its hooks."""
    hooks = code.hooks[aspect] or code.hooks[FC] or code.hooks[READ]
    chosen = rng.sample(hooks, min(len(hooks), pick(rng, (1, 1, 1, 2, 2, 3))))
    lines = list(code.lines)
    renames = []
    for ops in chosen:
        if apply_ops(lines, ops):
            renames += [op for op in ops if op[0] == "w"]
    head, body = "\n".join(lines[: code.prefix]), "\n".join(lines[code.prefix :]) + "\n"
    for _, name, new in renames:  # a renamed local: not in the header (an include or a package name)
        body = re.sub(rf"\b{name}\b", new, body)
    if head + "\n" + body == code.text:
        body = re.sub(rf"\b{code.names[-1]}\b", "tmp", body)
    return head + "\n" + body


# Near-duplicates: edits of a rendered pair, applied to chosen and rejected alike.
NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
STRING = re.compile(r'"([a-z][^"\\]+)"')


def comment_text(rng: random.Random, gen: CodeGen) -> str:
    """A plausible comment about `gen`'s domain."""
    verb, f = pick(rng, VERBS), " ".join(pick(rng, gen.fields)[0])
    template = pick(rng, COMMENT_TEMPLATES)
    return template.format(n=gen.noun, f=f, F=f.capitalize(), v=verb, V=verb.capitalize(), a=pick(rng, ADJS))


def edit_lines(rng: random.Random, gen: CodeGen, code: Code, texts: list[str], edits: int, comments: bool) -> None:
    """Makes `edits` line edits to `texts[1]` (chosen) and the same ones to `texts[2]` (rejected), in place.

    An edit adds or drops a comment (the only kind when `comments`), changes a number or
    a string literal, or adds a log line. It is found in rejected by the line's content.
    """
    d, r = code.dialect, rng
    cl, rl = texts[1].split("\n"), texts[2].split("\n")
    for _ in range(edits):
        j = r.randrange(min(code.prefix, len(cl) - 1), len(cl))
        line = cl[j]
        indent = line[: len(line) - len(line.lstrip())]
        x = r.random()
        if comments or x < 0.3 or not line.strip():
            is_note = line.lstrip().startswith(d.cmt + " ")
            new = [] if is_note and r.random() < 0.5 else [line, f"{indent}{d.cmt} {comment_text(r, gen)}"]
        elif x < 0.6 and NUMBER.search(line):
            new = [NUMBER.sub(lambda _: str(between(r, 2, 999)), line, count=1)]
        elif x < 0.8 and STRING.search(line):
            new = [STRING.sub(lambda m: f'"{m.group(1)} {pick(r, ADJS)}"', line, count=1)]
        elif line.rstrip().endswith(";") or (d.lang in ("Python", "Ruby", "Go") and " = " in line):
            new = [line] + [indent + x for x in d.log(gen.message(), d.s(gen.noun), "s")]
        else:
            new = [line, f"{indent}{d.cmt} {comment_text(r, gen)}"]
        cl[j : j + 1] = new
        if line in rl:
            k = rl.index(line)
            rl[k : k + 1] = new
    texts[1], texts[2] = "\n".join(cl), "\n".join(rl)


def rename_identifier(rng: random.Random, code: Code, texts: list[str], uses: float, keep_prompt: bool) -> None:
    """Renames, in every text, the identifier of `code` whose number of uses is closest to `uses`."""
    counts = Counter(WORD.findall("\n".join(texts)))
    found = [(counts[n], n) for n in code.names if len(n) > 3 and counts[n]]
    if not found:
        return
    _, name = min(found, key=lambda u: (abs(u[0] - uses), u[1]))
    parts = re.findall(r"[A-Z]?[a-z0-9]+", name)
    parts[rng.randrange(len(parts))] = pick(rng, NOUNS if rng.random() < 0.5 else ADJS)
    new = code.dialect.var(parts)
    new = new[:1].upper() + new[1:] if name[:1].isupper() else new
    pattern = re.compile(rf"\b{name}\b")
    first = 1 if keep_prompt else 0
    texts[first:] = [pattern.sub(new, t) for t in texts[first:]]


def respace(rng: random.Random, code: Code, texts: list[str]) -> None:
    """Re-indents chosen and rejected with another unit, adds trailing spaces and blank lines: words unchanged."""
    unit = code.dialect.ind
    new_unit = pick(rng, [u for u in ("  ", "    ", "\t") if u != unit])
    trailing, blank = rng.random() < 0.5, rng.random() < 0.5
    for f in (1, 2):
        out = []
        for j, line in enumerate(texts[f].split("\n")):
            lead = line[: len(line) - len(line.lstrip())]
            line = new_unit * lead.count(unit) + lead.replace(unit, "") + line.lstrip()
            out.append(line + " " if trailing and j % 7 == 3 else line)
            if blank and not line:
                out.append("")
        texts[f] = "\n".join(out)


# Prompts: English task descriptions built from the main function's description.
OPENERS = (
    "Write",
    "Implement",
    "Create",
    "Please write",
    "Could you implement",
    "I need",
    "Help me write",
    "Add",
    "Build",
    "Draft",
    "Code up",
    "Put together",
    "Give me",
)
SUBJECTS = (
    "a {lang} function",
    "a {lang} helper",
    "a small {lang} routine",
    "a {lang} method",
    "a function in {lang}",
    "a utility in {lang}",
    "an idiomatic {lang} function",
    "a self-contained {lang} function",
)
TASKS = {
    "sum": (
        "that totals the {field} of the {nouns} in `{coll}`, counting only entries past `{limit}`",
        "which sums {field} over every {noun} whose values clear a limit passed as `{limit}`",
        "returning the accumulated {field} for {noun} records above a caller-supplied threshold",
    ),
    "collect": (
        "that returns the {adj} {nouns} from `{coll}` whose {field} passes `{limit}`",
        "which filters a list of {noun} records down to those meeting a {field} threshold",
        "that selects the matching {nouns} and returns them in their original order",
    ),
    "find": (
        "that looks up the first {noun} in `{coll}` with a given {field}",
        "which searches a list of {nouns} for the entry whose {field} equals a key, returning nothing if absent",
        "to locate a {noun} by its {field}",
    ),
    "group": (
        "that counts how many {nouns} share each {field}",
        "which builds a map from {field} to the number of {nouns} having that value",
        "to tally the {noun} records per {field}",
    ),
    "distinct": (
        "that removes {nouns} with a duplicate {field}, keeping the first occurrence",
        "which deduplicates a list of {nouns} using the {field} as key",
        "to drop repeated {noun} entries (same {field}) while preserving their order",
    ),
    "render": (
        "that formats the {field} of every {noun} into a single comma-separated string",
        "which joins the {field} values of a {noun} list into one line of text",
        "to build a short text summary listing the {field} of each {noun}",
    ),
    "validate": (
        "that checks whether a {noun} record is valid before it gets stored",
        "which returns false when a {noun} has an out-of-range {field} or missing data",
        "to validate a single {noun}: the {field} must be present and within bounds",
    ),
    "query": (
        "that loads the {nouns} with a given {field} from a SQL database",
        "which queries the `{coll}` table for rows matching a {field} supplied by the caller",
        "to fetch {noun} rows filtered by {field}",
    ),
    "clamp": (
        "that clamps the {field} value into a range and rescales it to [0, 1]",
        "which bounds the {field} between a minimum and a maximum and normalizes the result",
        "to normalize the {field} given lower and upper limits",
    ),
    "scan": (
        "that counts the {field} characters of a NUL-terminated string",
        "which scans a C string once and returns how many {field} characters it holds",
    ),
}
CONTEXT = (
    "This is part of a {noun2} service that handles {nouns} for {adj} {nouns3}.",
    "We call it from the {verb} job, which runs every {n} minutes.",
    "The {noun} data comes from a partner API and is not always clean.",
    "It will feed the {adj} {noun2} dashboard.",
    "Our team is moving the {noun2} pipeline to {lang}, and this is one of the first pieces.",
    "The input usually holds a few hundred {nouns}, occasionally {n} thousand.",
    "Right now this logic is copy-pasted in three places around the {noun2} module.",
)
ASPECT_ASKS = (
    (
        "Keep it readable: clear names, small steps and a short doc comment.",
        "Prefer descriptive identifiers over abbreviations and avoid magic numbers.",
        "Other people will maintain this, so make the intent obvious.",
    ),
    (
        "It sits on a hot path, so avoid quadratic scans and repeated work inside loops.",
        "Performance matters here: the list can contain {n} thousand {nouns}.",
        "Make it fast and hoist anything invariant out of the loop.",
    ),
    (
        "Treat every input as untrusted and validate it before use.",
        "Never build SQL strings or buffers from unchecked input.",
        "Reject malformed {nouns} early instead of failing later.",
    ),
    (
        "Be careful with the boundaries: values equal to the limit need the right treatment.",
        "Make sure edge cases such as an empty list are handled correctly.",
        "Correctness matters more than speed here, so double-check the comparisons.",
    ),
    (
        "Memory is tight on the {adj} workers, so avoid copying the input.",
        "Do not allocate more than needed and preallocate when the size is known.",
        "The {noun} list can be large, so process it without extra copies.",
    ),
)
GENERAL = (
    "Do not modify the input.",
    "Log anything unexpected.",
    "Use only the standard library.",
    "Add a short comment for the non-obvious parts.",
    "Return early when there is nothing to do.",
    "Include the imports you need.",
    "Keep the signature exactly as described.",
    "Unit tests will call it with {n} {nouns} at most.",
)


def prompt(rng: random.Random, language: str, aspect: int, main: dict, noun: str) -> str:
    """An English task description for the file's main function."""
    r = rng
    noun2, noun3 = pick(r, NOUNS), pick(r, NOUNS)
    kw = {
        "lang": language,
        "noun": noun,
        "nouns": plural(noun),
        "field": " ".join(main["field"]),
        "coll": main["coll"],
        "limit": main.get("limit", "limit"),
        "adj": main.get("adj", pick(r, ADJS)),
        "noun2": noun2,
        "nouns3": plural(noun3),
        "verb": pick(r, VERBS),
        "n": str(between(r, 2, 90)),
    }
    subject = pick(r, SUBJECTS).format(**kw)
    first = f"{pick(r, OPENERS)} {subject} named `{main['fn']}` {pick(r, TASKS[main['shape']]).format(**kw)}."
    extra = r.sample(CONTEXT, between(r, 0, 2)) + r.sample(ASPECT_ASKS[aspect], between(r, 1, 2))
    extra += r.sample(GENERAL, between(r, 0, 2))
    r.shuffle(extra)
    return " ".join([first] + [e.format(**kw) for e in extra])


# About 1% of prompts: the same request in Spanish, German, French or Chinese.
FOREIGN = {
    "es": (
        "Escribe una función en {lang} llamada `{fn}` que procese una lista de registros {noun} y devuelva el "
        "resultado según el campo {field}.",
        (
            "La función debe manejar correctamente una lista vacía y no debe modificar los datos de entrada.",
            "Por favor, añade comentarios breves y usa nombres de variables claros.",
            "El código se ejecutará en un servicio con mucho tráfico, así que evita copias innecesarias.",
            "Comprueba bien los valores límite antes de devolver el resultado.",
        ),
    ),
    "de": (
        "Schreibe eine {lang}-Funktion namens `{fn}`, die eine Liste von {noun}-Datensätzen verarbeitet und das "
        "Ergebnis anhand des Feldes {field} berechnet.",
        (
            "Die Funktion soll leere Eingaben sauber behandeln und die Eingabedaten nicht verändern.",
            "Bitte füge kurze Kommentare hinzu und verwende sprechende Variablennamen.",
            "Der Code läuft in einem stark ausgelasteten Dienst, daher sollten unnötige Kopien vermieden werden.",
            "Achte besonders auf die Grenzwerte und prüfe alle Eingaben.",
        ),
    ),
    "fr": (
        "Écris une fonction {lang} nommée `{fn}` qui traite une liste d'enregistrements {noun} et renvoie le "
        "résultat en fonction du champ {field}.",
        (
            "La fonction doit gérer correctement une liste vide et ne doit pas modifier les données d'entrée.",
            "Merci d'ajouter de courts commentaires et d'utiliser des noms de variables explicites.",
            "Le code tourne dans un service très sollicité : évite les copies inutiles.",
            "Vérifie soigneusement les valeurs limites avant de renvoyer le résultat.",
        ),
    ),
    "zh": (
        "请用{lang}编写一个名为 `{fn}` 的函数，处理 {noun} 记录列表，并根据 {field} 字段返回结果。",
        (
            "函数需要正确处理空列表，并且不能修改输入数据。",
            "请添加简短的注释，并使用清晰的变量名。",
            "这段代码运行在高负载的服务中，请避免不必要的数据拷贝。",
            "请仔细检查边界值，并在使用前验证所有输入。",
        ),
    ),
}


def foreign_prompt(rng: random.Random, language: str, main: dict, noun: str) -> str:
    """A non-English version of the request (the language filter should catch it)."""
    first, rest = FOREIGN[pick(rng, tuple(FOREIGN))]
    sep = "" if "，" in first else " "
    kw = {"lang": language, "fn": main["fn"], "noun": noun, "field": " ".join(main["field"])}
    return sep.join([first.format(**kw)] + rng.sample(rest, between(rng, 1, 3)))


# The fake benchmark: exercise statements in another register than the training prompts.
BENCH = (
    "Given a list of integers {a}, return the length of the longest strictly increasing run of consecutive elements.",
    "You are given a string {s} made of lowercase letters. Return the smallest index of a character that occurs "
    "exactly {k} times, or -1 if there is none.",
    "Given two sorted arrays {a} and {b}, merge them into one sorted array without calling a library sort and return "
    "the element at position {k}.",
    "Given a matrix {m} with n rows and m columns, return the sum of the elements on its border, counting each corner "
    "exactly once.",
    "Given a positive integer {n}, return the number of distinct ways to climb a staircase of {n} steps when each "
    "move climbs either one or {k} steps.",
    "Return True if the characters of the string {s} can be rearranged into a palindrome, ignoring spaces and letter "
    "case.",
    "Given a list of intervals {iv}, where each interval is a pair of start and end times, merge all overlapping "
    "intervals and return how many remain.",
    "Given an undirected graph as an edge list {e} over {n} nodes labelled from zero, return the number of connected "
    "components.",
    "Given a list of words {w}, return the word with the most distinct vowels, breaking ties by the earliest position.",
    "Given a list of daily stock prices {a}, return the maximum profit achievable with at most {k} buy and sell "
    "transactions, never holding two positions at once.",
    "You are given a binary string {s}. Return the minimum number of flips needed so that no two adjacent characters "
    "are equal.",
    "Given an integer array {a} and a target {t}, count the pairs of indices i smaller than j whose values add up to "
    "exactly {t}.",
    "Given a sentence {s}, reverse the order of its words while keeping the characters of each word in place and "
    "collapsing repeated spaces.",
    "Given a grid {m} of zeros and ones, return the area of the largest square made only of ones, or zero when there "
    "is none.",
    "Return every prime number below {n} that stays prime when its decimal digits are reversed, in increasing order.",
    "Given a list of integers {a} and a window size {k}, return the maximum of every contiguous window of that size.",
)
BENCH_NAMES = {
    "a": words("nums arr values data xs seq numbers items heights scores"),
    "b": words("other ys second rhs tail extra"),
    "s": words("s text word line sentence bits pattern"),
    "m": words("grid matrix board field cells table"),
    "iv": words("intervals ranges spans meetings slots"),
    "e": words("edges links pairs connections"),
    "w": words("words tokens names terms"),
}
BENCH_EXAMPLES = (
    "For example, with {x} the expected answer is {y}.",
    "Example: input {x}, output {y}.",
    "Note: {x} must give {y}.",
    "Sample: {x} -> {y}.",
)
BENCH_TAILS = (
    "Constraints: the input has at most {big} elements and every value fits in 32 bits.",
    "Your solution should run in O(n log n) time or better.",
    "Do not use recursion deeper than {big}.",
    "Return the answer modulo 1000000007 when it is large.",
    "",
)


def benchmark_prompts(seed: int, count: int = 2000) -> list[str]:
    """The fake benchmark's prompts: English exercise statements, one random example each."""
    r = random.Random(f"benchmark:{seed}")
    out = []
    for _ in range(count):
        kw = {k: f"`{pick(r, v)}`" for k, v in BENCH_NAMES.items()}
        kw |= {"k": str(between(r, 2, 9)), "n": str(between(r, 10, 500)), "t": str(between(r, -50, 200))}
        x = "[" + ", ".join(str(between(r, -20, 99)) for _ in range(between(r, 3, 9))) + "]"
        tails = [pick(r, BENCH_EXAMPLES), pick(r, BENCH_TAILS)]
        tails = [t.format(x=x, y=between(r, 0, 60), big=pick(r, (1000, 10000, 100000))) for t in tails if t]
        out.append(" ".join([pick(r, BENCH).format(**kw)] + tails))
    return out


# Planted credentials: random but well-formed.
SECRET_KINDS = ("aws_access_key", "github_token", "slack_bot_token", "private_key", "stripe_live_key")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_B64 = _ALNUM + "+/"


def _draw(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choices(alphabet, k=n))


def make_secret(rng: random.Random, kind: str) -> list[str]:
    """The secret's parts (AWS: key id and secret key; PEM: its lines; else one token)."""
    if kind == "aws_access_key":
        return ["AKIA" + _draw(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), _draw(rng, _B64, 40)]
    if kind == "github_token":
        return ["ghp_" + _draw(rng, _ALNUM, 36)]
    if kind == "slack_bot_token":
        return [f"xoxb-{_draw(rng, '0123456789', 12)}-{_draw(rng, '0123456789', 13)}-{_draw(rng, _ALNUM, 24)}"]
    if kind == "stripe_live_key":
        return ["sk_live_" + _draw(rng, _ALNUM, 24)]
    body = "MIIEpAIBAAKCAQEA" + _draw(rng, _B64, 1572) + "AQAB"
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ["-----BEGIN RSA PRIVATE KEY-----"] + lines + ["-----END RSA PRIVATE KEY-----"]


def secret_in_code(d: Dialect, kind: str, parts: list[str]) -> list[str]:
    """The secret as constants of `d`'s language (unindented first and last lines)."""
    if kind == "private_key":
        open_, line, close = d.t["pem"]
        return [open_.format(name=d.const(["private", "key", "pem"]))] + [line.format(line=p) for p in parts] + [close]
    if kind == "aws_access_key":
        names = (["aws", "access", "key", "id"], ["aws", "secret", "access", "key"])
        return [d.x("secret", name=d.const(n), value=p) for n, p in zip(names, parts, strict=True)]
    return [d.x("secret", name=d.const(kind.split("_")), value=parts[0])]


def secret_in_prompt(rng: random.Random, kind: str, parts: list[str]) -> str:
    """A sentence leaking the secret, to append to a prompt."""
    if kind == "aws_access_key":
        return f"It runs with aws_access_key_id={parts[0]} and aws_secret_access_key={parts[1]} for now."
    if kind == "private_key":
        return "This is the key the service loads at startup:\n" + "\n".join(parts)
    return pick(
        rng,
        (
            "For testing, use the token {t} in the config.",
            "Our current key is {t}, keep it working.",
            "The deploy script exports {t} before it runs this.",
        ),
    ).format(t=parts[0])
