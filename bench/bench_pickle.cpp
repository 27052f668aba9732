// Object arrays against CPython's C pickle, in the same run: 1,000,000 dicts
// {'id': i, 'name': 'x' + str(i), 'v': float(i)} in a .npy, loaded with
// allow_pickle and saved. bench/pickle_cpython.py times np.load / np.save on
// the same data; the "x_cpython" counter is CPython's time over ours (> 1 is
// faster). Both sides report the best of 3 runs in process CPU time.
#include <benchmark/benchmark.h>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <npio/npio.hpp>
#include <npio/py/value.hpp>
#include <string>

namespace {

namespace fs = std::filesystem;

struct cpython_run {
  fs::path dir;
  double save_s = 0, load_s = 0, save_wall_s = 0, load_wall_s = 0;
  bool ok = false;
};

const cpython_run& cpython() {
  static cpython_run r = [] {
    cpython_run c;
    const char* env = std::getenv("NPIO_BENCH_OBJECTS");
    const std::string n = env ? env : "1000000";
    c.dir = fs::temp_directory_path() / "npio_bench_pickle";
    fs::create_directories(c.dir);
    // bench/run.sh names the script; __FILE__ may be relative to the build directory.
    const char* given = std::getenv("NPIO_BENCH_PICKLE_SCRIPT");
    const fs::path script =
        given ? fs::path(given) : fs::path(__FILE__).parent_path() / "pickle_cpython.py";
    const std::string cmd =
        "/usr/bin/python3 '" + script.string() + "' '" + c.dir.string() + "' " + n;
    FILE* f = ::popen(cmd.c_str(), "r");
    char buf[512] = {0};
    if (f && std::fgets(buf, sizeof buf, f)) {
      c.ok = std::sscanf(buf,
                         "{\"save_s\": %lf, \"load_s\": %lf, \"save_wall_s\": %lf, "
                         "\"load_wall_s\": %lf}",
                         &c.save_s, &c.load_s, &c.save_wall_s, &c.load_wall_s) == 4;
    }
    if (f) ::pclose(f);
    return c;
  }();
  return r;
}

// Wall clock, for the wall_s counters beside the CPU times.
double wall_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Process CPU time, as pickle_cpython.py measures it (robust on a shared machine).
double cpu_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void BM_ObjectArrayLoad(benchmark::State& state) {
  const auto& c = cpython();
  if (!c.ok) return state.SkipWithError("pickle_cpython.py failed");
  npio::load_options o;
  o.allow_pickle = true;
  // CPython memoizes each dict and each name: 2 entries per element, more than
  // the default max_memo (1 << 20) at a million elements.
  o.pickle.limits.max_memo = std::size_t(1) << 24;
  double best = 1e30, best_wall = 1e30;
  for (auto _ : state) {
    const double t = cpu_now(), w = wall_now();
    npio::array a = npio::load(c.dir / "objects.npy", o);
    const double s = cpu_now() - t;
    best_wall = std::min(best_wall, wall_now() - w);
    best = std::min(best, s);
    state.SetIterationTime(s);
    benchmark::DoNotOptimize(a);
    state.PauseTiming();
    a = npio::array(); // freeing the values is not part of loading
    state.ResumeTiming();
  }
  state.counters["cpython_s"] = c.load_s;
  state.counters["x_cpython"] = c.load_s / best;
  state.counters["best_cpu_s"] = best;
  state.counters["wall_s"] = best_wall;
  state.counters["cpython_wall_s"] = c.load_wall_s;
}

void BM_ObjectArraySave(benchmark::State& state) {
  const auto& c = cpython();
  if (!c.ok) return state.SkipWithError("pickle_cpython.py failed");
  npio::load_options o;
  o.allow_pickle = true;
  o.pickle.limits.max_memo = std::size_t(1) << 24;
  const npio::array a = npio::load(c.dir / "objects.npy", o);
  double best = 1e30, best_wall = 1e30;
  for (auto _ : state) {
    const double t = cpu_now(), w = wall_now();
    npio::save(c.dir / "objects_npio.npy", a);
    const double s = cpu_now() - t;
    best_wall = std::min(best_wall, wall_now() - w);
    best = std::min(best, s);
    state.SetIterationTime(s);
  }
  state.counters["cpython_s"] = c.save_s;
  state.counters["x_cpython"] = c.save_s / best;
  state.counters["best_cpu_s"] = best;
  state.counters["wall_s"] = best_wall;
  state.counters["cpython_wall_s"] = c.save_wall_s;
}

} // namespace

BENCHMARK(BM_ObjectArrayLoad)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ObjectArraySave)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);
