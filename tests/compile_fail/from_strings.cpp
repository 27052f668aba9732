// expect: for strings make an S or U array and set
#include <npio/npio.hpp>

int main() {
#ifdef NPIO_COMPILE_FAIL
  auto a = npio::array::from(std::vector<std::string>{"a"});
#else
  npio::array a(npio::dtype::parse("<U1"), {1});
  a.set("a", 0);
#endif
  return static_cast<int>(a.size());
}
