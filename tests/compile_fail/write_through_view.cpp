// expect: read-only
// view<T>() is const access (a mapping opened 'r' reads through it); writing needs mutable_view.
#include <npio/npio.hpp>

int main() {
  npio::array a(npio::dtype::of<float>(), {3});
#ifdef NPIO_COMPILE_FAIL
  a.view<float>()[0] = 1;
#else
  a.mutable_view<float>()[0] = 1;
#endif
  return 0;
}
