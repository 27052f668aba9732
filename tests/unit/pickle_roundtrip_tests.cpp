// Property round trips against CPython and NumPy (NPIO_PYTHON):
//   Python -> npio -> Python: random values pickled by CPython (protocols 0-5)
//     are loaded by npio, written back (protocols 3-5), and CPython checks
//     it gets the same objects back.
//   npio -> Python -> npio: random py::values written by npio are loaded and
//     re-pickled by CPython (protocols 0-5) and read back equal.
// Plus .npy object arrays written by npio::save and read by np.load.
// GCC 12 reports a false -Wrestrict in std::string concatenation at -O3 (GCC bug 105329).
#pragma GCC diagnostic ignored "-Wrestrict"

#include "pickle_test_util.hpp"

#include <gtest/gtest.h>
#include <npio/io.hpp>
#include <npio/pickle.hpp>
#include <random>

namespace fs = std::filesystem;
using npio::py::value;
namespace py = npio::py;
namespace pk = npio::pickle;
using namespace pickle_test;

namespace {

const char* py_common = R"PY(
import collections, datetime, decimal, os, pickle, random, sys
import numpy as np

def same(a, b):
    if isinstance(a, np.ndarray):
        # NumPy's own pickles come back in native byte order: compare natively
        if not isinstance(b, np.ndarray) or a.shape != b.shape:
            return False
        na, nb = a.dtype.newbyteorder("="), b.dtype.newbyteorder("=")
        if na != nb:
            return False
        if a.dtype.hasobject:
            return all(same(x, y) for x, y in zip(a.ravel().tolist(), b.ravel().tolist()))
        return a.astype(na).tobytes() == b.astype(nb).tobytes()
    if isinstance(a, np.generic):
        return type(a) is type(b) and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, dict):
        if not isinstance(b, dict) or list(a.keys()) != list(b.keys()):
            return False
        return all(same(a[k], b[k]) for k in a)
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, decimal.Decimal):
        return str(a) == str(b)
    if isinstance(a, complex):
        return repr(a) == repr(b)
    if isinstance(a, datetime.datetime):
        return a == b and a.fold == b.fold
    return a == b
)PY";

const char* py_make = R"PY(
r = random.Random(int(sys.argv[2]))
def text():
    chars = "ab'\"\\\n\x00\u00e9\u512a\U0001f600 "
    return "".join(r.choice(chars) for _ in range(r.randrange(8)))
def key(d):
    k = r.randrange(4)
    if k == 0: return text()
    if k == 1: return r.randrange(-5, 100)
    if k == 2: return tuple(r.randrange(9) for _ in range(r.randrange(3)))
    return frozenset(r.randrange(9) for _ in range(r.randrange(3)))
def numeric_array():
    dt = np.dtype(r.choice(["<f8", ">f4", "<i2", ">u8", "|b1", "<c16", "|S3", "<U2", "<M8[us]", ">m8[s]", "<f2"]))
    shape = tuple(r.randrange(4) for _ in range(r.randrange(3)))
    a = np.frombuffer(bytes(r.randrange(256) for _ in range(int(np.prod(shape)) * dt.itemsize)), dtype=dt)
    if dt.kind == "f" or dt.kind == "c":
        a = np.arange(a.size, dtype=dt) * 1.5 - 2
    a = a.reshape(shape)
    return np.asfortranarray(a) if r.random() < 0.3 else a
