// Consumer panel: which customers are sampled, the brand-performance summary
// against hand-counted panels, and what a run records (docs/panel.md).

#include "cxsim/model/panel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "../support/market.hpp"

namespace cxsim {
namespace {

// ---- PanelSample ----

class PanelSampleTest : public ::testing::TestWithParam<std::pair<std::size_t, std::size_t>> {};

TEST_P(PanelSampleTest, ExactSizeIncreasingMembersAndMatchingContains) {
  const auto [n, size] = GetParam();
  const PanelSample panel(n, size);
  const std::size_t expected = std::min(n, size);
  ASSERT_EQ(panel.size(), expected);

  std::set<std::size_t> members;
  for (std::size_t j = 0; j < panel.size(); ++j) {
    const std::size_t m = panel.member(j);
    ASSERT_LT(m, n) << "member " << j;
    if (j > 0) {
      const std::size_t gap = m - panel.member(j - 1);
      ASSERT_GT(panel.member(j), panel.member(j - 1)) << "member " << j;
      // Systematic sample: consecutive members are floor or ceil of n / size apart.
      EXPECT_GE(gap, n / expected) << "member " << j;
      EXPECT_LE(gap, (n + expected - 1) / expected) << "member " << j;
    }
    members.insert(m);
  }
  ASSERT_EQ(members.size(), expected);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(panel.contains(i), members.count(i) == 1) << "customer " << i;
}

INSTANTIATE_TEST_SUITE_P(Panel, PanelSampleTest,
                         ::testing::Values(std::pair<std::size_t, std::size_t>{10, 10},   // everyone
                                           std::pair<std::size_t, std::size_t>{10, 1},    // one member
                                           std::pair<std::size_t, std::size_t>{10, 0},    // no panel
                                           std::pair<std::size_t, std::size_t>{0, 5},     // no customers
                                           std::pair<std::size_t, std::size_t>{1, 1},
                                           std::pair<std::size_t, std::size_t>{5, 12},    // clamped to n
                                           std::pair<std::size_t, std::size_t>{10, 3},    // n not a multiple
                                           std::pair<std::size_t, std::size_t>{997, 100},
                                           std::pair<std::size_t, std::size_t>{1000, 7},
                                           std::pair<std::size_t, std::size_t>{1000, 999},
                                           std::pair<std::size_t, std::size_t>{65537, 4096},
                                           std::pair<std::size_t, std::size_t>{1000003, 1000}));

TEST(PanelSample, DefaultIsEmpty) {
  const PanelSample panel;
  EXPECT_EQ(panel.size(), 0u);
  EXPECT_FALSE(panel.contains(0));
}

// ---- summarize_panel ----

constexpr std::uint8_t kA = 0, kB = 1, kC = 2;

PanelPurchase buy(int step, std::uint32_t customer, std::uint8_t brand) {
  return {step, customer, 0, brand, 2, 10.0};
}

// Five members (10, 20, 30, 40, 50), brands A, B, C; the period is [1, 5).
//   member 10: A (step 1), A (2), B (4)          -> A x2, B x1   (3 purchases)
//   member 20: A (3); C (5, outside)             -> A x1         (1)
//   member 30: B (1), B (2), B (3), C (4)        -> B x3, C x1   (4)
//   member 40: A (2), C (4)                      -> A x1, C x1   (2)
//   member 50: A (0, outside), B (6, outside)    -> nothing      (0)
// Listed by (step, customer), as a run records them.
std::vector<PanelPurchase> hand_panel() {
  return {buy(0, 50, kA), buy(1, 10, kA), buy(1, 30, kB), buy(2, 10, kA), buy(2, 30, kB), buy(2, 40, kA),
          buy(3, 20, kA), buy(3, 30, kB), buy(4, 10, kB), buy(4, 30, kC), buy(4, 40, kC), buy(5, 20, kC),
          buy(6, 50, kB)};
}

void expect_near(const std::vector<double>& actual, const std::vector<double>& expected, const char* what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-15) << what << "[" << i << "]";
}

TEST(PanelSummary, HandCountedPanel) {
  const PanelSummary s = summarize_panel(hand_panel(), 5, 3, 1, 5);
  EXPECT_EQ(s.from, 1);
  EXPECT_EQ(s.to, 5);
  EXPECT_EQ(s.panel_size, 5);
  EXPECT_EQ(s.category_buyers, 4);  // 10, 20, 30, 40
  // Buyers: A {10, 20, 40}, B {10, 30}, C {30, 40}; out of 5 members.
  expect_near(s.penetration, {3.0 / 5, 2.0 / 5, 2.0 / 5}, "penetration");
  // Purchases: A 2+1+1 = 4, B 1+3 = 4, C 1+1 = 2; per buyer.
  expect_near(s.frequency, {4.0 / 3, 4.0 / 2, 2.0 / 2}, "frequency");
  // All purchases of the buyers: A's 3+1+2 = 6, B's 3+4 = 7, C's 4+2 = 6.
  expect_near(s.scr, {4.0 / 6, 4.0 / 7, 2.0 / 6}, "scr");
  // Only member 20 bought a single brand (A).
  expect_near(s.sole_buyers, {1.0 / 3, 0.0, 0.0}, "sole_buyers");
  // Row X, column Y: of X's buyers, the share who also bought Y.
  //   A {10, 20, 40}: B {10}, C {40}
  //   B {10, 30}:     A {10}, C {30}
  //   C {30, 40}:     A {40}, B {30}
  expect_near(s.duplication,
              {1.0, 1.0 / 3, 1.0 / 3,  //
               1.0 / 2, 1.0, 1.0 / 2,  //
               1.0 / 2, 1.0 / 2, 1.0},
              "duplication");
}

TEST(PanelSummary, PeriodSelectsPurchases) {
  // [1, 3): member 10 A, A; member 30 B, B; member 40 A. Nobody bought C.
  const PanelSummary s = summarize_panel(hand_panel(), 5, 3, 1, 3);
  EXPECT_EQ(s.category_buyers, 3);
  expect_near(s.penetration, {2.0 / 5, 1.0 / 5, 0.0}, "penetration");
  expect_near(s.frequency, {3.0 / 2, 2.0, 0.0}, "frequency");
  expect_near(s.scr, {1.0, 1.0, 0.0}, "scr");
  expect_near(s.sole_buyers, {1.0, 1.0, 0.0}, "sole_buyers");
  expect_near(s.duplication, {1, 0, 0, 0, 1, 0, 0, 0, 0}, "duplication");

  // Purchases outside [from, to) are ignored: the same as never having them.
  for (const auto& [from, to] : std::vector<std::pair<int, int>>{{0, 7}, {1, 5}, {2, 4}, {4, 5}, {0, 1}, {6, 100}}) {
    std::vector<PanelPurchase> inside;
    for (const auto& p : hand_panel())
      if (p.step >= from && p.step < to) inside.push_back(p);
    EXPECT_EQ(summarize_panel(hand_panel(), 5, 3, from, to), summarize_panel(inside, 5, 3, from, to))
        << "[" << from << ", " << to << ")";
  }
}

TEST(PanelSummary, EmptyPeriodAndUnboughtBrandsGiveZeros) {
  const PanelSummary empty = summarize_panel(hand_panel(), 5, 3, 7, 9);
  EXPECT_EQ(empty.category_buyers, 0);
  for (const auto* v : {&empty.penetration, &empty.frequency, &empty.scr, &empty.sole_buyers})
    EXPECT_EQ(*v, std::vector<double>(3, 0.0));
  EXPECT_EQ(empty.duplication, std::vector<double>(9, 0.0));

  // A fourth brand nobody bought: zeros in its entries, the rest as before.
  const PanelSummary three = summarize_panel(hand_panel(), 5, 3, 1, 5);
  const PanelSummary four = summarize_panel(hand_panel(), 5, 4, 1, 5);
  EXPECT_EQ(four.category_buyers, three.category_buyers);
  for (const auto& [v3, v4] : {std::pair{&three.penetration, &four.penetration}, std::pair{&three.frequency, &four.frequency},
                               std::pair{&three.scr, &four.scr}, std::pair{&three.sole_buyers, &four.sole_buyers}}) {
    ASSERT_EQ(v4->size(), 4u);
    EXPECT_EQ(std::vector<double>(v4->begin(), v4->begin() + 3), *v3);
    EXPECT_EQ((*v4)[3], 0.0);
  }
  for (std::size_t x = 0; x < 4; ++x)
    for (std::size_t y = 0; y < 4; ++y)
      EXPECT_EQ(four.duplication[x * 4 + y], x < 3 && y < 3 ? three.duplication[x * 3 + y] : 0.0) << x << "," << y;

  const PanelSummary none = summarize_panel({}, 0, 2, 0, 10);
  EXPECT_EQ(none.penetration, std::vector<double>(2, 0.0));
  EXPECT_EQ(none.duplication, std::vector<double>(4, 0.0));
}

TEST(PanelSummary, SoleBuyerOfEveryBrand) {
  // Each member loyal to one brand: penetration = buyers / panel, SCR and sole buyers 1, no duplication.
  const std::vector<PanelPurchase> loyal = {buy(0, 1, kA), buy(0, 2, kB), buy(1, 1, kA), buy(1, 3, kB),
                                            buy(2, 1, kA), buy(2, 4, kC)};
  const PanelSummary s = summarize_panel(loyal, 8, 3, 0, 3);
  EXPECT_EQ(s.category_buyers, 4);
  expect_near(s.penetration, {1.0 / 8, 2.0 / 8, 1.0 / 8}, "penetration");
  expect_near(s.frequency, {3.0, 1.0, 1.0}, "frequency");
  expect_near(s.scr, {1.0, 1.0, 1.0}, "scr");
  expect_near(s.sole_buyers, {1.0, 1.0, 1.0}, "sole_buyers");
  expect_near(s.duplication, {1, 0, 0, 0, 1, 0, 0, 0, 1}, "duplication");
}

// ---- what a run records ----

class PanelRun : public ::testing::Test {
 protected:
  static constexpr int kPanel = 500;
  static void SetUpTestSuite() {
    ScenarioSpec spec = test::small_market(20000, 60);
    spec.burn_in = 4;
    spec.panel = kPanel;
    spec_ = new ScenarioSpec(spec);
    result_ = new RunResult(test::run(*spec_));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete spec_;
  }
  static double at(const char* name, std::size_t step, std::size_t brand) {
    const Series* s = result_->find(name);
    return s->values[step * s->shape[1] + brand];
  }
  static inline ScenarioSpec* spec_ = nullptr;
  static inline RunResult* result_ = nullptr;
};

TEST_F(PanelRun, RecordsOnlyPanelMembersInOrder) {
  const RunResult& r = *result_;
  ASSERT_EQ(r.panel_size, kPanel);
  ASSERT_FALSE(r.panel.empty());
  const PanelSample sample(static_cast<std::size_t>(spec_->customers), kPanel);
  for (std::size_t i = 0; i < r.panel.size(); ++i) {
    const PanelPurchase& p = r.panel[i];
    ASSERT_TRUE(sample.contains(p.customer)) << "record " << i << ": customer " << p.customer;
    ASSERT_GE(p.step, 0) << "record " << i;  // burn-in purchases are not recorded
    ASSERT_LT(p.step, r.steps) << "record " << i;
    ASSERT_LT(p.brand, r.brands.size()) << "record " << i;
    ASSERT_LT(p.cohort, r.cohorts.size()) << "record " << i;
    ASSERT_GE(p.satisfaction, 1) << "record " << i;
    ASSERT_LE(p.satisfaction, 3) << "record " << i;
    // Price paid is the brand's price that step: revenue / purchases.
    const auto t = static_cast<std::size_t>(p.step);
    EXPECT_NEAR(p.price, at("revenue", t, p.brand) / at("purchases", t, p.brand), 1e-9 * p.price) << "record " << i;
    if (i > 0) {
      const PanelPurchase& q = r.panel[i - 1];
      ASSERT_TRUE(q.step < p.step || (q.step == p.step && q.customer < p.customer))
          << "record " << i << " is not after record " << i - 1;
    }
  }
}

TEST_F(PanelRun, PurchaseRateMatchesThePopulation) {
  const RunResult& r = *result_;
  std::vector<double> panel_count(static_cast<std::size_t>(r.steps), 0.0);
  for (const auto& p : r.panel) panel_count[static_cast<std::size_t>(p.step)] += 1;
  double panel_total = 0.0, population_total = 0.0;
  for (std::size_t t = 0; t < panel_count.size(); ++t) {
    double purchases = 0.0;
    for (std::size_t b = 0; b < r.brands.size(); ++b) purchases += at("purchases", t, b);
    const double rate = purchases / static_cast<double>(r.customers);
    const double sd = std::sqrt(rate * (1.0 - rate) / kPanel);
    EXPECT_NEAR(panel_count[t] / kPanel, rate, 4.5 * sd) << "step " << t;
    panel_total += panel_count[t];
    population_total += purchases;
  }
  // Over the run: purchases per member vs per customer. Members keep their own rates (Gamma, shape 1.5),
  // so the panel mean varies by about 4% (1 sd); 0.15 is nearly 4 sd.
  const double panel_rate = panel_total / kPanel;
  const double population_rate = population_total / static_cast<double>(r.customers);
  EXPECT_NEAR(panel_rate / population_rate, 1.0, 0.15);
}

TEST_F(PanelRun, SummaryIsTheDefaultPeriodOfTheRecords) {
  const RunResult& r = *result_;
  ASSERT_TRUE(r.panel_summary.has_value());
  EXPECT_EQ(r.panel_summary->from, 8);  // the last 52 of 60 steps
  EXPECT_EQ(r.panel_summary->to, 60);
  EXPECT_EQ(*r.panel_summary, summarize_panel(r.panel, kPanel, static_cast<int>(r.brands.size()), 8, 60));
  EXPECT_GT(r.panel_summary->category_buyers, kPanel / 2);
  for (std::size_t b = 0; b < r.brands.size(); ++b) {
    EXPECT_GT(r.panel_summary->penetration[b], 0.0) << r.brands[b];
    EXPECT_EQ(r.panel_summary->duplication[b * r.brands.size() + b], 1.0) << r.brands[b];
  }
}

TEST(PanelRunPeriod, ChosenPeriodAndNoPanel) {
  ScenarioSpec spec = test::small_market(5000, 20);
  spec.panel = 200;
  spec.panel_from = 5;
  spec.panel_to = 15;
  const RunResult r = test::run(spec);
  ASSERT_TRUE(r.panel_summary.has_value());
  EXPECT_EQ(r.panel_summary->from, 5);
  EXPECT_EQ(r.panel_summary->to, 15);
  EXPECT_EQ(*r.panel_summary, summarize_panel(r.panel, 200, static_cast<int>(r.brands.size()), 5, 15));
  EXPECT_NE(*r.panel_summary, summarize_panel(r.panel, 200, static_cast<int>(r.brands.size()), 0, 20));

  spec.panel = 0;
  const RunResult none = test::run(spec);
  EXPECT_EQ(none.panel_size, 0);
  EXPECT_TRUE(none.panel.empty());
  EXPECT_FALSE(none.panel_summary.has_value());
}

}  // namespace
}  // namespace cxsim
