// expect: deleted
// begin() of a temporary would point into it once the statement ends.
#include <npio/npio.hpp>

int main() {
  auto a = npio::array::from(std::vector<double>{1, 2});
#ifdef NPIO_COMPILE_FAIL
  const npio::py::value* p = npio::py::tolist(a).begin();
  return p->is_float() ? 0 : 1;
#else
  npio::py::value l = npio::py::tolist(a);
  const npio::py::value* p = l.begin();
  return p->is_float() ? 0 : 1;
#endif
}