def val(d):
    k = r.randrange(24 if d < 4 else 15)
    if k == 0: return None
    if k == 1: return r.random() < 0.5
    if k == 2: return r.randrange(-2**40, 2**40)
    if k == 3: return r.randrange(-2**200, 2**200)
    if k == 4: return r.choice([0.0, -0.0, 1.5, 1e300, -2.5e-300, float("inf"), r.random()])
    if k == 5: return complex(r.random(), -r.random())
    if k == 6: return text()
    if k == 7: return bytes(r.randrange(256) for _ in range(r.randrange(6)))
    if k == 8: return bytearray(b"ba" * r.randrange(3))
    if k == 9: return datetime.datetime(r.randrange(1, 9999), r.randrange(1, 13), r.randrange(1, 29), r.randrange(24), r.randrange(60), r.randrange(60), r.randrange(10**6))
    if k == 10: return datetime.date(r.randrange(1, 9999), r.randrange(1, 13), r.randrange(1, 29))
    if k == 11: return datetime.timedelta(r.randrange(-999, 999), r.randrange(86400), r.randrange(10**6))
    if k == 12: return decimal.Decimal(r.choice(["1.5", "-0", "1E+10", "NaN", "3.14159"]))
    if k == 13: return r.choice([np.float32(1.25), np.int16(-7), np.uint64(2**63), np.complex64(1j), np.bool_(True), np.str_("ab")])
    if k == 14: return datetime.time(r.randrange(24), r.randrange(60))
    if k == 15: return [val(d + 1) for _ in range(r.randrange(4))]
    if k == 16: return tuple(val(d + 1) for _ in range(r.randrange(5)))
    if k == 17: return {key(d): val(d + 1) for _ in range(r.randrange(4))}
    if k == 18: return {key(d) for _ in range(r.randrange(4))}
    if k == 19: return frozenset(key(d) for _ in range(r.randrange(4)))
    if k == 20: return numeric_array()
    if k == 21:
        a = np.empty(r.randrange(4), dtype=object)
        for i in range(a.size): a[i] = val(d + 1)
        return a
    if k == 22: return collections.OrderedDict((text(), val(d + 1)) for _ in range(2))
    return [val(d + 1), {"k": val(d + 1)}]
)PY";

} // namespace

TEST(PickleRoundTrip, PythonToNpioToPython) {
  temp_dir d;
  const int n = 300;
  std::string out;
  const std::string make = std::string(py_common) + py_make + R"PY(
for i in range(int(sys.argv[3])):
    v = [val(0) for _ in range(3)]
    with open(os.path.join(sys.argv[1], "a%d.pkl" % i), "wb") as f:
        pickle.dump(v, f, protocol=i % 6)
)PY";
  ASSERT_EQ(run_python(make, {d.path.string(), "1234", std::to_string(n)}, out), 0) << out;
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE(i);
    const auto bytes = read_bytes(d.path / ("a" + std::to_string(i) + ".pkl"));
    value v;
    ASSERT_NO_THROW(v = pk::loads(bytes));
    const auto again = pk::dumps(v, 3 + i % 3);
    write_bytes(d.path / ("b" + std::to_string(i) + ".pkl"), again);
    (void)pk::loads(again); // npio reads its own output (arrays may come back native-order)
  }
  const std::string check = std::string(py_common) + R"PY(
bad = 0
for i in range(int(sys.argv[2])):
    a = pickle.load(open(os.path.join(sys.argv[1], "a%d.pkl" % i), "rb"))
    b = pickle.load(open(os.path.join(sys.argv[1], "b%d.pkl" % i), "rb"))
    if not same(a, b):
        bad += 1
        print(i, repr(a)[:300], "!=", repr(b)[:300])
sys.exit(1 if bad else 0)
)PY";
  EXPECT_EQ(run_python(check, {d.path.string(), std::to_string(n)}, out), 0) << out;
}

