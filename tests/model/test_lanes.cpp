// The customer kernel processes purchasers in lockstep, one SIMD lane each.
// A purchaser's results must not depend on its lane, on the other purchasers
// sharing its group, or on how full the group is; the standalone word of
// mouth (benchmarked on its own) must equal the one inside lanes_choose. The
// same holds for the finish (lanes_finish). Word of mouth must also equal a
// plain one-contact-at-a-time transcription for any brand count and degree.

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cxsim/engine/simulation.hpp"
#include "cxsim/io/scenario_io.hpp"
#include "cxsim/model/customers.hpp"

namespace {

using cxsim::kLanes;
using cxsim::PurchaseLanes;

struct LaneResult {
  std::vector<std::uint16_t> trust;
  std::vector<float> trust_after_wom, users, net, v;
  float salience, loyalty, action, align, trust_chosen;
  std::int32_t chosen;
  std::uint32_t values_weight_fx;
  // lanes_finish
  std::vector<std::int32_t> finish;  // support, promoter, detractor, segment, salient, word, loyalty, commitment
  double wait;

  bool operator==(const LaneResult& o) const {
    auto same = [](const auto& a, const auto& b) {
      return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
    };
    auto bits = [](float x) { return std::bit_cast<std::uint32_t>(x); };
    return same(trust, o.trust) && same(trust_after_wom, o.trust_after_wom) && same(users, o.users) &&
           same(net, o.net) && same(v, o.v) && bits(salience) == bits(o.salience) && bits(loyalty) == bits(o.loyalty) &&
           bits(action) == bits(o.action) && bits(align) == bits(o.align) &&
           bits(trust_chosen) == bits(o.trust_chosen) && chosen == o.chosen && values_weight_fx == o.values_weight_fx &&
           finish == o.finish && std::bit_cast<std::uint64_t>(wait) == std::bit_cast<std::uint64_t>(o.wait);
  }
};

class Lanes : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = std::make_shared<const cxsim::ScenarioSpec>(cxsim::load_scenario(
        std::string(CXSIM_SOURCE_DIR) + "/bench/scenarios/throughput.toml", {"population.customers=20000"}));
    sim_ = std::make_unique<cxsim::Simulation>(spec_, cxsim::ExecutionPolicy{1, true});
    for (int t = 0; t < 20; ++t) sim_->step();  // past the service cut and the first events
    timeline_ = std::make_unique<cxsim::Timeline>(*spec_);
    network_ = std::make_unique<cxsim::SmallWorld>(spec_->seed, sim_->population().n, spec_->degree, spec_->rewire);
    kernel_ = std::make_unique<cxsim::CustomerKernel>(*spec_, *timeline_, *network_);
  }

  /// Runs the lane functions on `customers` (at most kLanes) and returns each
  /// lane's results; vector_lanes 8 or 16 overrides the kernel's vector width.
  std::vector<LaneResult> run(const std::vector<std::uint32_t>& customers, int vector_lanes = 0) const {
    const cxsim::StepContext& ctx = sim_->context();
    const auto degree = static_cast<std::size_t>(network_->degree());
    std::vector<std::uint32_t> contacts(kLanes * degree);
    const std::uint32_t* contacts_of[kLanes] = {};
    const int lanes = static_cast<int>(customers.size());
    for (int e = 0; e < lanes; ++e) {
      contacts_of[e] = contacts.data() + static_cast<std::size_t>(e) * degree;
      network_->contacts(customers[static_cast<std::size_t>(e)], contacts.data() + static_cast<std::size_t>(e) * degree);
    }
    auto g = std::make_unique<PurchaseLanes>();
    kernel_->gather_lanes(sim_->population(), ctx.t, customers.data(), contacts_of, 1, lanes, *g);
    for (int e = 0; e < lanes; ++e) {
      // Draws that depend on the customer only, spread over (0, 1).
      const auto c = static_cast<float>(customers[static_cast<std::size_t>(e)] % 997);
      g->lead_draw[e] = (c + 0.5f) / 997.0f;
      g->choice_draw[e] = 1.0f - (c + 0.5f) / 997.0f;
      g->need_draw[e] = (c + 0.25) / 997.0;
      g->resolve_draw[e] = 1.0 - (c + 0.25) / 997.0;
      g->outcome_draw[e] = (static_cast<double>(customers[static_cast<std::size_t>(e)] % 991) + 0.5) / 991.0;
      g->wait_draw[e] = (static_cast<double>(customers[static_cast<std::size_t>(e)] % 983) + 0.5) / 983.0;
    }
    cxsim::LaneCoefficients coefficients = kernel_->lane_coefficients();
    if (vector_lanes != 0) coefficients.vector_lanes = vector_lanes;
    cxsim::lanes_word_of_mouth(*g, coefficients);
    const auto standalone = std::make_unique<PurchaseLanes>(*g);
    cxsim::lanes_choose(*g, coefficients, ctx);  // does word of mouth again, brand by brand
    for (int b = 0; b < ctx.brands; ++b)
      EXPECT_EQ(std::memcmp(standalone->trust[b], g->trust[b], sizeof(g->trust[b])), 0) << "brand " << b;
    cxsim::lanes_finish(*g, coefficients, ctx);
    std::vector<LaneResult> out;
    for (int e = 0; e < lanes; ++e) {
      LaneResult r{};
      for (int b = 0; b < ctx.brands; ++b) {
        r.trust.push_back(g->trust_out[b][e]);
        r.trust_after_wom.push_back(g->trust[b][e]);
        r.users.push_back(g->users[b][e]);
        r.net.push_back(g->net[b][e]);
      }
      for (int d = 0; d < ctx.k; ++d) r.v.push_back(g->v[d][e]);
      r.salience = g->salience[e];
      r.loyalty = g->loyalty[e];
      r.action = g->action[e];
      r.align = g->align[e];
      r.trust_chosen = g->trust_chosen[e];
      r.chosen = g->chosen[e];
      r.values_weight_fx = g->values_weight_fx[e];
      r.finish = {g->support[e], g->promoter[e],   g->detractor[e],   g->segment[e],
                  g->salient[e], g->word_after[e], g->loyalty_out[e], g->commitment_out[e]};
      r.wait = g->wait[e];
      // The packed rows hold trust_out four brands to a word.
      for (int b = 0; b < ctx.brands; ++b)
        EXPECT_EQ((g->trust_packed[b / 4][e] >> (16 * (b % 4))) & 0xFFFF, g->trust_out[b][e]) << "brand " << b;
      out.push_back(r);
    }
    return out;
  }

  std::shared_ptr<const cxsim::ScenarioSpec> spec_;
  std::unique_ptr<cxsim::Simulation> sim_;
  std::unique_ptr<cxsim::Timeline> timeline_;
  std::unique_ptr<cxsim::SmallWorld> network_;
  std::unique_ptr<cxsim::CustomerKernel> kernel_;
};

