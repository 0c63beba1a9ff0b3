#pragma once
/// \file
/// Wall-clock time for provenance (the only non-reproducible field of a result).

#include <ctime>
#include <string>

namespace cxsim {

/// The current time as ISO 8601 UTC, e.g. "2026-11-23T10:35:48Z".
inline std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace cxsim
