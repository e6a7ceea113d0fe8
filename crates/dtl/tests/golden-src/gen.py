"""Writes tests/golden/<function>.json from the compact tables below.

Expression cases are (name, EXPR, expected result[, extra source fields]); each becomes
{"default": [["copy","_id"], ["add","result",EXPR]]} with expected {"_id":"1","result":...}.
Transform cases are (name, source, rules, expected) written out in full.
"""
import json, os

NULL = None
E = {}  # expression cases: function -> list
T = {}  # transform cases


def e(fn, *cases):
    E.setdefault(fn, []).extend(cases)


def t(fn, *cases):
    T.setdefault(fn, []).extend(cases)


# --- transforms ---------------------------------------------------------------
S = {"_id": "1", "a": 1, "b": "x", "n": None, "l": [1, 2]}
t("add",
  ("computed name", S, {"default": [["copy", "_id"], ["add", ["concat", "k-", "_S.b"], 1]]}, {"_id": "1", "k-x": 1}),
  ("null is stored", S, {"default": [["copy", "_id"], ["add", "z", "_S.missing"]]}, {"_id": "1", "z": None}),
  ("several names", S, {"default": [["copy", "_id"], ["add", ["list", "p", "q"], 2]]}, {"_id": "1", "p": 2, "q": 2}),
  # A constant non-string name is a compile error (tests/compile_errors.rs); computed ones are ignored.
  ("non-string name ignored", S, {"default": [["copy", "_id"], ["add", "_S.a", 2]]}, {"_id": "1"}))
t("add-if",
  ("empty list is added", S, {"default": [["copy", "_id"], ["add-if", "z", ["list"]]]}, {"_id": "1", "z": []}),
  ("condition on _", S, {"default": [["copy", "_id"], ["add-if", "z", ["is-list", "_."], "_S.l"]]}, {"_id": "1", "z": [1, 2]}))
t("copy",
  ("star copies everything", S, {"default": [["copy", "*"]]}, S),
  ("exclude underscore", S, {"default": [["copy", "_id"], ["copy", "*", "_*"]]}, S),
  ("missing name copies nothing", S, {"default": [["copy", "_id"], ["copy", "zz"]]}, {"_id": "1"}),
  ("non-dict source", S, {"default": [["copy", "_id"], ["copy", ["list", "a", "n"]]]}, {"_id": "1", "a": 1, "n": None}))
t("rename",
  ("missing source property", S, {"default": [["copy", "_id"], ["rename", "zz", "y"]]}, {"_id": "1"}),
  ("list value", S, {"default": [["copy", "_id"], ["rename", "l", "m"]]}, {"_id": "1", "m": [1, 2]}))
t("remove",
  ("wildcard", S, {"default": [["copy", "*"], ["remove", "?"]]}, {"_id": "1"}),
  ("list of patterns", S, {"default": [["copy", "*"], ["remove", ["list", "a", "b", "l"]]]}, {"_id": "1", "n": None}),
  ("no match", S, {"default": [["copy", "_id"], ["remove", "zz"]]}, {"_id": "1"}))
t("default",
  ("existing kept", S, {"default": [["copy", "*"], ["default", "a", 9]]}, S),
  ("null counts as present", S, {"default": [["copy", "*"], ["default", "n", 9]]}, S))
t("filter",
  ("empty list is false", S, {"default": [["copy", "_id"], ["filter", ["list"]]]}, None),
  ("zero is true", S, {"default": [["copy", "_id"], ["filter", 0]]}, {"_id": "1"}),
  ("later transforms skipped", S, {"default": [["copy", "_id"], ["filter", False], ["fail!", "no"]]}, None))
t("discard",
  ("true keeps", S, {"default": [["copy", "_id"], ["discard", True], ["add", "k", 1]]}, {"_id": "1", "k": 1}),
  ("null discards", S, {"default": [["copy", "_id"], ["discard", "_S.n"]]}, None))
t("if",
  ("empty then branch", S, {"default": [["copy", "_id"], ["if", True, []]]}, {"_id": "1"}),
  ("no else", S, {"default": [["copy", "_id"], ["if", False, ["add", "x", 1]]]}, {"_id": "1"}),
  ("filter inside branch stops the rule", S, {"default": [["copy", "_id"], ["if", True, [["filter"]]], ["add", "x", 1]]}, None))
