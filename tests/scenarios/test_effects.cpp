// Effect tests: each scenario in scenarios/ moves its metrics in the direction
// MODEL.md describes. Every comparison is paired on common random numbers (the
// scenario and its counterfactual, the same file without its events, run with
// the same seed) and asserted only when the mean paired difference exceeds
// three standard errors over replicates, so the margin beats replicate noise.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "../support/market.hpp"
#include "cxsim/experiment/experiment.hpp"
#include "cxsim/experiment/sweep.hpp"
#include "cxsim/io/scenario_io.hpp"

namespace cxsim {
namespace {

constexpr int kReplicates = 5;
constexpr const char* kCustomers = "population.customers=40000";

ScenarioSpec scenario(const std::string& name, std::vector<std::string> overrides = {}) {
  overrides.insert(overrides.begin(), kCustomers);
  return load_scenario(std::string(CXSIM_SOURCE_DIR) + "/scenarios/" + name + ".toml", overrides);
}

ScenarioSpec without_events(ScenarioSpec s) {
  s.events.clear();
  return s;
}

RunResult run(ScenarioSpec spec, std::uint64_t seed) {
  spec.seed = seed;
  return test::run(spec, {2, false});
}

/// Mean of a (step, brand) series, or of one row of a (step, group, brand)
/// series, over steps [from, to).
double mean(const RunResult& r, const char* name, std::size_t from, std::size_t to, std::size_t brand,
            std::size_t group = 0) {
  const Series* s = r.find(name);
  const std::size_t stride = s->values.size() / s->shape[0];
  const std::size_t brands = s->shape.back();
  double sum = 0.0;
  for (std::size_t t = from; t < to; ++t) sum += s->values[t * stride + group * brands + brand];
  return sum / static_cast<double>(to - from);
}

/// Mean and standard error of paired differences.
struct Paired {
  std::vector<double> d;
  [[nodiscard]] double mean() const { return std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(d.size()); }
  [[nodiscard]] double se() const {
    const double m = mean();
    double ss = 0.0;
    for (double x : d) ss += (x - m) * (x - m);
    return std::sqrt(ss / static_cast<double>(d.size() - 1) / static_cast<double>(d.size()));
  }
};

/// Asserts that the paired difference is positive beyond replicate noise.
void expect_positive(const Paired& p, const std::string& what) {
  std::printf("  %-100s %+.4g (se %.2g, %.1f se)\n", what.c_str(), p.mean(), p.se(), p.mean() / p.se());
  EXPECT_GT(p.mean(), 3.0 * p.se()) << what << ": mean difference " << p.mean() << ", standard error " << p.se();
}

constexpr std::size_t kAnchor = 1, kVerde = 0, kSwift = 2, kBargain = 3;
constexpr std::size_t kOpposes = 0, kShares = 2, kSalient = 3, kGenZ = 0;

class StandTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const ScenarioSpec authentic = scenario("take_a_stand");
    const ScenarioSpec hollow = scenario("hollow_stand");
    const ScenarioSpec none = without_events(authentic);
    for (int r = 1; r <= kReplicates; ++r) {
      const auto seed = static_cast<std::uint64_t>(1000 + r);
      runs_.push_back({run(none, seed), run(authentic, seed), run(hollow, seed)});
    }
  }
  static void TearDownTestSuite() { runs_.clear(); }
  /// f(variant) - f(reference) per replicate; variants: 0 none, 1 authentic, 2 hollow.
  static Paired diff(int variant, int reference, const std::function<double(const RunResult&)>& f) {
    Paired p;
    for (const auto& r : runs_) p.d.push_back(f(r[static_cast<std::size_t>(variant)]) - f(r[static_cast<std::size_t>(reference)]));
    return p;
  }
  static inline std::vector<std::array<RunResult, 3>> runs_;
};

// Long run: the last two years of the horizon (the stand is taken at week 26).
constexpr std::size_t kLate = 52, kEnd = 156;

TEST_F(StandTest, AuthenticStandGainsAmongSharersAndLosesAmongOpposers) {
  expect_positive(diff(1, 0, [](const RunResult& r) { return mean(r, "segment_share", kLate, kEnd, kAnchor, kShares); }),
                  "share of Anchor among customers who share the stance");
  expect_positive(diff(0, 1, [](const RunResult& r) { return mean(r, "segment_share", kLate, kEnd, kAnchor, kOpposes); }),
                  "share of Anchor among customers who oppose the stance (loss)");
  expect_positive(diff(1, 0, [](const RunResult& r) { return mean(r, "cohort_share", kLate, kEnd, kAnchor, kGenZ); }),
                  "share of Anchor in the youngest cohort");
}

