// Births: the initial population's lasting attributes follow the distributions
// of docs/model.md exactly (up to the fixed-point rounding of the record),
// whatever the sampler's shortcuts: values normal and clipped, salience Beta,
// purchase rates Gamma (including shapes below 1 and the retried attempts),
// exit steps geometric. Each distribution is compared cell by cell with the
// exact probabilities of the stored values (chi-square), or with its CDF
// (Kolmogorov-Smirnov) where the value is stored as a float.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/gamma.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <functional>
#include <numeric>
#include <tuple>
#include <memory>
#include <random>
#include <vector>

#include "cxsim/core/fastmath.hpp"
#include "cxsim/engine/simulation.hpp"
#include "cxsim/model/population.hpp"
#include "../support/market.hpp"

namespace cxsim {
namespace {

constexpr std::int64_t kCustomers = 200000;

/// One cohort, so that every customer draws from the same distributions.
ScenarioSpec one_cohort(double salience_mean, double salience_sd, double purchase_shape) {
  ScenarioSpec s = test::small_market(kCustomers, 30, 11);
  CohortSpec c = s.cohorts[0];
  c.fraction = 1.0;
  c.values_mean = {0.3, -0.6};
  c.values_sd = 0.35;
  c.salience_mean = salience_mean;
  c.salience_sd = salience_sd;
  c.purchase_shape = purchase_shape;
  s.cohorts = {c};
  s.entrant_cohort = 0;
  s.events.clear();
  return s;
}

/// Chi-square test of counts of the integers lo..hi against probabilities
/// p(m); cells expected to hold fewer than 20 are pooled. Fails if the
/// statistic lies beyond its 1 - 1e-6 quantile (the seed is fixed, so the
/// test is deterministic; the threshold only says how sure the check is).
void expect_cells_match(const std::vector<std::int64_t>& counts, int lo, const std::function<double(int)>& p,
                        const char* what) {
  const auto n = static_cast<double>(std::accumulate(counts.begin(), counts.end(), std::int64_t{0}));
  double chi2 = 0.0, pooled_expected = 0.0, pooled_observed = 0.0, total_p = 0.0;
  int cells = 0;
  for (std::size_t j = 0; j < counts.size(); ++j) {
    const double pm = p(lo + static_cast<int>(j));
    total_p += pm;
    const double expected = n * pm;
    const auto observed = static_cast<double>(counts[j]);
    if (expected < 20.0) {
      pooled_expected += expected;
      pooled_observed += observed;
      continue;
    }
    chi2 += (observed - expected) * (observed - expected) / expected;
    ++cells;
  }
  if (pooled_expected > 0.0) {
    chi2 += (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / pooled_expected;
    ++cells;
  }
  ASSERT_NEAR(total_p, 1.0, 1e-9) << what;
  ASSERT_GE(cells, 10) << what;
  const double limit = boost::math::quantile(boost::math::chi_squared(cells - 1), 1.0 - 1e-6);
  EXPECT_LT(chi2, limit) << what << ": chi-square " << chi2 << " over " << cells << " cells";
}

/// Kolmogorov-Smirnov distance of a sample from a CDF.
double ks_distance(std::vector<double> x, const std::function<double(double)>& cdf) {
  std::sort(x.begin(), x.end());
  const auto n = static_cast<double>(x.size());
  double d = 0.0;
  for (std::size_t j = 0; j < x.size(); ++j) {
    const double f = cdf(x[j]);
    d = std::max({d, f - static_cast<double>(j) / n, static_cast<double>(j + 1) / n - f});
  }
  return d;
}

/// The probability that to_dev (round(x 63.5), half away from zero) of a
/// variable with right-continuous CDF `cdf` gives m (no atoms on the cell edges).
double dev_cell(int m, const std::function<double(double)>& cdf) {
  return cdf((m + 0.5) / static_cast<double>(kDevScale)) - cdf((m - 0.5) / static_cast<double>(kDevScale));
}

class Births : public ::testing::TestWithParam<std::tuple<double, double, double>> {};

TEST_P(Births, AttributesFollowTheirDistributions) {
  const auto [salience_mean, salience_sd, shape] = GetParam();
  auto spec = std::make_shared<const ScenarioSpec>(one_cohort(salience_mean, salience_sd, shape));
  Simulation sim(spec, {2, false});
  const Population& pop = sim.population();
  const CohortSpec& c = spec->cohorts[0];

  // Values: v = clip(mean + sd Z, -1, 1), stored as round(63.5 (v - mean)).
  for (int d = 0; d < pop.k; ++d) {
    const double mean = static_cast<float>(c.values_mean[static_cast<std::size_t>(d)]);
    std::vector<std::int64_t> counts(255, 0);
    for (std::size_t i = 0; i < pop.n; ++i) ++counts[static_cast<std::size_t>(pop.values_dev(i)[d] + 127)];
    const boost::math::normal z(0.0, c.values_sd);
    const auto clipped = [&](double x) {  // CDF of clip(sd Z, -1 - mean, 1 - mean)
      if (x < -1.0 - mean) return 0.0;
      if (x >= 1.0 - mean) return 1.0;
      return boost::math::cdf(z, x);
    };
    expect_cells_match(counts, -127, [&](int m) { return dev_cell(m, clipped); },
                       d == 0 ? "values dimension 0" : "values dimension 1");
  }

  // Salience: Beta with the cohort's mean and sd, stored as round(63.5 (s - mean)).
  {
    const double mu = static_cast<float>(c.salience_mean);
    const double nu = mu * (1.0 - mu) / (c.salience_sd * c.salience_sd) - 1.0;
    const boost::math::beta_distribution<> beta(mu * nu, (1.0 - mu) * nu);
    std::vector<std::int64_t> counts(255, 0);
    for (std::size_t i = 0; i < pop.n; ++i) ++counts[static_cast<std::size_t>(pop.salience_dev(i) + 127)];
    const auto cdf = [&](double x) { return boost::math::cdf(beta, std::clamp(mu + x, 0.0, 1.0)); };
    expect_cells_match(counts, -127, [&](int m) { return dev_cell(m, cdf); }, "salience");
  }

  // Purchase rate: Gamma(shape) x purchase_rate / shape, a float.
  {
    std::vector<double> x(pop.n);
    for (std::size_t i = 0; i < pop.n; ++i) x[i] = pop.rate(i);
    const boost::math::gamma_distribution<> gamma(shape, c.purchase_rate / shape);
    const double d = ks_distance(std::move(x), [&](double r) { return boost::math::cdf(gamma, r); });
    // The 1 - 1e-6 quantile of the KS distance is about sqrt(ln(2e6) / 2n).
    EXPECT_LT(d, std::sqrt(std::log(2e6) / (2.0 * static_cast<double>(pop.n)))) << "purchase rate, KS distance " << d;
  }

  // Exit step: geometric, P(exit at step s) = (1 - rho)^s rho for an initial
  // customer (its first possible exit is step 0).
  {
    const double rho = spec->replacement_rate;
    const int steps = spec->total_steps();
    std::vector<std::int64_t> counts(static_cast<std::size_t>(steps) + 1, 0);
    for (std::size_t i = 0; i < pop.n; ++i) {
      const int s = pop.exit_step(i);
      ++counts[s == kNever ? static_cast<std::size_t>(steps) : static_cast<std::size_t>(s)];
    }
    expect_cells_match(counts, 0,
                       [&](int s) { return s < steps ? std::pow(1.0 - rho, s) * rho : std::pow(1.0 - rho, steps); },
                       "exit step");
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, Births,
                         ::testing::Values(std::make_tuple(0.6, 0.2, 1.5),    // the defaults: every Gamma shape above 1
                                           std::make_tuple(0.5, 0.4, 0.5),    // Beta(0.28, 0.28), rate shape 0.5: U^(1/shape)
                                           std::make_tuple(0.3, 0.05, 8.0)));  // large shapes

TEST(Births, WeightsMatchTheirLogNormalDefinition) {
  // Mean stored weights against a Monte Carlo of their definition:
  // 3 w_j e^(sigma Z_j) / sum_k w_k e^(sigma Z_k), rounded to 1/85.
  auto spec = std::make_shared<const ScenarioSpec>(one_cohort(0.6, 0.2, 1.5));
  Simulation sim(spec, {2, false});
  const Population& pop = sim.population();
  const CohortSpec& c = spec->cohorts[0];
  double got[3] = {}, got2[3] = {};
  for (std::size_t i = 0; i < pop.n; ++i)
    for (int j = 0; j < 3; ++j) {
      const double w = pop.weights(i)[j] / static_cast<double>(kWeightScale);
      got[j] += w;
      got2[j] += w * w;
    }
  std::mt19937_64 engine(3);
  std::normal_distribution<double> normal;
  constexpr int kDraws = 2000000;
  double want[3] = {};
  const double base[3] = {c.weight_life, c.weight_time, c.weight_money};
  for (int r = 0; r < kDraws; ++r) {
    double w[3], total = 0.0;
    for (int j = 0; j < 3; ++j) total += w[j] = base[j] * std::exp(c.weights_sd * normal(engine));
    for (int j = 0; j < 3; ++j) want[j] += std::round(3.0 * w[j] / total * 85.0) / 85.0;
  }
  const auto n = static_cast<double>(pop.n);
  for (int j = 0; j < 3; ++j) {
    const double mean = got[j] / n;
    const double se = std::sqrt((got2[j] / n - mean * mean) / n);
    EXPECT_NEAR(mean, want[j] / kDraws, 5.0 * se * std::sqrt(1.0 + n / kDraws)) << "weight " << j;
  }
}

TEST(FastMath, NormalFromWordIsTheNormalQuantile) {
  const boost::math::normal z;
  double worst = 0.0;
  auto check = [&](std::uint32_t w) {
    const double p = (static_cast<double>(w) + 0.5) * 0x1.0p-32;
    const double want = boost::math::quantile(z, p);
    const double got = normal_from_word(w);
    ASSERT_EQ(normal_is_central(w), std::abs(p - 0.5) <= 0.425) << "w = " << w;
    worst = std::max(worst, std::abs(got - want) / std::max(std::abs(want), 1e-3));
    // Exactly antisymmetric: the word ~w is the uniform 1 - p.
    ASSERT_EQ(normal_from_word(~w), -got) << "w = " << w;
  };
  for (std::uint64_t j = 0; j < 1000000; ++j) check(static_cast<std::uint32_t>(splitmix64(j)));
  for (std::uint32_t w = 0; w < 1000; ++w) check(w);
  // Both sides of the switch between the central and the tail formula, |p - 1/2| = 0.425.
  const auto edge = static_cast<std::uint32_t>(0.075 * 0x1.0p32);
  for (std::uint32_t w = edge - 1000; w < edge + 1000; ++w) check(w);
  check(0x7FFFFFFFu);
  EXPECT_LT(worst, 1e-14);
  EXPECT_NEAR(normal_from_word(0), -6.3379577545537886, 1e-12);  // the most extreme normal a word gives
}

}  // namespace
}  // namespace cxsim