t("case",
  ("else branch", S, {"default": [["copy", "_id"], ["case", False, ["add", "x", 1], ["add", "x", 2]]]}, {"_id": "1", "x": 2}),
  ("first true wins", S, {"default": [["copy", "_id"], ["case", True, ["add", "x", 1], True, ["add", "x", 2]]]}, {"_id": "1", "x": 1}))
t("case-eq",
  ("list equals scalar", S, {"default": [["copy", "_id"], ["case-eq", ["list", "x"], "x", ["add", "y", 1]]]}, {"_id": "1", "y": 1}),
  ("int equals float", S, {"default": [["copy", "_id"], ["case-eq", 1, 1.0, ["add", "y", 1]]]}, {"_id": "1", "y": 1}))
t("comment",
  ("unknown functions inside are fine", S, {"default": [["copy", "_id"], ["comment", ["no-such-fn"]]]}, {"_id": "1"}))
t("merge",
  ("underscore keys skipped", S, {"default": [["copy", "_id"], ["merge", {"_id": "2", "_x": 1, "y": 2}]]}, {"_id": "1", "y": 2}),
  ("non-dicts ignored", S, {"default": [["copy", "_id"], ["merge", ["list", 1, "a", None, {"y": 2}]]]}, {"_id": "1", "y": 2}))
t("merge-union",
  ("existing list grows", S, {"default": [["copy", "_id"], ["add", "a", ["list", 1]], ["merge-union", {"a": 2}]]}, {"_id": "1", "a": [1, 2]}))
t("create",
  ("dict without _id fails", S, {"default": [["copy", "_id"], ["create", {"x": 1}]]}, {"error": "string `_id`"}))
t("create-child",
  ("appends to $children", S, {"default": [["copy", "_id"], ["create-child", {"_id": "c1"}], ["create-child", {"_id": "c2"}]]},
   {"_id": "1", "$children": [{"_id": "c1"}, {"_id": "c2"}]}))
t("make-ni",
  ("list is sorted, non-strings dropped", {"_id": "1", "r": ["b", 1, "a"]}, {"default": [["copy", "_id"], ["make-ni", "ns", "r"]]},
   {"_id": "1", "r-ni": ["~:ns:a", "~:ns:b"]}),
  ("missing property", S, {"default": [["copy", "_id"], ["make-ni", "ns", "zz"]]}, {"_id": "1"}))
t("fail!", ("message", S, {"default": [["fail!", ["concat", "bad ", "_S.b"]]]}, {"error": "bad x"}))
t("trip!", ("message", S, {"default": [["trip!", "stop"]]}, {"error": "stop"}))
t("sleep!", ("zero seconds", S, {"default": [["copy", "_id"], ["sleep!", 0]]}, {"_id": "1"}))

# --- expressions --------------------------------------------------------------
e("and", ("empty list is false", ["and", True, ["list"]], False), ("zero is true", ["and", 0, ""], True))
e("or", ("all false", ["or", False, None], False))
e("not", ("null", ["not", None], True), ("empty string is true", ["not", ""], False))
e("all", ("empty list", ["all", ["list"]], True), ("null inside", ["all", ["list", 1, None]], False))
e("any", ("empty list", ["any", ["list"]], False), ("function", ["any", ["gt", "_.", 2], ["list", 1, 3]], True))
e("eq", ("null vs empty list", ["eq", None, ["list"]], True), ("order matters", ["eq", ["list", 1, 2], ["list", 2, 1]], False),
  ("int and float", ["eq", 1, 1.0], True), ("dicts by value", ["eq", {"a": 1, "b": 2}, {"b": 2, "a": 1}], True))
e("neq", ("different types", ["neq", 1, "1"], True))
e("gt", ("null is never greater", ["gt", None, 1], False), ("first element", ["gt", ["list", 5, 0], 4], True),
  ("mixed types by rank", ["gt", "a", 1], True))
e("gte", ("equal", ["gte", 2, 2.0], True))
e("lt", ("strings", ["lt", "A", "a"], True))
e("lte", ("null", ["lte", 1, None], False))
e("if", ("no else gives null", ["if", False, 1], None), ("list condition", ["if", ["list", 0], "y", "n"], "y"))
e("case", ("no match", ["case", False, 1], None))
e("case-eq", ("else", ["case-eq", 3, 1, "a", 2, "b", "c"], "c"))
e("coalesce", ("all null", ["coalesce", ["list", None, None]], None), ("scalar", ["coalesce", 5], 5),
  ("with function", ["coalesce", ["gt", "_.", 2], ["list", 1, 3, 4]], 3))
