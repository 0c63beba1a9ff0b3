// The same seed gives bit-identical results for any thread count, and the TBB
// stepper matches the serial reference stepper bit for bit.

#include <gtest/gtest.h>

#include <cstring>
#include <tuple>

#include "../support/market.hpp"

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
  EXPECT_TRUE(a.visible == b.visible);  // brand, word of mouth, loyalty, last purchase
  EXPECT_TRUE(a.next_event == b.next_event);
}

TEST(Determinism, DifferentSeedsDiffer) {
  const RunResult a = test::run(test::small_market(5000, 10, 1));
  const RunResult b = test::run(test::small_market(5000, 10, 2));
  EXPECT_NE(a.find("purchases")->values, b.find("purchases")->values);
}

}  // namespace
}  // namespace cxsim
