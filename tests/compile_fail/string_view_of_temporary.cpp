// expect: of a temporary value would dangle
#include <npio/npio.hpp>

int main() {
  npio::py::value d = npio::py::dict({{"k", "a string longer than thirteen bytes"}});
#ifdef NPIO_COMPILE_FAIL
  std::string_view s = npio::py::value(d)["k"].as<std::string_view>();
#else
  std::string_view s = d["k"].as<std::string_view>();
#endif
  return static_cast<int>(s.size());
}
