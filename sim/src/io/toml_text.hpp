#pragma once
/// \file
/// Text helpers shared by the TOML file readers of io/ (scenario and experiment
/// files): number and string literals, value descriptions for messages, reading a file, and toml11 parsing
/// with its errors turned into ConfigError. Private to io/; not part of the public headers.

#include <toml.hpp>

#include <algorithm>
#include <cstdio>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <limits>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cxsim/core/error.hpp"

namespace cxsim::toml_text {

/// The items separated by ", ".
inline std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

/// Whether `s` is a TOML bare key (letters, digits, _ and -), which prints unquoted.
inline bool is_bare_key(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

/// Shortest text that reads back as exactly `x`; fixed notation unless that is long.
inline std::string shortest(double x) {
  std::array<char, 400> buf{};
  auto res = std::to_chars(buf.data(), buf.data() + buf.size(), x, std::chars_format::fixed);
  if (res.ec != std::errc{} || res.ptr - buf.data() > 21)
    res = std::to_chars(buf.data(), buf.data() + buf.size(), x, std::chars_format::scientific);
  return {buf.data(), res.ptr};
}

/// A float literal TOML reads back as a float (never as an integer).
inline std::string toml_float(double x) {
  std::string s = shortest(x);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

/// `s` as a TOML basic string, with escapes.
inline std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7F) {
          std::array<char, 8> hex{};
          std::snprintf(hex.data(), hex.size(), "\\u%04X", static_cast<unsigned>(u));
          out += hex.data();
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

/// The kind of a TOML value with its article ("an integer"), as messages name it.
inline std::string_view noun(const toml::value& v) {
  switch (v.type()) {
    case toml::value_t::boolean: return "a boolean";
    case toml::value_t::integer: return "an integer";
    case toml::value_t::floating: return "a float";
    case toml::value_t::string: return "a string";
    case toml::value_t::offset_datetime:
    case toml::value_t::local_datetime: return "a date-time";
    case toml::value_t::local_date: return "a date";
    case toml::value_t::local_time: return "a time";
    case toml::value_t::array: return "an array";
    case toml::value_t::table: return "a table";
    default: return "nothing";
  }
}

/// `s` without ANSI escape sequences (ESC [ ... letter), as toml11 colours its messages.
inline std::string strip_ansi(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

/// `s` without leading and trailing spaces, tabs and line breaks.
inline std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

/// toml11's first message line without its "[error] toml::function:" decoration.
inline std::string first_message_line(const char* what) {
  std::istringstream in(strip_ansi(what));
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.rfind("[error]", 0) == 0) line = trim(line.substr(7));
    if (line.rfind("toml::", 0) == 0) {
      const auto colon = line.find(": ");
      if (colon != std::string::npos) line = trim(line.substr(colon + 2));
    }
    if (!line.empty()) return line;
  }
  return "invalid TOML";
}

/// The bytes of `file`; failing, throws IoError("cannot read <what> file '<file>': <reason>").
inline std::string read_file(const std::filesystem::path& file, std::string_view what) {
  const std::string prefix = "cannot read " + std::string(what) + " file '" + file.string() + "': ";
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) throw IoError(prefix + "is a directory");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw IoError(prefix + std::generic_category().message(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw IoError(prefix + "read error");
  return text.str();
}

/// toml11 3.7 reads an integer literal beyond 64 bits as the nearest limit
/// instead of failing, though TOML makes such a document invalid. Throws
/// ConfigError(file, line, key, ...) for any integer at a limit whose literal is
/// out of range.
inline void reject_saturated_integers(const toml::value& v, const std::string& file_name, const std::string& path) {
  if (v.is_table()) {
    for (const auto& [k, x] : v.as_table()) reject_saturated_integers(x, file_name, path.empty() ? k : path + "." + k);
  } else if (v.is_array()) {
    std::size_t i = 0;
    for (const auto& x : v.as_array()) reject_saturated_integers(x, file_name, path + "[" + std::to_string(i++) + "]");
  } else if (v.is_integer()) {
    using Limits = std::numeric_limits<std::int64_t>;
    if (v.as_integer() != Limits::max() && v.as_integer() != Limits::min()) return;
    const toml::source_location where = v.location();
    const std::string& line = where.line_str();
    const std::size_t from = where.column() > 0 ? where.column() - 1 : 0;
    const std::string literal = from < line.size() ? line.substr(from, where.region()) : std::string();
    std::string digits;
    for (char c : literal)
      if (c != '_' && c != '+') digits += c;
    int base = 10;
    if (digits.size() > 2 && digits[0] == '0' && std::isalpha(static_cast<unsigned char>(digits[1]))) {
      base = digits[1] == 'x' ? 16 : digits[1] == 'o' ? 8 : 2;
      digits.erase(0, 2);
    }
    std::int64_t out = 0;
    if (std::from_chars(digits.data(), digits.data() + digits.size(), out, base).ec == std::errc::result_out_of_range)
      throw ConfigError(file_name, static_cast<int>(where.line()), path,
                        "expected an integer that fits in 64 bits, got " + literal);
  }
}

/// The TOML document `text`; a syntax error throws ConfigError(file_name, line, "", "syntax error: ..."),
/// an integer literal beyond 64 bits ConfigError(file_name, line, key, ...).
inline toml::value parse_toml(const std::string& text, const std::string& file_name) {
  std::istringstream in(text);
  toml::value doc;
  try {
    doc = toml::parse(in, file_name);
  } catch (const toml::exception& e) {
    throw ConfigError(file_name, std::max(1, static_cast<int>(e.location().line())), "",
                      "syntax error: " + first_message_line(e.what()));
  } catch (const std::exception& e) {
    throw ConfigError(file_name, 1, "", "syntax error: " + first_message_line(e.what()));
  }
  reject_saturated_integers(doc, file_name, "");
  return doc;
}

}  // namespace cxsim::toml_text
