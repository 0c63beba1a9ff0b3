// Conservation: every purchaser buys one brand, customer bases sum to the
// population, switches balance, shares sum to one, and no metric is NaN.

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "../support/market.hpp"

namespace cxsim {
namespace {

class ConservationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    spec_ = new ScenarioSpec(test::small_market(40000, 60));
    result_ = new RunResult(test::run(*spec_, {2, false}));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete spec_;
  }
  static double at(const char* name, std::size_t step, std::size_t col) {
    const Series* s = result_->find(name);
    return s->values[step * s->shape[1] + col];
  }
  static inline ScenarioSpec* spec_ = nullptr;
  static inline RunResult* result_ = nullptr;
};

TEST_F(ConservationTest, CustomerBasesSumToPopulation) {
  const std::size_t brands = result_->brands.size();
  for (std::size_t t = 0; t < static_cast<std::size_t>(result_->steps); ++t) {
    double sum = 0.0;
    for (std::size_t b = 0; b < brands; ++b) {
      EXPECT_GE(at("customers", t, b), 0.0);
      sum += at("customers", t, b);
    }
    EXPECT_EQ(sum, static_cast<double>(spec_->customers)) << "step " << t;
  }
}

TEST_F(ConservationTest, SwitchesBalanceAndSharesSumToOne) {
  const std::size_t brands = result_->brands.size();
  for (std::size_t t = 0; t < static_cast<std::size_t>(result_->steps); ++t) {
    double acquisitions = 0.0, defections = 0.0, share = 0.0, purchases = 0.0;
    for (std::size_t b = 0; b < brands; ++b) {
      acquisitions += at("acquisitions", t, b);
      defections += at("defections", t, b);
      share += at("share", t, b);
      purchases += at("purchases", t, b);
      EXPECT_LE(at("acquisitions", t, b), at("purchases", t, b));
    }
    EXPECT_EQ(acquisitions, defections) << "step " << t;
    EXPECT_GT(purchases, 0.0);
    EXPECT_NEAR(share, 1.0, 1e-12) << "step " << t;
    for (std::size_t c = 0; c < result_->cohorts.size(); ++c) {
      const Series* cs = result_->find("cohort_share");
      double sum = 0.0;
      for (std::size_t b = 0; b < brands; ++b) sum += cs->values[(t * result_->cohorts.size() + c) * brands + b];
      EXPECT_NEAR(sum, 1.0, 1e-12);
    }
  }
}

TEST_F(ConservationTest, NoMetricIsNaNAndBoundsHold) {
  for (const Series& s : result_->series) {
    std::size_t expected = 1;
    for (auto d : s.shape) expected *= d;
    ASSERT_EQ(s.values.size(), expected) << s.name;
    for (double x : s.values) ASSERT_TRUE(std::isfinite(x)) << s.name;
  }
  for (const char* name : {"loyalty", "trust", "engagement", "service_quality", "share", "turnover"})
    for (double x : result_->find(name)->values) {
      EXPECT_GE(x, 0.0) << name;
      EXPECT_LE(x, 1.0) << name;
    }
  for (double x : result_->find("nps")->values) {
    EXPECT_GE(x, -100.0);
    EXPECT_LE(x, 100.0);
  }
}

TEST_F(ConservationTest, PurchasesFollowDemand) {
  // Demand drops to 0.4 at step 30: purchases per step fall accordingly.
  auto total = [&](std::size_t from, std::size_t to) {
    double sum = 0.0;
    for (std::size_t t = from; t < to; ++t)
      for (std::size_t b = 0; b < result_->brands.size(); ++b) sum += at("purchases", t, b);
    return sum / static_cast<double>(to - from);
  };
  const double before = total(10, 30);
  const double after = total(35, 60);
  // P(purchase) = E[1 - exp(-rate x demand)] with rate ~ Gamma(k = 1.5, mean 0.15):
  // 1 - (1 + demand x mean / k)^-k, so the ratio is 0.0571 / 0.1332 = 0.429.
  const double k = 1.5, theta = 0.15 / 1.5;
  const double expected = (1 - std::pow(1 + 0.4 * theta, -k)) / (1 - std::pow(1 + theta, -k));
  EXPECT_NEAR(after / before, expected, 0.03);
}

TEST(Conservation, EveryCustomerHasOneBrand) {
  const ScenarioSpec spec = test::small_market(3000, 12);
  auto shared = std::make_shared<const ScenarioSpec>(spec);
  Simulation sim(shared, {2, false});
  sim.run();
  const Population& pop = sim.population();
  std::vector<std::int64_t> count(spec.brands.size());
  for (std::size_t i = 0; i < pop.n; ++i) {
    const auto b = pop.current(i).brand;
    ASSERT_LT(b, spec.brands.size());
    ++count[b];
  }
  EXPECT_EQ(count, sim.customer_base());
}

}  // namespace
}  // namespace cxsim

namespace cxsim {
namespace {

TEST(BurnIn, IsSimulatedButNotRecordedAndEventsKeepTheirSteps) {
  ScenarioSpec spec = test::small_market(20000, 20);
  spec.events.clear();
  EventSpec drought;
  drought.step = 10;
  drought.changes = {{EventField::kDemand, 0.0, {}}};
  spec.events = {drought};
  spec.burn_in = 15;
  const RunResult r = test::run(spec, {2, false});
  EXPECT_EQ(r.steps, 20);
  const Series* purchases = r.find("purchases");
  ASSERT_EQ(purchases->shape[0], 20u);
  auto at = [&](std::size_t t) {
    double sum = 0;
    for (std::size_t b = 0; b < r.brands.size(); ++b) sum += purchases->values[t * r.brands.size() + b];
    return sum;
  };
  EXPECT_GT(at(9), 0.0);
  EXPECT_EQ(at(10), 0.0) << "the demand event applies at scenario step 10";
  // The burn-in changed the state the recorded steps start from.
  spec.burn_in = 0;
  const RunResult cold = test::run(spec, {2, false});
  EXPECT_NE(cold.find("customers")->values, r.find("customers")->values);
}

}  // namespace
}  // namespace cxsim
