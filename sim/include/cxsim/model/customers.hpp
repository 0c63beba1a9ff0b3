#pragma once
/// \file
/// The customer rules of one step: birth, purchase (utility, choice,
/// experience, loyalty, trust, word of mouth) and exit.
///
/// `CustomerKernel::process_range` handles the customers of a range for step t:
/// each reads only its own record and its contacts' visible words as of the
/// previous step, and writes only its own record and visible entry. It is
/// therefore safe to call for disjoint ranges concurrently, and the result does
/// not depend on the order of calls.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "cxsim/core/fastmath.hpp"
#include "cxsim/core/rng.hpp"
#include "cxsim/model/network.hpp"
#include "cxsim/model/panel.hpp"
#include "cxsim/model/population.hpp"
#include "cxsim/model/scenario.hpp"
#include "cxsim/model/timeline.hpp"

namespace cxsim {

/// Brand-level quantities customers see in one step.
struct BrandView {
  float time_cost = 0.0f;  ///< effort + hassle x support_rate x (1 - service quality)
  float money = 0.0f;      ///< price / reference price
  float action = 0.0f;     ///< share of the stance lived, [0, 1]
  float quality = 0.0f;    ///< P(support case resolved well)
  float loyalty_bonus = 0.0f;  ///< utility per unit loyalty: beta_loyalty x (1 + loyalty_program)
};

/// Purchaser segments of `segment_share`: side of segment_dimension, and salience.
enum Segment : int { kOpposes = 0, kNeutral = 1, kShares = 2, kSalient = 3, kSegments = 4 };

/// Per-step counts, summed over customers. Integer (or fixed-point) so that the
/// sum is exact in any order: results do not depend on the thread count.
struct Tally {
  explicit Tally(int brands = 0, int cohorts = 0);
  void add(const Tally& o);
  void clear();

  std::vector<std::int64_t> purchases, acquisitions, defections, promoters, detractors;
  std::vector<std::int64_t> support_cases;   ///< purchases that needed support
  std::vector<std::int64_t> base_delta;      ///< change in customer base (switches, exits, entries)
  std::vector<std::int64_t> cohort_purchases;  ///< cohorts x brands
  std::vector<std::int64_t> segment_purchases;  ///< kSegments x brands
  std::vector<PanelPurchase> panel;          ///< purchases of panel members (any order)
  std::int64_t values_weight_fx = 0;         ///< sum over purchasers of the values share of utility spread, x 2^20
};

/// Read-only inputs of the customer kernel for one step.
struct StepContext {
  int t = 0;
  int brands = 0;
  int k = 0;
  std::vector<BrandView> brand;
  /// Stances, brands x K (row-major), fixed capacity so nothing is allocated per customer.
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor, kMaxBrands, kMaxDimensions> stance;
  /// Leads: cumulative probabilities over 2 x brands entries (ambassador lead of
  /// brand b at 2b, marketing lead at 2b+1); a draw beyond the last means no lead.
  std::vector<float> lead_cum;
  std::vector<float> lead_lift;  ///< utility lift of each of the 2 x brands lead kinds
  /// Entrants' first brand: cumulative distribution over brands.
  std::vector<float> entrant_brand_cum;
  std::vector<double> price;     ///< price paid per brand (panel records)
  int report_step = 0;           ///< scenario step (t - burn_in) for panel records
  int segment_dim = 0;
  float segment_threshold = 0.2f;
  float salience_threshold = 0.5f;
  const PanelSample* panel = nullptr;  ///< null: no panel

  // Derived from the above by CustomerKernel::prepare, in the layout the purchase loop reads.
  std::array<float, kMaxBrands> time_term{};   ///< beta_time x time_cost
  std::array<float, kMaxBrands> money_term{};  ///< beta_money x money
  std::array<float, kMaxBrands> quality{};
  std::array<float, kMaxBrands> action{};
  std::array<float, kMaxBrands> loyalty_bonus{};
  std::array<float, kMaxDimensions * kMaxBrands> stance_by_dim{};  ///< K x brands: stance_t[d * brands + b]
};

/// Word of mouth and social proof for one purchaser at step t: reads the
/// visible words of its `degree` contacts as of step t - 1 and, in contact
/// order, counts users of each brand, net promoters among those with an
/// experience, and moves trust in their brand toward theirs (6.10, 6.11).
/// `trust`, `users` and `net_promoters` are per brand and updated in place.
/// All words are loaded first (independent loads), then applied without branches.
inline void word_of_mouth(const Population& pop, const std::uint32_t* contacts, int degree, int t, float wom_rate,
                          float* trust, float* users, float* net_promoters) noexcept {
  std::uint16_t seen[kMaxDegree];
  for (int j = 0; j < degree; ++j) seen[j] = VisibleState::word_for_readers(pop.visible_state(contacts[j]), t);
  static constexpr float kNetPromoter[4] = {0.0f, -1.0f, 0.0f, 1.0f};  // by Sentiment
  for (int j = 0; j < degree; ++j) {
    const Visible o = Visible::unpack(seen[j]);
    const auto sentiment = static_cast<unsigned>(o.sentiment);
    users[o.brand] += 1.0f;
    net_promoters[o.brand] += kNetPromoter[sentiment];
    const float before = trust[o.brand];
    trust[o.brand] = select(sentiment != 0, before + wom_rate * (o.trust / 255.0f - before), before);
  }
}

/// Applies the model's customer rules. Holds references to the immutable spec,
/// timeline and network; owns nothing mutable.
class CustomerKernel {
 public:
  CustomerKernel(const ScenarioSpec& spec, const Timeline& timeline, const SmallWorld& network);