// Two 8-lane halves (AVX2 and SSE2 machines) and one 16-lane vector
// (AVX-512) give the same bits, for a full and for a partial group.
TEST_F(Lanes, HalvesEqualOneVector) {
  std::vector<std::uint32_t> group;
  for (std::uint32_t j = 0; j < kLanes; ++j) group.push_back(101 + 1187 * j);
  EXPECT_TRUE(run(group, 8) == run(group, 16));
  group.resize(11);
  EXPECT_TRUE(run(group, 8) == run(group, 16));
}

TEST_F(Lanes, ResultsDependOnTheCustomerOnly) {
  // 16 customers in a full group, then each alone, then 11 of them in reversed
  // order (5 lanes unused): every customer's results must be identical.
  std::vector<std::uint32_t> group;
  for (std::uint32_t j = 0; j < kLanes; ++j) group.push_back(37 + 1201 * j);
  const auto together = run(group);
  std::vector<int> chosen_brands;
  for (std::size_t e = 0; e < group.size(); ++e) {
    const auto alone = run({group[e]});
    EXPECT_TRUE(alone[0] == together[e]) << "customer " << group[e] << " in lane " << e << " vs alone";
    chosen_brands.push_back(together[e].chosen);
  }
  std::vector<std::uint32_t> reversed(group.rbegin() + 5, group.rend());  // group[10], ..., group[0]
  const auto partial = run(reversed);
  for (std::size_t e = 0; e < reversed.size(); ++e)
    EXPECT_TRUE(partial[e] == together[reversed.size() - 1 - e]) << "customer " << reversed[e] << " in a partial group";
  // The draws differ per customer, so the test sees more than one brand chosen.
  std::sort(chosen_brands.begin(), chosen_brands.end());
  EXPECT_GT(std::unique(chosen_brands.begin(), chosen_brands.end()) - chosen_brands.begin(), 1);
}

}  // namespace