namespace {

struct gen {
  std::mt19937_64 r;
  explicit gen(std::uint64_t seed) : r(seed) {}
  std::int64_t below(std::int64_t n) {
    return static_cast<std::int64_t>(r() % static_cast<std::uint64_t>(n));
  }
  std::string text() {
    static const char* parts[] = {
        "a", "b", "'", "\"", "\\", "\n", "\xc3\xa9", "\xe5\x84\xaa", "\xf0\x9f\x98\x80", " "};
    std::string s;
    for (auto k = below(8); k-- > 0;)
      s += parts[below(10)];
    return s;
  }
  value key() {
    switch (below(3)) {
    case 0:
      return text();
    case 1:
      return below(100) - 5;
    default:
      return py::tuple({below(9), text()});
    }
  }
  npio::array numeric() {
    const char* types[] = {"<f8", ">i4", "|u1", "<c8", "|b1", "|S2", ">U3", "<m8[ms]"};
    const auto dt = npio::dtype::parse(types[below(8)]);
    npio::shape_t shape;
    for (auto k = below(3); k-- > 0;)
      shape.push_back(below(4));
    npio::array a(dt, shape, below(3) == 0 ? npio::order::f : npio::order::c);
    auto* p = a.mutable_data();
    for (std::size_t i = 0; i < a.nbytes(); ++i)
      p[i] = std::byte(static_cast<unsigned char>(r() % (dt.kind() == 'b' ? 2 : 120)));
    if (dt.kind() == 'U') // valid code points only
      for (std::size_t i = 0; i < a.nbytes(); ++i)
        p[i] = std::byte(i % 4 == (dt.order() == npio::byte_order::big ? 3 : 0) ? 'a' + i % 7 : 0);
    return a.to_native(); // NumPy unpickles arrays in native order
  }
  value val(int d) {
    switch (below(d < 4 ? 21 : 13)) {
    case 0:
      return value();
    case 1:
      return value(below(2) == 0);
    case 2:
      return value(static_cast<std::int64_t>(r()));
    case 3:
      return value::integer(std::to_string(r()) + std::to_string(r()) + std::to_string(r()));
    case 4:
      return value(static_cast<double>(below(1000000)) / 64.0 - 7);
    case 5:
      return value(std::complex<double>(0.5, -static_cast<double>(below(9))));
    case 6:
      return value(text());
    case 7:
      return py::bytes(text());
    case 8:
      return value::bytearray(text());
    case 9:
      return value::datetime({static_cast<int>(1 + below(9998)), static_cast<int>(1 + below(12)),
                              static_cast<int>(1 + below(28)), static_cast<int>(below(24)), 5, 6,
                              static_cast<int>(below(999999))});
    case 10:
      return value::date(2000, 2, 29);
    case 11:
      return value::timedelta(below(2000) - 1000, below(86400), below(1000000));
    case 12:
      return value::decimal("-1.50E+3");
    case 13: {
      value l = value::list();
      for (auto k = below(4); k-- > 0;)
        l.push_back(val(d + 1));
      return l;
    }
    case 14: {
      std::vector<value> t;
      for (auto k = below(5); k-- > 0;)
        t.push_back(val(d + 1));
      return value::tuple(std::move(t));
    }
    case 15: {
      value m = value::dict();
      for (auto k = below(4); k-- > 0;)
        m.insert(key(), val(d + 1));
      return m;
    }
    case 16: {
      std::vector<value> s;
      for (auto k = below(4); k-- > 0;)
        s.push_back(key());
      return below(2) ? value::set(std::move(s)) : value::frozenset(std::move(s));
    }
    case 17:
      return value(numeric());
    case 18: {
      std::vector<value> items;
      const auto n = below(4);
      for (auto k = n; k-- > 0;)
        items.push_back(val(d + 1));
      return value(py::make_object_array({n}, std::move(items)));
    }
    case 19:
      return value::scalar(npio::dtype::parse("<f4"), std::string("\x00\x00\xc0\x3f", 4));
    default:
      return value::global("builtins", "range");
    }
  }
};

} // namespace

namespace {
// dtype and shape of the arrays in a value (for failure messages).
std::string describe(const value& v) {
  std::string s;
  if (v.is_ndarray()) {
    s += v.array().dtype().str() + "[";
    for (auto d : v.array().shape())
      s += std::to_string(d) + ",";
    s += "] ";
  }
  if (v.is_sequence())
    for (const auto& x : v.items())
      s += describe(x);
  return s;
}
} // namespace

TEST(PickleRoundTrip, NpioToPythonToNpio) {
  temp_dir d;
  const int n = 300;
  gen g(99);
  std::vector<value> vals;
  for (int i = 0; i < n; ++i) {
    vals.push_back(value{g.val(0), g.val(0), g.val(1)});
    write_bytes(d.path / ("c" + std::to_string(i) + ".pkl"), pk::dumps(vals.back(), 3 + i % 3));
  }
  std::string out;
  const std::string redump = std::string(py_common) + R"PY(
for i in range(int(sys.argv[2])):
    v = pickle.load(open(os.path.join(sys.argv[1], "c%d.pkl" % i), "rb"))
    with open(os.path.join(sys.argv[1], "d%d.pkl" % i), "wb") as f:
        pickle.dump(v, f, protocol=i % 6)
)PY";
  ASSERT_EQ(run_python(redump, {d.path.string(), std::to_string(n)}, out), 0) << out;
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE(i);
    value back;
    ASSERT_NO_THROW(back = pk::loads(read_bytes(d.path / ("d" + std::to_string(i) + ".pkl"))));
    const value& want = vals[static_cast<std::size_t>(i)];
    EXPECT_EQ(back, want) << back.repr() << "\n"
                          << want.repr() << "\n"
                          << describe(back) << "\n"
                          << describe(want);
  }
}

