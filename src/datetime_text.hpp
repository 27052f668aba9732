// datetime64 and timedelta64 elements as NumPy 1.24 writes them: ISO 8601 text
// (repr, astype to S/U) and timedelta64's "5 seconds" (astype to S/U).
#pragma once

#include <cstdint>
#include <npio/dtype.hpp>
#include <string>
#include <string_view>

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

/// Days from 1970-01-01 to the date, in NumPy's int64 arithmetic
/// (get_datetimestruct_days).
std::int64_t days_from_civil(const civil_date& date);

/// numpy.datetime_as_string(x) in the dtype's own unit ('2020-01-01T00:00:01.250',
/// '-100-03-04', 'NaT'), the count times the unit multiple wrapping in int64 as
/// NumPy's C code does. Errors: invalid_argument for a value other than NaT in
/// generic units (NumPy's ValueError).
std::string datetime_iso(std::int64_t v, const dtype& dt);

/// str() of a timedelta64 scalar: '5 seconds', '-1 years', '1 generic time units', 'NaT'.
std::string timedelta_text(std::int64_t v, const dtype& dt);

/// A datetime64 text read as NumPy 1.24's parse_iso_8601_datetime reads it.
struct parsed_datetime {
  bool nat = false; // '', 'NaT' in any case
  std::int64_t year = 1970;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0;
  std::int64_t us = 0, ps = 0, as = 0; // fractions of the second
  time_unit best = time_unit::generic; // the finest unit the text gives (generic: NaT)
};

/// Reads `text` (ASCII) as NumPy does: 'YYYY[-MM[-DD[(T| )hh[:mm[:ss[.f...]]]]]]', the year of
/// any number of digits with a sign, up to 18 digits of fractions, an optional 'Z' or
/// +-hh[[:]mm] offset after a time (applied, as NumPy does with a warning), spaces before
/// and after; 'NaT', '' and 'today'/'now' (the clock). Returns "" or why it is refused
/// (NumPy's ValueError, with its position).
std::string parse_datetime(std::string_view text, parsed_datetime& out);

/// The parsed time in dt's unit and multiple (NumPy's
/// convert_datetimestruct_to_datetime: coarser units floor; int64 wraps as NumPy's does).
std::int64_t datetime_value(const parsed_datetime& t, const dtype& dt);

/// A timedelta64 text as NumPy 1.24 reads it: '', 'NaT' (any case), or a whole decimal
/// integer with optional spaces before and a sign (C's strtol: saturates at the int64 range).
/// False when it is none of these.
bool parse_timedelta(std::string_view text, std::int64_t& out);

/// NumPy's width of datetime64 ('U0' target, get_datetime_iso_8601_strlen) and
/// timedelta64 (21) text.
std::size_t datetime_text_width(const dtype& dt);

} // namespace detail
} // namespace v1
} // namespace npio
