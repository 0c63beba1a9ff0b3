#pragma once
/// \file
/// Everything about a run that is known before it starts: market demand per
/// step and its running sum (for sampling purchase times), the drifting cohort
/// targets for values and salience, and decay factor tables.
///
/// All of a scenario's events are scheduled, so these are computed once; the
/// customer kernel then evaluates any customer's values (cohort mean at t plus
/// its own deviation) or decayed loyalty in closed form.

#include <cstdint>
#include <vector>

#include "cxsim/model/scenario.hpp"

namespace cxsim {

/// Steps here are internal: burn-in steps come first, so scenario step s is
/// internal step s + burn_in.
class Timeline {
 public:
  explicit Timeline(const ScenarioSpec& spec);

  [[nodiscard]] int steps() const noexcept { return steps_; }
  /// Demand multiplier in force at step t.
  [[nodiscard]] double demand(int t) const noexcept { return demand_[static_cast<std::size_t>(t)]; }
  /// Drifting mean values of cohort c at step t (K floats).
  [[nodiscard]] const float* values_mean(int t, int c) const noexcept {
    return values_.data() + (static_cast<std::size_t>(t) * cohorts_ + static_cast<std::size_t>(c)) * k_;
  }
  /// Drifting mean salience of cohort c at step t.
  [[nodiscard]] float salience_mean(int t, int c) const noexcept {
    return salience_[static_cast<std::size_t>(t) * cohorts_ + static_cast<std::size_t>(c)];
  }
  /// (1 - loyalty.decay)^d.
  [[nodiscard]] const float* loyalty_decay() const noexcept { return loyalty_decay_.data(); }

  /// First step after `after` (which may be -1) at which a customer with purchase
  /// rate `rate` buys, given an Exp(1) draw `e`: purchases are a Poisson process
  /// with intensity rate x demand(t), observed once per step. kNever-compatible:
  /// returns -1 if there is none before the horizon.
  [[nodiscard]] int next_purchase(int after, double rate, double e) const noexcept;
  /// next_purchase(after, rate[l], e[l]) for l in [0, count), into
  /// out[l]: the same results, computed side by side (vector instructions) for
  /// the purchasers of one step, who share `after`.
  void next_purchases(int after, const double* rate, const double* e, int count, std::int32_t* out) const noexcept;

 private:
  /// The step before the first cum index in (from, T] whose cumulative demand
  /// reaches `need` (-1 if none), by halving: next_purchase's general case.
  [[nodiscard]] int first_step_reaching(std::size_t from, double need) const noexcept;

  int steps_;
  std::size_t k_;
  std::size_t cohorts_;
  std::vector<double> demand_;
  std::vector<double> inv_demand_;  ///< 1 / demand_ (0 where demand is 0): for a first guess only
  std::vector<double> cum_demand_;  ///< cum_demand_[t] = sum of demand over steps < t
  std::vector<std::size_t> run_end_;  ///< first step after t with a different demand (or the horizon)
  std::vector<float> values_;       ///< steps x cohorts x K
  std::vector<float> salience_;     ///< steps x cohorts
  std::vector<float> loyalty_decay_;
};

}  // namespace cxsim