e("coalesce-args", ("all null", ["coalesce-args", None, None], None))
e("if-null", ("value kept", ["if-null", 0, 2], 0), ("empty list", ["if-null", ["list"], "x"], "x"))
e("is-null", ("scalar", ["is-null", 0], False), ("first not null", ["is-null", ["list", 1, None]], False))
e("is-not-null", ("string", ["is-not-null", ""], True))
e("concat", ("null ignored", ["concat", "a", None, "b"], "ab"), ("nested list not flattened twice", ["concat", ["list", "a", ["list", "b"]]], "a"))
e("join", ("non-string sep", ["join", 1, ["list", "a"]], None), ("single string", ["join", ",", "a"], "a"), ("null", ["join", ",", None], ""))
e("split", ("default whitespace", ["split", "a  b\tc"], ["a", "b", "c"]), ("null", ["split", ",", None], []),
  ("non-string dropped", ["split", ",", ["list", "a,b", 1]], ["a", "b"]))
e("lower", ("null", ["lower", None], None), ("wrong type", ["lower", 1], None), ("unicode", ["lower", "ÆØÅ"], "æøå"))
e("upper", ("null", ["upper", None], None))
e("strip", ("null", ["strip", None], None), ("wrong type in list", ["strip", ["list", " a ", 1]], ["a"]))
e("lstrip", ("chars", ["lstrip", "0", "007"], "7"))
e("rstrip", ("chars", ["rstrip", "!", "hi!!"], "hi"))
e("ljust", ("longer string untouched", ["ljust", 2, "x", "abc"], "abc"), ("list", ["ljust", 3, ".", ["list", "a", 1]], ["a.."]))
e("rjust", ("null", ["rjust", 3, "0", None], None))
e("length", ("wrong type", ["length", 12], None), ("unicode", ["length", "æøå"], 3))
e("substring", ("past the end", ["substring", 2, 10, "abc"], "c"), ("no end", ["substring", 1, "abc"], "bc"),
  ("list", ["substring", 0, 1, ["list", "ab", 3, "cd"]], ["a", "c"]), ("non-int start", ["substring", "x", "abc"], None))
e("replace", ("no match", ["replace", "x", "y", "abc"], "abc"), ("list", ["replace", "a", "b", ["list", "aa", 1]], ["bb"]))
e("matches", ("null", ["matches", "*", None], False), ("single", ["matches", "a?c", "abc"], True))
e("string", ("null", ["string", None], None), ("int", ["string", 5], "5"), ("float", ["string", 1.0], "1.0"),
  ("decimal", ["string", "~f1.50"], "1.50"), ("datetime", ["string", "~t2015-07-28T09:46:00Z"], "2015-07-28T09:46:00Z"))
e("is-string", ("null", ["is-string", None], False))
e("integer", ("float truncates", ["integer", -2.7], -2), ("bad string dropped", ["integer", "x"], None),
  ("list", ["integer", ["list", "1", "x", 2.5]], [1, 2]), ("big", ["integer", "123456789012345678901234567890"], 123456789012345678901234567890),
  ("hex", ["integer", "0x0100"], 256), ("null", ["integer", None], None))
e("decimal", ("int", ["decimal", 2], "~f2"), ("bad", ["decimal", "abc"], None), ("null", ["decimal", None], None))
e("float", ("int", ["float", 2], 2.0), ("bad", ["float", "abc"], None))
e("hex", ("255", ["hex", 255], "0x00ff"), ("127", ["hex", 127], "0x7f"), ("-129", ["hex", -129], "0xff7f"), ("wrong type", ["hex", "a"], None))
e("is-integer", ("float", ["is-integer", 1.0], False))
e("is-decimal", ("null", ["is-decimal", None], False))
e("is-float", ("list", ["is-float", ["list", 1.5, 1]], True))
e("+", ("int+float", ["+", 1, 0.5], 1.5), ("string", ["+", "a", 1], None), ("decimal", ["+", "~f0.1", "~f0.2"], "~f0.3"),
  ("overflow to bigint", ["+", 9223372036854775807, 1], 9223372036854775808))
