// npio/visit.hpp: visit_kind names every element kind once, and
// load_element/store_element read and write one scalar in either byte order.

#include <array>
#include <gtest/gtest.h>
#include <npio/npio.hpp>
#include <string>
#include <typeinfo>

namespace {

struct namer {
  template <class T> std::string operator()(std::type_identity<T>) const {
    return typeid(T).name();
  }
  std::string operator()(npio::bytes_tag) const { return "S"; }
  std::string operator()(npio::str_tag) const { return "U"; }
  std::string operator()(npio::void_tag) const { return "V"; }
  std::string operator()(npio::datetime_tag) const { return "M"; }
  std::string operator()(npio::timedelta_tag) const { return "m"; }
  std::string operator()(npio::object_tag) const { return "O"; }
  std::string operator()(npio::structured_tag) const { return "struct"; }
  std::string operator()(npio::subarray_tag) const { return "sub"; }
};

template <class T> std::string name_of() {
  return typeid(T).name();
}

TEST(Visit, EveryKindHasItsTag) {
  using npio::dtype;
  const std::pair<const char*, std::string> cases[] = {
      {"?", name_of<bool>()},
      {"<i1", name_of<std::int8_t>()},
      {">i2", name_of<std::int16_t>()},
      {"<i4", name_of<std::int32_t>()},
      {"<i8", name_of<std::int64_t>()},
      {"|u1", name_of<std::uint8_t>()},
      {"<u2", name_of<std::uint16_t>()},
      {">u4", name_of<std::uint32_t>()},
      {"<u8", name_of<std::uint64_t>()},
      {"<f2", name_of<npio::float16>()},
      {">f4", name_of<float>()},
      {"<f8", name_of<double>()},
      {"<f16", name_of<long double>()},
      {"<c8", name_of<std::complex<float>>()},
      {">c16", name_of<std::complex<double>>()},
      {"<c32", name_of<std::complex<long double>>()},
      {"|S3", "S"},
      {">U2", "U"},
      {"|V4", "V"},
      {"<M8[ns]", "M"},
      {">m8", "m"},
      {"|O", "O"},
  };
  for (const auto& [text, want] : cases)
    EXPECT_EQ(npio::visit_kind(dtype::parse(text), namer{}), want) << text;
  EXPECT_EQ(npio::visit_kind(dtype::from_descr("[('a', '<i4')]"), namer{}), "struct");
  EXPECT_EQ(npio::visit_kind(dtype::subarray(dtype::parse("<f8"), {2}), namer{}), "sub");
}

TEST(Visit, LoadAndStoreInEitherOrder) {
  std::array<std::byte, 16> buf{};
  npio::store_element(buf.data(), std::int32_t{0x01020304}, true);
  EXPECT_EQ(buf[0], std::byte{0x01});
  EXPECT_EQ(npio::load_element<std::int32_t>(buf.data(), true), 0x01020304);
  const std::complex<double> c(1.5, -2.25);
  npio::store_element(buf.data(), c, true);
  EXPECT_EQ(npio::load_element<std::complex<double>>(buf.data(), true), c);
  EXPECT_EQ(npio::load_element<double>(buf.data() + 8, true), -2.25);
  EXPECT_TRUE(npio::needs_swap(
      npio::dtype::parse(npio::native_order() == npio::byte_order::little ? ">i4" : "<i4")));
  EXPECT_FALSE(npio::needs_swap(npio::dtype::parse("|S4")));
  EXPECT_FALSE(npio::needs_swap(npio::dtype::parse("|u1")));
}

} // namespace
