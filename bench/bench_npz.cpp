// .npz benchmarks (bench/npz_numpy.py runs them next to NumPy and prints ratios):
//   npz_savez_compressed/{f64,ints}   savez_compressed of 16 MiB
//   npz_read_compressed/{numpy,npio}_{f64,ints}   open + at() of a deflated member
//   npz_savez_stored vs npz_plain_write   64 MiB stored member vs write(2) of the bytes
//   npz_load_stored vs npz_plain_read     load it back vs read(2) into a fresh buffer
//   npz_inflate_floor/{libdeflate,zlib}_{numpy,npio}_{f64,ints}   the member's deflate
//       stream inflated in memory into a fresh buffer plus its CRC-32, on one thread:
//       the floor of reading a deflated member with each library (NumPy uses zlib)
// Data: NPIO_BENCH_NPZ_DIR/x_f64.npy, x_ints.npy, x_stored.npy and NumPy's archives
// numpy_f64.npz, numpy_ints.npz when set (by npz_numpy.py); otherwise generated.
#include <benchmark/benchmark.h>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <libdeflate.h>
#include <npio/npz.hpp>
#include <random>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace fs = std::filesystem;

namespace {

struct npz_bench_data {
  fs::path dir;
  bool owned = false;
  npio::array f64, ints, stored;

  npz_bench_data() {
    if (const char* d = std::getenv("NPIO_BENCH_NPZ_DIR")) {
      dir = d;
      f64 = npio::load(dir / "x_f64.npy");
      ints = npio::load(dir / "x_ints.npy");
      stored = npio::load(dir / "x_stored.npy");
      return;
    }
    dir = fs::temp_directory_path() / ("npio_bench_npz_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    owned = true;
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u;
    std::vector<double> f(2u << 20);
    for (auto& x : f)
      x = u(rng);
    std::vector<std::int64_t> k(2u << 20);
    for (auto& x : k)
      x = static_cast<std::int64_t>(rng() % 1000);
    std::vector<double> s(8u << 20);
    for (std::size_t i = 0; i < s.size(); ++i)
      s[i] = static_cast<double>(i) * 0.5;
    f64 = npio::array::from(f, npio::shape_t{std::int64_t(f.size())});
    ints = npio::array::from(k, npio::shape_t{std::int64_t(k.size())});
    stored = npio::array::from(s, npio::shape_t{std::int64_t(s.size())});
  }
  ~npz_bench_data() {
    if (owned) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  }
};

npz_bench_data& data() {
  static npz_bench_data d;
  return d;
}

const npio::array& pick(const std::string& kind) {
  return kind == "f64" ? data().f64 : data().ints;
}

void npz_savez_compressed(benchmark::State& state, const std::string& kind) {
  const auto& a = pick(kind);
  const auto out = data().dir / ("npio_" + kind + ".npz");
  for (auto _ : state)
    npio::savez_compressed(out, {{"x", a}});
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * a.nbytes()));
  state.counters["archive_bytes"] = static_cast<double>(fs::file_size(out));
  state.counters["data_bytes"] = static_cast<double>(a.nbytes());
}

void npz_read_compressed(benchmark::State& state, const std::string& writer,
                         const std::string& kind) {
  const auto path = data().dir / (writer + "_" + kind + ".npz");
  if (!fs::exists(path)) {
    if (writer == "npio") {
      npio::savez_compressed(path, {{"x", pick(kind)}});
    } else {
      state.SkipWithError("no NumPy archive (run bench/npz_numpy.py)");
      return;
    }
  }
  std::size_t n = 0;
  for (auto _ : state) {
    const auto z = npio::npz_file::open(path);
    auto a = z.at("x");
    n = a.nbytes();
    benchmark::DoNotOptimize(a.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void npz_savez_stored(benchmark::State& state) {
  const auto& a = data().stored;
  const auto out = data().dir / "npio_stored.npz";
  for (auto _ : state)
    npio::savez(out, {{"x", a}});
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * a.nbytes()));
}

void npz_plain_write(benchmark::State& state) {
  const auto& a = data().stored;
  const auto out = data().dir / "plain.bin";
  for (auto _ : state) {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::size_t done = 0;
    while (done < a.nbytes()) {
      const ssize_t w = ::write(fd, a.data() + done, a.nbytes() - done);
      if (w <= 0) break;
      done += static_cast<std::size_t>(w);
    }
    ::close(fd);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * a.nbytes()));
}

