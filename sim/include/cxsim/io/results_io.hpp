#pragma once
/// \file
/// HDF5 results files (layout: docs/hdf5-schema.md). Only io/ knows HDF5.
///
/// A file is written under a temporary name next to its destination and
/// renamed into place by `commit()`, so an interrupted run never leaves a file
/// that looks complete.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cxsim/model/metrics.hpp"

namespace cxsim {

/// One column of a sweep's summary table: text, 64-bit integers or doubles.
struct SummaryColumn {
  enum class Kind : std::uint8_t { kText, kInteger, kNumber };
  std::string name;
  Kind kind = Kind::kNumber;
  std::vector<std::string> text;       ///< kText
  std::vector<double> numbers;         ///< kNumber
  std::vector<std::int64_t> integers;  ///< kInteger (exact: seeds use all 63 bits)

  /// Number of rows (the length of the vector of this column's kind).
  [[nodiscard]] std::size_t rows() const {
    return kind == Kind::kText ? text.size() : kind == Kind::kInteger ? integers.size() : numbers.size();
  }
  /// Appends row `r` of `from`, a column of the same kind.
  void append_row(const SummaryColumn& from, std::size_t r) {
    switch (kind) {
      case Kind::kText: text.push_back(from.text[r]); break;
      case Kind::kInteger: integers.push_back(from.integers[r]); break;
      case Kind::kNumber: numbers.push_back(from.numbers[r]); break;
    }
  }
};

/// Writes runs into one results file.
class ResultsWriter {
 public:
  /// Creates the temporary file beside `destination`. Throws IoError naming the
  /// path if the directory does not exist or is not writable.
  explicit ResultsWriter(std::filesystem::path destination);
  /// Removes the temporary file unless commit() succeeded.
  ~ResultsWriter();
  ResultsWriter(const ResultsWriter&) = delete;
  ResultsWriter& operator=(const ResultsWriter&) = delete;

  /// Writes `/runs/<run_id>/...` (series, names, provenance). Throws IoError.
  void write_run(const RunResult& run);
  /// Writes `/summary`: one compound row per run, columns in the given order
  /// (text as fixed-length UTF-8, integers as int64, numbers as float64).
  void write_summary(const std::vector<SummaryColumn>& columns);
  /// Sets a text attribute on the file's root group.
  void set_attribute(const std::string& name, const std::string& value);
  /// Sets an integer (int64) attribute on the file's root group.
  void set_attribute(const std::string& name, std::int64_t value);
  /// Flushes, closes and renames the file to its destination. Throws IoError.
  void commit();

  /// The final path.
  [[nodiscard]] const std::filesystem::path& destination() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads one results file, kept open while the reader lives (for reading many
/// runs, as `cxsim merge` does). Every error is an IoError naming the file.
class ResultsReader {
 public:
  /// Opens `file`; throws IoError if it is missing, not HDF5, not a cxsim
  /// results file or of a newer schema.
  explicit ResultsReader(std::filesystem::path file);
  ~ResultsReader();
  ResultsReader(const ResultsReader&) = delete;
  ResultsReader& operator=(const ResultsReader&) = delete;

  /// Run ids stored in the file, sorted.
  [[nodiscard]] std::vector<std::string> runs() const;
  /// One run (series, names, provenance).
  [[nodiscard]] RunResult run(const std::string& run_id) const;
  /// A root attribute holding one string; nullopt if the file has no such attribute.
  [[nodiscard]] std::optional<std::string> text_attribute(const std::string& name) const;
  /// A root attribute holding one integer; nullopt if the file has no such attribute.
  [[nodiscard]] std::optional<std::int64_t> integer_attribute(const std::string& name) const;
  /// The `/summary` table, columns in file order (text, int64 and float64
  /// fields); nullopt if the file has none.
  [[nodiscard]] std::optional<std::vector<SummaryColumn>> summary() const;

  [[nodiscard]] const std::filesystem::path& path() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Run ids stored in a results file, sorted. Throws IoError.
std::vector<std::string> list_runs(const std::filesystem::path& file);
/// Reads one run back (series, names, provenance). Throws IoError.
RunResult read_run(const std::filesystem::path& file, const std::string& run_id);

}  // namespace cxsim
