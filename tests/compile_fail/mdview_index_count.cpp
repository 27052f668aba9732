// expect: pass exactly one index per dimension
#include <npio/npio.hpp>

int main() {
  npio::array a(npio::dtype::of<double>(), {2, 3});
  auto md = a.mdview<double, 2>();
#ifdef NPIO_COMPILE_FAIL
  return static_cast<int>(md(1));
#else
  return static_cast<int>(md(1, 2));
#endif
}