  /// Creates customers [begin, end) of the initial population (birth at step 0,
  /// initial brand chosen by the base utilities). `ctx` gives brand conditions at step 0.
  void init(Population& pop, std::size_t begin, std::size_t end, const StepContext& ctx) const;

  /// Fills the derived fields of `ctx` from its brand views and stances.
  void prepare(StepContext& ctx) const;

  /// Processes every customer in [begin, end) with an event at step ctx.t (a
  /// purchase, or an exit and the entrant that replaces it). Tallies into `tally`.
  void process_range(Population& pop, std::size_t begin, std::size_t end, const StepContext& ctx,
                     Tally& tally) const;

  /// Values of customer i at step t: its cohort's drifting mean plus its own
  /// lasting deviation (K floats into `out`).
  void values_at(const Population& pop, std::size_t i, int t, float* out) const;
  /// Salience of customer i at step t (cohort's drifting mean plus own deviation).
  [[nodiscard]] float salience_at(const Population& pop, std::size_t i, int t) const;
  /// Loyalty of customer i at step t: decayed since its last purchase at
  /// decay x (1 - commitment) per step.
  [[nodiscard]] float loyalty_at(const Population& pop, std::size_t i, int t) const;

  /// The part of utility that does not depend on loyalty, contacts or leads:
  /// life (values alignment, shared stances credited by trust) - time (effort,
  /// hassle) - money (price).
  /// `parts` (optional) receives the life, time and money terms (before their signs).
  [[nodiscard]] float base_utility(float alignment, float trust, float salience, const float w[3],
                                   const BrandView& brand, float* parts = nullptr) const noexcept;

 private:
  /// Draws the lasting attributes and the exit step of customer i, born at step
  /// t; returns the step of its first purchase (kNever: none).
  /// `birth_blocks` and `schedule_block`: the first Philox blocks of the kBirth
  /// and kSchedule sequences if already computed, or null.
  std::uint16_t birth(Population& pop, std::size_t i, int t, int cohort, bool initial,
                      const std::uint32_t* birth_blocks, const std::uint32_t* schedule_block) const;
  void init_one(Population& pop, std::size_t i, const StepContext& ctx, const std::uint32_t* state,
                const std::uint32_t* born, const std::uint32_t* schedule) const;
  /// Computes the contacts of batch members who[0..count) (degree slots each)
  /// and prefetches the memory processing them will read.
  void prefetch_batch(const Population& pop, const std::uint32_t* who, int count, std::uint32_t* contacts) const;
  /// Processes the events of a batch whose contacts prefetch_batch computed.
  void run_batch(Population& pop, const std::uint32_t* who, int count, const std::uint32_t* contacts,
                 const StepContext& ctx, Tally& tally) const;
  /// Purchases of the batch members who[at[0..lanes)], lanes <= 16, processed
  /// in lockstep. `draws`: the x0..x3 words of the batch's purchase-stream
  /// blocks (two per member); `contacts`: degree slots per member.
  void purchase_lanes(Population& pop, const std::uint32_t* who, const int* at, int lanes,
                      const std::uint32_t* const draws[4], const std::uint32_t* contacts, const StepContext& ctx,
                      Tally& tally) const;
  void enter(Population& pop, std::size_t i, const StepContext& ctx, Tally& tally) const;
  [[nodiscard]] std::uint16_t exit_after(int after, CounterRng& rng) const;
  [[nodiscard]] std::uint8_t commitment(float salience, float trust, float alignment) const noexcept;

  const ScenarioSpec& spec_;
  const Timeline& timeline_;
  const SmallWorld& network_;
  std::vector<double> cohort_cum_;
  float beta_life_, beta_time_, beta_money_, beta_social_, beta_wom_;
  float hypocrisy_, inv_credible_range_;
  float gain_promoter_, gain_passive_, loss_detractor_;
  std::array<std::uint16_t, kMaxBrands> initial_trust_{};  ///< x 65535
  double log_survival_ = 0.0;  ///< ln(1 - replacement_rate), for replacement rates in (0, 1)
  std::array<float, 256> log_retention_{};  ///< ln(1 - decay x (1 - c / 255)) for commitment c (x 255)
};

}  // namespace cxsim
