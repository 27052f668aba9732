// Write-then-read round trips: the fuzz input drives a small generator of
// py::values (every kind npio writes), which must come back equal from
// dumps() -> loads() at every protocol npio writes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <npio/pickle.hpp>

namespace {

using npio::py::value;
namespace py = npio::py;

struct reader {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t byte() {
    if (!n) return 0;
    --n;
    return *p++;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v = (v << 8) | byte();
    return v;
  }
  std::string text() {
    std::string s;
    for (int k = byte() % 6; k-- > 0;) {
      const std::uint8_t c = byte();
      if (c < 0x80)
        s += static_cast<char>(c);
      else
        s += "\xc3\xa9";
    }
    return s;
  }
};

value gen(reader& r, int depth) {
  const int k = r.byte() % (depth > 6 ? 12 : 19);
  switch (k) {
  case 0:
    return value();
  case 1:
    return value(r.byte() & 1);
  case 2:
    return value(static_cast<std::int64_t>(r.u64()));
  case 3:
    return value::integer(std::to_string(r.u64()) + std::to_string(r.u64() | 1));
  case 4: {
    double d = static_cast<double>(static_cast<std::int64_t>(r.u64())) / 1024.0;
    return value(d);
  }
  case 5:
    return value(std::complex<double>(r.byte(), -static_cast<double>(r.byte())));
  case 6:
    return value(r.text());
  case 7:
    return py::bytes(r.text());
  case 8:
    return value::bytearray(r.text());
  case 9:
    return value::timedelta(r.byte() - 128, r.u64() % 86400, r.u64() % 1000000);
  case 10:
    return value::decimal("3.25");
  case 11:
    return value::datetime({1 + r.byte() % 200 * 40, 1 + r.byte() % 12, 1 + r.byte() % 28,
                            r.byte() % 24, r.byte() % 60, r.byte() % 60,
                            static_cast<int>(r.u64() % 1000000)});
  case 12: {
    value l = value::list();
    for (int i = r.byte() % 5; i-- > 0;)
      l.push_back(gen(r, depth + 1));
    return l;
  }
  case 13: {
    std::vector<value> t;
    for (int i = r.byte() % 5; i-- > 0;)
      t.push_back(gen(r, depth + 1));
    return value::tuple(std::move(t));
  }
  case 14: {
    value d = value::dict();
    for (int i = r.byte() % 4; i-- > 0;)
      d.insert(r.byte() & 1 ? value(r.text()) : value(r.byte()), gen(r, depth + 1));
    return d;
  }
  case 15: {
    std::vector<value> s;
    for (int i = r.byte() % 4; i-- > 0;)
      s.push_back(value(r.byte()));
    return r.byte() & 1 ? value::set(std::move(s)) : value::frozenset(std::move(s));
  }
  case 16: {
    std::vector<double> v;
    for (int i = r.byte() % 4; i-- > 0;)
      v.push_back(r.byte());
    return value(npio::array::from(v));
  }
  case 17: {
    std::vector<value> items;
    const int n = r.byte() % 4;
    for (int i = 0; i < n; ++i)
      items.push_back(gen(r, depth + 1));
    return value(py::make_object_array({n}, std::move(items)));
  }
  default:
    return value::global("builtins", "range");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader r{data, size};
  const value v = gen(r, 0);
  for (int proto = 3; proto <= 5; ++proto) {
    const auto bytes = npio::pickle::dumps(v, proto);
    const value back = npio::pickle::loads(bytes);
    if (!(back == v)) {
      std::fprintf(stderr, "round trip mismatch at protocol %d:\n%s\n%s\n", proto, v.repr().c_str(),
                   back.repr().c_str());
      std::abort();
    }
  }
  return 0;
}
