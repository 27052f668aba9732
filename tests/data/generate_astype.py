#!/usr/bin/python3
"""NumPy's astype for the casts npio writes itself (tests/unit/astype_tests.cpp).

Writes GOLDEN_DIR/astype/: for case N, N_src.npy (random values, seeded) and
N_dst.npy (src.astype(TO) from this NumPy), and astype.txt with one line
"N FROM TO" per case, or "N FROM TO error" where NumPy refuses the cast.
Cases: every numeric type (both byte orders for the wider ones) to S and U of
NumPy's own width, of narrower widths (cut text) and big-endian U; and every
pair of datetime64 units and of timedelta64 units, with multiples,
datetime64 <-> timedelta64, datetime64/timedelta64 to S and U text, and S/U
text to every number type (what Python's int(), float(), complex() read).
Also GOLDEN_DIR/astype/struct.txt: structured pairs (and structured <-> plain), np.can_cast
under each rule and astype's values.
"""

import os
import re
import sys
import warnings

import numpy as np

NUMERIC = ["?", "i1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8", "u1", "<u2", "<u4", ">u4",
           "<u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<f16", "<c8", ">c8", "<c16", ">c16",
           "<c32"]
TEXT = ["U", "S", "<U3", "S2", ">U8", "<U12", "S7", "<U24"]
DATETIME_TEXT = ["U", "S", ">U", "S25", "<U12"]
UNITS = ["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as",
         "3s", "10s", "7D", "2M", "25ms"]


def special_floats(dt):
    info = np.finfo(dt)
    vals = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1.5, 0.1, 1 / 3, np.nan, -np.nan, np.inf, -np.inf,
            1e-4, 9.999e-5, 1e16, 9.999e15, 1e15, 123456789.0, float(info.max), float(info.tiny),
            float(info.smallest_subnormal), -float(info.max), 1e-5, 65504.0, 1e20, 1e-20,
            0.30000000000000004]
    with np.errstate(over="ignore"):
        return np.array(vals, dtype=np.float64).astype(dt)


