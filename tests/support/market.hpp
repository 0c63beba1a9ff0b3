#pragma once
// Scenarios built in code, so engine tests do not depend on the TOML reader.

#include <memory>

#include "cxsim/engine/recorder.hpp"
#include "cxsim/engine/simulation.hpp"
#include "cxsim/model/scenario.hpp"

namespace cxsim::test {

/// A small market that exercises every mechanism: two cohorts, three brands
/// with different stances, replacement, and brand, market and cohort events.
inline ScenarioSpec small_market(std::int64_t customers = 20000, int steps = 30, std::uint64_t seed = 7) {
  ScenarioSpec s;
  s.name = "small";
  s.steps = steps;
  s.seed = seed;
  s.customers = customers;
  s.replacement_rate = 0.003;
  s.dimensions = {"green", "local"};
  CohortSpec young;
  young.name = "young";
  young.fraction = 0.4;
  young.values_mean = {0.5, 0.1};
  young.salience_mean = 0.7;
  young.purchase_rate = 0.15;
  CohortSpec old = young;
  old.name = "old";
  old.fraction = 0.6;
  old.values_mean = {-0.1, 0.4};
  old.salience_mean = 0.4;
  s.cohorts = {young, old};
  BrandSpec a;
  a.name = "A";
  a.policy.stance = {0.8, 0.0};
  a.policy.action = 0.9;
  a.policy.price = 11.0;
  BrandSpec b;
  b.name = "B";
  b.policy.stance = {0.0, 0.0};
  b.policy.price = 9.5;
  b.policy.effort = 0.45;
  BrandSpec c;
  c.name = "C";
  c.policy.stance = {-0.3, 0.6};
  c.policy.action = 0.2;
  c.policy.service_level = 0.3;
  s.brands = {a, b, c};
  s.employees.ambassador_threshold = 0.7;
  EventSpec cut;
  cut.step = steps / 3;
  cut.target = EventTarget::kBrand;
  cut.index = 2;
  cut.changes = {{EventField::kServiceLevel, 0.1, {}}, {EventField::kPrice, 9.0, {}}};
  EventSpec drought;
  drought.step = steps / 2;
  drought.target = EventTarget::kMarket;
  drought.changes = {{EventField::kDemand, 0.4, {}}};
  EventSpec shift;
  shift.step = steps / 2;
  shift.target = EventTarget::kCohort;
  shift.index = 0;
  shift.changes = {{EventField::kSalienceMean, 0.9, {}}, {EventField::kValuesMean, 0.0, {0.9, 0.0}}};
  s.events = {cut, drought, shift};
  return s;
}

/// Runs a scenario to the end and returns its recorded series.
inline RunResult run(const ScenarioSpec& spec, ExecutionPolicy policy = {}) {
  auto shared = std::make_shared<const ScenarioSpec>(spec);
  Simulation sim(shared, policy);
  Recorder recorder(*shared, "000000");
  sim.add_observer(&recorder);
  sim.run();
  return recorder.result();
}

}  // namespace cxsim::test
