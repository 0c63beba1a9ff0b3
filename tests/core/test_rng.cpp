// Counter-based random numbers: pure functions of their counters, with the
// distributions the model relies on; purchase-time sampling is exact.

#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <vector>

#include "cxsim/core/fastmath.hpp"
#include "cxsim/core/philox_batch.hpp"
#include "cxsim/core/rng.hpp"
#include "cxsim/model/timeline.hpp"

namespace cxsim {
namespace {

TEST(CounterRng, IsAPureFunctionOfItsCounter) {
  CounterRng a(42, Stream::kPurchase, 7, 123456789);
  CounterRng b(42, Stream::kPurchase, 7, 123456789);
  for (int j = 0; j < 100; ++j) EXPECT_EQ(a.next_u32(), b.next_u32());
  CounterRng other_stream(42, Stream::kBirth, 7, 123456789);
  CounterRng other_step(42, Stream::kPurchase, 8, 123456789);
  CounterRng other_agent(42, Stream::kPurchase, 7, 123456790);
  CounterRng other_seed(43, Stream::kPurchase, 7, 123456789);
  const std::uint32_t x = CounterRng(42, Stream::kPurchase, 7, 123456789).next_u32();
  EXPECT_NE(x, other_stream.next_u32());
  EXPECT_NE(x, other_step.next_u32());
  EXPECT_NE(x, other_agent.next_u32());
  EXPECT_NE(x, other_seed.next_u32());
}

TEST(PhiloxBatch, BlocksEqualTheGeneratorsWords) {
  // Counts across the 256-lane chunks, several blocks per agent, agents above
  // 2^32 (the counter's second word) and a seed with both key words set.
  const std::uint64_t seed = 0x0123456789ABCDEFull;
  struct Case {
    Stream stream;
    std::uint32_t step;
    std::size_t first;
    int count;
    int blocks;
  };
  for (const Case& c : {Case{Stream::kEmployee, 3, 0, 1, 1}, Case{Stream::kEmployee, 51, 1000, 700, 1},
                        Case{Stream::kBirth, 0, 5, 300, 3}, Case{Stream::kSchedule, 9, (std::size_t{1} << 32) - 100, 200, 2}}) {
    std::vector<std::uint32_t> out(4 * static_cast<std::size_t>(c.count * c.blocks));
    philox_blocks(seed, c.stream, c.step, c.first, c.count, c.blocks, out.data());
    for (int a = 0; a < c.count; ++a) {
      CounterRng rng(seed, c.stream, c.step, c.first + static_cast<std::size_t>(a));
      for (int w = 0; w < 4 * c.blocks; ++w)
        ASSERT_EQ(out[4 * static_cast<std::size_t>(a * c.blocks) + static_cast<std::size_t>(w)], rng.next_u32())
            << "agent " << c.first + static_cast<std::size_t>(a) << ", word " << w;
    }
  }
}

TEST(PhiloxBatch, BlocksOfListedAgentsEqualTheGeneratorsWords) {
  // Agents out of order, repeated and far apart, across the 256-lane chunks.
  const std::uint64_t seed = 0x0123456789ABCDEFull;
  std::vector<std::uint32_t> who;
  for (std::uint32_t j = 0; j < 150; ++j) who.push_back(static_cast<std::uint32_t>(splitmix64(j)));
  who.push_back(who[3]);
  constexpr int kBlocks = 4;
  const int count = static_cast<int>(who.size());
  std::vector<std::uint32_t> out(4 * static_cast<std::size_t>(count * kBlocks));
  philox_blocks_of(seed, Stream::kBirth, 17, who.data(), count, kBlocks, out.data());
  for (int a = 0; a < count; ++a) {
    CounterRng rng(seed, Stream::kBirth, 17, who[static_cast<std::size_t>(a)]);
    for (int w = 0; w < 4 * kBlocks; ++w)
      ASSERT_EQ(out[4 * static_cast<std::size_t>(a * kBlocks) + static_cast<std::size_t>(w)], rng.next_u32())
          << "agent " << who[static_cast<std::size_t>(a)] << ", word " << w;
  }
}

TEST(PhiloxBatch, PrecomputedBlocksGiveTheSameDraws) {
  // A generator handed its first block draws what the plain one draws, past
  // that block too (normals that need more than one word, gammas).
  const std::uint64_t seed = 77;
  constexpr int kAgents = 2000;
  std::vector<std::uint32_t> blocks(4 * kAgents);
  philox_blocks(seed, Stream::kEmployee, 12, 0, kAgents, 1, blocks.data());
  for (int a = 0; a < kAgents; ++a) {
    CounterRng plain(seed, Stream::kEmployee, 12, static_cast<std::uint64_t>(a));
    CounterRng pre(seed, Stream::kEmployee, 12, static_cast<std::uint64_t>(a), blocks.data() + 4 * a, 1);
    for (int j = 0; j < 6; ++j) {
      ASSERT_EQ(plain.normal(), pre.normal()) << "agent " << a;
      ASSERT_EQ(plain.uniform(), pre.uniform()) << "agent " << a;
    }
    ASSERT_EQ(plain.gamma(0.7), pre.gamma(0.7)) << "agent " << a;
  }
}

TEST(CounterRng, UniformsStayInsideTheOpenInterval) {
  CounterRng r(1, Stream::kBirth, 0, 0);
  double sum = 0.0;
  constexpr int n = 200000;
  for (int j = 0; j < n; ++j) {
    const double u = r.uniform();
    const float f = r.uniform_f();
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    ASSERT_GT(f, 0.0f);
    ASSERT_LT(f, 1.0f);
    sum += u;
  }
  EXPECT_NEAR(sum / n, 0.5, 4 * std::sqrt(1.0 / 12 / n));
}

TEST(CounterRng, DistributionsHaveTheirMoments) {
  constexpr int n = 200000;
  double normal = 0.0, normal2 = 0.0, gamma = 0.0, gamma_small = 0.0, beta = 0.0, beta2 = 0.0;
  for (int j = 0; j < n; ++j) {
    CounterRng r(9, Stream::kBirth, 0, static_cast<std::uint64_t>(j));
    const double z = r.normal();
    normal += z;
    normal2 += z * z;
    gamma += r.gamma(1.5);
    gamma_small += r.gamma(0.5);
    const double b = r.beta_mean_sd(0.6, 0.2);
    beta += b;
    beta2 += b * b;
  }
  EXPECT_NEAR(normal / n, 0.0, 0.01);
  EXPECT_NEAR(normal2 / n, 1.0, 0.01);
  EXPECT_NEAR(gamma / n, 1.5, 0.015);
  EXPECT_NEAR(gamma_small / n, 0.5, 0.01);
  EXPECT_NEAR(beta / n, 0.6, 0.003);
  EXPECT_NEAR(std::sqrt(beta2 / n - (beta / n) * (beta / n)), 0.2, 0.003);
}

ScenarioSpec timeline_spec() {
  ScenarioSpec s;
  s.steps = 100;
  s.dimensions = {"a"};
  CohortSpec c;
  c.name = "all";
  c.fraction = 1.0;
  c.values_mean = {0.0};
  s.cohorts = {c};
  EventSpec drought;
  drought.step = 20;
  drought.changes = {{EventField::kDemand, 0.0, {}}};
  EventSpec back;
  back.step = 40;
  back.changes = {{EventField::kDemand, 2.0, {}}};
  s.events = {drought, back};
  return s;
}

TEST(Timeline, PurchaseTimesAreExactPerStepBernoulli) {
  // With intensity rate x demand(t), a purchase happens at each step
  // independently with probability 1 - exp(-rate x demand(t)).
  const Timeline timeline(timeline_spec());
  const double rate = 0.1;
  constexpr int n = 400000;
  std::vector<int> first(101, 0);
  for (int j = 0; j < n; ++j) {
    CounterRng r(3, Stream::kSchedule, 0, static_cast<std::uint64_t>(j));
    const int t = timeline.next_purchase(14, rate, r.exponential());
    ++first[t < 0 ? 100 : t];
  }
  // P(first purchase after step 14 is at step t).
  auto demand = [](int t) { return t < 20 ? 1.0 : t < 40 ? 0.0 : 2.0; };
  double survive = 1.0;
  for (int t = 15; t < 60; ++t) {
    const double p = 1.0 - std::exp(-rate * demand(t));
    const double expected = survive * p * n;
    EXPECT_NEAR(first[t], expected, 5 * std::sqrt(expected) + 1) << "step " << t;
    survive *= 1.0 - p;
  }
  for (int t = 20; t < 40; ++t) EXPECT_EQ(first[t], 0) << "no purchases while demand is 0";
  EXPECT_EQ(timeline.next_purchase(99, rate, 0.01), -1);
  EXPECT_EQ(timeline.next_purchase(5, 0.0, 0.01), -1);
}

TEST(Timeline, PurchaseTimeIsTheLowerBoundOfCumulativeDemand) {
  // next_purchase guesses from the demand in force and corrects on the real
  // sums: it must equal the plain binary search, across demand changes and
  // the zero-demand stretch, for any start, rate and draw.
  const ScenarioSpec spec = timeline_spec();
  const Timeline timeline(spec);
  std::vector<double> cum(1, 0.0);
  for (int t = 0; t < timeline.steps(); ++t) cum.push_back(cum.back() + timeline.demand(t));
  for (int j = 0; j < 200000; ++j) {
    CounterRng r(11, Stream::kSchedule, 0, static_cast<std::uint64_t>(j));
    const int after = static_cast<int>(r.next_u32() % static_cast<std::uint32_t>(timeline.steps() + 1)) - 1;
    const double rate = 0.001 + 3.0 * r.uniform() * r.uniform();
    const double e = r.exponential();
    const double need = cum[static_cast<std::size_t>(after + 1)] + e / rate;
    const auto it = std::lower_bound(cum.begin() + after + 2, cum.end(), need);
    const int expected = after + 2 > static_cast<int>(cum.size()) || it == cum.end()
                             ? -1
                             : static_cast<int>(it - cum.begin()) - 1;
    ASSERT_EQ(timeline.next_purchase(after, rate, e), expected) << "after " << after << ", rate " << rate << ", e " << e;
  }
}

TEST(Timeline, SideBySidePurchaseTimesEqualOneByOne) {
  // next_purchases (the kernel's form: the purchasers of one step side by
  // side) must give next_purchase's answer lane by lane: before, in and
  // after the zero-demand stretch, at the horizon, with zero rates, and for
  // any group size.
  const Timeline timeline(timeline_spec());
  for (int after = -1; after <= timeline.steps(); ++after) {
    for (int count : {1, 16, 64, 100}) {
      std::vector<double> rate(static_cast<std::size_t>(count)), e(rate.size());
      for (int l = 0; l < count; ++l) {
        CounterRng r(17, Stream::kSchedule, static_cast<std::uint32_t>(after + 1), static_cast<std::uint64_t>(l));
        rate[static_cast<std::size_t>(l)] = l % 13 == 5 ? 0.0 : 0.001 + 3.0 * r.uniform() * r.uniform();
        e[static_cast<std::size_t>(l)] = l % 11 == 3 ? 0.0 : r.exponential();
      }
      std::vector<std::int32_t> out(rate.size(), -7);
      timeline.next_purchases(after, rate.data(), e.data(), count, out.data());
      for (std::size_t l = 0; l < rate.size(); ++l)
        ASSERT_EQ(out[l], timeline.next_purchase(after, rate[l], e[l]))
            << "after " << after << ", lane " << l << ", rate " << rate[l] << ", e " << e[l];
    }
  }
}

TEST(FastMath, LogIsWithinOneUlpOfTheLibrary) {
  // log_positive (branch-free, vectorisable) against std::log over the
  // uniforms the kernel feeds it, (w + 0.5) / 2^32, and a spread of magnitudes.
  int differ = 0;
  auto check = [&](double x) {
    const double got = log_positive(x), want = std::log(x);
    if (got != want) {
      ++differ;
      ASSERT_LE(std::abs(got - want), std::abs(std::nextafter(want, 0.0) - want)) << "x = " << x;
    }
  };
  for (std::uint64_t j = 0; j < 2000000; ++j) {
    const auto w = static_cast<std::uint32_t>(splitmix64(j));
    check((static_cast<double>(w) + 0.5) * 0x1.0p-32);
  }
  for (std::uint32_t w : {0u, 1u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu})
    check((static_cast<double>(w) + 0.5) * 0x1.0p-32);
  for (double x = 1e-300; x < 1e300; x *= 1.37) check(x);
  for (double x : {1.0, 2.0, 0.5, 0.7071067811865476, 1.4142135623730951, 1.0 + 1e-12, 1.0 - 1e-12}) check(x);
  EXPECT_EQ(log_positive(1.0), 0.0);
  // Off by one ulp only now and then.
  EXPECT_LT(differ, 2000000 / 10);
}

TEST(Timeline, CohortMeansDriftTowardMovedTargets) {
  ScenarioSpec s = timeline_spec();
  s.salience_drift = 0.1;
  EventSpec shift;
  shift.step = 10;
  shift.target = EventTarget::kCohort;
  shift.index = 0;
  shift.changes = {{EventField::kSalienceMean, 0.9, {}}};
  s.events.insert(s.events.begin(), shift);  // events are sorted by step
  const Timeline timeline(s);
  EXPECT_FLOAT_EQ(timeline.salience_mean(9, 0), 0.5f);
  EXPECT_NEAR(timeline.salience_mean(10, 0), 0.5 + 0.1 * 0.4, 1e-6);
  EXPECT_NEAR(timeline.salience_mean(99, 0), 0.9 - 0.4 * std::pow(0.9, 90), 1e-5);
}

}  // namespace
}  // namespace cxsim
