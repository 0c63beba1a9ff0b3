#pragma once
/// \file
/// A compact binary snapshot of one RunResult, for a sweep's part files.
///
/// Part files are written concurrently by the threads of a sweep; the HDF5
/// library Debian ships is not thread-safe, so parts use this plain format
/// (written to a temporary name and renamed) and only the final merge writes
/// HDF5. Round trip is exact.

#include <filesystem>
#include <string>

#include "cxsim/model/metrics.hpp"

namespace cxsim {

/// Writes `run` with a `tag` (e.g. an experiment fingerprint) to `file`
/// atomically (temporary name, then rename). Throws IoError.
void write_run_archive(const std::filesystem::path& file, const RunResult& run, const std::string& tag);

/// Reads a run archive; `tag` receives the stored tag. Throws IoError if the
/// file is missing, truncated or not a run archive.
RunResult read_run_archive(const std::filesystem::path& file, std::string& tag);

}  // namespace cxsim