e("-", ("negative", ["-", 1, 3], -2))
e("*", ("decimal times int", ["*", "~f1.5", 2], "~f3.0"))
e("/", ("int division gives fraction", ["/", 7, 2], 3.5), ("null", ["/", None, 2], None))
e("%", ("negative like python", ["%", -7, 3], 2), ("by zero", ["%", 1, 0], None))
e("^", ("negative exponent", ["^", 2, -1], 0.5), ("float", ["^", 4.0, 0.5], 2.0))
e("plus", ("scalar", ["plus", 1, 2], 3), ("null values", ["plus", 1, None], None), ("null operand", ["plus", None, ["list", 1]], None))
e("minus", ("non-numbers dropped", ["minus", 1, ["list", "a", 3]], [2]))
e("multiply", ("float", ["multiply", 0.5, ["list", 2, 4]], [1.0, 2.0]))
e("divide", ("by zero dropped", ["divide", 0, ["list", 1, 2]], []))
e("mod", ("scalar", ["mod", 3, 10], 1))
e("pow", ("scalar", ["pow", 3, 2], 8))
e("abs", ("decimal", ["abs", "~f-1.5"], "~f1.5"), ("wrong type", ["abs", "x"], None))
e("round", ("half even", ["round", 2.5], 2), ("int", ["round", 3], 3), ("decimal digits", ["round", 1, "~f1.25"], "~f1.2"),
  ("null", ["round", None], None), ("negative half", ["round", -4.5], -4))
e("ceil", ("negative", ["ceil", -1.5], -1), ("wrong type", ["ceil", "a"], None))
e("floor", ("negative", ["floor", -1.5], -2), ("int", ["floor", 7], 7))
e("sqrt", ("negative", ["sqrt", -1], None))
e("sin", ("wrong type", ["sin", "a"], None))
e("cos", ("list", ["cos", ["list", 0]], [1.0]))
e("tan", ("zero", ["tan", 0], 0.0))
e("sum", ("empty", ["sum", ["list"]], 0), ("null", ["sum", None], 0), ("floats", ["sum", ["list", 1, 0.5]], 1.5))
e("list", ("nested", ["list", ["list"]], [[]]), ("null element", ["list", None], [None]))
e("combine", ("nested lists one level", ["combine", ["list", ["list", 1]], 2], [[1], 2]), ("nulls inside kept", ["combine", ["list", None]], [None]))
e("flatten", ("non-list", ["flatten", "a"], "a"), ("null", ["flatten", None], None), ("only one level", ["flatten", ["list", ["list", ["list", 1]]]], [[1]]))
e("count", ("null", ["count", None], 0), ("empty", ["count", ["list"]], 0), ("dict", ["count", {"a": 1}], 1))
e("first", ("scalar", ["first", "a"], "a"), ("null", ["first", None], None))
e("last", ("scalar", ["last", 5], 5))
e("nth", ("out of range", ["nth", 5, ["list", 1]], None), ("scalar index 1", ["nth", 1, "a"], None), ("negative", ["nth", -1, ["list", 1, 2]], 2))
e("slice", ("start only", ["slice", 1, ["list", 1, 2, 3]], [2, 3]), ("negative stride", ["slice", 0, 3, -1, ["list", 1, 2, 3]], []),
  ("full reverse", ["slice", -1, -4, -1, ["list", 1, 2, 3]], [3, 2, 1]))
e("insert", ("at end", ["insert", 10, ["list", 1], 2], [1, 2]), ("list object stays one element", ["insert", 0, ["list", 1], ["list", 2, 3]], [[2, 3], 1]))
e("range", ("step", ["range", 0, 10, 3], [0, 3, 6, 9]), ("negative step", ["range", 3, 0, -1], [3, 2, 1]), ("zero step", ["range", 0, 3, 0], None))
e("reversed", ("null", ["reversed", None], None), ("scalar", ["reversed", 1], 1))
e("sorted", ("null first", ["sorted", ["list", 2, None, 1]], [None, 1, 2]), ("scalar", ["sorted", 3], 3),
  ("key function", ["sorted", ["-", 0, "_."], ["list", 1, 3, 2]], [3, 2, 1]), ("stable", ["sorted", "_.k", ["list", {"k": 1, "v": "a"}, {"k": 0}, {"k": 1, "v": "b"}]],
                                                                              [{"k": 0}, {"k": 1, "v": "a"}, {"k": 1, "v": "b"}]))
