// datetime64/timedelta64 text, shared by repr (array_repr.cpp) and astype
// (array_convert.cpp): NumPy's make_iso_8601_datetime and timedelta str().
#include "datetime_text.hpp"

#include <ctime>
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

constexpr int month_days[2][12] = {{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31},
                                   {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}};

bool is_leap(std::int64_t y) {
  return (y & 3) == 0 && (y % 100 != 0 || y % 400 == 0);
}

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
  const bool leap = is_leap(r.year);
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

std::int64_t days_from_civil(const civil_date& t) {
  // NumPy's steps, wrapping where its int64 arithmetic would (years read
  // from text can be anything)
  std::int64_t year = wadd(t.year, -1970);
  std::int64_t days = wmul(year, 365);
  if (days >= 0) {
    year = wadd(year, 1);
    days = wadd(days, year / 4);
    year = wadd(year, 68);
    days = wadd(days, -(year / 100));
    year = wadd(year, 300);
    days = wadd(days, year / 400);
  } else {
    year = wadd(year, -2);
    days = wadd(days, year / 4);
    year = wadd(year, -28);
    days = wadd(days, -(year / 100));
    days = wadd(days, year / 400);
  }
  const int* ml = month_days[is_leap(t.year)];
  for (int i = 0; i < t.month - 1; ++i)
    days = wadd(days, ml[i]);
  return wadd(days, t.day - 1);
}

namespace {

bool is_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_word(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((s[i] | 0x20) != lower[i]) return false;
  return true;
}

} // namespace

std::string parse_datetime(std::string_view s, parsed_datetime& out) {
  out = parsed_datetime{};
  if (s.empty() || is_word(s, "nat")) {
    out.nat = true;
    return {};
  }
  if (is_word(s, "today")) {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    if (!::localtime_r(&now, &local)) return "the local date is unknown";
    out.year = local.tm_year + 1900;
    out.month = local.tm_mon + 1;
    out.day = local.tm_mday;
    out.best = time_unit::D;
    return {};
  }
  if (is_word(s, "now")) {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    const std::int64_t days = now >= 0 ? now / 86400 : (now - 86399) / 86400;
    const std::int64_t secs = now - days * 86400;
    const civil_date d = civil_from_days(days);
    out.year = d.year, out.month = d.month, out.day = d.day;
    out.hour = static_cast<int>(secs / 3600);
    out.minute = static_cast<int>(secs / 60 % 60);
    out.second = static_cast<int>(secs % 60);
    out.best = time_unit::s;
    return {};
  }
  std::size_t i = 0;
  const auto at = [&](const char* what) {
    return std::string(what) + " at position " + std::to_string(i);
  };
  const auto two_digits = [&](int& v) {
    if (i + 2 > s.size() || !is_digit(s[i]) || !is_digit(s[i + 1])) return false;
    v = (s[i] - '0') * 10 + (s[i + 1] - '0');
    i += 2;
    return true;
  };
  const auto next_is = [&](char c) { return i < s.size() && s[i] == c; };
  while (i < s.size() && is_space(s[i]))
    ++i;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  if (i == s.size()) return at("no date");
  std::uint64_t year = 0; // wraps past 19 digits, as NumPy's int64 does
  while (i < s.size() && is_digit(s[i]))
    year = year * 10 + static_cast<std::uint64_t>(s[i++] - '0');
  out.year = static_cast<std::int64_t>(year);
  if (s[0] == '-') out.year = wmul(out.year, -1); // only a sign at the very start counts
  out.best = time_unit::Y;
  if (i == s.size()) return {};
  if (!next_is('-')) return at("not a date");
  ++i;
  if (!two_digits(out.month)) return at("no month");
  if (out.month < 1 || out.month > 12) return "month out of range";
  out.best = time_unit::M;
  if (i == s.size()) return {};
  if (!next_is('-')) return at("not a date");
  ++i;
  if (!two_digits(out.day)) return at("no day");
  if (out.day < 1 || out.day > month_days[is_leap(out.year)][out.month - 1])
    return "day out of range";
  out.best = time_unit::D;
  if (i == s.size()) return {};
  if (!next_is('T') && !next_is(' ')) return at("not a date");
  ++i;
  if (!two_digits(out.hour)) return at("no hours");
  if (out.hour >= 24) return "hours out of range";
  out.best = time_unit::h;
  if (next_is(':')) {
    ++i;
    if (!two_digits(out.minute)) return at("no minutes");
    if (out.minute >= 60) return "minutes out of range";
    out.best = time_unit::m;
    if (next_is(':')) {
      ++i;
      if (!two_digits(out.second)) return at("no seconds");
      if (out.second >= 60) return "seconds out of range";
      out.best = time_unit::s;
      if (next_is('.')) {
        ++i;
        // three groups of up to 6 digits: us, ps, as; the unit by the digits given
        const time_unit units[3][2] = {{time_unit::ms, time_unit::us},
                                       {time_unit::ns, time_unit::ps},
                                       {time_unit::fs, time_unit::as}};
        std::int64_t* parts[3] = {&out.us, &out.ps, &out.as};
        for (int g = 0; g < 3; ++g) {
          int digits = 0;
          for (int k = 0; k < 6; ++k) {
            *parts[g] *= 10;
            if (i < s.size() && is_digit(s[i])) {
              *parts[g] += s[i++] - '0';
              ++digits;
            }
          }
          out.best = units[g][digits > 3 ? 1 : 0];
          if (i == s.size() || !is_digit(s[i])) break;
        }
      }
    }
  }
  // after a time: 'Z' or an offset, then spaces
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const bool negative = s[i] == '-';
    ++i;
    int oh = 0, om = 0;
    if (!two_digits(oh)) return at("no offset hours");
    if (oh >= 24) return "offset hours out of range";
    if (i < s.size()) {
      if (next_is(':')) ++i;
      if (!two_digits(om)) return at("no offset minutes");
      if (om >= 60) return "offset minutes out of range";
    }
    const std::int64_t offset = (negative ? -1 : 1) * (oh * 60 + om);
    // to UTC: NumPy's add_minutes_to_datetimestruct (at most a day either
    // way, stepping the month and year as needed)
    std::int64_t minutes = out.hour * 60 + out.minute - offset;
    int day_step = 0;
    if (minutes < 0) minutes += 1440, day_step = -1;
    if (minutes >= 1440) minutes -= 1440, day_step = 1;
    out.hour = static_cast<int>(minutes / 60);
    out.minute = static_cast<int>(minutes % 60);
    out.day += day_step;
    if (out.day < 1) {
      if (--out.month < 1) out.month = 12, out.year = wadd(out.year, -1);
      out.day = month_days[is_leap(out.year)][out.month - 1];
    } else if (out.day > month_days[is_leap(out.year)][out.month - 1]) {
      out.day = 1;
      if (++out.month > 12) out.month = 1, out.year = wadd(out.year, 1);
    }
  }
  while (i < s.size() && is_space(s[i]))
    ++i;
  if (i != s.size()) return at("unexpected text");
  return {};
}

