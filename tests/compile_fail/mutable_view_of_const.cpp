// expect: makes no sense: use view
// Writing through a const element type is asked for by mistake: say what to use.
#include <npio/npio.hpp>

int main() {
  npio::array a(npio::dtype::of<float>(), {3});
#ifdef NPIO_COMPILE_FAIL
  auto s = a.mutable_view<const float>();
#else
  auto s = a.mutable_view<float>();
#endif
  return static_cast<int>(s.size());
}