TEST(PickleRoundTrip, SavedObjectArraysLoadInNumpy) {
  temp_dir d;
  const auto p = d.path / "obj.npy";
  npio::array a =
      py::make_object_array({2, 2}, {py::dict({{"foo", 34}}), value("x"), value{1, 2.5},
                                     value(npio::array::from(std::vector<double>{1, 2}))});
  npio::save(p, a);
  const auto p0 = d.path / "zero.npy";
  npio::save(p0, py::make_object_array({}, {py::dict({{"foo", 34}})}));
  std::string out;
  const std::string check = R"PY(
import sys, numpy as np
a = np.load(sys.argv[1], allow_pickle=True)
assert a.dtype == object and a.shape == (2, 2), (a.dtype, a.shape)
assert a[0, 0] == {"foo": 34} and a[0, 1] == "x" and a[1, 0] == [1, 2.5], a
assert np.array_equal(a[1, 1], np.array([1.0, 2.0])) and a[1, 1].dtype == np.float64
z = np.load(sys.argv[2], allow_pickle=True)
assert z.shape == () and z.item() == {"foo": 34}, z
)PY";
  EXPECT_EQ(run_python(check, {p.string(), p0.string()}, out), 0) << out;
  // and back through npio
  npio::load_options o;
  o.allow_pickle = true;
  npio::array b = npio::load(p, o);
  EXPECT_EQ(value(b), value(a));
  EXPECT_EQ(py::item(npio::load(p0, o)).repr(), "{'foo': 34}");
  // a raw pickle file (np.load of a pickle returns the value)
  const auto raw = d.path / "raw.pkl";
  write_bytes(raw, pk::dumps(py::dict({{"k", value{1, 2}}})));
  auto l = npio::load(raw, o);
  ASSERT_TRUE(l.is_value());
  EXPECT_EQ(l.value().repr(), "{'k': [1, 2]}");
}

TEST(PickleRoundTrip, StructuredWithObjectsAndDtypesBackToNumpy) {
  // NumPy-made pickles of object-holding structured arrays, dtypes and scalars,
  // written back by npio, load in NumPy equal to the originals.
  temp_dir d;
  const char* names[] = {"arr_obj_struct", "arr_struct_sub", "arr_struct_title",
                         "arr_M",          "dtype_struct",   "dtype_M",
                         "scalar_U",       "scalar_c8",      "arr_nested_obj"};
  for (const char* n : names) {
    const auto v = pk::loads(read_bytes(golden() / (std::string(n) + ".p2.pkl")));
    write_bytes(d.path / (std::string(n) + ".pkl"), pk::dumps(v, 3));
  }
  std::string out;
  const std::string check = std::string(py_common) + R"PY(
import numpy as np
expect = {
  "arr_obj_struct": np.array([(1, "x"), (2, [3])], dtype=[("a", "<i8"), ("b", "O")]),
  "arr_struct_sub": np.zeros(2, dtype=[("a", "<f4", (2, 3)), ("b", [("c", "u1"), ("d", ">i8")])]),
  "arr_struct_title": np.zeros(2, dtype=[(("the title", "a"), "<i2"), ("b", "u1")]),
  "arr_M": np.array(["2020-01-01T00:00:01", "NaT"], dtype="<M8[ns]"),
  "dtype_struct": np.dtype([("a", "<i4"), ("b", "O", (2,))]),
  "dtype_M": np.dtype(">M8[25s]"),
  "scalar_U": np.str_("ab"),
  "scalar_c8": np.complex64(1 - 1j),
  "arr_nested_obj": np.array([np.arange(3), np.array(["s"], dtype=object)], dtype=object),
}
bad = 0
for name, want in expect.items():
    got = pickle.load(open(os.path.join(sys.argv[1], name + ".pkl"), "rb"))
    if isinstance(want, np.dtype):
        ok = got == want and got.descr == want.descr
    elif isinstance(want, np.ndarray) and want.dtype.names and want.dtype.hasobject:
        ok = got.dtype == want.dtype and got.tolist() == want.tolist()
    else:
        ok = same(want, got)
    if not ok:
        bad += 1
        print(name, repr(want), repr(got))
sys.exit(1 if bad else 0)
)PY";
  EXPECT_EQ(run_python(check, {d.path.string()}, out), 0) << out;
}
