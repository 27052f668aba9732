// datetime64/timedelta64 text, shared by repr (array_repr.cpp) and astype
// (array_convert.cpp): NumPy's make_iso_8601_datetime and timedelta str().
#include "datetime_text.hpp"

#include <limits>
#include <npio/error.hpp>

namespace npio {
inline namespace v1 {
namespace detail {

namespace {

__extension__ typedef __int128 i128;

std::int64_t wmul(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}
std::int64_t wadd(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

i128 floor_div(i128 a, i128 b) {
  i128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string i128_text(i128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  std::string s;
  while (v != 0) {
    const auto digit = static_cast<int>(v % 10);
    s.insert(s.begin(), static_cast<char>('0' + (digit < 0 ? -digit : digit)));
    v /= 10;
  }
  return neg ? "-" + s : s;
}

// printf("%0*lld", width, v): zero padded to width, the sign counted in it.
std::string padded(i128 v, int width = 2) {
  std::string s = i128_text(v < 0 ? -v : v);
  const auto w = static_cast<std::size_t>(width) - (v < 0 ? 1 : 0);
  if (s.size() < w) s.insert(0, w - s.size(), '0');
  return v < 0 ? "-" + s : s;
}

constexpr std::int64_t nat = std::numeric_limits<std::int64_t>::min();

} // namespace

civil_date civil_from_days(std::int64_t days) {
  constexpr std::int64_t per_400 = 400 * 365 + 100 - 4 + 1;
  days = wadd(days, -(365 * 30 + 7)); // from 2000-01-01
  std::int64_t year;
  if (days >= 0) {
    year = 400 * (days / per_400);
    days %= per_400;
  } else {
    year = 400 * (wadd(days, -(per_400 - 1)) / per_400);
    days %= per_400;
    if (days < 0) days += per_400;
  }
  if (days >= 366) {
    year += 100 * ((days - 1) / (100 * 365 + 25 - 1));
    days = (days - 1) % (100 * 365 + 25 - 1);
    if (days >= 365) {
      year += 4 * ((days + 1) / (4 * 365 + 1));
      days = (days + 1) % (4 * 365 + 1);
      if (days >= 366) {
        year += (days - 1) / 365;
        days = (days - 1) % 365;
      }
    }
  }
  civil_date r;
  r.year = wadd(year, 2000);
  const bool leap = (r.year & 3) == 0 && (r.year % 100 != 0 || r.year % 400 == 0);
  static constexpr int month_days[2][12] = {{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31},
                                            {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}};
  for (int i = 0; i < 12; ++i) {
    if (days < month_days[leap][i]) {
      r.month = i + 1;
      r.day = static_cast<int>(days) + 1;
      break;
    }
    days -= month_days[leap][i];
  }
  return r;
}

std::string datetime_iso(std::int64_t v, const dtype& dt) {
  if (v == nat) return "NaT";
  const time_unit u = dt.unit();
  if (u == time_unit::generic)
    throw error(errc::invalid_argument,
                "cannot write a datetime64 other than NaT with generic units (dtype " + dt.str() +
                    ")");
  const std::int64_t t = wmul(v, dt.unit_count());
  if (u == time_unit::Y) return padded(wadd(t, 1970), 4);
  if (u == time_unit::M) {
    const i128 y = floor_div(t, 12);
    return padded(1970 + y, 4) + "-" + padded(t - y * 12 + 1);
  }
  // sub-day units: ticks per day, digits after the seconds
  i128 per_day = 1;
  int frac = 0;
  switch (u) {
  case time_unit::W:
  case time_unit::D:
    break;
  case time_unit::h:
    per_day = 24;
    break;
  case time_unit::m:
    per_day = 1440;
    break;
  default:
    per_day = 86400;
    frac = (static_cast<int>(u) - static_cast<int>(time_unit::s)) * 3;
    for (int i = 0; i < frac; ++i)
      per_day *= 10;
  }
  std::int64_t days = t;
  i128 rem = 0;
  if (u == time_unit::W) {
    days = wmul(t, 7);
  } else if (u != time_unit::D) {
    days = static_cast<std::int64_t>(floor_div(t, per_day));
    rem = t - static_cast<i128>(days) * per_day;
  }
  const civil_date c = civil_from_days(days);
  std::string out = padded(c.year, 4) + "-" + padded(c.month) + "-" + padded(c.day);
  if (u == time_unit::W || u == time_unit::D) return out;
  if (u == time_unit::h) return out + "T" + padded(rem);
  if (u == time_unit::m) return out + "T" + padded(rem / 60) + ":" + padded(rem % 60);
  i128 scale = 1;
  for (int i = 0; i < frac; ++i)
    scale *= 10;
  const i128 secs = rem / scale, sub = rem % scale;
  out += "T" + padded(secs / 3600) + ":" + padded(secs / 60 % 60) + ":" + padded(secs % 60);
  if (frac) out += "." + padded(sub, frac);
  return out;
}

std::string timedelta_text(std::int64_t v, const dtype& dt) {
  if (v == nat) return "NaT";
  static constexpr const char* names[] = {"generic time units",
                                          "years",
                                          "months",
                                          "weeks",
                                          "days",
                                          "hours",
                                          "minutes",
                                          "seconds",
                                          "milliseconds",
                                          "microseconds",
                                          "nanoseconds",
                                          "picoseconds",
                                          "femtoseconds",
                                          "attoseconds"};
  const auto u = static_cast<std::size_t>(dt.unit());
  return i128_text(wmul(v, dt.unit_count())) + " " + (u < 14 ? names[u] : "?");
}

std::size_t datetime_text_width(const dtype& dt) {
  if (dt.kind() == 'm') return 21;
  // NumPy's get_datetime_iso_8601_strlen(local=0, unit): 21 for the year,
  // then '-MM', '-DD', 'THH', ':MM', ':SS', '.fff' and 3 digits a unit, 'Z' for
  // hours and finer, and the terminating NUL.
  const int u = static_cast<int>(dt.unit());
  if (dt.unit() == time_unit::generic) return 4;
  std::size_t n = 21 + 1;
  if (u >= static_cast<int>(time_unit::M)) n += 3;
  if (u >= static_cast<int>(time_unit::W)) n += 3;
  if (u >= static_cast<int>(time_unit::h)) n += 3 + 1;
  if (u >= static_cast<int>(time_unit::m)) n += 3;
  if (u >= static_cast<int>(time_unit::s)) n += 3;
  if (u >= static_cast<int>(time_unit::ms)) n += 4;
  if (u > static_cast<int>(time_unit::ms))
    n += 3 * static_cast<std::size_t>(u - static_cast<int>(time_unit::ms));
  return n;
}

} // namespace detail
} // namespace v1
} // namespace npio