e("sorted-descending", ("mixed types", ["sorted-descending", ["list", "a", 1, None]], ["a", 1, None]))
e("distinct", ("key function", ["distinct", ["lower", "_."], ["list", "a", "A", "b"]], ["a", "b"]), ("int and float", ["distinct", ["list", 1, 1.0]], [1]))
e("filter", ("null", ["filter", "_.", None], []), ("scalar", ["filter", ["gt", "_.", 1], 5], [5]))
e("map", ("null", ["map", "_.", None], None), ("scalar", ["map", ["+", "_.", 1], 1], 2))
e("map-dict", ("empty dict dropped", ["map-dict", 1, "_.", {"a": 1}], None), ("list of dicts", ["map-dict", ["concat", "x", "_."], "_.", ["list", {"a": 1}, 2]], [{"xa": 1}]))
e("map-values", ("non-dicts ignored", ["map-values", "_.", ["list", {"a": 1}, 5]], [1]))
e("group-by", ("no key function", ["group-by", ["list", 1, "a", 1]], {"1": [1, 1], "\"a\"": ["a"]}), ("empty", ["group-by", "_.", ["list"]], {}))
e("group", ("null key", ["group", "_.k", "_.v", ["list", {"v": 1}, {"k": "a", "v": 2}]], [[None, [1]], ["a", [2]]]))
e("enumerate", ("start", ["enumerate", 1, ["list", "a"]], [{"key": 1, "value": "a"}]), ("null", ["enumerate", None], None))
e("in", ("empty list", ["in", ["list"], ["list", 1]], False), ("partial", ["in", ["list", 1, 2], ["list", 1]], False))
e("is-empty", ("scalar", ["is-empty", 0], False), ("empty string is a value", ["is-empty", ""], False))
e("is-not-empty", ("list", ["is-not-empty", ["list", None]], True))
e("is-list", ("null", ["is-list", None], False), ("scalar", ["is-list", 1], False))
e("max", ("empty", ["max", ["list"]], None), ("nulls ignored", ["max", ["list", None, 1]], 1), ("key function", ["max", "_.a", ["list", {"a": 1}, {"a": 5}]], {"a": 5}))
e("min", ("scalar", ["min", 3], 3))
e("union", ("null", ["union", None, ["list", 1]], [1]), ("scalars", ["union", 1, 2], [1, 2]))
e("intersection", ("duplicates kept", ["intersection", ["list", 1, 1, 2], ["list", 1]], [1, 1]), ("null", ["intersection", None, 1], []))
e("difference", ("null b", ["difference", ["list", 1, 2], None], [1, 2]))
e("intersects", ("null", ["intersects", None, ["list", None]], False))
e("dict", ("pairs with non-string keys ignored", ["dict", ["list", ["list", 1, 2], ["list", "a", 1]]], {"a": 1}),
  ("odd argument count", ["dict", "a", 1, "b"], None), ("dict passes through", ["dict", {"a": 1}], {"a": 1}))
e("items", ("non-dicts ignored", ["items", ["list", 1, {"a": 1}]], [["a", 1]]), ("null", ["items", None], []))
e("key-values", ("single dict", ["key-values", {"hello": "world"}], {"key": "hello", "value": "world"}))
e("keys", ("single dict", ["keys", {"a": 1, "b": 2}], ["a", "b"]), ("wrong type", ["keys", 1], []))
e("values", ("null", ["values", None], []))
e("has-key", ("wrong type", ["has-key", "a", 1], None), ("missing", ["has-key", "b", {"a": 1}], False))
e("is-dict", ("null", ["is-dict", None], False))
e("path", ("dotted string", ["path", "a.b", {"a": {"b": 1}}], 1), ("fan out drops nulls", ["path", "a", ["list", {"a": 1}, {"b": 2}, {"a": [2, 3]}]], [1, 2, 3]),
  ("quoted step", ["path", "'a.b'", {"a.b": 7}], 7), ("wrong type", ["path", "a", 5], None))
