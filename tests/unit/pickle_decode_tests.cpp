// Library-level regression tests for issue 9's decoding bugs (the CPython
// comparisons live in tests/cli/test_pickle_decode.py and
// test_pickle_differential.py): the int digit limit and its pickle_limits
// field, str(int) bounded like CPython's, scalar repr at the float's own
// precision, and escaped error messages.
#include <chrono>
#include <gtest/gtest.h>
#include <npio/error.hpp>
#include <npio/pickle.hpp>
#include <npio/py/value.hpp>
#include <string>

namespace py = npio::py;
using namespace std::string_literals;
using npio::errc;

namespace {

errc code_of(std::string_view stream, const npio::pickle::options& opt = {}) {
  try {
    (void)npio::pickle::loads(stream, opt);
  } catch (const npio::error& e) {
    return e.code();
  }
  return errc::ok;
}

std::string long4(std::size_t n, char fill) {
  std::string s = "\x80\x02\x8b";
  for (int k = 0; k < 4; ++k)
    s += static_cast<char>((n >> (8 * k)) & 0xff);
  s.append(n, fill);
  return s + ".";
}

} // namespace

TEST(PickleDecode, IntTextLimitAndItsField) {
  const std::string ok = "L" + std::string(4300, '9') + "L\n.";
  const std::string over = "L" + std::string(4301, '9') + "L\n.";
  EXPECT_EQ(npio::pickle::loads(ok).int_str(), std::string(4300, '9'));
  EXPECT_EQ(code_of(over), errc::limit_exceeded);
  EXPECT_EQ(code_of("I" + std::string(4301, '9') + "\n."), errc::limit_exceeded);
  npio::pickle::options lifted;
  lifted.limits.max_int_digits = 0;
  EXPECT_EQ(npio::pickle::loads(over, lifted).int_str(0), std::string(4301, '9'));
  lifted.limits.max_int_digits = 5000;
  EXPECT_EQ(code_of(over, lifted), errc::ok);
  // hex text is linear: no limit, as in CPython
  const std::string hex = "I0x" + std::string(6000, 'f') + "\n.";
  EXPECT_EQ(code_of(hex), errc::ok);
}

TEST(PickleDecode, HugeIntsLoadLinearlyAndPrintBounded) {
  // 4 MB of LONG4: loading copies bytes; printing is refused before converting
  const auto t0 = std::chrono::steady_clock::now();
  const py::value v = npio::pickle::loads(long4(std::size_t(4) << 20, '\x5a'));
  ASSERT_TRUE(v.is_big_int());
  try {
    (void)v.int_str();
    FAIL() << "int_str() of a 4 MB int";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), errc::limit_exceeded);
    EXPECT_NE(e.detail().find("4300 digits"), std::string::npos) << e.detail();
  }
  EXPECT_THROW((void)v.repr(), npio::error);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("seconds", std::to_string(secs));
  // at the limit: exact digits (10**4299 has 4300)
  const py::value big = py::value::integer("1" + std::string(4299, '0'));
  EXPECT_EQ(big.int_str().size(), 4300u);
  const py::value over = py::value::integer("1" + std::string(4300, '0'), 0);
  EXPECT_THROW((void)over.int_str(), npio::error);
  EXPECT_EQ(over.int_str(0).size(), 4301u);
  EXPECT_THROW((void)py::value::integer(std::string(4301, '1')), npio::error);
  // float() of a huge int overflows to inf without converting to text
  EXPECT_TRUE(std::isinf(v.as<double>()));
}

