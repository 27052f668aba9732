/// \file fmt.hpp
/// {fmt} formatters for npio::array and npio::py::value: `fmt::format("{}", a)`
/// prints a.repr(), as operator<< does. A separate header, so the rest of npio
/// does not depend on {fmt}; include it only where {fmt} is available. Format
/// specs of strings apply ("{:>80}").
#pragma once

#include <fmt/format.h>
#include <npio/array.hpp>
#include <npio/py/value.hpp>
#include <string_view>

template <> struct fmt::formatter<npio::array> : fmt::formatter<std::string_view> {
  template <class Context> auto format(const npio::array& a, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(a.repr(), ctx);
  }
};

template <> struct fmt::formatter<npio::py::value> : fmt::formatter<std::string_view> {
  template <class Context> auto format(const npio::py::value& v, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(v.repr(), ctx);
  }
};