e("literal", ("dict", ["literal", {"a": "_S.a"}], {"a": "_S.a"}), ("null", ["literal", None], None))
e("tuples", ("nulls skipped", ["tuples", ["list", 1, None], None, "a"], [[1, "a"]]))
e("datetime", ("epoch nanoseconds", ["datetime", 1000000000], "~t1970-01-01T00:00:01Z"), ("bad with default", ["datetime", "x", "nope"], "x"),
  ("null", ["datetime", None], None), ("offset", ["datetime", "2015-07-28T11:46:00+02:00"], "~t2015-07-28T09:46:00Z"))
e("datetime-parse", ("non-matching dropped", ["datetime-parse", "%Y", ["list", "2015", "x"]], ["~t2015-01-01T00:00:00Z"]),
  ("%z", ["datetime-parse", "%Y-%m-%d %H:%M%z", "2015-07-28 11:46+0200"], "~t2015-07-28T09:46:00Z"),
  ("%p", ["datetime-parse", "%I %p", "01 PM"], "~t1900-01-01T13:00:00Z"), ("wrong type", ["datetime-parse", "%Y", 2015], None))
e("datetime-format", ("microseconds", ["datetime-format", "%f", "~t2015-07-28T09:46:00.123456789Z"], "123456"),
  ("non-datetime ignored", ["datetime-format", "%Y", ["list", "x", "~t2015-07-28T09:46:00Z"]], ["2015"]),
  ("winter time", ["datetime-format", "Europe/Oslo", "%H:%M %z", "~t2015-01-28T09:46:00Z"], "10:46 +0100"))
e("datetime-plus", ("month end clamps", ["datetime-plus", "month", 1, "~t2015-01-31T00:00:00Z"], "~t2015-02-28T00:00:00Z"),
  ("negative", ["datetime-plus", "hour", -1, "~t2015-01-01T00:00:00Z"], "~t2014-12-31T23:00:00Z"),
  # Constant unknown parts, zones and algorithms are compile errors; computed ones give null.
  ("unknown part", ["datetime-plus", "_S.part", 1, "~t2015-01-01T00:00:00Z"], None, {"part": "fortnight"}))
e("datetime-diff", ("hours truncated", ["datetime-diff", "hour", "~t2015-01-01T10:59:00Z", "~t2015-01-01T09:00:00Z"], 1),
  ("months", ["datetime-diff", "month", "~t2015-03-01T00:00:00Z", "~t2015-01-15T00:00:00Z"], 1),
  ("null", ["datetime-diff", "day", None, "~t2015-01-01T00:00:00Z"], None))
e("datetime-shift", ("utc to oslo", ["datetime-shift", "UTC", "Europe/Oslo", "~t2015-07-28T07:46:00Z"], "~t2015-07-28T09:46:00Z"),
  ("bad zone", ["datetime-shift", "_S.tz", "UTC", "~t2015-07-28T07:46:00Z"], None, {"tz": "Nowhere/Land"}))
e("now", ("is a datetime", ["is-datetime", ["now"]], True))
e("is-datetime", ("date", ["is-datetime", "~t2015-07-28"], True))
e("json", ("null", ["json", None], None), ("datetime plain", ["json", "~t2015-07-28T09:46:00Z"], "\"2015-07-28T09:46:00Z\""),
  ("nested sorted", ["json", {"b": [1, {"d": 1, "c": None}], "a": True}], "{\"a\": true, \"b\": [1, {\"c\": null, \"d\": 1}]}"))
e("json-transit", ("uri", ["json-transit", "~rhttp://x/"], "\"~rhttp://x/\""))
e("json-parse", ("null text", ["json-parse", "null"], None), ("list drops invalid", ["json-parse", ["list", "1", "x", "[1]"]], [1, [1]]),
  ("tilde stays a string", ["json-parse", "\"~t2015-07-28T09:46:00Z\""], "~~t2015-07-28T09:46:00Z"))
