// The same seed gives bit-identical results for any thread count, and the TBB
// stepper matches the serial reference stepper bit for bit.

#include <gtest/gtest.h>

#include <cstring>
#include <tuple>

#include "../support/market.hpp"
#include "cxsim/model/population.hpp"

namespace cxsim {
namespace {

void expect_identical(const RunResult& a, const RunResult& b) {
  ASSERT_EQ(a.series.size(), b.series.size());
  for (std::size_t j = 0; j < a.series.size(); ++j) {
    const auto& x = a.series[j].values;
    const auto& y = b.series[j].values;
    ASSERT_EQ(x.size(), y.size()) << a.series[j].name;
    EXPECT_EQ(0, std::memcmp(x.data(), y.data(), x.size() * sizeof(double))) << a.series[j].name << " differs";
  }
}

class DeterminismTest : public ::testing::TestWithParam<std::tuple<std::int64_t, std::uint64_t>> {};

TEST_P(DeterminismTest, ThreadCountsMatchSerialReference) {
  const auto [customers, seed] = GetParam();
  const ScenarioSpec spec = test::small_market(customers, 40, seed);
  const RunResult reference = test::run(spec, {1, true});
  for (int threads : {1, 2, 8}) {
    SCOPED_TRACE(threads);
    expect_identical(reference, test::run(spec, {threads, false}));
  }
}

INSTANTIATE_TEST_SUITE_P(SizesAndSeeds, DeterminismTest,
                         ::testing::Combine(::testing::Values<std::int64_t>(1000, 50000),
                                            ::testing::Values<std::uint64_t>(1, 987654321)));

TEST(Determinism, FinalPopulationStateIsIdentical) {
  auto spec = std::make_shared<const ScenarioSpec>(test::small_market(30000, 25));
  Simulation serial(spec, {1, true});
  Simulation parallel(spec, {8, false});
  serial.run();
  parallel.run();
  const Population& a = serial.population();
  const Population& b = parallel.population();
  EXPECT_TRUE(a.records == b.records);  // attributes, trust, commitment, exit steps
  EXPECT_TRUE(a.word == b.word);    // brand, sentiment, visible trust
  EXPECT_TRUE(a.state == b.state);  // last purchase, loyalty
  EXPECT_TRUE(a.next_event == b.next_event);
}

// Words written during a step reach readers only when the step's logs are
// published, and publishing logs in either order gives the same words.
TEST(Determinism, WordsArePublishedAfterTheStep) {
  Population pop;
  pop.resize(100, 4, 3);
  for (std::size_t i = 0; i < pop.n; ++i) pop.word[i] = Visible{1, Sentiment::kNone, 10}.pack();
  WordLog first, second;
  first.add(3, Visible{2, Sentiment::kPromoter, 200}.pack());
  first.add(70, Visible{0, Sentiment::kDetractor, 5}.pack());
  second.add(99, Visible{2, Sentiment::kPassive, 128}.pack());
  EXPECT_EQ(pop.current(3).brand, 1);  // logged, not yet visible
  EXPECT_EQ(pop.current(99).brand, 1);
  Population other;
  other.resize(100, 4, 3);
  std::memcpy(other.word.data(), pop.word.data(), pop.n * sizeof(std::uint16_t));
  pop.publish(first);
  pop.publish(second);
  other.publish(second);
  other.publish(first);
  EXPECT_TRUE(pop.word == other.word);
  EXPECT_EQ(pop.current(3).brand, 2);
  EXPECT_EQ(pop.current(3).sentiment, Sentiment::kPromoter);
  EXPECT_EQ(pop.current(3).trust, 200);
  EXPECT_EQ(pop.current(70).sentiment, Sentiment::kDetractor);
  EXPECT_EQ(pop.current(99).trust, 128);
  EXPECT_EQ(pop.current(4).brand, 1);  // untouched
}

TEST(Determinism, DifferentSeedsDiffer) {
  const RunResult a = test::run(test::small_market(5000, 10, 1));
  const RunResult b = test::run(test::small_market(5000, 10, 2));
  EXPECT_NE(a.find("purchases")->values, b.find("purchases")->values);
}

}  // namespace
}  // namespace cxsim
