// Calibration targets of the default population (docs/calibration.md): the
// values the simulator produces, measured on the initial population of
// scenarios/baseline.toml.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "cxsim/engine/simulation.hpp"
#include "cxsim/io/scenario_io.hpp"
#include "cxsim/model/timeline.hpp"

namespace cxsim {
namespace {

struct Measured {
  double salient_all = 0.0, salient_youngest = 0.0;
  double weight[3] = {0.0, 0.0, 0.0};
  double purchase_probability = 0.0;
};

Measured measure_baseline() {
  auto spec = std::make_shared<const ScenarioSpec>(
      load_scenario(std::string(CXSIM_SOURCE_DIR) + "/scenarios/baseline.toml", {"scenario.burn_in=0"}));
  Simulation sim(spec, {2, false});
  const Population& pop = sim.population();
  const Timeline timeline(*spec);
  Measured m;
  double youngest = 0.0;
  for (std::size_t i = 0; i < pop.n; ++i) {
    const float s = std::clamp(timeline.salience_mean(0, pop.cohort(i)) + pop.salience_dev(i) / kDevScale, 0.0f, 1.0f);
    const bool salient = s >= spec->salience_threshold;
    m.salient_all += salient;
    if (pop.cohort(i) == spec->entrant_cohort) {
      youngest += 1.0;
      m.salient_youngest += salient;
    }
    for (int j = 0; j < 3; ++j) m.weight[j] += pop.weights(i)[j] / kWeightScale / 3.0;
    m.purchase_probability += 1.0 - std::exp(-static_cast<double>(pop.rate(i)) * spec->market.demand);
  }
  const auto n = static_cast<double>(pop.n);
  m.salient_all /= n;
  m.salient_youngest /= youngest;
  for (double& w : m.weight) w /= n;
  m.purchase_probability /= n;
  return m;
}

TEST(Calibration, DefaultPopulationMatchesSurveyTargets) {
  const Measured m = measure_baseline();
  RecordProperty("salient_all", std::to_string(m.salient_all));
  RecordProperty("salient_youngest", std::to_string(m.salient_youngest));
  std::printf("values-salient: %.3f of all customers, %.3f of the youngest cohort\n", m.salient_all, m.salient_youngest);
  std::printf("mean weights: life %.3f, time %.3f, money %.3f; weekly purchase probability %.4f\n", m.weight[0],
              m.weight[1], m.weight[2], m.purchase_probability);
  // Edelman, June 2020: 60% of US adults, 78% of 18-34 year olds (seed 000).
  EXPECT_NEAR(m.salient_all, 0.60, 0.015);
  EXPECT_NEAR(m.salient_youngest, 0.78, 0.015);
  // Life > time > money on average (seed 001).
  EXPECT_GT(m.weight[0], m.weight[1]);
  EXPECT_GT(m.weight[1], m.weight[2]);
  // About 8% of customers buy in the category in a given week (assumption).
  EXPECT_NEAR(m.purchase_probability, 0.08, 0.01);
}

}  // namespace
}  // namespace cxsim
