// POSIX file helpers: EINTR-safe full reads and writes, atomic replacement.
#include "file.hpp"

#include "parallel.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <limits>
#include <mutex>
#include <pthread.h>
#include <random>
#include <string_view>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace npio {
inline namespace v1 {
namespace detail {

fd_handle& fd_handle::operator=(fd_handle&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

fd_handle::~fd_handle() {
  if (fd_ >= 0) ::close(fd_);
}

file_mapping::~file_mapping() {
  if (p) ::munmap(p, n);
}

void throw_os_error(const std::string& what, const std::filesystem::path& path, int err) {
  throw error(errc::io_error, what + ": " + std::strerror(err), path.string());
}

fd_handle open_file(const std::filesystem::path& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw_os_error("cannot open", path, errno);
  return fd_handle(fd);
}

std::uint64_t file_size(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_os_error("cannot stat", path, errno);
  if (S_ISDIR(st.st_mode)) throw_os_error("cannot read", path, EISDIR);
  return static_cast<std::uint64_t>(st.st_size);
}

std::size_t read_full(int fd, std::byte* dst, std::size_t n, const std::filesystem::path& path) {
  std::size_t got = 0;
  while (got < n) {
    // Large reads in 1 GiB pieces (Linux caps a read at about 2 GiB).
    const ssize_t r = ::read(fd, dst + got, std::min<std::size_t>(n - got, std::size_t(1) << 30));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_os_error("read failed", path, errno);
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

std::size_t read_some(int fd, std::byte* dst, std::size_t n, const std::filesystem::path& path) {
  for (;;) {
    const ssize_t r = ::read(fd, dst, std::min<std::size_t>(n, std::size_t(1) << 30));
    if (r >= 0) return static_cast<std::size_t>(r);
    if (errno != EINTR) throw_os_error("read failed", path, errno);
  }
}

std::size_t pread_full(int fd, std::byte* dst, std::size_t n, std::uint64_t offset,
                       const std::filesystem::path& path) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, dst + got, std::min<std::size_t>(n - got, std::size_t(1) << 30),
                              static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_os_error("read failed", path, errno);
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

// Reads into fresh memory of at least this many bytes go on several threads:
// the page faults (the kernel zeroing each new page) and copies of one
// thread take about twice as long as two threads' here (1 GiB: 0.19-0.20 s
// wall on one, 0.115-0.12 s on two, for 14% more CPU time). Into memory
// already faulted in (load_into) a read is bound by memory bandwidth: two
// threads cut 23% of the wall time for 40% more CPU, so it stays on one.
// Each part is at least half of this.
constexpr std::size_t parallel_read_min = std::size_t(32) << 20;
constexpr unsigned parallel_read_max_threads = 4;

std::size_t pread_parallel(int fd, std::byte* dst, std::size_t n, std::uint64_t offset,
                           const std::filesystem::path& path) {
  const std::size_t parts = std::min<std::size_t>(
      {default_threads(), parallel_read_max_threads, n / (parallel_read_min / 2)});
  if (parts <= 1) return pread_full(fd, dst, n, offset, path);
  // Parts start on 2 MiB boundaries of the destination where they can, so
  // that no huge page is faulted in by two threads.
  const std::size_t step =
      ((n / parts) + (std::size_t(2) << 20) - 1) & ~((std::size_t(2) << 20) - 1);
  const std::size_t count = (n + step - 1) / step;
  std::vector<std::size_t> got(count);
  parallel_for(count, static_cast<unsigned>(parts), [&](std::size_t k) {
    const std::size_t at = k * step;
    got[k] = pread_full(fd, dst + at, std::min(step, n - at), offset + at, path);
  });
  // The bytes read without a gap from the start: a part that came back short
  // met the end of a file that shrank meanwhile.
  std::size_t total = 0;
  for (std::size_t k = 0; k < count; ++k) {
    total += got[k];
    if (got[k] < std::min(step, n - k * step)) break;
  }
  return total;
}

void write_full(int fd, const std::byte* src, std::size_t n, const std::filesystem::path& path) {
  while (n) {
    const ssize_t w = ::write(fd, src, std::min<std::size_t>(n, std::size_t(1) << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_os_error("write failed", path, errno);
    }
    src += w;
    n -= static_cast<std::size_t>(w);
  }
}

namespace {

// np.save opens the path with 'wb', which writes through a symbolic link (even
// a dangling one) to the file it names: follow links so the rename replaces
// that file and the link stays.
std::filesystem::path follow_links(std::filesystem::path p) {
  std::error_code ec;
  for (int hops = 0; hops < 40 && std::filesystem::is_symlink(p, ec); ++hops) {
    const auto link = std::filesystem::read_symlink(p, ec);
    if (ec) break;
    p = link.is_absolute() ? link : p.parent_path() / link;
  }
  return p;
}

// ---- releasing replaced files off the caller's path ---------------------------------
//
// Renaming over a file drops its last link; when nothing else holds the inode
// the rename itself frees its blocks, which for a large file that is on disk
// costs about as long as writing it (ext4 with discard: ~1.2 s a GiB). So
// commit() first opens the old file (O_PATH: no read permission needed, no
// FIFO blocking), renames, and hands that descriptor to one background thread
// whose close(2) is the last reference and pays for the freeing.

constexpr std::size_t max_pending = 4; // queued + being closed; beyond that the caller waits

struct releaser {
  std::mutex m;
  std::condition_variable cv;
  std::array<int, max_pending> queued{}; // a ring of descriptors
  std::size_t head = 0, count = 0;
  bool closing = false;
  bool thread_running = false;
  bool started = false;
  // Joined (not detached), so that fork_prepare can wait for a finished
  // thread to be gone: a thread starting or exiting allocates, and under a
  // sanitizer's allocator (which takes no locks around fork, unlike glibc's
  // malloc) a fork at that moment leaves the child a lock no thread will free.
  std::thread worker;

  std::size_t pending() const noexcept { return count + (closing ? 1 : 0); }

  // Closes what is queued, then ends: no thread lingers between overwrites
  // (an idle thread would make every munmap of the process signal its CPU).
  void run() {
    std::unique_lock lock(m);
    started = true;
    cv.notify_all();
    while (count > 0) {
      const int fd = queued[head];
      head = (head + 1) % max_pending;
      --count;
      closing = true;
      lock.unlock();
      ::close(fd); // the last reference: the filesystem frees the blocks here
      lock.lock();
      closing = false;
      cv.notify_all();
    }
    thread_running = false;
  }
};

releaser* the_releaser = nullptr;
std::once_flag releaser_once;

// A forked child has no release thread: right after fork it closes its copies
// of the queued descriptors (the parent still holds the files) and starts
// afresh. The descriptor being closed in the parent is left alone: its number
// may already name another file.
void fork_prepare() {
  releaser& r = *the_releaser;
  r.m.lock();
  // A thread inside run() holds no allocator lock (it closes, or waits for m);
  // one that has left run() is joined, so it is not exiting during the fork.
  if (!r.thread_running && r.worker.joinable()) r.worker.join();
}
void fork_parent() {
  the_releaser->m.unlock();
}
void fork_child() {
  releaser* old = the_releaser;
  for (std::size_t i = 0; i < old->count; ++i)
    ::close(old->queued[(old->head + i) % max_pending]);
  // The old mutex is held by this thread and its condition variable may count
  // the parent's waiters: leave it behind rather than reuse it.
  the_releaser = new releaser;
}

// Never destroyed, so the thread may outlive static destruction; at
// exit the kernel closes whatever is still queued (see flush_releases).
releaser& get_releaser() {
  std::call_once(releaser_once, [] {
    the_releaser = new releaser;
    ::pthread_atfork(fork_prepare, fork_parent, fork_child);
  });
  return *the_releaser;
}

void release_later(int fd) {
  releaser& r = get_releaser();
  std::unique_lock lock(r.m);
  r.cv.wait(lock, [&] { return r.pending() < max_pending; });
  r.queued[(r.head + r.count) % max_pending] = fd;
  ++r.count;
  if (r.thread_running) return;
  if (r.worker.joinable()) r.worker.join(); // it has left run(): only its exit is left
  try {
    r.started = false;
    r.worker = std::thread([p = &r] { p->run(); });
    r.thread_running = true;
  } catch (const std::system_error&) {
    --r.count; // no thread: free it here, as a plain rename would have
    lock.unlock();
    ::close(fd);
    return;
  }
  // Until it is inside run() it may be allocating (thread start-up), and
  // fork_prepare must not fork then (see releaser::worker).
  r.cv.wait(lock, [&] { return r.started; });
}

} // namespace

void wait_releases() {
  releaser& r = get_releaser();
  std::unique_lock lock(r.m);
  r.cv.wait(lock, [&] { return r.pending() == 0; });
}

namespace {

// Old files smaller than this are freed by the rename itself: handing them
// over would cost more than freeing them.
constexpr blkcnt_t release_min_blocks = (std::int64_t(1) << 20) / 512;

// Whether the old file's cached pages are all clean (cachestat(2), Linux 6.5;
// the header files here predate it). Dropping cached pages of a file that has
// dirty ones starts their writeback (posix_fadvise) for a file about to go,
// and the caller waits for it: an overwrite loop of 1 GiB without fsync went
// from 0.15 s to 0.54 s a save (medians of 10). Without cachestat nothing is
// dropped.
bool worth_dropping(int fd) {
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
  struct range {
    std::uint64_t off, len;
  } r{0, 0}; // len 0: to the end of the file
  struct counts {
    std::uint64_t cache, dirty, writeback, evicted, recently_evicted;
  } c{};
  constexpr long sys_cachestat = 451;
  if (::syscall(sys_cachestat, fd, &r, &c, 0) != 0) return false;
  return c.cache > 0 && c.dirty == 0 && c.writeback == 0;
#else
  (void)fd;
  return false;
#endif
}

// ---- temporary files ---------------------------------------------------------------
//
// `.NAME.npio-tmp.` + 16 hex digits, beside the target, held under flock(LOCK_EX)
// by its writer until it is renamed. A writer that dies (SIGKILL, power loss)
// leaves an unlocked one; the next atomic write to the directory removes it.

constexpr std::string_view temp_tag = ".npio-tmp.";
constexpr std::size_t temp_hex = 16;

bool is_temp_name(std::string_view name) noexcept {
  if (name.size() < 1 + 1 + temp_tag.size() + temp_hex || name[0] != '.') return false;
  const std::string_view tail = name.substr(name.size() - temp_hex);
  if (name.substr(name.size() - temp_hex - temp_tag.size(), temp_tag.size()) != temp_tag)
    return false;
  return std::all_of(tail.begin(), tail.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Removes the temporary files of writers that are gone: those nobody holds
// the lock of. The lock is taken before the name is checked again, and a
// writer that finds its new file unlinked under it starts over, so a live
// writer's file is never removed. Returns whether a live writer's file was
// seen.
bool remove_stale_temps(int dfd) {
  DIR* d = ::fdopendir(::fcntl(dfd, F_DUPFD_CLOEXEC, 0));
  if (!d) return false;
  bool live = false;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) continue;
    if (!is_temp_name(e->d_name)) continue;
    int fd = ::openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == EACCES)
      fd = ::openat(dfd, e->d_name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat held {
    }, named{};
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      live = true;
    } else if (::fstat(fd, &held) == 0 && S_ISREG(held.st_mode) &&
               ::fstatat(dfd, e->d_name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
               held.st_ino == named.st_ino && held.st_dev == named.st_dev) {
      (void)::unlinkat(dfd, e->d_name, 0);
    }
    ::close(fd);
  }
  ::closedir(d);
  return live;
}

// Reading a directory costs about 0.1-0.3 us an entry: every atomic write
// reads a small one (up to `scan_always` bytes of entries, some hundreds of
// names); a large one is read by each process's first write to it, then at
// most once a second, and at every write while a live writer's temporary
// file was seen in it, so a loop saving thousands of files into one
// directory does not read it thousands of times.
constexpr off_t scan_always = 32 << 10;

struct scanned_dir {
  dev_t dev = 0;
  ino_t ino = 0;
  std::chrono::steady_clock::time_point when{};
  bool live = false;
};

void tidy_directory(const std::filesystem::path& dir) {
  static std::mutex m;
  static std::array<scanned_dir, 16> recent; // the most recently scanned large directories
  static std::size_t next = 0;
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  struct stat st {};
  if (::fstat(dfd, &st) != 0 || st.st_size <= scan_always) {
    (void)remove_stale_temps(dfd);
    ::close(dfd);
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  scanned_dir* entry = nullptr;
  {
    std::lock_guard lock(m);
    for (auto& r : recent)
      if (r.dev == st.st_dev && r.ino == st.st_ino) entry = &r;
    if (entry && !entry->live && now - entry->when < std::chrono::seconds(1)) {
      ::close(dfd);
      return;
    }
  }
  const bool live = remove_stale_temps(dfd);
  ::close(dfd);
  std::lock_guard lock(m);
  if (!entry) entry = &recent[next++ % recent.size()];
  *entry = scanned_dir{st.st_dev, st.st_ino, now, live};
}

} // namespace

// Freed later (when the release thread closes the old file) the old file's
// cached pages come too late for this save's writes, and this VM hands free
// memory back to its host: pages that stay free for a while fault in from the
// host again, slowly (a write of 1 GiB then takes 1-2 s instead of 0.2 s).
// Probes of 12-16 overwrites of a written-back 1 GiB file, each way:
//  - the whole cache dropped before writing: pages stay free for up to the
//    whole write, and 5 of 16 overwrites took 1.5-2.1 s;
//  - dropped by another thread while this one writes, as fast as it can:
//    the same, 12 of 16 slow;
//  - a piece dropped just before each piece is written: pages are reused
//    within milliseconds, 16 of 16 took 0.19-0.33 s, but the dropping (55 ms
//    a GiB) is on the caller's path;
//  - a helper thread dropping one piece ahead of the writes (64 MiB pieces):
//    12 of 12 took 0.15-0.22 s (median 0.17 s); 16 MiB pieces gave medians
//    of 0.161-0.167 s against 0.171-0.179 s for 64 MiB (10 saves each, twice).
// So an old file over two pieces gets the helper (written data is allowed to
// be dropped a piece past the end of each write); a smaller one is dropped
// here, a piece each time the writes reach the next one.
constexpr std::uint64_t drop_step = std::uint64_t(16) << 20;

// Sizes to drop up to: whole pages, whatever their size (up to 64 KiB).
constexpr std::uint64_t round_up_64k(std::uint64_t n) {
  return (n + 0xFFFF) & ~std::uint64_t(0xFFFF);
}

// The helper: drops the old file's pieces from `from` to `end`, each once
// the writer has allowed it (`allowed` past its start).
struct atomic_file::dropper {
  std::atomic<std::uint64_t> allowed{0};
  std::atomic<bool> stop{false};
  std::thread thread;

  dropper(int old, std::uint64_t from, std::uint64_t end)
      : thread([this, old, from, end] {
          for (std::uint64_t at = from; at < end; at += drop_step) {
            for (std::uint64_t a = allowed.load(); a <= at && !stop; a = allowed.load())
              allowed.wait(a);
            if (stop) return;
            (void)::posix_fadvise(old, static_cast<off_t>(at),
                                  static_cast<off_t>(std::min(drop_step, end - at)),
                                  POSIX_FADV_DONTNEED);
          }
        }) {}
  void allow(std::uint64_t to) {
    if (to > allowed.load()) {
      allowed = to;
      allowed.notify_one();
    }
  }
  ~dropper() {
    stop = true;
    allowed = std::numeric_limits<std::uint64_t>::max();
    allowed.notify_one();
    thread.join();
  }
};

atomic_file::atomic_file(const std::filesystem::path& target)
    : target_(target), real_(follow_links(target)) {
  const auto dir = real_.has_parent_path() ? real_.parent_path() : std::filesystem::path(".");
  tidy_directory(dir);
  std::random_device rd;
  for (int attempt = 0;; ++attempt) {
    char suffix[40];
    std::snprintf(suffix, sizeof suffix, "%.*s%08x%08x", static_cast<int>(temp_tag.size()),
                  temp_tag.data(), static_cast<unsigned>(rd()), static_cast<unsigned>(rd()));
    std::string name = ".";
    name += real_.filename().string();
    name += suffix;
    temp_ = dir / name;
    const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno != EEXIST || attempt > 100) throw_os_error("cannot create", target_, errno);
      continue;
    }
    fd_handle h(fd);
    // Locked before anything is written; a cleaner of another process that
    // took the lock first (and so may have unlinked the name) makes us retry.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK && attempt <= 100) continue;
      // Without locks (some network filesystems) no cleaner can lock it either.
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_nlink == 0 && attempt <= 100) continue;
    fd_ = std::move(h);
    break;
  }
  // Keep the permissions of the file being replaced; note whether it is worth
  // releasing off the caller's path.
  struct stat st {};
  if (::stat(real_.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    (void)::fchmod(fd_.get(), st.st_mode & 07777);
    if (st.st_nlink == 1 && st.st_blocks >= release_min_blocks) {
      old_dev_ = st.st_dev;
      old_ino_ = st.st_ino;
      release_old_ = true;
      // The old file's clean cached pages are dropped as the new file is
      // written (see write()), so the writes reuse them, as open(O_TRUNC)
      // lets np.save do. Readers and maps of the old file are unaffected.
      old_cache_ = fd_handle(::open(real_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
      if (old_cache_ && !worth_dropping(old_cache_.get())) old_cache_ = fd_handle();
      old_size_ = round_up_64k(static_cast<std::uint64_t>(st.st_size));
    }
  }
}

atomic_file::atomic_file(atomic_file&& o) noexcept
    : target_(std::move(o.target_)), real_(std::move(o.real_)), temp_(std::move(o.temp_)),
      fd_(std::move(o.fd_)), old_cache_(std::move(o.old_cache_)), written_(o.written_),
      dropped_(o.dropped_), old_size_(o.old_size_), dropper_(std::move(o.dropper_)), done_(o.done_),
      release_old_(o.release_old_), old_dev_(o.old_dev_), old_ino_(o.old_ino_) {
  o.done_ = true;
}

atomic_file::~atomic_file() {
  if (!done_) {
    ::unlink(temp_.c_str()); // while still locked
    fd_ = fd_handle();
  }
}

void atomic_file::drop_old_to(std::uint64_t end) {
  end = std::min(end, old_size_);
  while (dropped_ < end) {
    const std::uint64_t n = std::min(drop_step, old_size_ - dropped_);
    (void)::posix_fadvise(old_cache_.get(), static_cast<off_t>(dropped_), static_cast<off_t>(n),
                          POSIX_FADV_DONTNEED);
    dropped_ += n;
  }
}

void atomic_file::write(std::span<const std::byte> bytes) {
  if (!old_cache_) {
    write_full(fd_.get(), bytes.data(), bytes.size(), target_);
    written_ += bytes.size();
    return;
  }
  if (!dropper_ && dropped_ == 0 && old_size_ > 2 * drop_step) {
    drop_old_to(drop_step); // the first piece here, the rest on the helper
    try {
      dropper_ = std::make_unique<dropper>(old_cache_.get(), dropped_, old_size_);
    } catch (const std::system_error&) {
      // No thread: each piece is dropped here, before it is written.
    }
  }
  while (!bytes.empty()) {
    const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), drop_step));
    if (dropper_)
      dropper_->allow(written_ + k + drop_step); // up to a piece past this write
    else
      drop_old_to(written_ + k);
    write_full(fd_.get(), bytes.data(), k, target_);
    written_ += k;
    bytes = bytes.subspan(k);
  }
}

void atomic_file::drop_old_cache() {
  if (!old_cache_) return;
  dropper_.reset();
  (void)::posix_fadvise(old_cache_.get(), 0, static_cast<off_t>(old_size_), POSIX_FADV_DONTNEED);
  old_cache_ = fd_handle();
}

void atomic_file::reserve(std::uint64_t bytes) {
  if (bytes == 0) return;
  // The writes need as many pages as the new file has: only that much of the
  // old file's cache is dropped (a 1 KiB save over a 1 GiB file drops 64 KiB
  // and starts no helper); the rest goes when the release thread frees it.
  if (old_cache_ && written_ == 0) old_size_ = std::min(old_size_, round_up_64k(bytes));
  if (::fallocate(fd_.get(), 0, 0, static_cast<off_t>(bytes)) != 0) {
    const int e = errno;
    if (e == ENOSPC || e == EFBIG || e == EDQUOT)
      throw_os_error("cannot reserve space", target_, e);
    // Filesystems without fallocate just write.
  }
}

void atomic_file::commit(bool sync) {
  if (sync && ::fsync(fd_.get()) != 0) throw_os_error("fsync failed", target_, errno);
  // The lock lives as long as any descriptor of the open file: keep a
  // duplicate across the rename, so close() (which reports write-back errors
  // on NFS) comes before the rename and a cleaner never sees an unlocked file.
  fd_handle lock(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
  if (::close(fd_.release()) != 0) throw_os_error("close failed", target_, errno);
  dropper_.reset();
  old_cache_ = fd_handle(); // what is left of its cache goes with the old file
  fd_handle old;
  if (release_old_) {
    old = fd_handle(::open(real_.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (old && (::fstat(old.get(), &st) != 0 || st.st_dev != old_dev_ || st.st_ino != old_ino_ ||
                st.st_nlink != 1))
      old = fd_handle(); // replaced meanwhile, or linked elsewhere: nothing to free
  }
  if (::rename(temp_.c_str(), real_.c_str()) != 0) throw_os_error("cannot rename", target_, errno);
  done_ = true;
  lock = fd_handle();
  if (old) release_later(old.release());
}

void replace_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  const auto real = follow_links(to);
  tidy_directory(real.has_parent_path() ? real.parent_path() : std::filesystem::path("."));
  fd_handle old;
  struct stat st {};
  if (::stat(real.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
      st.st_blocks >= release_min_blocks)
    old = fd_handle(::open(real.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (::rename(from.c_str(), real.c_str()) != 0) throw_os_error("cannot rename", to, errno);
  if (old) release_later(old.release());
}

} // namespace detail

void flush_releases() {
  detail::wait_releases();
}

void replace_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  detail::replace_file(from, to);
}

} // namespace v1
} // namespace npio