TEST_F(StandTest, HollowStandEndsBelowAuthenticAndNoStandAmongSalientCustomers) {
  auto salient = [](const RunResult& r) { return mean(r, "segment_share", 104, kEnd, kAnchor, kSalient); };
  expect_positive(diff(0, 2, salient), "no stand minus hollow stand, salient customers, last year");
  expect_positive(diff(1, 2, salient), "authentic minus hollow stand, salient customers, last year");
  // Its trust falls over time: the stance is seen through.
  Paired fall;
  for (const auto& r : runs_)
    fall.d.push_back(mean(r[2], "trust", 20, 26, kAnchor) - mean(r[2], "trust", 130, kEnd, kAnchor));
  expect_positive(fall, "trust in Anchor before the hollow stand minus trust two years later");
}

TEST(ScenarioEffects, ServiceCutPaysShortTermAndCostsLongTerm) {
  const ScenarioSpec cut = scenario("cut_post_purchase");
  const ScenarioSpec control = without_events(cut);
  std::vector<RunResult> a, b;
  Paired margin, base_short, base_long, nps, turnover, detractor_rate;
  for (int r = 1; r <= kReplicates; ++r) {
    const auto seed = static_cast<std::uint64_t>(1000 + r);
    const RunResult x = run(cut, seed), y = run(control, seed);
    margin.d.push_back(mean(x, "margin", 26, 39, kSwift) - mean(y, "margin", 26, 39, kSwift));
    base_short.d.push_back(mean(x, "customers", 30, 39, kSwift) - mean(y, "customers", 30, 39, kSwift));
    base_long.d.push_back(mean(y, "customers", 120, kEnd, kSwift) - mean(x, "customers", 120, kEnd, kSwift));
    nps.d.push_back(mean(y, "nps", 52, kEnd, kSwift) - mean(x, "nps", 52, kEnd, kSwift));
    detractor_rate.d.push_back(mean(x, "detractors", 52, kEnd, kSwift) / mean(x, "purchases", 52, kEnd, kSwift) -
                               mean(y, "detractors", 52, kEnd, kSwift) / mean(y, "purchases", 52, kEnd, kSwift));
    turnover.d.push_back(mean(x, "turnover", 52, kEnd, kSwift) - mean(y, "turnover", 52, kEnd, kSwift));
  }
  expect_positive(margin, "Swift's margin in the first quarter after the cut");
  expect_positive(base_short, "Swift's customer base in the first quarter after the cut");
  expect_positive(base_long, "Swift's customer base lost in the last 36 weeks");
  expect_positive(detractor_rate, "Swift's share of detractors among purchasers");
  expect_positive(nps, "Swift's NPS lost");
  expect_positive(turnover, "Swift's employee turnover");
}

/// First step at or after `from` where the mean paired difference reaches half its maximum.
int half_time(const std::vector<std::vector<double>>& diffs, int from) {
  const std::size_t steps = diffs[0].size();
  std::vector<double> m(steps, 0.0);
  for (const auto& d : diffs)
    for (std::size_t t = 0; t < steps; ++t) m[t] += d[t] / static_cast<double>(diffs.size());
  const double peak = *std::max_element(m.begin() + from, m.end());
  for (std::size_t t = static_cast<std::size_t>(from); t < steps; ++t)
    if (m[t] >= 0.5 * peak) return static_cast<int>(t);
  return static_cast<int>(steps);
}

TEST(ScenarioEffects, EmployeeInvestmentRaisesEngagementThenQualityThenLoyalty) {
  const ScenarioSpec invest = scenario("invest_in_employees", {"metrics.tracking_sample=40000"});
  const ScenarioSpec control = without_events(invest);
  std::vector<std::vector<double>> engagement, quality, loyalty;
  Paired final_loyalty;
  for (int r = 1; r <= kReplicates; ++r) {
    const auto seed = static_cast<std::uint64_t>(1000 + r);
    const RunResult x = run(invest, seed), y = run(control, seed);
    auto series_diff = [&](const char* name) {
      std::vector<double> d;
      for (std::size_t t = 0; t < kEnd; ++t) d.push_back(mean(x, name, t, t + 1, kAnchor) - mean(y, name, t, t + 1, kAnchor));
      return d;
    };
    engagement.push_back(series_diff("engagement"));
    quality.push_back(series_diff("service_quality"));
    loyalty.push_back(series_diff("loyalty"));
    final_loyalty.d.push_back(mean(x, "loyalty", 104, kEnd, kAnchor) - mean(y, "loyalty", 104, kEnd, kAnchor));
  }
  expect_positive(final_loyalty, "Anchor's loyalty in the last year");
  const int te = half_time(engagement, 13), tq = half_time(quality, 13), tl = half_time(loyalty, 13);
  EXPECT_LT(te, tq) << "engagement reaches half its gain at step " << te << ", service quality at " << tq;
  EXPECT_LT(tq, tl) << "service quality reaches half its gain at step " << tq << ", loyalty at " << tl;
}