std::int64_t datetime_value(const parsed_datetime& t, const dtype& dt) {
  if (t.nat) return nat;
  const std::int64_t days = days_from_civil({t.year, t.month, t.day});
  std::int64_t r = 0;
  const auto time_of_day = [&](int upto) { // hours, then minutes, then seconds
    std::int64_t v = wadd(wmul(days, 24), t.hour);
    if (upto >= 1) v = wadd(wmul(v, 60), t.minute);
    if (upto >= 2) v = wadd(wmul(v, 60), t.second);
    return v;
  };
  const auto micros = [&] { return wadd(wmul(time_of_day(2), 1000000), t.us); };
  const auto picos = [&] { return wadd(wmul(micros(), 1000000), t.ps); };
  switch (dt.unit()) {
  case time_unit::Y:
    r = wadd(t.year, -1970);
    break;
  case time_unit::M:
    r = wadd(wmul(12, wadd(t.year, -1970)), t.month - 1);
    break;
  case time_unit::W:
    r = days >= 0 ? days / 7 : wadd(days, -6) / 7;
    break;
  case time_unit::D:
    r = days;
    break;
  case time_unit::h:
    r = time_of_day(0);
    break;
  case time_unit::m:
    r = time_of_day(1);
    break;
  case time_unit::s:
    r = time_of_day(2);
    break;
  case time_unit::ms:
    r = wadd(wmul(time_of_day(2), 1000), t.us / 1000);
    break;
  case time_unit::us:
    r = micros();
    break;
  case time_unit::ns:
    r = wadd(wmul(micros(), 1000), t.ps / 1000);
    break;
  case time_unit::ps:
    r = picos();
    break;
  case time_unit::fs:
    r = wadd(wmul(picos(), 1000), t.as / 1000);
    break;
  case time_unit::as:
    r = wadd(wmul(picos(), 1000000), t.as);
    break;
  case time_unit::generic:
    throw error(errc::invalid_argument, "a datetime64 other than NaT needs a unit");
  }
  const std::int64_t n = dt.unit_count();
  if (n > 1) r = r >= 0 ? r / n : wadd(r, 1 - n) / n;
  return r;
}

bool parse_timedelta(std::string_view s, std::int64_t& out) {
  if (s.empty() || is_word(s, "nat")) {
    out = nat;
    return true;
  }
  std::size_t i = 0;
  while (i < s.size() && is_space(s[i]))
    ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (i == s.size() || !is_digit(s[i])) return false;
  constexpr std::uint64_t max = std::numeric_limits<std::int64_t>::max();
  std::uint64_t v = 0;
  bool over = false;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    const auto d = static_cast<std::uint64_t>(s[i] - '0');
    if (v > (max + 1 - d) / 10) over = true; // past |INT64_MIN|
    if (!over) v = v * 10 + d;
  }
  if (i != s.size()) return false;
  if (negative)
    out =
        over || v > max ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(v);
  else
    out = over || v > max ? std::numeric_limits<std::int64_t>::max() : static_cast<std::int64_t>(v);
  return true;
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
