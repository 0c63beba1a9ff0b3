#pragma once
/// \file
/// The error hierarchy. Every failure a user can cause is one of these; `main`
/// catches them, prints `what()` as one line and returns `exit_code()`.

#include <stdexcept>
#include <string>

namespace cxsim {

/// Base of every error cxsim reports to a user.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  /// Process exit code for this kind of error.
  [[nodiscard]] virtual int exit_code() const noexcept { return 1; }
};

/// Bad scenario or command-line input. Message format:
/// `FILE:LINE: key.path: what was expected` (`OPTION: ...` for a command-line option, which has no line). Exit code 2.
class ConfigError : public Error {
 public:
  /// \param file  scenario file name (or `--set`), \param line 1-based line (0: unknown),
  /// \param key   dotted key path, \param expected what a valid value looks like.
  ConfigError(const std::string& file, int line, const std::string& key, const std::string& expected)
      : Error(format(file, line, key, expected)), file_(file), line_(line), key_(key) {}
  [[nodiscard]] int exit_code() const noexcept override { return 2; }
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] int line() const noexcept { return line_; }
  [[nodiscard]] const std::string& key() const noexcept { return key_; }

 private:
  static std::string format(const std::string& file, int line, const std::string& key,
                            const std::string& expected) {
    std::string out = file;
    if (line > 0) {  // command-line options have no line: "--threads: expected ..."
      out += ':';
      out += std::to_string(line);
    }
    out += ": ";
    if (!key.empty()) {
      out += key;
      out += ": ";
    }
    out += expected;
    return out;
  }
  std::string file_;
  int line_;
  std::string key_;
};

/// A file could not be read or written (missing directory, read-only path, HDF5 failure).
/// Exit code 3.
class IoError : public Error {
 public:
  using Error::Error;
  [[nodiscard]] int exit_code() const noexcept override { return 3; }
};

/// The run was interrupted by SIGINT/SIGTERM; nothing was left behind. Exit code 130.
class Interrupted : public Error {
 public:
  using Error::Error;
  [[nodiscard]] int exit_code() const noexcept override { return 130; }
};

}  // namespace cxsim
