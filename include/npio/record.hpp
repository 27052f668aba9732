/// \file record.hpp
/// C++ structs as rows of structured arrays: list a struct's fields once, and
/// npio builds the structured dtype (packed, as np.dtype([(name, type), ...])),
/// reads arrays into std::vector<T> checking every field's name and type, and
/// writes arrays NumPy reads.
///
///     struct particle { std::int64_t id; float pos[3]; std::string name; };
///     template <> struct npio::record<particle> {
///       static constexpr auto fields = std::make_tuple(
///           npio::member("id", &particle::id), npio::member("pos", &particle::pos),
///           npio::member("name", &particle::name, "U16"));
///     };
///     npio::save("p.npy", npio::array::from(particles));   // [('id', '<i8'), ...]
///     std::vector<particle> back = npio::load("p.npy").to_vector<particle>();
///
/// Member types: bool, integers, floats, npio::float16, std::complex, C arrays
/// and std::array of those (subarray fields, e.g. '<f4', (3,)), char[N] (S
/// of up to N bytes), std::string (S or U text as UTF-8; its dtype is given,
/// e.g. "U16" or "S8"), std::u32string (U).
#pragma once

#include <array>
#include <cstring>
#include <npio/array.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace npio {
inline namespace v1 {

/// One field of a record: the name in the dtype, the member, and for text
/// members their dtype ("U16", "S8").
template <class T, class M> struct field_binding {
  std::string_view name;
  M T::*member;
  std::string_view text_dtype;
};

namespace detail {
template <class P> struct member_of;
template <class T, class M> struct member_of<M T::*> { using type = M; };
template <class M> struct member_shape {
  using element = M;
  static void extents(shape_t&) {}
};
template <class E, std::size_t N> struct member_shape<E[N]> {
  using element = typename member_shape<E>::element;
  static void extents(shape_t& s) {
    s.push_back(static_cast<std::int64_t>(N));
    member_shape<E>::extents(s);
  }
};
template <class E, std::size_t N> struct member_shape<std::array<E, N>> {
  using element = typename member_shape<E>::element;
  static void extents(shape_t& s) {
    s.push_back(static_cast<std::int64_t>(N));
    member_shape<E>::extents(s);
  }
};
template <class M> inline constexpr bool is_char_array_v = false;
template <std::size_t N> inline constexpr bool is_char_array_v<char[N]> = true;
template <class M>
inline constexpr bool is_text_member_v =
    std::is_same_v<M, std::string> || std::is_same_v<M, std::u32string>;
template <class M>
inline constexpr bool is_numeric_member_v =
    !is_char_array_v<M> && element_type<typename member_shape<M>::element>;
} // namespace detail

/// Binds member `m` of T to the field `name`. Errors: none (checked when used).
template <class T, class M> constexpr field_binding<T, M> member(std::string_view name, M T::*m) {
  static_assert(!detail::is_text_member_v<M>,
                "a std::string or std::u32string member needs its dtype: "
                "npio::member(\"name\", &T::name, \"U16\") (or \"S16\" for bytes)");
  static_assert(detail::is_numeric_member_v<M> || detail::is_char_array_v<M>,
                "npio::member: the member must be bool, an integer, a float, npio::float16, "
                "std::complex, a C array or std::array of those, char[N], std::string or "
                "std::u32string");
  return {name, m, {}};
}
/// Binds a text member (std::string, std::u32string) with its dtype, e.g. "U16".
template <class T, class M>
constexpr field_binding<T, M> member(std::string_view name, M T::*m, std::string_view dtype) {
  static_assert(detail::is_text_member_v<M>,
                "only std::string and std::u32string members take a dtype argument");
  return {name, m, dtype};
}

/// Declares T's fields once: `NPIO_RECORD(particle, npio::member("id", &particle::id), ...)`
/// at namespace scope.
#define NPIO_RECORD(T, ...)                                                                        \
  template <> struct npio::record<T> {                                                             \
    static constexpr auto fields = std::make_tuple(__VA_ARGS__);                                   \
  }

namespace detail {

template <class M> dtype member_dtype(std::string_view text) {
  if constexpr (is_text_member_v<M>) {
    dtype d = dtype::parse(text);
    if ((d.kind() != 'S' && d.kind() != 'U') || d.is_structured() || d.is_subarray() ||
        (std::is_same_v<M, std::u32string> && d.kind() != 'U'))
      throw error(errc::invalid_argument, "a text member needs an S or U dtype (a "
                                          "std::u32string member a U dtype), not " +
                                              d.str());
    return d;
  } else if constexpr (is_char_array_v<M>) {
    return dtype::make('S', sizeof(M));
  } else {
    shape_t s;
    member_shape<M>::extents(s);
    const dtype base = dtype::of<typename member_shape<M>::element>();
    return s.empty() ? base : dtype::subarray(base, s);
  }
}

template <class F> void for_each_field(F&& f, const auto& fields) {
  std::apply([&](const auto&... b) { (f(b), ...); }, fields);
}

[[noreturn]] void throw_record_field(std::string_view name, const std::string& why);
const field* find_field(const dtype& dt, std::string_view name);

// Reads field `b` of every element of `a` into the vector.
template <class T, class M>
void read_field(const array& a, const field_binding<T, M>& b, std::vector<T>& out) {
  const field* f = find_field(a.dtype(), b.name);
  if (!f)
    throw_record_field(b.name,
                       "the array has no such field (its dtype is " + a.dtype().descr() + ")");
  const array col = a.field(b.name);
  const std::size_t n = out.size();
  try {
    if constexpr (is_text_member_v<M> || is_char_array_v<M>) {
      if constexpr (is_char_array_v<M>) {
        if (f->type.kind() != 'S' || f->type.itemsize() > sizeof(M))
          throw error(errc::type_mismatch, "a char[" + std::to_string(sizeof(M)) +
                                               "] member holds S of at most that many bytes, "
                                               "not " +
                                               f->type.str());
      }
      using S = std::conditional_t<std::is_same_v<M, std::u32string>, std::u32string, std::string>;
      auto vals = col.to_vector<S>();
      for (std::size_t i = 0; i < n; ++i) {
        if constexpr (is_char_array_v<M>) {
          std::memset(out[i].*(b.member), 0, sizeof(M));
          std::memcpy(out[i].*(b.member), vals[i].data(), vals[i].size());
        } else {
          out[i].*(b.member) = std::move(vals[i]);
        }
      }
    } else {
      using E = typename member_shape<M>::element;
      shape_t want;
      member_shape<M>::extents(want);
      const shape_t have(f->type.shape().begin(), f->type.shape().end());
      if (want != have)
        throw error(errc::type_mismatch, "the member has shape " + std::to_string(want.size()) +
                                             "-d " + member_dtype<M>({}).str() + ", the field is " +
                                             f->type.str() + (have.empty() ? "" : " (a subarray)"));
      const auto vals = col.to_vector<E>(casting::safe);
      const std::size_t per = sizeof(M) / sizeof(E);
      for (std::size_t i = 0; i < n; ++i) {
        E* dst = reinterpret_cast<E*>(&(out[i].*(b.member))); // M is E or an array of E
        for (std::size_t j = 0; j < per; ++j)
          dst[j] = vals[i * per + j];
      }
    }
  } catch (const error& e) {
    if (e.code() == errc::type_mismatch || e.code() == errc::invalid_argument)
      throw_record_field(b.name, e.detail());
    throw;
  }
}

template <class T, class M>
void write_field(array& a, const field_binding<T, M>& b, std::span<const T> in) {
  array col = a.field(b.name);
  const std::size_t n = in.size();
  if constexpr (is_text_member_v<M>) {
    try {
      for (std::size_t i = 0; i < n; ++i)
        col.set(in[i].*(b.member), static_cast<std::int64_t>(i));
    } catch (const error& e) {
      throw_record_field(b.name, "element " + e.detail());
    }
  } else {
    const field* f = find_field(a.dtype(), b.name);
    std::byte* base = a.mutable_data() + f->offset;
    for (std::size_t i = 0; i < n; ++i)
      std::memcpy(base + i * a.itemsize(), static_cast<const void*>(&(in[i].*(b.member))),
                  sizeof(M));
  }
}

} // namespace detail

/// The structured dtype of record T: its fields packed in the order listed,
/// native byte order. Errors: invalid_argument (a bad text dtype, a repeated name).
template <class T> dtype record_dtype() {
  std::vector<std::pair<std::string, dtype>> fs;
  detail::for_each_field(
      [&](const auto& b) {
        using M = std::remove_cvref_t<decltype(b.member)>;
        using Mem = typename detail::member_of<M>::type;
        fs.emplace_back(std::string(b.name), detail::member_dtype<Mem>(b.text_dtype));
      },
      record<T>::fields);
  return dtype::record(fs);
}

namespace detail {
template <class T> std::vector<T> read_records(const array& a) {
  if (!a.dtype().is_structured())
    throw error(errc::type_mismatch,
                "reading records needs a structured array, not dtype " + a.dtype().str());
  std::vector<T> out(static_cast<std::size_t>(a.size()));
  for_each_field([&](const auto& b) { read_field(a, b, out); }, record<T>::fields);
  return out;
}

template <class T>
array write_records(std::span<const T> values, std::optional<shape_t> shape, order o) {
  array a(record_dtype<T>(), shape_t{static_cast<std::int64_t>(values.size())});
  for_each_field([&](const auto& b) { write_field(a, b, values); }, record<T>::fields);
  if (!shape) return a;
  array r = a.reshape(*shape);
  return o == order::f ? r.copy(order::f) : r;
}
} // namespace detail

} // namespace v1
} // namespace npio
