"""huntbook's parameter semantics side by side with papermill's own code.

Rendering is compared with papermill's translators without black: papermill
reformats Python parameters with black when it can import it, so the comparison
blocks that import to get papermill's plain rendering, which is what huntbook
produces everywhere. Where huntbook deliberately differs (see the Rust module docs of
``params::translate`` and ``params::inspect``), the tests say so and check our output.
"""

import base64
import json
import math
import random
import subprocess
import sys

import nbformat
import papermill
import papermill.translators as pt
import pytest
import yaml
from papermill.cli import _resolve_type
from papermill.iorw import NoDatesSafeLoader, read_yaml_file

from huntbook import _huntbook as hb


@pytest.fixture(autouse=True)
def no_black(monkeypatch):
    """Makes `import black` fail inside papermill's codify, whatever is installed."""
    monkeypatch.setitem(sys.modules, "black", None)


def same(a, b):
    """Equality that also compares types (1, 1.0 and True differ) and treats nan as equal."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def stringify_keys(value):
    """What a value becomes once rendered by papermill and read back: str keys, tuples as lists."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out[str(k)] = stringify_keys(v)
        return out
    if isinstance(value, (list, tuple)):
        return [stringify_keys(v) for v in value]
    return value


# ---------------------------------------------------------------------------------
# (a) Python rendering, property style

CHAR_POOL = (
    [chr(c) for c in range(0x20, 0x7F)]
    + ['"', "'", "\\", "\\", '"""', "\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\xa0"]
    + ["é", "ß", "ÿ", "Ā", "中", "\u2028", "\ufeff", "\uffff", "😍", "𝟗", "\U0010ffff", "\U0001f600"]
)


def random_text(rng):
    return "".join(rng.choice(CHAR_POOL) for _ in range(rng.randint(0, 12)))


def random_float(rng):
    kind = rng.randint(0, 5)
    if kind == 0:
        return rng.choice([float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 1e20, 1e-7, 1e16, 1e15, 0.1 + 0.2])
    if kind == 1:
        # Any bit pattern: denormals, huge and tiny exponents.
        import struct

        f = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        return f
    if kind == 2:
        return rng.uniform(-1e6, 1e6)
    if kind == 3:
        return float(rng.randint(-(10**20), 10**20))
    if kind == 4:
        # Exact ties at the last shortest digit (706801869536214.25 is repr'd ...214.2).
        return float(rng.randint(10**14, 10**16)) + rng.choice([0.25, 0.75, 0.125, 0.5])
    return rng.random() * 10 ** rng.randint(-30, 30)


def random_int(rng):
    return rng.choice([0, -1, 2**31, -(2**31) - 1, 2**63, -(2**64)]) if rng.random() < 0.3 else rng.randint(
        -(10 ** rng.randint(1, 60)), 10 ** rng.randint(1, 60)
    )


