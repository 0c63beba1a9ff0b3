#pragma once
/// \file
/// Scenario files (TOML): reading, validation, `--set` overrides, canonical output.
///
/// Every problem is reported as a `ConfigError` whose message reads
/// `FILE:LINE: key.path: what was expected`; nothing else in cxsim parses TOML.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "cxsim/model/scenario.hpp"

namespace cxsim {

/// Reads `file`, applies `overrides` (each `key.path=value`, value in TOML syntax;
/// a bare word that is not valid TOML is taken as a string) in order, validates
/// the result and returns it. Throws ConfigError (bad content) or IoError (unreadable file).
ScenarioSpec load_scenario(const std::filesystem::path& file,
                           const std::vector<std::string>& overrides = {});

/// Same as load_scenario on text already in memory; `file_name` is used in messages.
ScenarioSpec parse_scenario(const std::string& text, const std::string& file_name,
                            const std::vector<std::string>& overrides = {});

/// Canonical TOML of a validated scenario: every key explicit, brands, cohorts and
/// dimensions in their original order. `parse_scenario(to_toml(s))` equals `s`.
std::string to_toml(const ScenarioSpec& spec);

/// Markdown tables describing every scenario key (type, default, range, unit,
/// meaning); docs/scenarios.md embeds this text and a test keeps it current.
std::string scenario_reference_markdown();

/// The scenario `cxsim run` uses when given none (compiled into the binary).
std::string_view default_scenario_text();
/// Display name of the compiled-in default scenario (e.g. "scenarios/baseline.toml").
std::string_view default_scenario_name();

}  // namespace cxsim
