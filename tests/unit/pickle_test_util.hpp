// Helpers shared by the pickle and py::value tests: files, and running the
// Python/NumPy oracle on temporary files.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <npio/pickle.hpp>
#include <npio/py/value.hpp>
#include <string>
#include <vector>

namespace pickle_test {

inline std::vector<std::byte> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(c.size());
  if (!c.empty()) std::memcpy(b.data(), c.data(), c.size());
  return b;
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::filesystem::path& p, std::span<const std::byte> b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

inline std::vector<std::byte> bytes_of(std::string_view s) {
  std::vector<std::byte> b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
  return b;
}

inline std::filesystem::path golden(const std::string& sub = "pickle") {
  return std::filesystem::path(NPIO_GOLDEN_DIR) / sub;
}

// A fresh temporary directory, removed by the destructor.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("npio_pickle_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Runs NPIO_PYTHON with a script file and arguments; returns exit status and output.
inline int run_python(const std::string& script, const std::vector<std::string>& args,
                      std::string& output) {
  temp_dir d;
  const auto sp = d.path / "script.py";
  { std::ofstream(sp) << script; }
  std::string cmd = std::string(NPIO_PYTHON) + " '" + sp.string() + "'";
  for (const auto& a : args)
    cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return -1;
  char buf[4096];
  output.clear();
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    output.append(buf, n);
  const int st = ::pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

} // namespace pickle_test
