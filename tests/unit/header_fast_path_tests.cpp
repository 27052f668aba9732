// read_header has a fast path for headers spelled exactly as np.save writes
// them. Each case here is read twice: as written (fast path) and re-spelled
// with the same meaning (double quotes, extra spaces: the full parser); the
// results must be identical, and near-misses must fall through to the same errors.
#include <cstring>
#include <gtest/gtest.h>
#include <npio/io.hpp>
#include <string>
#include <vector>

namespace {

// A .npy preamble (v1) around `text`, padded like np.save pads.
std::vector<std::byte> with_preamble(std::string text) {
  while ((10 + text.size() + 1) % 64)
    text += ' ';
  text += '\n';
  std::vector<std::byte> b(10 + text.size());
  std::memcpy(b.data(), "\x93NUMPY\x01\x00", 8);
  b[8] = std::byte(text.size() & 0xff);
  b[9] = std::byte(text.size() >> 8);
  std::memcpy(b.data() + 10, text.data(), text.size());
  return b;
}

std::string respell(std::string t) {
  for (auto& c : t)
    if (c == '\'') c = '"';
  return t.replace(0, 1, "{ ");
}

void expect_same(const std::string& descr, const std::string& fortran, const std::string& shape) {
  const std::string text =
      "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
  SCOPED_TRACE(text);
  auto fast = npio::try_read_header(with_preamble(text));
  auto slow = npio::try_read_header(with_preamble(respell(text)));
  ASSERT_EQ(fast.code(), slow.code());
  if (!fast) {
    EXPECT_EQ(fast.error().detail(), slow.error().detail());
    return;
  }
  EXPECT_EQ(fast->dtype, slow->dtype);
  EXPECT_EQ(fast->shape, slow->shape);
  EXPECT_EQ(fast->fortran_order, slow->fortran_order);
  EXPECT_EQ(fast->data_size, slow->data_size);
  EXPECT_EQ(fast->data_offset % 64, 0u);
}

} // namespace

TEST(header_fast_path, agrees_with_the_full_parser) {
  for (const char* d :
       {"'<f8'", "'>i4'", "'|b1'", "'|u1'",     "'<f2'",      "'<c16'",    "'<f16'", "'|S3'",
        "'|S0'", "'<U5'", "'|V7'", "'<M8[ns]'", "'>m8[25s]'", "'<M8'",     "'|O'",   "'float64'",
        "'d'",   "'=i4'", "'|O8'", "'2f8'",     "'<q9'",      "'<f8[ns]'", "'[ns]'", "'>'"})
    for (const char* f : {"False", "True"})
      for (const char* s : {"()", "(0,)", "(5,)", "(2, 3)", "(1, 0, 7)", "(10000000000000000,)",
                            "(4294967296, 4294967296)", "(99999999999999999, 99999999999999999)"})
        expect_same(d, f, s);
}

TEST(header_fast_path, near_misses_take_the_full_parser) {
  // Python-valid spellings the fast path does not take: same result either way.
  for (const char* s : {"(5, )", "(2, 3,)", "(05,)", "(5)", "(2 3)", "(-1,)", "(True, 2)",
                        "(123456789012345678901,)", "(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)"})
    expect_same("'<f8'", "False", s);
  for (const char* f : {"0", "None", "true"})
    expect_same("'<f8'", f, "(5,)");
  expect_same("'<f\\x38'", "False", "(5,)");
  expect_same("[('a', '<i4')]", "False", "(2,)");
}
