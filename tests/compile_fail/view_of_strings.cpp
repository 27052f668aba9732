// expect: S and U elements are not std::string objects
#include <npio/npio.hpp>

int main() {
  npio::array a(npio::dtype::parse("<U4"), {3});
#ifdef NPIO_COMPILE_FAIL
  auto s = a.view<std::string>();
  return static_cast<int>(s.size());
#else
  return static_cast<int>(a.to_vector<std::string>().size());
#endif
}