namespace {

// Word of mouth as the model states it, one lane and one contact at a time
// with float sums: lanes_word_of_mouth (blocks of brands in registers, users
// and net promotion counted in one integer) must give the same bits, for
// brand counts below, at and above one block of 8 and up to the maximum, as
// one 16-lane vector and as two halves of 8.
TEST(LanesWordOfMouth, EqualsOneContactAtATime) {
  std::uint64_t state = 12345;
  auto next = [&state] { return static_cast<std::uint32_t>((state = cxsim::splitmix64(state)) >> 32); };
  for (const int vector_lanes : {8, 16})
  for (const int brands : {1, 3, 8, 13, cxsim::kMaxBrands}) {
    for (const int degree : {0, 2, 8, 20}) {
      auto g = std::make_unique<PurchaseLanes>();
      cxsim::LaneCoefficients c{};
      c.vector_lanes = vector_lanes;
      c.brands = brands;
      c.degree = degree;
      c.wom_rate = 0.15f;
      for (int b = 0; b < brands; ++b)
        for (int e = 0; e < kLanes; ++e) g->trust_in[b][e] = static_cast<std::int32_t>(next() % 65536);
      for (int j = 0; j < degree; ++j)
        for (int e = 0; e < kLanes; ++e) {
          // A brand in use, a sentiment (none, detractor, passive, promoter) and a trust byte.
          const auto brand = next() % static_cast<std::uint32_t>(brands);
          g->word[j][e] = static_cast<std::int32_t>(brand | (next() % 4) << 6 | (next() % 256) << 8);
        }
      cxsim::lanes_word_of_mouth(*g, c);
      for (int e = 0; e < kLanes; ++e)
        for (int b = 0; b < brands; ++b) {
          float users = 0.0f, net = 0.0f, trust = static_cast<float>(g->trust_in[b][e]) / cxsim::kUnit16;
          for (int j = 0; j < degree; ++j) {
            const std::int32_t word = g->word[j][e];
            if ((word & 0x3F) != b) continue;
            const int sentiment = (word >> 6) & 3;
            users += 1.0f;
            net += sentiment == 3 ? 1.0f : sentiment == 1 ? -1.0f : 0.0f;
            if (sentiment != 0) trust = trust + c.wom_rate * (static_cast<float>(word >> 8) / 255.0f - trust);
          }
          const auto where = std::to_string(vector_lanes) + " lanes per vector, brands " + std::to_string(brands) +
                             ", degree " + std::to_string(degree) + ", lane " +
                             std::to_string(e) + ", brand " + std::to_string(b);
          ASSERT_EQ(std::bit_cast<std::uint32_t>(g->users[b][e]), std::bit_cast<std::uint32_t>(users)) << where;
          ASSERT_EQ(std::bit_cast<std::uint32_t>(g->net[b][e]), std::bit_cast<std::uint32_t>(net)) << where;
          ASSERT_EQ(std::bit_cast<std::uint32_t>(g->trust[b][e]), std::bit_cast<std::uint32_t>(trust)) << where;
        }
    }
  }
}

}  // namespace
