// expect: member needs its dtype
#include <npio/npio.hpp>

struct named {
  std::string name;
};
#ifdef NPIO_COMPILE_FAIL
NPIO_RECORD(named, npio::member("name", &named::name));
#else
NPIO_RECORD(named, npio::member("name", &named::name, "U8"));
#endif

int main() {
  return static_cast<int>(npio::record_dtype<named>().itemsize());
}
