// The three passes of a step (StepEvents): collect finds exactly the
// customers with an event and their rewired slots, resolve fetches the words
// of their rewired contacts part by part of the word column, and the words a
// purchase then reads (CustomerKernel::contact_words) are exactly its
// contacts' visible words as SmallWorld::contacts defines them, for any
// rewiring probability, including customers whose ring wraps around.

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <memory>
#include <string>
#include <vector>

#include "cxsim/engine/simulation.hpp"
#include "cxsim/io/scenario_io.hpp"
#include "cxsim/model/customers.hpp"
#include "cxsim/model/step_events.hpp"

namespace cxsim {
namespace {

TEST(StepEvents, BlocksTileThePopulationAndPartsCoverTheWordColumn) {
  for (const std::size_t n : {1ul, 4095ul, 4097ul, 20000ul, 1000000ul, 10000000ul}) {
    StepEvents events;
    events.resize(n);
    const std::size_t size = events.block(0).end - events.block(0).begin;
    std::size_t next = 0;
    for (std::size_t b = 0; b < events.blocks(); ++b) {
      const auto& block = events.block(b);
      EXPECT_EQ(block.begin, next) << n;
      EXPECT_TRUE(block.end - block.begin == size || block.end == n) << n;
      next = block.end;
    }
    EXPECT_EQ(next, n);
    if (n > 4096) {
      EXPECT_TRUE(std::has_single_bit(size) && size >= 4096 && size <= 65536) << n;
    }
    EXPECT_GE(events.parts(), 1u);
    EXPECT_LE(events.parts(), 512u);
  }
}

TEST(StepEvents, SortKeepsEveryRequestAndOrdersThemByPart) {
  StepEvents events;
  events.resize(10'000'000);
  auto& block = events.block(3);
  std::uint64_t x = 12345;
  for (int r = 0; r < 5000; ++r) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    block.request.push_back(static_cast<std::uint32_t>((x >> 33) % 10'000'000));
  }
  events.sort_requests(block);
  ASSERT_EQ(block.part_begin.size(), events.parts() + 1);
  EXPECT_EQ(block.part_begin.front(), 0u);
  EXPECT_EQ(block.part_begin.back(), block.request.size());
  std::vector<int> used(block.request.size(), 0);
  for (std::size_t r = 0; r < block.request.size(); ++r) {
    ASSERT_LT(block.at[r], block.sorted.size());
    EXPECT_EQ(block.sorted[block.at[r]], block.request[r]);
    ++used[block.at[r]];
  }
  for (const int u : used) EXPECT_EQ(u, 1);  // a permutation
  // Parts are ascending ranges of customers: every contact of part q is
  // below every contact of a later part.
  std::uint32_t below = 0;  // the smallest contact a later part may hold
  for (std::size_t q = 0; q < events.parts(); ++q) {
    std::uint32_t top = below;
    for (std::uint32_t k = block.part_begin[q]; k < block.part_begin[q + 1]; ++k) {
      EXPECT_GE(block.sorted[k], below) << "part " << q;
      top = std::max(top, block.sorted[k] + 1);
    }
    below = top;
  }
  // Stable: requests of one part keep their order.
  std::vector<std::uint32_t> last(events.parts(), 0);
  std::vector<bool> seen(events.parts(), false);
  for (std::size_t r = 0; r < block.request.size(); ++r) {
    const auto q = static_cast<std::size_t>(
        std::upper_bound(block.part_begin.begin(), block.part_begin.end(), block.at[r]) - block.part_begin.begin() - 1);
    if (seen[q]) {
      EXPECT_GT(block.at[r], last[q]);
    }
    seen[q] = true;
    last[q] = block.at[r];
  }
}

/// Rewiring probability and degree (beyond 8, masks of two bytes).
struct Network {
  double rewire;
  int degree;
};

class StepEventsRun : public ::testing::TestWithParam<Network> {};

TEST_P(StepEventsRun, ContactWordsAreTheNetworkContactsWords) {
  const auto spec = std::make_shared<const ScenarioSpec>(
      load_scenario(std::string(CXSIM_SOURCE_DIR) + "/bench/scenarios/throughput.toml",
                    {"population.customers=20000", "network.rewire=" + std::to_string(GetParam().rewire),
                     "network.degree=" + std::to_string(GetParam().degree)}));
  Simulation sim(spec, ExecutionPolicy{1, true});
  for (int t = 0; t < 6; ++t) sim.step();  // words of different brands and sentiments
  const Population& pop = sim.population();
  const Timeline timeline(*spec);
  const SmallWorld network(spec->seed, pop.n, spec->degree, spec->rewire);
  const CustomerKernel kernel(*spec, timeline, network);
  const int t = sim.context().t + 1;  // the step to come
  StepEvents events;
  events.resize(pop.n);
  for (std::size_t b = 0; b < events.blocks(); ++b) kernel.collect(pop, t, events, events.block(b));
  for (std::size_t q = 0; q < events.parts(); ++q) events.resolve(q, pop.word.data());

  const auto degree = static_cast<std::size_t>(network.degree());
  std::vector<std::uint32_t> contacts(degree);
  std::vector<std::int32_t> words(degree);
  std::size_t found = 0, rewired_slots = 0;
  for (std::size_t b = 0; b < events.blocks(); ++b) {
    const auto& block = events.block(b);
    std::size_t expected_next = block.begin;
    std::uint32_t request = 0;
    for (std::size_t p = 0; p < block.who.size(); ++p) {
      const std::size_t i = block.who[p];
      // Exactly the customers of the block with an event at t, ascending.
      for (; expected_next < i; ++expected_next) ASSERT_NE(pop.next_event[expected_next], t) << expected_next;
      ASSERT_EQ(pop.next_event[i], t);
      expected_next = i + 1;
      const std::uint64_t mask = network.contacts(i, contacts.data());
      ASSERT_EQ(block.rewired[p], mask) << i;
      ASSERT_EQ(block.first_request[p], request) << i;
      kernel.contact_words(pop, block, p, request, words.data(), 1);
      for (std::size_t j = 0; j < degree; ++j)
        ASSERT_EQ(words[j], pop.word[contacts[j]]) << "customer " << i << " slot " << j;
      request += static_cast<std::uint32_t>(std::popcount(mask));
      rewired_slots += static_cast<std::size_t>(std::popcount(mask));
      ++found;
    }
    for (; expected_next < block.end; ++expected_next) ASSERT_NE(pop.next_event[expected_next], t);
    EXPECT_EQ(request, block.request.size());
  }
  EXPECT_GT(found, 500u);
  // About degree x rewire rewired slots per event.
  EXPECT_GE(static_cast<double>(rewired_slots), static_cast<double>(found * degree) * GetParam().rewire * 0.9);
  EXPECT_LE(static_cast<double>(rewired_slots), static_cast<double>(found * degree) * GetParam().rewire * 1.1);

  // Customers whose ring wraps around the ends, as events of one block built
  // by hand the way collect builds them.
  auto& block = events.block(0);
  block.who.clear();
  block.rewired.clear();
  block.request.clear();
  for (std::size_t i = 0; i < pop.n; i = i + 1 == degree ? pop.n - degree : i + 1) {
    const std::uint64_t mask = network.contacts(i, contacts.data());
    block.who.push_back(static_cast<std::uint32_t>(i));
    block.rewired.push_back(mask);
    for (std::size_t j = 0; j < degree; ++j)
      if ((mask >> j) & 1) block.request.push_back(contacts[j]);
  }
  events.sort_requests(block);
  for (std::size_t q = 0; q < events.parts(); ++q) events.resolve(q, pop.word.data());
  std::uint32_t request = 0;
  for (std::size_t p = 0; p < block.who.size(); ++p) {
    network.contacts(block.who[p], contacts.data());
    kernel.contact_words(pop, block, p, request, words.data(), 1);
    for (std::size_t j = 0; j < degree; ++j)
      ASSERT_EQ(words[j], pop.word[contacts[j]]) << "customer " << block.who[p] << " slot " << j;
    request += static_cast<std::uint32_t>(std::popcount(block.rewired[p]));
  }
  EXPECT_EQ(block.who.size(), 2 * degree);
}

INSTANTIATE_TEST_SUITE_P(Rewiring, StepEventsRun,
                         ::testing::Values(Network{0.0, 8}, Network{0.1, 8}, Network{1.0, 8}, Network{0.3, 12},
                                           Network{0.1, 64}),
                         [](const ::testing::TestParamInfo<Network>& param_info) {
                           const auto pct = static_cast<int>(param_info.param.rewire * 100);
                           return "rewire" + std::to_string(pct) + "pct_degree" + std::to_string(param_info.param.degree);
                         });

}  // namespace
}  // namespace cxsim
