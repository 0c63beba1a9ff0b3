#include "cxsim/model/timeline.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "cxsim/core/fastmath.hpp"

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

/// The common case of next_purchase for count <= 64 lanes: the purchase falls
/// in the run of steps with the demand in force at `from`. Sets out[l] for
/// those lanes and returns a mask of the lanes left to the general case (bit l).
CXSIM_CLONES std::uint64_t next_in_run(const double* cum, std::size_t end, std::size_t from, double demand,
                                       double inv_demand, std::size_t run_end, const double* rate, const double* e,
                                       int count, std::int32_t* out) noexcept {
  constexpr int kMax = 64;
  const auto first = static_cast<std::int64_t>(from) + 1, last = static_cast<std::int64_t>(end) - 1;
  const double c0 = cum[from];
  const auto run = static_cast<double>(run_end - from);
  alignas(64) double need[kMax];
  alignas(64) std::int64_t lo[kMax];
  alignas(64) std::int32_t rest[kMax];
  for (int l = 0; l < count; ++l) {
    need[l] = c0 + e[l] / rate[l];
    const double steps = (need[l] - c0) * inv_demand;
    const bool in_run = rate[l] > 0.0 && demand > 0.0 && steps <= run;
    const double guess = in_run ? steps : 0.0;  // converted only where it is small
    lo[l] = std::min(static_cast<std::int64_t>(from) + static_cast<std::int64_t>(guess) + 1,
                     static_cast<std::int64_t>(run_end));
    rest[l] = !in_run;
  }
  // The answer is the lower bound of `need` in cum[first .. end): the lo with
  // cum[lo - 1] < need (or lo = first) and cum[lo] >= need (or lo = end),
  // unique because cum is nondecreasing. The guess is right or one off:
  // one step down, one step up, then lanes that still miss go to the general case.
  // (Loads are unconditional, from indices kept in range, so that the loops vectorise.)
  for (int l = 0; l < count; ++l) {
    const double before = cum[lo[l] - 1];  // lo >= first >= 1
    lo[l] -= static_cast<std::int64_t>((lo[l] > first) & (before >= need[l]));
  }
  for (int l = 0; l < count; ++l) {
    const double at = cum[std::min(lo[l], last)];
    lo[l] += static_cast<std::int64_t>((lo[l] <= last) & (at < need[l]));
  }
  for (int l = 0; l < count; ++l) {
    const double before = cum[lo[l] - 1], at = cum[std::min(lo[l], last)];
    const bool below = (lo[l] == first) | (before < need[l]);
    const bool reaches = (lo[l] > last) | (at >= need[l]);
    rest[l] |= static_cast<std::int32_t>(!(below & reaches));
    out[l] = lo[l] > last ? -1 : static_cast<std::int32_t>(lo[l] - 1);
  }
  std::uint64_t mask = 0;
  for (int l = 0; l < count; ++l) mask |= static_cast<std::uint64_t>(rest[l]) << l;
  return mask;
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
  // Smallest t > after with rate * (cum(t + 1) - cum(after + 1)) >= e:
  // lower_bound over cum[after + 2 .. T] for need. Demand is piecewise
  // constant, so a guess from the demand in force is right or off by one;
  // a few probes of the real sums then give exactly the lower_bound.
  const std::size_t first = static_cast<std::size_t>(after + 2);
  const std::size_t end = cum_demand_.size();
  if (first >= end) return -1;  // no step left (after >= T - 1)
  const double need = cum_demand_[static_cast<std::size_t>(after + 1)] + e / rate;
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

void Timeline::next_purchases(int after, const double* rate, const double* e, int count,
                              std::int32_t* out) const noexcept {
  const auto from = static_cast<std::size_t>(after + 1);
  const std::size_t end = cum_demand_.size();
  if (from + 1 >= end) {  // no step left
    for (int l = 0; l < count; ++l) out[l] = -1;
    return;
  }
  for (int at = 0; at < count; at += 64) {
    const int lanes = std::min(64, count - at);
    std::uint64_t rest = next_in_run(cum_demand_.data(), end, from, demand_[from], inv_demand_[from], run_end_[from],
                                     rate + at, e + at, lanes, out + at);
    for (; rest != 0; rest &= rest - 1) {
      const int l = at + std::countr_zero(rest);
      out[l] = next_purchase(after, rate[l], e[l]);
    }
  }
}

}  // namespace cxsim
