// The pickles npio writes name only globals that every NumPy from 1.x to 2.x
// resolves without a warning. NumPy 2 is not installable here (Debian has 1.24),
// so this checks the property NumPy 2 relies on: its numpy/core/multiarray.py
// shim binds exactly `_reconstruct` and `scalar` "to support old pickle files"
// and warns for every other name; `numpy.dtype` and `numpy.ndarray` are public.
// Each file is also loaded by NumPy 1.24 with every warning an error.
#include "pickle_test_util.hpp"

#include <gtest/gtest.h>
#include <npio/io.hpp>
#include <npio/pickle.hpp>

using npio::py::value;
namespace py = npio::py;
using namespace pickle_test;

namespace {

const char* check_globals = R"PY(
import io, pickle, sys, warnings
import numpy as np
from numpy.lib import format as fmt

warnings.simplefilter("error")
NUMPY2_SILENT = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
}
seen = set()

class Recorder(pickle.Unpickler):
    def find_class(self, module, name):
        seen.add((module, name))
        return super().find_class(module, name)

for path in sys.argv[1:]:
    with open(path, "rb") as f:
        if path.endswith(".npy"):
            version = fmt.read_magic(f)
            fmt._read_array_header(f, version)
        Recorder(f).load()
    # and NumPy's own loader, warnings as errors
    np.load(path, allow_pickle=True)

numpy_names = {g for g in seen if g[0].split(".")[0] == "numpy"}
bad = sorted(numpy_names - NUMPY2_SILENT)
print("bad:", bad)
print("numpy globals:", len(numpy_names), "all:", len(seen), sorted(seen))
)PY";

value rich_value() {
  npio::array structured(npio::dtype::from_descr("[('a', '<i4'), ('b', [('c', '>f8', (2,))])]"),
                         {3});
  npio::array when(npio::dtype::parse("M8[ms]"), {2});
  npio::array text(npio::dtype::parse("<U5"), {2, 2});
  const auto nested = py::make_object_array({2}, {value{1, "two"}, value::dict({{"k", 3.5}})});
  return value::dict({
      {"ints", npio::array::from(std::vector<std::int64_t>{1, 2, 3}, npio::shape_t{3})},
      {"structured", structured},
      {"datetimes", when},
      {"text", text},
      {"nested_objects", nested},
      {"scalar_f4", value::scalar(npio::dtype::parse("<f4"), std::string(4, '\0'))},
      {"scalar_m8", value::scalar(npio::dtype::parse("<m8[s]"), std::string(8, '\1'))},
      {"dtype", npio::dtype::parse(">c16")},
      {"set", value::set({1, 2})},
      {"frozenset", value::frozenset({"a"})},
      {"complex", std::complex<double>(1, -2)},
      {"bytes", value::bytes("\x00\xff")},
      {"bytearray", value::bytearray("ab")},
      {"big", value::integer("123456789012345678901234567890")},
      {"date", value::date(2026, 11, 22)},
      {"delta", value::timedelta(1, 2, 3)},
      {"decimal", value::decimal("1.25")},
  });
}

} // namespace

TEST(pickle_numpy2, written_pickles_name_only_globals_numpy2_serves_silently) {
  temp_dir d;
  std::vector<std::string> files;
  // An object .npy (protocol 3) of the value and of an array of values.
  npio::save(d.path / "value.npy", py::make_object_array({}, {rich_value()}));
  files.push_back((d.path / "value.npy").string());
  npio::save(d.path / "array.npy",
             py::make_object_array({3}, {rich_value(), value(), value::list({rich_value()})}));
  files.push_back((d.path / "array.npy").string());
  // Raw pickles at each protocol npio writes.
  for (int protocol : {3, 4, 5}) {
    const auto p = d.path / ("raw" + std::to_string(protocol) + ".pkl");
    write_bytes(p, npio::pickle::dumps(rich_value(), protocol));
    files.push_back(p.string());
  }
  std::string out;
  ASSERT_EQ(run_python(check_globals, files, out), 0) << out;
  EXPECT_NE(out.find("bad: []\n"), std::string::npos) << out;
  // The files did reference NumPy: arrays, scalars and dtypes.
  for (const char* g : {"('numpy.core.multiarray', '_reconstruct')",
                        "('numpy.core.multiarray', 'scalar')", "('numpy', 'dtype')"})
    EXPECT_NE(out.find(g), std::string::npos) << g << " not referenced:\n" << out;
}