e("json-transit-parse", ("datetime", ["json-transit-parse", "\"~t2015-07-28T09:46:00Z\""], "~t2015-07-28T09:46:00Z"))
e("ni", ("non-string dropped", ["ni", "ns", ["list", 1, "a"]], ["~:ns:a"]), ("no ns", ["ni", "a:b"], "~:a:b"), ("uri with ns", ["ni", "ns", "~rhttp://x/"], None))
e("ni-ns", ("wrong type", ["ni-ns", 1], None))
e("ni-id", ("colon in id", ["ni-id", "~:a:b:c"], "b:c"))
e("is-ni", ("string", ["is-ni", "a:b"], False))
e("uri", ("wrong type dropped", ["uri", ["list", 1, "a"]], ["~ra"]))
e("is-uri", ("string", ["is-uri", "http://x/"], False))
e("url-quote", ("safe chars", ["url-quote", "/", "/a b"], "/a%20b"), ("null", ["url-quote", None], None))
e("url-unquote", ("utf-8", ["url-unquote", "%C3%A5"], "å"), ("wrong type", ["url-unquote", 1], None))
e("bytes", ("wrong type", ["bytes", 1], None))
e("base64-encode", ("string ignored", ["base64-encode", "abc"], None))
e("base64-decode", ("invalid dropped", ["base64-decode", ["list", "YWJj", "!!"]], ["~bYWJj"]))
e("is-bytes", ("null", ["is-bytes", None], False))
e("hash128", ("bytes", ["hash128", "murmur3", ["bytes", "abc"]], 79267961763742113019008347020647561319),
  ("non-string ignored", ["hash128", "murmur3", 1], None), ("unknown algorithm", ["hash128", "_S.algo", "abc"], None, {"algo": "md5"}))
e("uuid", ("bad string dropped", ["uuid", "nope"], None))
e("is-uuid", ("uuid literal", ["is-uuid", "~u531a379e-31bb-4ce1-8690-158dceb64be6"], True))
e("is-changed", ("no previous version", ["is-changed", "_.a"], None))
e("boolean", ("null", ["boolean", None], None), ("int dropped", ["boolean", 1], None))
e("is-boolean", ("null", ["is-boolean", None], False))
e("apply-ns", ("recursive", ["apply-ns", "n", {"a": {"b": 1}}], {"n:a": {"n:b": 1}}))
e("strip-ns", ("recursive", ["strip-ns", {"x:a": [{"y:b": 1}]}], {"a": [{"b": 1}]}))
e("lookup-entity", ("no lookup configured", ["lookup-entity", "ds", "x"], None))

APPLY = [
    ("list in, list out", {"_id": "1", "xs": [{"v": 1}, {"v": 2}]},
     {"default": [["copy", "_id"], ["add", "r", ["apply", "r", "_S.xs"]]], "r": [["add", "w", "_S.v"]]},
     {"_id": "1", "r": [{"w": 1}, {"w": 2}]}),
    ("filtered values are left out", {"_id": "1", "xs": [1, 2, 3]},
     {"default": [["copy", "_id"], ["add", "r", ["apply", "r", "_S.xs"]]], "r": [["filter", ["gt", "_S.", 1]], ["add", "v", "_S."]]},
     {"_id": "1", "r": [{"v": 2}, {"v": 3}]}),
    ("_R reaches the root", {"_id": "1", "xs": [1]},
     {"default": [["copy", "_id"], ["add", "r", ["apply", "r", "_S.xs"]]], "r": [["add", "root", "_R._S._id"]]},
     {"_id": "1", "r": [{"root": "1"}]}),
    ("unknown rule", {"_id": "1"}, {"default": [["add", "r", ["apply", "nope", 1]]]}, {"error": "unknown rule"}),
]
T["apply"] = APPLY

out = os.path.join(os.path.dirname(__file__), "..", "golden")
os.makedirs(out, exist_ok=True)
files = {}
for fn, cases in E.items():
    for c in cases:
        name, expr, res = c[0], c[1], c[2]
        src = {"_id": "1"}
        files.setdefault(fn, []).append({"name": name, "source": src,
                                          "rules": {"default": [["copy", "_id"], ["add", "result", expr]]},
                                          "expected": {"_id": "1", "result": res}})
for fn, cases in T.items():
    for name, src, rules, exp in cases:
        files.setdefault(fn, []).append({"name": name, "source": src, "rules": rules, "expected": exp})
for fn, cases in files.items():
    safe = {"+": "op-plus", "-": "op-minus", "*": "op-times", "/": "op-div", "%": "op-mod", "^": "op-pow"}.get(fn, fn)
    with open(os.path.join(out, safe + ".json"), "w") as f:
        json.dump(cases, f, indent=1, ensure_ascii=False)
        f.write("\n")
print(len(files), "files")
