#pragma once
/// \file
/// Build identity, filled in at build time (see cmake/version.cmake).

#include <string_view>

namespace cxsim {

/// Semantic version of cxsim, e.g. "0.1.0".
std::string_view version() noexcept;
/// Git commit the binary was built from, with "-dirty" if the tree had changes; "unknown" outside git.
std::string_view git_commit() noexcept;
/// CMake build type (Release, Debug, ...).
std::string_view build_type() noexcept;

}  // namespace cxsim