TEST(ScenarioEffects, TrustedAlignedBrandKeepsMoreCustomersThroughADrought) {
  const ScenarioSpec drought = scenario("transaction_drought");
  const ScenarioSpec control = without_events(drought);
  Paired gap;
  for (int r = 1; r <= kReplicates; ++r) {
    const auto seed = static_cast<std::uint64_t>(1000 + r);
    const RunResult x = run(drought, seed), y = run(control, seed);
    // Customer base after demand returns, relative to before the drought and to no drought.
    auto kept = [&](std::size_t b) {
      return (mean(x, "customers", 80, 104, b) / mean(x, "customers", 20, 26, b)) /
             (mean(y, "customers", 80, 104, b) / mean(y, "customers", 20, 26, b));
    };
    gap.d.push_back(kept(kVerde) - kept(kBargain));
  }
  expect_positive(gap, "base kept by Verde (trusted, aligned) minus base kept by Bargain (transactional loyalty)");
}

TEST(ScenarioEffects, GenZShiftRaisesSalienceAndTheWeightOfValues) {
  const ScenarioSpec shift = scenario("genz_values_shift");
  Paired weight;
  std::vector<Paired> salience(4);
  for (int r = 1; r <= kReplicates; ++r) {
    const RunResult x = run(shift, static_cast<std::uint64_t>(1000 + r));
    weight.d.push_back(mean(x, "values_weight", 130, kEnd, 0) - mean(x, "values_weight", 0, 13, 0));
    for (std::size_t c = 0; c < 4; ++c)
      salience[c].d.push_back(mean(x, "salience", 130, kEnd, c) - mean(x, "salience", 0, 13, c));
  }
  expect_positive(weight, "weight of values in choices, last half year minus first quarter");
  for (std::size_t c = 0; c < 4; ++c) expect_positive(salience[c], "salience of cohort " + std::to_string(c));
}

// The customer purpose grid (scenarios/experiments/customer_purpose_grid.toml):
// 5 orientations x 5 places to invest the same CX budget, each cell compared
// with its row's no-investment reference on the same seeds. A cell pays when
// Anchor's three-year margin, net of the investment, beats the reference.
TEST(ScenarioEffects, OnlyAMinorityOfPurposeGridCellsPayForTheirInvestment) {
  ExperimentSpec grid = load_experiment(std::string(CXSIM_SOURCE_DIR) + "/scenarios/experiments/customer_purpose_grid.toml");
  grid.overrides.emplace_back("population.customers=20000");  // after the file's own size: this one wins
  grid.replicates = 3;
  // total_margin of Anchor by policy name and replicate.
  std::map<std::string, std::vector<double>> margin;
  for (const RunPlan& plan : plan_runs(grid)) {
    RunResult r;
    ASSERT_TRUE(execute_run(plan, 2, false, nullptr, "test", r));
    for (const auto& [name, value] : compute_outcomes(r, {"total_margin"}, grid.window))
      if (name == "total_margin.Anchor") margin[plan.policy].push_back(value);
  }
  ASSERT_EQ(margin.size(), 30u);
  const std::array<const char*, 5> rows{"transaction", "account", "relationship", "partnership", "purpose"};
  const std::array<const char*, 5> places{"pre_purchase", "purchase", "post_purchase", "employees", "society"};
  auto net_return = [&](const char* row, const char* place) {
    Paired p;
    const auto& cell = margin.at(std::string(row) + "__" + place);
    const auto& reference = margin.at(std::string(row) + "__none");
    for (std::size_t i = 0; i < cell.size(); ++i) p.d.push_back(cell[i] - reference[i]);
    return p;
  };
  int may_pay = 0, pays = 0;
  for (const char* row : rows) {
    for (const char* place : places) {
      const Paired p = net_return(row, place);
      std::printf("  %-13s x %-14s net return %+10.0f (se %.0f)\n", row, place, p.mean(), p.se());
      may_pay += p.mean() + 3.0 * p.se() > 0.0;
      pays += p.mean() - 3.0 * p.se() > 0.0;
    }
  }
  std::printf("  cells that pay beyond 3 se: %d; cells not ruled out: %d of 25\n", pays, may_pay);
  EXPECT_LE(may_pay, 12) << "even counting every cell within noise of paying, at most a minority may pay";
  EXPECT_GE(pays, 1) << "some cell must pay: otherwise CX investment never pays and the grid says nothing";
  // The corridor has a reason: a stand on society pays only when it is lived,
  // so its return rises with how much the company values its customers.
  Paired rise;
  const Paired purpose = net_return("purpose", "society"), transaction = net_return("transaction", "society");
  for (std::size_t i = 0; i < purpose.d.size(); ++i) rise.d.push_back(purpose.d[i] - transaction.d[i]);
  expect_positive(rise, "return of investing in society: purpose orientation minus transactional");
}

}  // namespace
}  // namespace cxsim
