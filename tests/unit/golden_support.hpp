// Helpers shared by the golden-file, header-error, atomic-save and model tests:
// reading files, the generator's TSV manifests, temporary directories, and a
// failure collector that keeps a loop over thousands of files readable.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <map>
#include <npio/npio.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace npio_test {

/// The npio::errc that f() throws, or errc::ok when it throws none.
template <class F> npio::errc code_of(F&& f) {
  try {
    f();
  } catch (const npio::error& e) {
    return e.code();
  }
  return npio::errc::ok;
}

namespace fs = std::filesystem;
using bytes = std::vector<std::byte>;

/// Where tests/data/generate.py wrote its files (GOLDEN_DIR/npy).
inline fs::path golden_dir() {
  return fs::path(NPIO_GOLDEN_DIR) / "npy";
}

inline bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  in.seekg(0, std::ios::end);
  const auto n = static_cast<std::size_t>(in.tellg());
  in.seekg(0);
  bytes b(n);
  if (n != 0) in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(n));
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return b;
}

inline void write_file(const fs::path& p, std::span<const std::byte> b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

inline bytes to_bytes(std::string_view s) {
  bytes b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
  return b;
}

inline std::string to_string(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// Where two byte strings first differ, for failure messages ("" when equal).
inline std::string first_difference(std::span<const std::byte> got,
                                    std::span<const std::byte> want) {
  if (got.size() == want.size() &&
      (got.empty() || std::memcmp(got.data(), want.data(), got.size()) == 0))
    return {};
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i])
    ++i;
  std::ostringstream os;
  os << "sizes " << got.size() << " vs " << want.size() << ", first difference at byte " << i;
  auto show = [&](std::span<const std::byte> b) {
    std::string s;
    for (std::size_t k = i; k < b.size() && k < i + 24; ++k) {
      const auto c = static_cast<unsigned char>(b[k]);
      if (c >= 32 && c < 127 && c != '\\')
        s += static_cast<char>(c);
      else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        s += buf;
      }
    }
    return s;
  };
  os << ": got \"" << show(got) << "\" want \"" << show(want) << "\"";
  return os.str();
}

/// One TSV file written by generate.py: a header line of column names, then rows.
struct tsv_row {
  std::map<std::string, std::string> cells;
  const std::string& operator[](const std::string& col) const {
    auto it = cells.find(col);
    if (it == cells.end()) throw std::runtime_error("manifest has no column " + col);
    return it->second;
  }
  std::string name() const {
    auto it = cells.find("name");
    return it == cells.end() ? cells.begin()->second : it->second;
  }
};

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

inline std::vector<tsv_row> read_tsv(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("missing " + p.string() + " (did golden.generate run?)");
  std::string line;
  std::getline(in, line);
  const auto cols = split(line, '\t');
  std::vector<tsv_row> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto cells = split(line, '\t');
    if (cells.size() != cols.size())
      throw std::runtime_error("bad row in " + p.string() + ": " + line);
    tsv_row r;
    for (std::size_t i = 0; i < cols.size(); ++i)
      r.cells[cols[i]] = cells[i];
    rows.push_back(std::move(r));
  }
  return rows;
}

/// "2,3,4" -> {2, 3, 4}; "" -> {} (0-d).
inline npio::shape_t parse_shape(const std::string& s) {
  npio::shape_t out;
  if (s.empty()) return out;
  for (const auto& part : split(s, ','))
    out.push_back(std::stoll(part));
  return out;
}

inline std::string shape_string(const npio::shape_t& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i)
    out += (i ? "," : "") + std::to_string(s[i]);
  return out;
}

/// A fresh directory removed (with its contents) at scope exit.
class temp_dir {
public:
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "npio-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  /// Names of the entries in the directory, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_))
      out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

private:
  fs::path path_;
};

/// Collects per-row failures of a loop over many golden files and reports the
/// first few in full plus a count, instead of thousands of gtest lines.
class failures {
public:
  void add(const std::string& row, const std::string& what) {
    ++count_;
    if (shown_.size() < 25) shown_.push_back(row + ": " + what);
  }
  std::size_t count() const { return count_; }
  /// Runs `f` for a row, turning exceptions into failures.
  void run(const std::string& row, const std::function<void()>& f) {
    ++rows_;
    try {
      f();
    } catch (const npio::error& e) {
      add(row, std::string("npio::error [") + npio::errc_name(e.code()) + "] " + e.what());
    } catch (const std::exception& e) {
      add(row, std::string("exception: ") + e.what());
    }
  }
  std::size_t rows() const { return rows_; }
  void report() const {
    std::string all;
    for (const auto& s : shown_)
      all += "  " + s + "\n";
    EXPECT_EQ(count_, 0u) << count_ << " failures over " << rows_ << " rows; first ones:\n" << all;
  }

private:
  std::size_t count_ = 0, rows_ = 0;
  std::vector<std::string> shown_;
};

} // namespace npio_test

/// In a failures::run body: record a failure for `row` and leave the row.
#define GOLDEN_CHECK(fails, row, cond, msg)                                                        \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      (fails).add((row), std::string(#cond) + " -- " + std::string(msg));                          \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

#define GOLDEN_CHECK_EQ(fails, row, got, want)                                                     \
  do {                                                                                             \
    const auto& golden_got_ = (got);                                                               \
    const auto& golden_want_ = (want);                                                             \
    if (!(golden_got_ == golden_want_)) {                                                          \
      std::ostringstream golden_os_;                                                               \
      golden_os_ << #got << " is " << ::testing::PrintToString(golden_got_)                        \
                 << ", NumPy: " << ::testing::PrintToString(golden_want_);                         \
      (fails).add((row), golden_os_.str());                                                        \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

#define GOLDEN_CHECK_BYTES(fails, row, got, want, what)                                            \
  do {                                                                                             \
    const std::string golden_diff_ = ::npio_test::first_difference((got), (want));                 \
    if (!golden_diff_.empty()) {                                                                   \
      (fails).add((row), std::string(what) + ": " + golden_diff_);                                 \
      return;                                                                                      \
    }                                                                                              \
  } while (0)