TEST(PickleDecode, ScalarReprAtOwnPrecision) {
  // pickle.dumps(np.float16(0.1), protocol=2): the dtype, then the bytes
  // through _codecs.encode(..., 'latin1')
  auto scalar = [](std::string code, std::string latin1_utf8) {
    std::string s = "\x80\x02"
                    "cnumpy.core.multiarray\nscalar\ncnumpy\ndtype\nX";
    s += static_cast<char>(code.size());
    s += std::string(3, '\0') + code + "\x89\x88\x87R(K\x03X\x01";
    s += std::string(3, '\0');
    s += "<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tbc_codecs\nencode\nX"s;
    s += static_cast<char>(latin1_utf8.size());
    s += std::string(3, '\0') + latin1_utf8 + "X\x06";
    s += std::string(3, '\0');
    s += "latin1\x86R\x86R.";
    return npio::pickle::loads(s);
  };
  EXPECT_EQ(scalar("f2", "f.").repr(), "np.float16(0.1)");
  EXPECT_EQ(scalar("f4", "\xc3\x8d\xc3\x8c\xc3\x8c=").repr(), "np.float32(0.1)");
  // np.float16(0.015625): NumPy's Dragon4 digits for a half (npio::float_repr), not 0.015625
  EXPECT_EQ(scalar("f2", std::string("\0$", 2)).repr(), "np.float16(0.01563)");
  // np.longdouble(1) / 3: 20 digits, not a double's 17
  const std::string third =
      "\xc2\xab\xc2\xaa\xc2\xaa\xc2\xaa\xc2\xaa\xc2\xaa\xc2\xaa\xc2\xaa\xc3\xbd?" +
      std::string(6, '\0');
  if (sizeof(long double) == 16) {
    EXPECT_EQ(scalar("f16", third).repr(), "np.float128(0.33333333333333333334)");
  }
}

TEST(PickleDecode, ComplexKeepsNegativeZero) {
  // builtins.complex(1.5, -0.0)
  const std::string s = "\x80\x02"
                        "c__builtin__\ncomplex\n"
                        "G\x3f\xf8\x00\x00\x00\x00\x00\x00G\x80\x00\x00\x00\x00\x00\x00\x00\x86R."s;
  const auto c = npio::pickle::loads(s).as<std::complex<double>>();
  EXPECT_EQ(c.real(), 1.5);
  EXPECT_TRUE(std::signbit(c.imag()));
}

TEST(PickleDecode, EscapeText) {
  EXPECT_EQ(npio::escape_text("plain caf\xc3\xa9"), "plain caf\xc3\xa9");
  EXPECT_EQ(npio::escape_text("a\x1b[2K\rb\n"), "a\\x1b[2K\\rb\\n");
  EXPECT_EQ(npio::escape_text("a\nb", true), "a\nb");
  EXPECT_EQ(npio::escape_text("x\xff\xfe"), "x\\xff\\xfe");
  EXPECT_EQ(npio::escape_text("\xc2\x85"), "\\x85");               // C1 control
  EXPECT_EQ(npio::escape_text("\xed\xa0\x80"), "\\xed\\xa0\\x80"); // lone surrogate
  EXPECT_EQ(npio::escape_text("\xc0\xaf"), "\\xc0\\xaf");          // overlong
  EXPECT_EQ(npio::escape_text("\xe2\x82"), "\\xe2\\x82");          // cut short
  EXPECT_EQ(npio::escape_text("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
  // idempotent
  const std::string once = npio::escape_text("\x1b\xff\\x");
  EXPECT_EQ(npio::escape_text(once), once);
  // every part of an error's message
  const npio::error e(errc::pickle_global, "global 'os\x1b[2K\r.x\xff'", "f\x1b.pkl", "m\n");
  const std::string what = e.what();
  EXPECT_EQ(what.find('\x1b'), std::string::npos) << what;
  EXPECT_EQ(what.find('\r'), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  EXPECT_EQ(what.find('\xff'), std::string::npos) << what;
  // from the unpickler: a GLOBAL name with ESC and invalid UTF-8
  try {
    (void)npio::pickle::loads(std::string_view("\x80\x02"
                                               "cos\x1b[31m\xff\nsystem\n)R.",
                                               22));
    FAIL();
  } catch (const npio::error& err) {
    const std::string w = err.what();
    EXPECT_EQ(w.find('\x1b'), std::string::npos) << w;
    EXPECT_EQ(w.find('\xff'), std::string::npos) << w;
  }
}