void npz_load_stored(benchmark::State& state) {
  const auto path = data().dir / "npio_stored.npz";
  if (!fs::exists(path)) npio::savez(path, {{"x", data().stored}});
  std::size_t n = 0;
  for (auto _ : state) {
    auto a = npio::npz_file::open(path).at("x");
    n = a.nbytes();
    benchmark::DoNotOptimize(a.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void npz_plain_read(benchmark::State& state) {
  const auto path = data().dir / "plain.bin";
  if (!fs::exists(path)) npz_plain_write(state);
  const auto n = static_cast<std::size_t>(fs::file_size(path));
  for (auto _ : state) {
    auto buf = npio::buffer::allocate(n, false);
    const int fd = ::open(path.c_str(), O_RDONLY);
    std::size_t done = 0;
    while (done < n) {
      const ssize_t r = ::read(fd, buf->data() + done, n - done);
      if (r <= 0) break;
      done += static_cast<std::size_t>(r);
    }
    ::close(fd);
    benchmark::DoNotOptimize(buf->data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// The deflate stream of the archive's first member (bench archives hold one).
struct raw_member {
  std::vector<std::uint8_t> file;
  std::size_t start = 0, csize = 0, usize = 0;
};

bool read_raw_member(const fs::path& path, raw_member& m) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  m.file.assign(std::istreambuf_iterator<char>(f), {});
  if (m.file.size() < 30 || m.file[0] != 'P' || m.file[1] != 'K') return false;
  m.start = 30 + (m.file[26] | m.file[27] << 8) + (m.file[28] | m.file[29] << 8);
  if (m.start >= m.file.size()) return false;
  // Inflate once to learn where the stream ends and how long the member is.
  std::vector<std::uint8_t> out(data().f64.nbytes() + data().ints.nbytes() + (1u << 20));
  auto* d = libdeflate_alloc_decompressor();
  std::size_t in_used = 0, out_len = 0;
  const auto r =
      libdeflate_deflate_decompress_ex(d, m.file.data() + m.start, m.file.size() - m.start,
                                       out.data(), out.size(), &in_used, &out_len);
  libdeflate_free_decompressor(d);
  m.csize = in_used;
  m.usize = out_len;
  return r == LIBDEFLATE_SUCCESS;
}

void npz_inflate_floor(benchmark::State& state, const std::string& lib, const std::string& writer,
                       const std::string& kind) {
  raw_member m;
  if (!read_raw_member(data().dir / (writer + "_" + kind + ".npz"), m))
    return state.SkipWithError("no archive to read (run npz_savez_compressed or npz_numpy.py)");
  const std::uint8_t* in = m.file.data() + m.start;
  auto* d = libdeflate_alloc_decompressor();
  for (auto _ : state) {
    auto buf = npio::buffer::allocate(m.usize, false); // fresh memory, as a load gets
    auto* out = reinterpret_cast<std::uint8_t*>(buf->data());
    std::uint32_t crc = 0;
    if (lib == "libdeflate") {
      if (libdeflate_deflate_decompress(d, in, m.csize, out, m.usize, nullptr) !=
          LIBDEFLATE_SUCCESS)
        return state.SkipWithError("libdeflate failed");
      crc = libdeflate_crc32(0, out, m.usize);
    } else {
      z_stream z{};
      inflateInit2(&z, -15);
      z.next_in = const_cast<Bytef*>(in);
      z.avail_in = static_cast<uInt>(m.csize);
      z.next_out = out;
      z.avail_out = static_cast<uInt>(m.usize);
      const int r = inflate(&z, Z_FINISH);
      inflateEnd(&z);
      if (r != Z_STREAM_END) return state.SkipWithError("zlib failed");
      crc = static_cast<std::uint32_t>(::crc32(0, out, static_cast<uInt>(m.usize)));
    }
    benchmark::DoNotOptimize(crc);
  }
  libdeflate_free_decompressor(d);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * m.usize));
}

} // namespace

BENCHMARK_CAPTURE(npz_savez_compressed, f64, std::string("f64"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_savez_compressed, ints, std::string("ints"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_read_compressed, numpy_f64, std::string("numpy"), std::string("f64"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_read_compressed, numpy_ints, std::string("numpy"), std::string("ints"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_read_compressed, npio_f64, std::string("npio"), std::string("f64"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_read_compressed, npio_ints, std::string("npio"), std::string("ints"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK(npz_savez_stored)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(npz_plain_write)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(npz_load_stored)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(npz_plain_read)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_inflate_floor, libdeflate_numpy_f64, "libdeflate", "numpy", "f64")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_inflate_floor, zlib_numpy_f64, "zlib", "numpy", "f64")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_inflate_floor, libdeflate_npio_f64, "libdeflate", "npio", "f64")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_inflate_floor, zlib_npio_f64, "zlib", "npio", "f64")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_inflate_floor, libdeflate_numpy_ints, "libdeflate", "numpy", "ints")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_inflate_floor, zlib_numpy_ints, "zlib", "numpy", "ints")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_inflate_floor, libdeflate_npio_ints, "libdeflate", "npio", "ints")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(npz_inflate_floor, zlib_npio_ints, "zlib", "npio", "ints")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
