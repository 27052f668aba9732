// npio unpack IN.npz DIR
//
// Writes every member of the archive as DIR/NAME (its name in the archive),
// CRC-checked. Names that could land outside DIR (absolute, `..`, drive
// letters, backslashes) are refused before anything is written, and no file is
// written through a symbolic link.
#include "cmd_unpack.hpp"

#include "progress.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <npio/npz.hpp>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace npio_cli {
namespace {

struct unpack_args {
  std::string in, dir;
  unsigned threads = 0;
};

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  std::fflush(stdout);
  std::fprintf(stderr, "npio: %s%s%s\n", file.c_str(), file.empty() ? "" : ": ", what.c_str());
  throw CLI::RuntimeError(1);
}

// Creates the directories of `rel` under `root` one level at a time, refusing
// symbolic links on the way.
std::filesystem::path prepare(const std::filesystem::path& root, const std::string& rel) {
  std::filesystem::path at = root;
  const std::filesystem::path r(rel);
  for (auto it = r.begin(); it != r.end(); ++it) {
    if (std::next(it) == r.end()) break;
    at /= *it;
    std::error_code ec;
    const auto st = std::filesystem::symlink_status(at, ec);
    if (st.type() == std::filesystem::file_type::symlink)
      throw npio::error(npio::errc::zip_bad_name,
                        "refusing to write through symbolic link " + at.string());
    if (!std::filesystem::exists(st)) std::filesystem::create_directory(at);
  }
  return root / r;
}

void write_member(const std::filesystem::path& target, const std::vector<std::byte>& bytes) {
  const int fd =
      ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0)
    throw npio::error(npio::errc::io_error, std::string("cannot create: ") + std::strerror(errno),
                      target.string());
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      throw npio::error(npio::errc::io_error, std::string("write failed: ") + std::strerror(e),
                        target.string());
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0)
    throw npio::error(npio::errc::io_error, std::string("close failed: ") + std::strerror(errno),
                      target.string());
}

void run_unpack(const unpack_args& a) {
  try {
    const auto z = npio::npz_file::open(a.in);
    const auto& members = z.members();
    std::uint64_t total = 0;
    for (const auto& m : members) {
      if (!npio::safe_member_name(m.filename) || m.filename.back() == '/')
        throw npio::error(npio::errc::zip_bad_name,
                          "unsafe member name '" + m.filename + "' (nothing was written)", a.in);
      total += m.uncompressed_size;
    }
    const std::filesystem::path root(a.dir);
    std::filesystem::create_directories(root);
    progress_line bar("unpack");
    std::atomic<std::uint64_t> done{0};
    std::atomic<std::size_t> next{0};
    std::mutex mu;
    std::exception_ptr first;
    unsigned threads = a.threads ? a.threads : std::max(1u, std::thread::hardware_concurrency());
    threads = static_cast<unsigned>(std::min<std::size_t>(threads, members.size()));
    auto work = [&] {
      for (;;) {
        const std::size_t i = next++;
        if (i >= members.size()) return;
        try {
          const auto& m = members[i];
          std::filesystem::path target;
          {
            std::lock_guard lock(mu);
            if (first) return;
            target = prepare(root, m.filename);
          }
          write_member(target, z.bytes(m.filename));
          done += m.uncompressed_size;
          std::lock_guard lock(mu);
          bar.update(done, total);
        } catch (...) {
          std::lock_guard lock(mu);
          if (!first) first = std::current_exception();
          return;
        }
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t)
      pool.emplace_back(work);
    work();
    for (auto& t : pool)
      t.join();
    bar.finish();
    if (first) std::rethrow_exception(first);
  } catch (const npio::error& e) {
    fail({}, e.what());
  } catch (const std::filesystem::filesystem_error& e) {
    fail(a.dir, e.what());
  }
}

} // namespace

void register_unpack(CLI::App& app) {
  auto args = std::make_shared<unpack_args>();
  auto* cmd = app.add_subcommand("unpack", "Write the members of a .npz archive into a directory.");
  cmd->add_option("in", args->in, "the archive")->required()->check(CLI::ExistingFile);
  cmd->add_option("dir", args->dir, "where to write the members (created when missing)")
      ->required();
  cmd->add_option("--threads", args->threads, "decompression threads (default: all cores)");
  cmd->callback([args] { run_unpack(*args); });
}

} // namespace npio_cli