def random_value(rng, depth=0):
    kind = rng.randint(0, 9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return random_int(rng)
    if kind == 3:
        return random_float(rng)
    if kind in (4, 5, 6):
        return random_text(rng)
    if kind == 7:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = [rng.choice([random_text(rng), random_int(rng), rng.random() < 0.5, None, 1.5]) for _ in range(rng.randint(0, 4))]
    d = {}
    for k in keys:
        d[k] = random_value(rng, depth + 1)
    return d


def random_parameters(rng):
    params = {}
    for i in range(rng.randint(0, 6)):
        params[f"p{i}_{rng.randint(0, 99)}"] = random_value(rng)
    return params


def test_python_rendering_matches_papermill_on_random_values():
    rng = random.Random(20261128)
    for _ in range(3000):
        params = random_parameters(rng)
        ours = hb.translate_parameters("python3", "python", params)
        theirs = pt.PythonTranslator.codify(params, "Parameters")
        assert ours == theirs, params
        # The rendering is literal code that evaluates back to the values.
        namespace = {}
        exec(ours, namespace)
        for name, value in params.items():
            assert same(namespace[name], stringify_keys(value)), (name, value, namespace[name])


def test_float_repr_matches_python():
    rng = random.Random(42)
    floats = [random_float(rng) for _ in range(20000)] + [706801869536214.2, 5e-324, 1.7976931348623157e308, 1e16, 1e-5]
    ours = hb.translate_parameters("python3", "python", {f"f{i}": f for i, f in enumerate(floats)})
    assert ours == pt.PythonTranslator.codify({f"f{i}": f for i, f in enumerate(floats)}, "Parameters")


def test_black_is_not_used():
    # Without black, papermill leaves a long list on one line; with it, one item per line.
    params = {"hosts": [f"host-{i:03}.example.org" for i in range(40)]}
    ours = hb.translate_parameters("python3", "python", params)
    assert ours == pt.PythonTranslator.codify(params, "Parameters")
    assert ours.count("\n") == 2


def test_known_python_renderings():
    cases = [
        ({"s": "é\n😍\t'\\x\""}, '# Parameters\ns = "\\xe9\\n\\U0001f60d\\t\'\\\\x\\""\n'),
        ({"f": 1e20, "g": 1e-07, "z": -0.0}, "# Parameters\nf = 1e+20\ng = 1e-07\nz = -0.0\n"),
        ({"big": 10**30}, "# Parameters\nbig = 1000000000000000000000000000000\n"),
        ({"d": {1: "x"}}, '# Parameters\nd = {"1": "x"}\n'),
        ({"t": float("-inf")}, "# Parameters\nt = float('-inf')\n"),
    ]
    for params, want in cases:
        assert hb.translate_parameters("python3", "python", params) == want
        assert pt.PythonTranslator.codify(params, "Parameters") == want


def test_injection_attempts_stay_strings():
    attack = '"; import os; os.system("id"); "'
    code = hb.translate_parameters("python3", "python", {"x": attack, "y": [attack], "z": {attack: attack}})
    namespace = {}
    exec(code, namespace)
    assert namespace["x"] == attack and namespace["y"] == [attack] and namespace["z"] == {attack: attack}


def test_other_objects_render_as_their_str():
    import datetime

    params = {"when": datetime.date(2024, 1, 2), "t": (1, "a")}
    ours = hb.translate_parameters("python3", "python", params)
    # papermill: a date is quoted as its str(); a tuple too, but huntbook reads a tuple as a list.
    assert ours == '# Parameters\nwhen = "2024-01-02"\nt = [1, "a"]\n'


def test_translator_lookup_matches_papermill():
    for kernel, language in [("python3", "python"), ("bash", "python"), ("ir", "R"), ("sparkkernel", None), ("julia-1.9", "julia")]:
        want = pt.papermill_translators.find_translator(kernel, language)
        got = hb.translate_parameters(kernel, language, {"a": 1})
        assert got == want.codify({"a": 1}, "Parameters")
    for kernel, language in [("python3", None), (None, None), ("Python", "r")]:
        with pytest.raises(pt.PapermillException):
            pt.papermill_translators.find_translator(kernel, language)
        with pytest.raises(ValueError, match=f"kernel '{kernel}' or language '{language}'"):
            hb.translate_parameters(kernel, language, {"a": 1})


# ---------------------------------------------------------------------------------
# (b) Other languages against papermill's translators, on values where huntbook does
# not deliberately differ.

COMMON = {
    "none": None,
    "yes": True,
    "no": False,
    "small": 42,
    "negative": -7,
    "large": 3_000_000_000,
    "huge": -(10**25),
    "pi": 3.14159,
    "sci": 1e20,
    "tiny": 1e-07,
    "negzero": -0.0,
    "word": "simple",
    "spaced": "two words",
    "quoted": 'say "hi" it\'s',
    "backslash": "C:\\Users\\x",
    "unicode": "é中😍",
    "control": "a\nb\tc\x00",
    "empty": "",
    "path": "/var/log/auth.log",
    "numbers": [1, 2.5, -3],
    "mixed": [None, True, "x y", [1, [2]]],
    "mapping": {"k": 1, 2: "two", "nested": {"deep": [1, "a"]}},
}


def without(*names):
    return {k: v for k, v in COMMON.items() if k not in names}


GOLDEN = [
    ("R", None, COMMON),
    ("julia", None, COMMON),
    ("scala", None, COMMON),
    ("matlab", None, COMMON),
    (".net-fsharp", None, COMMON),
    (".net-powershell", None, COMMON),
    (".net-csharp", None, without("none", "mixed")),
    ("bash", None, without("mapping")),
    ("sparkrkernel", "R", COMMON),
]


@pytest.mark.parametrize("kernel,language,params", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_other_languages_match_papermill(kernel, language, params):
    theirs = pt.translate_parameters(kernel, language, params, "Parameters")
    assert hb.translate_parameters(kernel, language, params) == theirs


def test_deliberate_differences():
    # Julia and PowerShell expand `$` in double-quoted strings; papermill leaves it.
    attack = "$(run(`id`))"
    assert pt.translate_parameters("julia", None, {"x": attack}) == '# Parameters\nx = "$(run(`id`))"\n'
    assert hb.translate_parameters("julia", None, {"x": attack}) == '# Parameters\nx = "\\$(run(`id`))"\n'
    ps_attack = '`"; Remove-Item x; "$(whoami)'
    assert hb.translate_parameters(".net-powershell", None, {"x": ps_attack}) == (
        '# Parameters\n$x = "```"; Remove-Item x; `"`$(whoami)"\n'
    )
    # Non-finite floats: papermill writes Python's names, which R and Julia do not know.
    inf = {"a": float("inf"), "b": float("nan"), "c": float("-inf")}
    assert pt.translate_parameters("R", None, inf, "Parameters") == "# Parameters\na = inf\nb = nan\nc = -inf\n"
    assert hb.translate_parameters("R", None, inf) == "# Parameters\na = Inf\nb = NaN\nc = -Inf\n"
    assert hb.translate_parameters("julia", None, inf) == "# Parameters\na = Inf\nb = NaN\nc = -Inf\n"
    # Where papermill raises, huntbook renders something usable.
    with pytest.raises(NotImplementedError):
        pt.translate_parameters("bash", None, {"d": {"k": "v"}}, "Parameters")
    assert hb.translate_parameters("bash", None, {"d": {"k": "v w"}}) == "# Parameters\nd='{\"k\":\"v w\"}'\n"
    with pytest.raises(NotImplementedError):
        pt.translate_parameters(".net-csharp", None, {"n": None}, "Parameters")
    assert hb.translate_parameters(".net-csharp", None, {"n": None}) == "// Parameters\nvar n = (object)null;\n"


def test_bash_rendering_runs_in_bash():
    params = {"a": "it's $HOME `id` \"q\"", "b": ["x y", "z"], "n": 5}
    code = hb.translate_parameters("bash", None, params)
    out = subprocess.run(
        ["bash", "-c", code + 'printf "%s|" "$a" "${b[@]}" "$n"'], capture_output=True, text=True, check=True
    ).stdout
    assert out == "it's $HOME `id` \"q\"|x y|z|5|"


# ---------------------------------------------------------------------------------
# (c) YAML with papermill's loader

YAML_DOCS = [
    "a: yes\nb: No\nc: ON\nd: off\ne: TRUE\nf: y\ng: n\nh: yEs",
    "a: ~\nb: null\nc: NULL\nd:\ne: Null\nf: nULL",
    "a: 010\nb: 0x10\nc: 0b101\nd: 1_000\ne: -0x_1F\nf: +7\ng: -0\nh: 09\ni: 0o17\nj: 0_7",
    "a: 190:20:30\nb: -1:30\nc: 1:60\nd: 190:20:30.15\ne: 1:30.5",
    "a: 1e3\nb: 1.0e+3\nc: 1.0e3\nd: 1.\ne: .5\nf: -.5\ng: 1_000.5\nh: 6.02E-23\ni: +1.5",
    "a: .inf\nb: -.Inf\nc: +.INF\nd: .nan\ne: .NaN\nf: .NAN\ng: -.nan\nh: .iNF\ni: inf\nj: nan",
    "a: 2019-01-01\nb: 2019-01-01 10:00:00\nc: 2001-12-14t21:59:43.10-05:00\nd: 2002-12-14",
    "a: '010'\nb: \"yes\"\nc: ''\nd: \"1e3\"\ne: |\n  yes\nf: >\n  folded\n  text\n",
    "a: !!str 010\nb: !!int \"0x10\"\nc: !!float 1\nd: !!float 1e3\ne: !!bool yes\nf: ! 12\ng: !!null ''",
    "a: ! '12'\nb: ! yes\nc: ! [1]\nd: !<tag:yaml.org,2002:int> \"5\"\ne: !!seq [1]\nf: !!map {a: 1}",
    "base: &b {a: 1, b: 2}\nother: *b\nmerged:\n  <<: *b\n  b: 3\n  c: 4\n",
    "x: &x {key: 1, a: 0}\ny: &y {key: 2, b: 0}\nm:\n  <<: [*x, *y]\n  own: 1\n",
    "x: &x {k: 1, a: 0}\ny: &y {k: 2, b: 0}\nm:\n  <<: [*x, *y]\n",
    "1: a\ntrue: b\nnull: c\n1.5: d\n2.0: e\n010: f\n",
    "d: {1: x, '1': y, 1.0: z, .nan: n1, .nan: n2}",
    "a: 1\na: 2\nb: 3",
    "=: 1\n'<<': 2",
    '{"a": 1, "b": [1.5, "x", null, true], "c": {"d": 1e3, "e": -0.0, "f": 12345678901234567890123}}',
    "s: \"é\\u00e9\\U0001F60D\\x41\"\nt: 'it''s'\nu: \"line\\nbreak\"",
    "list:\n  - 1\n  - [a, b]\n  - {k: v}\n  -\n  - - nested",
    "",
    "~",
    "# only a comment\n",
    "---\na: 1\n...\n",
    "key with spaces: value with spaces\n'quoted key': 1\n? complex\n: 2",
    "a: 123456789012345678901234567890\nb: -0b1111111111111111111111111111111111111111111111111111111111111111111",
    "a: 1_000_000.000_1\nb: 0.000001\nc: 100000000000000000000.0",
]


def papermill_yaml(text):
    return yaml.load(text, Loader=NoDatesSafeLoader) or {}


@pytest.mark.parametrize("doc", YAML_DOCS)
def test_yaml_matches_papermill(doc):
    theirs = stringify_keys(papermill_yaml(doc))
    ours = hb.parse_parameters_yaml(doc)
    assert same(ours, theirs), (ours, theirs)


@pytest.mark.parametrize(
    "doc",
    ["- 1\n- 2", "just a string", "a: =", "a: [1", "a: !!int abc", "? [1]\n: x", "a: 1\n---\nb: 2", "a: !!merge x", "a: !foo x"],
)
def test_yaml_errors_where_papermill_errors(doc):
    try:
        result = papermill_yaml(doc)
        papermill_fails = not isinstance(result, dict)
    except yaml.YAMLError:
        papermill_fails = True
    except (TypeError, ValueError):  # an unhashable key, `!!int abc`
        papermill_fails = True
    assert papermill_fails
    with pytest.raises(ValueError, match="line"):
        hb.parse_parameters_yaml(doc, "params.yaml")


def test_parameter_files_match_papermill(tmp_path):
    for i, doc in enumerate(YAML_DOCS):
        path = tmp_path / f"p{i}.yaml"
        path.write_text(doc, encoding="utf-8")
        theirs = stringify_keys(read_yaml_file(str(path)) or {})
        assert same(hb.parse_parameters_yaml(path.read_text(encoding="utf-8"), str(path)), theirs), doc


def test_json_file_matches_papermill(tmp_path):
    data = {"a": 1, "b": [1.5, "x", None, True], "c": {"d": "é", "e": 10**22}, "f": 1e-5}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert same(hb.parse_parameters_yaml(path.read_text(), str(path)), read_yaml_file(str(path)))


def test_base64_yaml_is_yaml():
    doc = "a: yes\nb: 0x10\n"
    decoded = base64.b64decode(base64.b64encode(doc.encode()))
    assert same(hb.parse_parameters_yaml(decoded.decode()), papermill_yaml(decoded))


# ---------------------------------------------------------------------------------
# (d) `-p NAME VALUE` typing

CLI_VALUES = [
    "True", "False", "None", "true", "false", "null", "none", "TRUE",
    "0", "-0", "+5", "007", " 5 ", "\t-12\n", "1_000", "1__000", "_1", "1_", "٣", "١٢٣", "１２", "𝟗",
    "99999999999999999999999999999", "0x10", "0o7", "0b1", "1e3", "1E-3", "1.5", ".5", "5.", "-.5e+2",
    "nan", "NaN", "-nan", "inf", "-Infinity", "INFINITY", "infinit", "1e", "e5", "1.2.3", "1_0.2_5e1_0",
    "", " ", "abc", "1 2", "١.٥", "\u30001\u3000", "\x1c7\x1f", "1e400", "-1e-400", "0.1", "3.141592653589793238",
]


def test_cli_values_match_papermill():
    rng = random.Random(7)
    alphabet = "0123456789_+-.eEinfatyIN xj٣１"
    generated = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(3000)]
    for text in CLI_VALUES + generated:
        assert same(hb.resolve_parameter_value(text), _resolve_type(text)), repr(text)


# ---------------------------------------------------------------------------------
# (e) Inference from the parameters cell

PARAMETER_CELLS = [
    "a = 1  # the a param\nb: int = 2\nc: \"List[str]\" = ['x']  # type: ignored help\n",
    "# Parameters\nimport os\nd = 3.5  # type: float  the d param\ne = {\n    'k': 1,  # dropped\n    'j': 2,\n}  # after\n",
    "f: Optional[Dict[str, int]] = None\ng =   'x'   #   \nh = [\n  1,\n  2]\n",
    "a = 1\nprint(a)\n",
    "x: int\ny = 2\nx.y = 1\nz: pd.DataFrame = None\nw += 1\n",
    "t = 1  # type:\nu = 'x'  # type: str\nv: 'int' = 5\n",
    "\n\n   \n# only comments\n",
    "name_ä = 'ünïcode'  # hélp\n",
    "a = 1\r\nb = 2\rc = 3\n",
]


def build_notebook(tmp_path, source, name="nb.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(nbformat.v4.new_code_cell("import sys"))
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


@pytest.mark.parametrize("source", PARAMETER_CELLS)
def test_inference_matches_papermill(tmp_path, source):
    theirs = list(papermill.inspect_notebook(str(build_notebook(tmp_path, source))).values())
    assert hb.inspect_parameters_source(source) == theirs


def test_inference_improves_on_equals_and_hashes_in_strings(tmp_path):
    source = "s = \"a=b\"\nh = 'x#y'  # has a # in it\nk = 1  # e.g. key=value\nd = dict(a=1)\n"
    theirs = papermill.inspect_notebook(str(build_notebook(tmp_path, source)))
    # papermill skips every line with two `=` and cuts 'x#y' at the `#`.
    assert list(theirs) == ["h"] and theirs["h"]["default"] == "'x"
    ours = hb.inspect_parameters_source(source)
    assert [(p["name"], p["default"], p["help"]) for p in ours] == [
        ("s", '"a=b"', ""),
        ("h", "'x#y'", "has a # in it"),
        ("k", "1", "e.g. key=value"),
        ("d", "dict(a=1)", ""),
    ]


def test_cli_params_json_matches_inspect_notebook(tmp_path, huntbook_bin):
    source = PARAMETER_CELLS[0] + PARAMETER_CELLS[2]
    path = build_notebook(tmp_path, source)
    out = subprocess.run([str(huntbook_bin), "params", str(path), "--json"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == papermill.inspect_notebook(str(path))
    untagged = nbformat.v4.new_notebook()
    untagged.cells.append(nbformat.v4.new_code_cell("a = 1"))
    nbformat.write(untagged, str(tmp_path / "untagged.ipynb"))
    result = subprocess.run([str(huntbook_bin), "params", str(tmp_path / "untagged.ipynb")], capture_output=True, text=True)
    assert result.returncode == 1 and "no cell tagged 'parameters'" in result.stderr
    missing = subprocess.run([str(huntbook_bin), "params", str(tmp_path / "missing.ipynb")], capture_output=True, text=True)
    assert missing.returncode == 2 and "missing.ipynb" in missing.stderr
