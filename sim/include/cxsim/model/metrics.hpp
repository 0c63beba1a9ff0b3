#pragma once
/// \file
/// What a run measures: per-step statistics handed to observers, and the
/// in-memory result (named series plus provenance) that writers store.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cxsim/model/panel.hpp"

namespace cxsim {

/// Statistics of one step. Vectors are indexed by brand unless noted.
/// All of them are finite (never NaN): ratios with an empty denominator carry
/// the previous step's value forward (0 before the first observation).
struct StepMetrics {
  int step = 0;
  std::vector<double> share;            ///< share of this step's purchases, fraction
  std::vector<std::int64_t> customers;  ///< customers whose current brand it is at the end of the step
  std::vector<std::int64_t> purchases;  ///< purchases this step
  std::vector<std::int64_t> acquisitions;  ///< purchasers who switched to the brand this step
  std::vector<std::int64_t> defections;    ///< purchasers who switched away from the brand this step
  std::vector<std::int64_t> promoters;     ///< purchasers whose experience made them promoters
  std::vector<std::int64_t> detractors;    ///< purchasers whose experience made them detractors
  std::vector<double> revenue;          ///< purchases x price, currency units
  std::vector<double> margin;           ///< revenue - cost of goods - service cost - EX cost, currency units
  std::vector<double> loyalty;          ///< mean loyalty of the brand's customers in the tracking sample, [0, 1]
  std::vector<double> nps;              ///< % promoters - % detractors among this step's purchasers, [-100, 100]
  std::vector<double> trust;            ///< mean trust in the brand over the tracking sample, [0, 1]
  std::vector<double> engagement;       ///< mean employee engagement, [0, 1]
  std::vector<double> turnover;         ///< share of employees who quit this step, fraction
  std::vector<std::int64_t> ambassadors;  ///< employees at or above the ambassador threshold
  std::vector<double> service_quality;  ///< probability a support case is resolved well, [0, 1]
  std::vector<double> cohort_share;     ///< cohorts x brands, row-major: share of the cohort's purchases
  std::vector<double> segment_share;    ///< segments x brands: share of the segment's purchases (kSegments rows)
  std::vector<double> salience;         ///< per cohort: mean values salience in the tracking sample
  double values_weight = 0.0;           ///< mean over purchasers of range(life) / (range(life)+range(time)+range(money)) across brands
  double demand = 1.0;                  ///< market demand multiplier in force
  std::vector<PanelPurchase> panel;     ///< this step's purchases by panel members, by customer
};

/// One named array of a run's results.
struct Series {
  std::string name;                  ///< dataset name, e.g. "share"
  std::string unit;                  ///< e.g. "fraction of purchases"
  std::string description;           ///< one sentence
  std::vector<std::string> dims;     ///< axis names, e.g. {"step", "brand"}
  std::vector<std::size_t> shape;    ///< axis lengths
  bool integer = false;              ///< stored as 64-bit integers (values are exact integers)
  std::vector<double> values;        ///< row-major
};

/// Where a result came from: enough to trace and reproduce it.
struct Provenance {
  std::string scenario_toml;         ///< fully resolved scenario (every key explicit, after --set)
  std::string scenario_file;         ///< path given on the command line ("<bundled baseline>" if none)
  std::string command_line;          ///< the invocation
  std::uint64_t seed = 0;
  int threads = 1;
  std::string version;               ///< cxsim version
  std::string git_commit;            ///< commit the binary was built from ("unknown" outside git)
  std::string build_type;            ///< CMake build type
  std::string created_utc;           ///< ISO 8601 time the run finished (the only non-reproducible field)
  double wall_seconds = 0.0;         ///< run time (not reproducible either)
};

/// The complete result of one run.
struct RunResult {
  std::string run_id;                ///< group name under /runs
  std::vector<std::string> brands;
  std::vector<std::string> cohorts;
  std::vector<std::string> dimensions;
  std::vector<std::string> segments;   ///< row names of segment_share
  int steps = 0;
  std::int64_t customers = 0;
  std::vector<Series> series;
  std::int64_t panel_size = 0;         ///< consumer panel members (0: no panel)
  std::vector<PanelPurchase> panel;    ///< every purchase of a panel member, by step then customer
  std::optional<PanelSummary> panel_summary;  ///< summary of the chosen period (with a panel)
  Provenance provenance;

  /// The series with this name, or nullptr.
  [[nodiscard]] const Series* find(const std::string& name) const {
    for (const auto& s : series)
      if (s.name == name) return &s;
    return nullptr;
  }
};

}  // namespace cxsim
