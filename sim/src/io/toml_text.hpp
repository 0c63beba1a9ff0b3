#pragma once
/// \file
/// Text helpers shared by the TOML file readers of io/ (scenario and experiment
/// files): value descriptions for messages, reading a file, and toml11 parsing
/// with its errors turned into ConfigError. Private to io/; not part of the public headers.

#include <toml.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
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

/// The TOML document `text`; a syntax error throws ConfigError(file_name, line, "", "syntax error: ...").
inline toml::value parse_toml(const std::string& text, const std::string& file_name) {
  std::istringstream in(text);
  try {
    return toml::parse(in, file_name);
  } catch (const toml::exception& e) {
    throw ConfigError(file_name, std::max(1, static_cast<int>(e.location().line())), "",
                      "syntax error: " + first_message_line(e.what()));
  } catch (const std::exception& e) {
    throw ConfigError(file_name, 1, "", "syntax error: " + first_message_line(e.what()));
  }
}

}  // namespace cxsim::toml_text
