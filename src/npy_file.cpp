// One .npy file, object arrays included: np.load's reading of a .npy (raw
// data through the .npy layer, objects through the pickle layer) and np.save.
#include "npy_file.hpp"

#include "file.hpp"
#include "hooks.hpp"

#include <cstring>
#include <npio/io.hpp>
#include <ostream>

namespace npio {
inline namespace v1 {
namespace detail {

loaded load_npy(source& src, std::vector<std::byte>& prefix, const load_options& o) {
  const header h = read_header_from(src, prefix, detail::effective_max_header(o));
  const auto extra = std::span<const std::byte>(prefix).subspan(
      std::min<std::size_t>(prefix.size(), static_cast<std::size_t>(h.data_offset)));
  if (h.dtype.has_object()) {
    if (!o.allow_pickle)
      throw error(errc::pickle_disallowed,
                  "Object arrays cannot be loaded when allow_pickle=False");
    // Bytes in memory are read in place when the header left none over.
    if (const auto mem = src.rest_in_memory(); mem && extra.empty()) {
      if (mem->size() > o.max_data_bytes)
        throw error(errc::limit_exceeded, "file is larger than max_data_bytes");
      return detail::read_object_npy(*mem, h, o);
    }
    if (const auto left = src.remaining()) {
      // One read into fresh (huge) pages: no zero fill, no second copy.
      if (*left > o.max_data_bytes)
        throw error(errc::limit_exceeded, "file is larger than max_data_bytes");
      const std::size_t n = extra.size() + static_cast<std::size_t>(*left);
      const auto buf = buffer::allocate(n, false);
      if (!extra.empty()) std::memcpy(buf->data(), extra.data(), extra.size());
      const std::size_t have =
          extra.size() + src.read(buf->data() + extra.size(), n - extra.size());
      return detail::read_object_npy(std::span<const std::byte>(buf->data(), have), h, o);
    }
    std::vector<std::byte> payload(extra.begin(), extra.end());
    std::vector<std::byte> rest = src.read_rest(o.max_data_bytes);
    payload.insert(payload.end(), rest.begin(), rest.end());
    return detail::read_object_npy(payload, h, o);
  }
  return loaded(read_data(src, h, extra, o));
}
} // namespace detail

// ---- saving ------------------------------------------------------------------------

namespace {

// The bytes of a .npy: header, then either raw data (in the order the header
// says) or an object pickle. `sink` receives consecutive pieces.
template <class Sink>
void emit_npy(const array& a, const save_options& o, Sink&& sink, std::uint64_t* total = nullptr) {
  const bool fortran = a.is_f_contiguous() && !a.is_c_contiguous() && a.ndim() > 1;
  const std::string head = format_header(a.dtype(), a.shape(), fortran, o.version);
  if (a.dtype().has_object()) {
    if (!o.allow_pickle)
      throw error(errc::pickle_disallowed, "Object arrays cannot be saved when allow_pickle=False");
    const std::vector<std::byte> payload = detail::write_object_payload(a);
    if (total) *total = head.size() + payload.size();
    sink(std::as_bytes(std::span(head)));
    sink(std::span<const std::byte>(payload));
    return;
  }
  if (total) *total = head.size() + a.nbytes();
  sink(std::as_bytes(std::span(head)));
  a.for_each_chunk(fortran ? order::f : order::c, sink, std::size_t(8) << 20);
}

} // namespace

void save(const std::filesystem::path& path, const array& a, const save_options& options) {
  const auto target = npy_path(path);
  try {
    detail::atomic_file f(target);
    if (a.dtype().has_object()) {
      emit_npy(a, options, [&](std::span<const std::byte> s) { f.write(s); });
    } else {
      const bool fortran = a.is_f_contiguous() && !a.is_c_contiguous() && a.ndim() > 1;
      const std::string head = format_header(a.dtype(), a.shape(), fortran, options.version);
      f.reserve(head.size() + a.nbytes());
      f.write(std::as_bytes(std::span(head)));
      a.for_each_chunk(
          fortran ? order::f : order::c, [&](std::span<const std::byte> s) { f.write(s); },
          std::size_t(64) << 20);
    }
    f.commit(options.sync);
  } catch (const error& e) {
    throw e.with_context(target.string());
  }
}

void save(std::ostream& out, const array& a, const save_options& options) {
  emit_npy(a, options, [&](std::span<const std::byte> s) {
    out.write(reinterpret_cast<const char*>(s.data()), static_cast<std::streamsize>(s.size()));
    if (!out) throw error(errc::io_error, "stream write failed");
  });
}

std::vector<std::byte> save_bytes(const array& a, const save_options& options) {
  std::vector<std::byte> out;
  bool reserved = false;
  emit_npy(a, options, [&](std::span<const std::byte> s) {
    if (!reserved) out.reserve(s.size() + a.nbytes()), reserved = true;
    out.insert(out.end(), s.begin(), s.end());
  });
  return out;
}

} // namespace v1
} // namespace npio
