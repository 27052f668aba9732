// py::value's checked access and conversions to C++ containers: the error
// paths of as<std::vector<...>>() and friends, and dict.setdefault.
#include <npio/py/value.hpp>
#include <ostream>

namespace npio {
inline namespace v1 {
namespace py {

value& value::setdefault(value key, value def) {
  if (is_none()) *this = dict();
  if (!is_dict())
    throw error(errc::type_mismatch, std::string("setdefault() needs a dict, not ") + kind_name());
  if (find(key)) return at(key);
  insert(key, std::move(def));
  return at(key);
}

std::ostream& operator<<(std::ostream& os, const value& v) {
  return os << v.repr();
}

namespace detail {

std::string key_path(const value& key) {
  return "[" + key.repr() + "]";
}

void throw_sequence_expected(const value& v, const char* what, std::size_t n) {
  const std::string w(what);
  if (w == "tuple") {
    const bool seq = v.is_list() || v.is_tuple();
    throw path_error{seq ? errc::out_of_range : errc::type_mismatch, "",
                     "expected a list or tuple of " + std::to_string(n) + " items, got " +
                         (seq ? std::string(v.kind_name()) + " of " + std::to_string(v.size())
                              : std::string(v.kind_name()))};
  }
  if (w == "dict")
    throw path_error{errc::type_mismatch, "", std::string("expected dict, got ") + v.kind_name()};
  throw path_error{errc::type_mismatch, "",
                   std::string("expected list, tuple, set or ndarray, got ") + v.kind_name()};
}

} // namespace detail
} // namespace py
} // namespace v1
} // namespace npio
