#pragma once
// Shared set-up of the benchmark suites: the throughput scenario
// (bench/scenarios/throughput.toml) at a chosen size, and a simulation advanced
// past its start-up transient. Everything here runs outside timed regions.

#include <memory>
#include <string>

#include "cxsim/engine/simulation.hpp"
#include "cxsim/io/scenario_io.hpp"

namespace cxsim::bench {

/// The throughput scenario with `customers` customers and a horizon long
/// enough that a benchmark never runs out of steps.
inline std::shared_ptr<const ScenarioSpec> throughput_spec(std::int64_t customers, int steps = 20000) {
  return std::make_shared<const ScenarioSpec>(
      load_scenario(std::string(CXSIM_SOURCE_DIR) + "/bench/scenarios/throughput.toml",
                    {"population.customers=" + std::to_string(customers), "scenario.steps=" + std::to_string(steps)}));
}

}  // namespace cxsim::bench
