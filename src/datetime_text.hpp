// datetime64 and timedelta64 elements as NumPy 1.24 writes them: ISO 8601 text
// (repr, astype to S/U) and timedelta64's "5 seconds" (astype to S/U).
#pragma once

#include <cstdint>
#include <npio/dtype.hpp>
#include <string>

namespace npio {
inline namespace v1 {
namespace detail {

/// A civil date (proleptic Gregorian).
struct civil_date {
  std::int64_t year = 1970;
  int month = 1, day = 1;
};

/// The date `days` after 1970-01-01, in NumPy's int64 arithmetic
/// (set_datetimestruct_days: wraps where NumPy's does, at the ends of int64).
civil_date civil_from_days(std::int64_t days);

/// numpy.datetime_as_string(x) in the dtype's own unit ('2020-01-01T00:00:01.250',
/// '-100-03-04', 'NaT'), the count times the unit multiple wrapping in int64 as
/// NumPy's C code does. Errors: invalid_argument for a value other than NaT in
/// generic units (NumPy's ValueError).
std::string datetime_iso(std::int64_t v, const dtype& dt);

/// str() of a timedelta64 scalar: '5 seconds', '-1 years', '1 generic time units', 'NaT'.
std::string timedelta_text(std::int64_t v, const dtype& dt);

/// NumPy's width of datetime64 ('U0' target, get_datetime_iso_8601_strlen) and
/// timedelta64 (21) text.
std::size_t datetime_text_width(const dtype& dt);

} // namespace detail
} // namespace v1
} // namespace npio
