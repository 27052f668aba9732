// Fuzzes astype from text (S and U arrays, as a loaded .npy holds them) to
// datetime64, timedelta64 and numbers: NumPy's ISO 8601 reader, C's strtol
// and Python's int()/float()/complex(). The input's lines are the elements
// (the first byte picks S or U). Every cast either succeeds or throws
// npio::error with a code and a message; texts of 'NaT' give NaT.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <npio/npio.hpp>
#include <string>
#include <vector>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

constexpr std::size_t max_width = 80;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool unicode = data[0] & 1;
  std::vector<std::string> lines(1);
  for (std::size_t i = 1; i < size && lines.size() <= 64; ++i) {
    if (data[i] == '\n')
      lines.emplace_back();
    else if (lines.back().size() < max_width && data[i] != 0 && (!unicode || data[i] < 0x80))
      lines.back() += static_cast<char>(data[i]);
  }
  std::size_t width = 1;
  for (const auto& l : lines)
    width = std::max(width, l.size());
  const auto text = npio::dtype::parse((unicode ? "<U" : "|S") + std::to_string(width));
  npio::array a(text, {static_cast<std::int64_t>(lines.size())});
  for (std::size_t i = 0; i < lines.size(); ++i)
    a.set(lines[i], static_cast<std::int64_t>(i));
  for (const char* to : {"<M8", "<M8[s]", ">M8[as]", "<M8[Y]", "<M8[M]", "<M8[7D]", "<M8[25ms]",
                         "<m8[s]", "<m8", "<i8", "|u1", "<f8", "<c16", "<f16", "<c32", "|b1"}) {
    try {
      const npio::array r = a.astype(npio::dtype::parse(to));
      require(r.size() == a.size());
      if (r.dtype().is_datetime())
        for (std::size_t i = 0; i < lines.size(); ++i)
          if (lines[i] == "NaT")
            require(r.at<std::int64_t>(static_cast<std::int64_t>(i)) ==
                    std::numeric_limits<std::int64_t>::min());
    } catch (const npio::error& e) {
      require(e.code() != npio::errc{} && e.what()[0] != '\0');
    }
  }
  return 0;
}
