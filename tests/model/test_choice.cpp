// MODEL.md check: with loyalty, social proof, trust dynamics and employees
// switched off and homogeneous customers, purchase shares equal the
// multinomial-logit closed form within sampling error.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "../support/market.hpp"
#include "cxsim/model/population.hpp"

namespace cxsim {
namespace {

ScenarioSpec homogeneous_market() {
  ScenarioSpec s = test::small_market(60000, 20, 11);
  s.events.clear();
  s.replacement_rate = 0.0;
  s.cohorts.resize(1);
  CohortSpec& c = s.cohorts[0];
  c.fraction = 1.0;
  c.values_mean = {0.6, -0.4};
  c.values_sd = 0.0;
  c.salience_sd = 0.0;
  c.weights_sd = 0.0;
  s.choice.beta_loyalty = 0.0;
  s.choice.beta_social = 0.0;
  s.choice.beta_wom = 0.0;
  s.trust.learn_rate = 0.0;
  s.trust.wom_rate = 0.0;
  s.employees.enabled = false;
  for (auto& b : s.brands) {
    b.policy.marketing_reach = 0.0;
    b.initial_trust = 0.7;
  }
  s.brands[2].policy.stance = {-0.5, 0.5};  // opposed by these customers: counts in full
  return s;
}

/// The closed form, written from docs/model.md independently of the kernel.
std::vector<double> logit_shares(const ScenarioSpec& s) {
  const CohortSpec& c = s.cohorts[0];
  const double sum = c.weight_life + c.weight_time + c.weight_money;
  // Weights are stored at 1/85 resolution (docs/model.md, "Compact state").
  auto q = [](double w) { return std::round(w * 85.0) / 85.0; };
  const double wl = q(3 * c.weight_life / sum), wt = q(3 * c.weight_time / sum), wm = q(3 * c.weight_money / sum);
  const double ref = s.reference_price();
  std::vector<double> u;
  for (const auto& b : s.brands) {
    double align = 0.0;
    for (std::size_t d = 0; d < s.dimensions.size(); ++d) align += c.values_mean[d] * b.policy.stance[d];
    const double trust = std::round(b.initial_trust * 65535.0) / 65535.0;
    const double h = s.trust.hypocrisy_threshold;
    const double credit = align > 0 ? (trust - h) / (1 - h) : 1.0;
    const double life = s.choice.beta_life * wl * c.salience_mean * align * credit;
    const double hassle = s.choice.hassle * s.experience.support_rate * (1.0 - b.policy.service_level);
    const double time = s.choice.beta_time * wt * (b.policy.effort + hassle);
    const double money = s.choice.beta_money * wm * b.policy.price / ref;
    u.push_back(life - time - money);
  }
  double total = 0.0;
  for (double& x : u) total += x = std::exp(x);
  for (double& x : u) x /= total;
  return u;
}

TEST(ChoiceClosedForm, SharesMatchMultinomialLogit) {
  const ScenarioSpec spec = homogeneous_market();
  const RunResult r = test::run(spec, {2, false});
  const Series* purchases = r.find("purchases");
  const std::size_t brands = spec.brands.size();
  std::vector<double> count(brands);
  double total = 0.0;
  for (std::size_t j = 0; j < purchases->values.size(); ++j) {
    count[j % brands] += purchases->values[j];
    total += purchases->values[j];
  }
  const auto expected = logit_shares(spec);
  ASSERT_GT(total, 50000.0);
  for (std::size_t b = 0; b < brands; ++b) {
    const double share = count[b] / total;
    const double se = std::sqrt(expected[b] * (1 - expected[b]) / total);
    EXPECT_NEAR(share, expected[b], 4 * se) << spec.brands[b].name;
  }
  // The initial brands come from the same choice rule.
  const Series* base = r.find("customers");
  for (std::size_t b = 0; b < brands; ++b) {
    const double share = base->values[b] / static_cast<double>(spec.customers);
    EXPECT_NEAR(share, expected[b], 4 * std::sqrt(expected[b] * (1 - expected[b]) / static_cast<double>(spec.customers)));
  }
}

TEST(ChoiceClosedForm, PriceCutRaisesShareAsPredicted) {
  ScenarioSpec spec = homogeneous_market();
  spec.brands[1].policy.price = 8.0;
  const auto expected = logit_shares(spec);
  const RunResult r = test::run(spec, {2, false});
  const Series* purchases = r.find("purchases");
  const std::size_t brands = spec.brands.size();
  double count = 0.0, total = 0.0;
  for (std::size_t j = 0; j < purchases->values.size(); ++j) {
    if (j % brands == 1) count += purchases->values[j];
    total += purchases->values[j];
  }
  EXPECT_NEAR(count / total, expected[1], 4 * std::sqrt(expected[1] * (1 - expected[1]) / total));
}

}  // namespace
}  // namespace cxsim
