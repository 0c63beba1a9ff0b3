#pragma once
/// \file
/// Collects every step's metrics into the named series of a RunResult.

#include <string>

#include "cxsim/engine/simulation.hpp"
#include "cxsim/model/metrics.hpp"

namespace cxsim {

/// An observer that keeps the whole time series in memory (steps x brands
/// doubles per metric: small) and turns it into a RunResult.
class Recorder : public StepObserver {
 public:
  /// Prepares series for `spec`; `run_id` names the run in the results file.
  Recorder(const ScenarioSpec& spec, std::string run_id);
  void on_step(const Simulation& sim, const StepMetrics& metrics) override;
  /// The result so far (series cover the steps observed). Provenance is left to the caller.
  [[nodiscard]] RunResult result() const;

 private:
  RunResult result_;
  std::pair<int, int> panel_period_;
  int observed_ = 0;
};

/// Names, units and descriptions of the per-step series, in output order
/// (the single list docs/hdf5-schema.md documents).
struct SeriesInfo {
  const char* name;
  const char* unit;
  const char* description;
};
/// Series with shape (steps, brands).
const std::vector<SeriesInfo>& brand_series_info();

}  // namespace cxsim
