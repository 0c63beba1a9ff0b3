#pragma once
/// \file
/// The customer rules of one step: birth, purchase (utility, choice,
/// experience, loyalty, trust, word of mouth) and exit.
///
/// `CustomerKernel::process` handles one customer for step t: it reads only the
/// customer's own columns and its contacts' visible words of the previous step,
/// and writes only its own columns and its own visible word of this step. It is
/// therefore safe to call for different customers concurrently, and the result
/// does not depend on the order of calls.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

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
};

/// Applies the model's customer rules. Holds references to the immutable spec,
/// timeline and network; owns nothing mutable.
class CustomerKernel {
 public:
  CustomerKernel(const ScenarioSpec& spec, const Timeline& timeline, const SmallWorld& network);

  /// Creates customer i of the initial population (birth at step 0, initial
  /// brand chosen by the base utilities). `ctx` gives brand conditions at step 0.
  void init(Population& pop, std::size_t i, const StepContext& ctx) const;

  /// Processes customer i at step ctx.t if it has an event then. Tallies into `tally`.
  void process(Population& pop, std::size_t i, const StepContext& ctx, Tally& tally) const;

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
  void birth(Population& pop, std::size_t i, int t, int cohort, bool initial) const;
  void purchase(Population& pop, std::size_t i, const StepContext& ctx, Tally& tally) const;
  void enter(Population& pop, std::size_t i, const StepContext& ctx, Tally& tally) const;
  void schedule_exit(Population& pop, std::size_t i, int after, CounterRng& rng) const;
  void schedule_purchase(Population& pop, std::size_t i, int after, CounterRng& rng) const;
  [[nodiscard]] std::uint8_t commitment(float salience, float trust, float alignment) const noexcept;

  const ScenarioSpec& spec_;
  const Timeline& timeline_;
  const SmallWorld& network_;
  std::vector<double> cohort_cum_;
  float beta_life_, beta_time_, beta_money_, beta_social_, beta_wom_;
  float hypocrisy_, inv_credible_range_;
};

}  // namespace cxsim