def random_values(rng, dt, n=200):
    dt = np.dtype(dt)
    if dt.kind == "b":
        return rng.integers(0, 2, n).astype(dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        v = rng.integers(info.min, info.max, n, dtype=dt.newbyteorder("="), endpoint=True)
        v[:4] = [0, info.min, info.max, 1 if info.min == 0 else -1]
        return v.astype(dt)
    if dt.kind == "f":
        base = dt.newbyteorder("=")
        if base.itemsize <= 8:
            # random bit patterns: every exponent, subnormals, NaN payloads
            bits = rng.integers(0, 2 ** (8 * base.itemsize), n, dtype="u%d" % base.itemsize)
            v = bits.view(base)
        else:
            v = (rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n)).astype(base)
        with np.errstate(over="ignore"):
            # short decimals too (the common case: 0.1, 2.5, 1e-5)
            v[: n // 4] = np.round(rng.standard_normal(n // 4) * 100, 2).astype(base)
        return np.concatenate([special_floats(base), v]).astype(dt)
    # complex: pairs of the float cases
    part = np.dtype("f%d" % (dt.itemsize // 2))
    re = random_values(rng, part, n)
    im = random_values(rng, part, n)
    rng.shuffle(im)
    v = np.empty(len(re), dtype=dt.newbyteorder("="))
    v.real, v.imag = re, im
    v[:3] = [0j, complex(0.0, -0.5), complex(-0.0, 0.0)]
    return v.astype(dt)


def random_times(rng, n=300):
    vals = np.concatenate([
        rng.integers(-1000, 1000, n // 3),
        rng.integers(-10 ** 7, 10 ** 7, n // 3),
        rng.integers(-10 ** 12, 10 ** 12, n // 6),
        rng.integers(-2 ** 63 + 1, 2 ** 63 - 1, n // 6, dtype=np.int64),
        [0, 1, -1, 11, -11, 12, -12, 13, -13, 59, -59, 60, -61, 86399, -86401,
         -2 ** 63, 2 ** 63 - 1, -2 ** 63 + 1],
    ])
    return vals.astype(np.int64)


NUMBER_TARGETS = ["?", "i1", "<i2", ">i4", "<i8", "u1", "<u2", "<u4", ">u8", "<f2", "<f4",
                  ">f8", "<c8", ">c16", "<f16", "<c32"]
# Spellings where NumPy's long double reader (strtold) differs from float()
LONG_DOUBLE_TEXT = ["0x1.8p1", "0X10", "-0x.8p-2", "nan(abc)", "nan()", "-nan", "INFINITY",
                    "1e-4950", "1e4932", "1e5000", "-1e5000", "3.3621031431120935063e-4932",
                    "1.000000000000000000001", "0.1", "  0.1", "0.1 ", "1e", "1_0", " "]
BAD_TEXT = ["", "  ", "abc", "1.5e", "0x10", "1__0", "_1", "1_", "--1", "1 2", "(1+2j", "True",
            "1e", ".", "+", "nan(1)", "1+2", "j1", "(1+2j))", "1.5", "2j", "1e3"]


def number_texts(rng, n=240):
    """Text NumPy may read as a number: ints, floats, complex in Python's
    spellings (spaces, signs, underscores, inf/nan), and text it refuses."""
    out = list(BAD_TEXT)
    ws = ["", " ", "  ", "\t", "\n", " \r\n"]
    for _ in range(n):
        r = int(rng.integers(0, 9))
        if r == 0:
            t = str(int(rng.integers(-2 ** 63, 2 ** 63 - 1, dtype=np.int64)))
        elif r == 1:
            t = str(int(rng.integers(-300, 300)))
        elif r == 2:
            t = str(int(rng.integers(0, 2 ** 64 - 1, dtype=np.uint64)) * int(rng.integers(1, 3)))
        elif r == 3:
            t = repr(float(rng.integers(0, 2 ** 64 - 1, dtype=np.uint64).view(np.float64)))
        elif r == 4:
            x = float(rng.standard_normal() * 10.0 ** int(rng.integers(-8, 8)))
            t = ["%.3e" % x, "%.10g" % x, "%f" % x, "%.1f" % x, repr(x)][int(rng.integers(0, 5))]
        elif r == 5:
            t = ["inf", "-Infinity", "nan", "NaN", "+nan", "-nan", "iNF", "1e400", "-1e400",
                 "1e-400", "4.9e-324", ".5", "5.", "-.5e-3", "1E5", "0", "-0", "+0.0",
                 "00012", "65520", "65519.99"][int(rng.integers(0, 21))]
        elif r == 6:
            re, im = rng.standard_normal(2) * 100
            t = [repr(complex(re, im)), "%gj" % im, "%g%+gj" % (re, im), "j", "-j", "+J",
                 " ( 1-2.5J ) ", "2e3j", "infj", "1+nanj", "(3)", "1-j"][int(rng.integers(0, 12))]
        elif r == 7:
            # underscores between digits
            d = str(int(rng.integers(1000, 10 ** 9)))
            k = int(rng.integers(1, len(d)))
            t = d[:k] + "_" + d[k:] + ["", ".2_5", "e1_0"][int(rng.integers(0, 3))]
        else:
            t = ["9223372036854775807", "9223372036854775808", "-9223372036854775808",
                 "-9223372036854775809", "18446744073709551615", "18446744073709551616",
                 "-1", "255", "256", "-129", "32768", "4294967296", "1_000"][
                int(rng.integers(0, 13))]
        if rng.integers(0, 4) == 0:
            t = ws[int(rng.integers(0, 6))] + t + ws[int(rng.integers(0, 6))]
        if rng.integers(0, 8) == 0 and t[:1] not in "+-":
            t = "+" + t
        out.append(t)
    return out + LONG_DOUBLE_TEXT


def reads(text, to):
    try:
        with np.errstate(all="ignore"):
            np.array([text]).astype(to)
            np.array([text.encode()]).astype(to)
        return True
    except (OverflowError, ValueError, TypeError):
        return False


S_XYS = [("x", "<i4"), ("y", "<f8"), ("s", "S3")]
S_NEST = [("p", [("q", "<i4"), ("r", "<f4")]), ("v", "<f8", (2,))]
S_TEXT = [("s", "<U8"), ("n", "S6")]
S_TIME = [("t", "<M8[s]"), ("d", "<m8[ms]")]
# (source, target, check the values too): structured, or plain on one side;
# the values only where npio casts the pair (subarray shapes that differ are
# not implemented; can_cast is checked for every pair)
STRUCT_PAIRS = [
    (S_XYS, S_XYS, True),
    (S_XYS, [("a", "<f4"), ("b", "<i8"), ("c", "<U5")], True),
    (S_XYS, [("y", "<f8"), ("x", "<i8"), ("s", "S3")], True),
    (S_XYS, [("x", ">i4"), ("y", ">f8"), ("s", "S3")], True),
    (S_XYS, [("x", "<i8"), ("y", "<f8"), ("s", "S5")], True),
    (S_XYS, [("x", "<i2"), ("y", "<f8"), ("s", "S3")], True),
    (S_XYS, [("x", "<f4"), ("y", "<f8"), ("s", "<U3")], True),
    (S_XYS, {"names": ["x", "y", "s"], "formats": ["<i4", "<f8", "S3"],
             "offsets": [0, 8, 20], "itemsize": 24}, True),
    (S_XYS, [("x", "<i4"), ("y", "<f8")], True),
    (S_XYS, [("x", "<i4"), ("y", "<f8"), ("s", "S3"), ("t", "i1")], True),
    (S_XYS, [("x", "<i4", (3,)), ("y", "<f8"), ("s", "S3")], True),
    (S_XYS, [("x", "<i4"), ("y", "S32"), ("s", "<U3")], True),
    (S_XYS, [("x", "?"), ("y", "<c16"), ("s", "S1")], True),
    (S_XYS, [("x", "<M8[s]"), ("y", "<f8"), ("s", "S3")], True),
    (S_XYS, [("x", "<i4"), ("y", "<f8"), ("s", [("q", "S3")])], True),
    (S_NEST, [("p", [("q", "<i8"), ("r", "<f8")]), ("v", "<f4", (2,))], True),
    (S_NEST, [("a", [("q", "<i4"), ("z", "<f4")]), ("v", "<f8", (2,))], True),
    (S_NEST, [("p", [("q", "<i4"), ("r", "<f4")]), ("v", ">f8", (2,))], True),
    (S_NEST, [("p", [("q", "<i4")]), ("v", "<f8", (2,))], True),
    (S_NEST, [("p", [("q", "<i4"), ("r", "<f4")]), ("v", "<f8", (3,))], False),
    (S_NEST, [("p", "<i8"), ("v", "<f8", (2,))], False),
    (S_TEXT, [("s", "<f8"), ("n", "<i4")], True),
    (S_TEXT, [("s", "S8"), ("n", "<U6")], True),
    (S_TEXT, [("s", "<c16"), ("n", "<f4")], True),
    (S_TIME, [("t", "<M8[ms]"), ("d", "<U21")], True),
    (S_TIME, [("t", "S40"), ("d", "<m8[s]")], True),
    (S_TIME, [("t", "<M8[D]"), ("d", "<m8[ms]")], True),
    # a structured field to a plain one (one field only) and back
    ([("p", [("q", "<i4")]), ("v", "<f8")], [("p", "<f8"), ("v", "<f8")], True),
    ([("x", "<f8"), ("v", "<i4")], [("x", [("q", "<i8"), ("r", "<U3")]), ("v", "<f8", (2,))],
     True),
    # structured to plain: one field, cast (of a subarray field, the first
    # item); more fields are refused
    ([("a", "<i4")], "<f8", True),
    ([("a", ">f4")], "<U12", True),
    ([("a", "<i4", (2,))], "<f8", True),
    ([("a", [("x", "<i2")])], "<i8", True),
    ([("a", [("x", "<i2"), ("y", "<i2")])], "<i8", True),
    (S_XYS, "<f8", True),
    # to object (safe, any structure) and to void: can_cast only (npio
    # refuses both casts)
    (S_XYS, "|O", False),
    ([("a", "<i4")], "|O", False),
    ([("a", "<i4")], "|V4", False),
    # plain to structured: every field (every item of a subarray field,
    # nested fields too) holds the element cast to its type (no float to a
    # narrower integer: C leaves NaN and overflow undefined, see astype.tsv)
    ("<i8", S_XYS, True),
    ("<i2", S_NEST, True),
    ("<f4", [("a", "<f8"), ("b", "<U12"), ("c", "<c8", (2,))], True),
    ("<i8", [("t", "<M8[s]"), ("u", "<U6"), ("b", "?")], True),
    ("<U5", [("a", "<i4"), ("b", "S2")], True),
    ("<M8[s]", [("t", "<M8[ms]"), ("i", "<i8")], True),
]


def field_values(rng, dt, n):
    """n random values of a plain, subarray or structured dtype."""
    dt = np.dtype(dt)
    if dt.subdtype:
        base, shape = dt.subdtype
        return field_values(rng, base, n * int(np.prod(shape))).reshape((n,) + shape)
    if dt.names:
        out = np.zeros(n, dtype=dt)
        for name in dt.names:
            out[name] = field_values(rng, dt.fields[name][0], n)
        return out
    if dt.kind in "biufc":
        return rng.choice(random_values(rng, dt), n)
    if dt.kind in "Mm":
        v = rng.integers(-10 ** 12, 10 ** 12, n - 1)
        return np.concatenate([v.view(dt), np.array(["NaT"], dtype=dt)])
    width = dt.itemsize // (4 if dt.kind == "U" else 1)
    texts = [t.strip() for t in number_texts(rng, 3 * n) if reads(t.strip(), "<i4")]
    texts = [t for t in texts if len(t) <= width][:n]
    return np.array(texts + ["0"] * (n - len(texts)), dtype=dt)


# Texts NumPy refuses as datetime64, one case each (it stops at the first).
BAD_DATETIMES = ["2020-13-01", "2020-02-30", "2019-02-29", "2020-1-01", " NaT", "NaT ",
                 "2020-01-01 ", "2020-01-01T24:00", "2020-01-01T10:60", "2020-01-01T10:00:60",
                 "2020-01-01T10:00:05.1234567891234567891", "2020-01-01T10+24",
                 "2020-01-01T10+05:60", "2020-01-01X", "abc", "-", "  ", "2020-", "2020-01-",
                 "2020-01-01T", "2020-01-01T1", "2020-01-01T10:", "2020-01-01T10:00:",
                 "2020-01-01T10+5", "2020-01-01T10+05 ", "2020-01-01Z", "2020-01-01T10ZZ",
                 "2020-00-10", "2020-01-00", "+", "2020-01-01T10:00:05,5"]
# ... and as timedelta64 (C's strtol over the whole text).
BAD_TIMEDELTAS = ["10 ", "  ", "1_000", "0x10", "1e3", "1.5", "+", "-", "10s", "NAT ", "++1"]


def zoned(text):
    """Whether a datetime text has a time zone ('Z' or an offset after the time)."""
    s = text.strip()
    sep = re.search(r"[T ]", s)
    return bool(sep) and bool(re.search(r"[Z+-]", s[sep.start():]))


def bytes_safe(text):
    """Texts NumPy 1.24 reads from S arrays without crashing."""
    return not zoned(text) and text == text.rstrip()


def text_time_cases(rng):
    """S/U text to datetime64 and timedelta64: ISO 8601 texts NumPy wrote
    (random values in every unit, then spaces, 'T' or ' ', 'Z' and offsets),
    hand-picked ones, and the texts it refuses. No 'today' or 'now' (the
    clock: tests/unit/astype_tests.cpp checks those)."""
    texts = ["2020-01-01", "2020", "2020-02", "-0044-03-15", "+2020-01-01", " 2020-01-01",
             " -2020-01-01", "20200101", "12345-01-01", "0000-01-01", "NaT", "nat", "NAT", "",
             "2020-01-01T10", "2020-01-01 10:00", "2020-01-01T10:00:05.",
             "2020-01-01T10:00:05.5", "2020-01-01T10:00:05.1234", "2020-01-01T10:00:05.1234567",
             "2020-01-01T10:00:05.123456789012345678", "2020-01-01T10Z", "2020-01-01T10Z ",
             "2020-01-01T10:00+0100", "2020-01-01T10:00-01:30", "2020-01-01T00:30+05",
             "2020-03-01T00:10+00:20", "2020-12-31T23:59:59-00:01", "1969-12-31T23:59:59.999",
             "-0001-06-01T10:00:05", "2000-02-29T12:00:00  "]
    for unit in UNITS:
        vals = random_times(rng, 60)
        if unit.lstrip("0123456789") in ("Y", "M", "W"):
            vals = vals[np.abs(vals) < 10 ** 12]
        iso = np.datetime_as_string(vals.view("M8[%s]" % unit))
        texts += [str(t) for t in iso]
    # the same instants with other separators, spaces and time zones
    extra = []
    for t in texts[-120:]:
        if "T" in t and t != "NaT":
            extra.append(t.replace("T", " ", 1) + " " * int(rng.integers(0, 3)))
            extra.append(t + ["Z", "+05:30", "-0800", "+00", "-23:59"][int(rng.integers(0, 5))])
    texts += extra
    texts = [t for t in texts if "NaT" in t or len(t) < 60]
    width = max(len(t) for t in texts)
    cases = []
    targets = ["M8", "M8[Y]", "M8[M]", "M8[W]", "M8[D]", "M8[h]", "M8[m]", "M8[s]", "M8[ms]",
               "M8[us]", "M8[ns]", "M8[ps]", "M8[fs]", "M8[as]", "M8[10s]", "M8[7D]", ">M8[ms]"]
    # NumPy 1.24 crashes (SIGSEGV) on bytes it refuses or warns about (a time
    # zone) and on bytes with spaces after the text: S sources get the others
    plain = [t.encode() for t in texts if bytes_safe(t)]
    for to in targets:
        for src in (np.array(texts, dtype="<U%d" % width),
                    np.array(plain, dtype="S%d" % width)):
            cases.append((src, to))
    cases.append((np.array(["NaT", "", "nat"]), "M8"))  # NaT alone: generic units
    # 'M8' takes the finest unit of the texts, combined one by one; from days
    # to fs or as the factor passes NumPy's overflow check (an error above), so
    # also the texts of microseconds at most
    coarse = [t for t in texts if not re.search(r"\.\d{7,}", t)]
    cases.append((np.array(coarse), "M8"))
    cases.append((np.array([t.encode() for t in coarse if bytes_safe(t)]), "M8"))
    cases.append((np.array(["2020-01-01T10:00:05", "2020-01-01T10:00:05.5",
                            "2020-01-01T10:00:05.123456789012"]), "M8"))
    for t in BAD_DATETIMES:  # U only: NumPy 1.24 crashes refusing bytes
        cases.append((np.array([t]), "M8[s]"))
        cases.append((np.array([t]), "M8"))
    deltas = ["10", " 10", "+5", "-7", "0", "000123", "NaT", "nat", "", "\t42",
              "99999999999999999999", "-99999999999999999999", "9223372036854775807",
              "-9223372036854775807"] + [str(v) for v in random_times(rng, 60)]
    for to in ["m8[s]", "m8[ms]", ">m8[D]", "m8[3h]", "m8"]:
        cases.append((np.array(deltas), to))
        cases.append((np.array([d.encode() for d in deltas]), to))
    for t in BAD_TIMEDELTAS:
        cases.append((np.array([t]), "m8[s]"))
        cases.append((np.array([t.encode()]), "m8[s]"))
    return cases


def main():
    out = os.path.join(sys.argv[1], "astype")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261207)
    lines = ["# numpy %s" % np.__version__]
    cases = []
    for f in NUMERIC:
        src = random_values(rng, f)
        for t in TEXT:
            cases.append((src, t))
    for kind in "Mm":
        for a in UNITS:
            src_dt = np.dtype("%s8[%s]" % (kind, a))
            # calendar casts (datetime64 to or from Y, M) keep to years NumPy's
            # day arithmetic does not overflow
            vals = random_times(rng)
            if kind == "M":
                vals = vals[np.abs(vals) < 10 ** 12] if a in ("Y", "M") else vals
            src = vals.view(src_dt)
            src = np.concatenate([src, np.array(["NaT"], dtype=src_dt)])
            for b in UNITS:
                if a != b:
                    cases.append((src, "%s8[%s]" % (kind, b)))
            cases.append((src.astype(src_dt.newbyteorder(">")), "<%s8[ms]" % kind))
            cases.append((src, ">%s8[us]" % kind))
            # datetime64 <-> timedelta64: NumPy 1.24 copies the count, whatever the units
            cases.append((src, "%s8[ms]" % ("m" if kind == "M" else "M")))
            # to text: ISO 8601 in the unit / "5 seconds", NumPy's width or a
            # narrow one (datetime64: an error when a text does not fit)
            for t in DATETIME_TEXT:
                cases.append((src, t))
            cases.append((src.astype(src_dt.newbyteorder(">")), "U"))
    # generic units: datetime64 holds only NaT, timedelta64 any count
    cases.append((np.array(["NaT", "NaT"], dtype="<M8"), "U"))
    cases.append((np.array(["NaT"], dtype="<M8"), "S"))
    cases.append((np.array([1, -5, "NaT"], dtype="<m8"), "U"))
    cases.append((np.array([1, -5, "NaT"], dtype="<m8"), "S"))
    # text to numbers: the texts each target reads, in S, U and big-endian U,
    # and single texts it refuses (one case each: NumPy stops at the first)
    texts = number_texts(rng)
    for to in NUMBER_TARGETS:
        good = [t for t in texts if reads(t, to)]
        bad = [t for t in texts if not reads(t, to)]
        for src in (np.array(good), np.array([t.encode() for t in good]),
                    np.array(good, dtype=">U%d" % max(len(t) for t in good))):
            cases.append((src, to))
        for t in bad[:: max(1, len(bad) // 12)]:
            cases.append((np.array([t]), to))
            cases.append((np.array([t.encode()]), to))
    cases += text_time_cases(rng)
    for n, (src, to) in enumerate(cases):
        np.save(os.path.join(out, "%d_src.npy" % n), src)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                # texts with a time zone: NumPy 1.24 reads them, with a DeprecationWarning
                warnings.simplefilter("ignore", DeprecationWarning)
                dst = src.astype(to)
        except (OverflowError, ValueError, TypeError, RuntimeError):
            lines.append("%d %s %s error" % (n, src.dtype.str, np.dtype(to).str))
            continue
        np.save(os.path.join(out, "%d_dst.npy" % n), dst)
        lines.append("%d %s %s" % (n, src.dtype.str, dst.dtype.str))
    with open(os.path.join(out, "astype.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    # structured to structured: struct.txt, one line "N BITS [values|error]"
    # (np.can_cast under no, equiv, safe, same_kind, unsafe as 0/1 digits);
    # N_src.npy, N_to.npy (no elements, the target dtype), N_dst.npy
    lines = ["# numpy %s" % np.__version__]
    for n, (src_fields, to_fields, values) in enumerate(STRUCT_PAIRS):
        src_dt, to = np.dtype(src_fields), np.dtype(to_fields)
        src = field_values(rng, src_dt, 40)
        np.save(os.path.join(out, "struct_%d_src.npy" % n), src)
        np.save(os.path.join(out, "struct_%d_to.npy" % n), np.zeros(0, dtype=to))
        bits = "".join("1" if np.can_cast(src_dt, to, r) else "0"
                       for r in ["no", "equiv", "safe", "same_kind", "unsafe"])
        try:
            with np.errstate(all="ignore"):
                dst = src.astype(to)
            np.save(os.path.join(out, "struct_%d_dst.npy" % n), dst)
            what = "values" if values else "unchecked"
        except (OverflowError, ValueError, TypeError, RuntimeError):
            what = "error"
        lines.append("%d %s %s" % (n, bits, what))
    with open(os.path.join(out, "struct.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
