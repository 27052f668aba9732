// loaded, what np.load returns: an array, an archive or a Python value.
#include <npio/io.hpp>

namespace npio {
inline namespace v1 {

// ---- loaded ------------------------------------------------------------------------

loaded::loaded(npio::array a) : kind_(kind::array), array_(std::move(a)) {}
loaded::loaded(std::shared_ptr<npz_file> z) : kind_(kind::npz), npz_(std::move(z)) {}
loaded::loaded(std::shared_ptr<py::value> v) : kind_(kind::value), value_(std::move(v)) {}
loaded::loaded(loaded&&) noexcept = default;
loaded& loaded::operator=(loaded&&) noexcept = default;
loaded::~loaded() = default;

namespace {
const char* kind_name(loaded::kind k) {
  switch (k) {
  case loaded::kind::array:
    return "a .npy array";
  case loaded::kind::npz:
    return "an .npz archive";
  default:
    return "a pickled Python object";
  }
}
} // namespace

npio::array& loaded::array() {
  if (kind_ != kind::array)
    throw error(errc::type_mismatch,
                std::string("the file holds ") + kind_name(kind_) + ", not a .npy array");
  return array_;
}

npz_file& loaded::npz() {
  if (kind_ != kind::npz)
    throw error(errc::type_mismatch,
                std::string("the file holds ") + kind_name(kind_) + ", not an .npz archive");
  return *npz_;
}

py::value& loaded::value() {
  if (kind_ != kind::value)
    throw error(errc::type_mismatch, std::string("the file holds ") + kind_name(kind_) +
                                         ", not a pickled Python object");
  return *value_;
}

} // namespace v1
} // namespace npio
