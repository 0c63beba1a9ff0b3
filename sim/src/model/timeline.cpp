#include "cxsim/model/timeline.hpp"

#include <algorithm>
#include <cmath>

namespace cxsim {

namespace {
std::vector<float> powers(double base, int n) {
  std::vector<float> out(static_cast<std::size_t>(n) + 1);
  double p = 1.0;
  for (auto& x : out) {
    x = static_cast<float>(p);
    p *= base;
  }
  return out;
}
}  // namespace

Timeline::Timeline(const ScenarioSpec& spec)
    : steps_(spec.total_steps()), k_(static_cast<std::size_t>(spec.k())), cohorts_(spec.cohorts.size()) {
  const auto T = static_cast<std::size_t>(steps_);
  demand_.assign(T, spec.market.demand);
  values_.resize(T * cohorts_ * k_);
  salience_.resize(T * cohorts_);

  // Targets the cohorts drift toward, changed by events.
  std::vector<double> target_v(cohorts_ * k_), target_s(cohorts_);
  std::vector<double> mean_v(cohorts_ * k_), mean_s(cohorts_);
  for (std::size_t c = 0; c < cohorts_; ++c) {
    for (std::size_t d = 0; d < k_; ++d) target_v[c * k_ + d] = mean_v[c * k_ + d] = spec.cohorts[c].values_mean[d];
    target_s[c] = mean_s[c] = spec.cohorts[c].salience_mean;
  }
  auto event = spec.events.begin();
  for (std::size_t t = 0; t < T; ++t) {
    for (; event != spec.events.end() && event->step + spec.burn_in == static_cast<int>(t); ++event) {
      for (const auto& change : event->changes) {
        if (event->target == EventTarget::kMarket && change.field == EventField::kDemand) {
          std::fill(demand_.begin() + static_cast<std::ptrdiff_t>(t), demand_.end(), change.value);
        } else if (event->target == EventTarget::kCohort) {
          const auto c = static_cast<std::size_t>(event->index);
          if (change.field == EventField::kValuesMean)
            for (std::size_t d = 0; d < k_; ++d) target_v[c * k_ + d] = change.vector[d];
          else if (change.field == EventField::kSalienceMean)
            target_s[c] = change.value;
        }
      }
    }
    if (t > 0) {
      for (std::size_t i = 0; i < mean_v.size(); ++i) mean_v[i] += spec.values_drift * (target_v[i] - mean_v[i]);
      for (std::size_t c = 0; c < cohorts_; ++c) mean_s[c] += spec.salience_drift * (target_s[c] - mean_s[c]);
    }
    for (std::size_t i = 0; i < mean_v.size(); ++i) values_[t * cohorts_ * k_ + i] = static_cast<float>(mean_v[i]);
    for (std::size_t c = 0; c < cohorts_; ++c) salience_[t * cohorts_ + c] = static_cast<float>(mean_s[c]);
  }

  inv_demand_.resize(T);
  for (std::size_t t = 0; t < T; ++t) inv_demand_[t] = demand_[t] > 0.0 ? 1.0 / demand_[t] : 0.0;
  cum_demand_.resize(T + 1);
  cum_demand_[0] = 0.0;
  for (std::size_t t = 0; t < T; ++t) cum_demand_[t + 1] = cum_demand_[t] + demand_[t];

  loyalty_decay_ = powers(1.0 - spec.loyalty.decay, steps_);

  run_end_.resize(T);
  for (std::size_t t = T; t-- > 0;)
    run_end_[t] = t + 1 < T && demand_[t + 1] == demand_[t] ? run_end_[t + 1] : t + 1;
}

int Timeline::next_purchase(int after, double rate, double e) const noexcept {
  if (rate <= 0.0) return -1;
  // Smallest t > after with rate * (cum(t + 1) - cum(after + 1)) >= e.
  const double need = cum_demand_[static_cast<std::size_t>(after + 1)] + e / rate;
  // lower_bound over cum[after + 2 .. T] for need. Demand is piecewise
  // constant, so a guess from the demand in force is right or off by one;
  // a few probes of the real sums then give exactly the lower_bound.
  const std::size_t first = static_cast<std::size_t>(after + 2);
  const std::size_t end = cum_demand_.size();
  if (first >= end) return -1;
  const double* cum = cum_demand_.data();
  const auto from = static_cast<std::size_t>(after + 1);  // first candidate step
  const double d = demand_[from];
  const std::size_t run_end = run_end_[from];  // cum[first .. run_end] cover the steps with demand d
  std::size_t lo = run_end;
  if (d > 0.0) {
    // A guess of ceil(steps), floor + 1 (cheaper; the probes below make it exact).
    const double steps = (need - cum[from]) * inv_demand_[from];  // >= 0: need >= cum[from]
    if (steps <= static_cast<double>(run_end - from)) {
      lo = std::min(from + static_cast<std::size_t>(steps) + 1, run_end);
      while (lo > first && cum[lo - 1] >= need) --lo;
      while (lo < end && cum[lo] < need) ++lo;
      if (lo == end) return -1;
      return static_cast<int>(lo) - 1;
    }
  }
  if (lo > first && cum[lo - 1] >= need) lo = first;  // rounding: the answer may lie in the run after all
  // Elsewhere: branch-free halving (the comparisons are unpredictable).
  std::size_t len = end - lo;
  while (len > 1) {
    const std::size_t half = len / 2;
    lo = cum[lo + half - 1] < need ? lo + half : lo;
    len -= half;
  }
  lo += cum[lo] < need ? 1 : 0;
  if (lo == end) return -1;
  return static_cast<int>(lo) - 1;
}

}  // namespace cxsim
