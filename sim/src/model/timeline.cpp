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

/// The common case of next_purchase for count <= 64 lanes that share `from`:
/// the purchase falls in the run of steps with the demand in force at `from`
/// (demand is piecewise constant), where a guess from that demand is right or
/// one off. Sets out[l] for those lanes and returns a mask of the lanes left
/// to the general case (bit l): other runs, a rate of 0, or a check failed.
/// (N > 0: for count = N lanes, a constant the loops are unrolled for.)
template <int N>
[[gnu::always_inline]] inline std::uint64_t next_in_run_lanes(const double* cum, std::size_t end, std::size_t from,
                                                              double demand, double inv_demand, std::size_t run_end,
                                                              const double* rate, const double* e, int lanes,
                                                              std::int32_t* out) noexcept {
  constexpr int kMax = 64;
  const int count = N > 0 ? N : lanes;
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

CXSIM_CLONES std::uint64_t next_in_run(const double* cum, std::size_t end, std::size_t from, double demand,
                                       double inv_demand, std::size_t run_end, const double* rate, const double* e,
                                       int count, std::int32_t* out) noexcept {
  return next_in_run_lanes<0>(cum, end, from, demand, inv_demand, run_end, rate, e, count, out);
}
/// next_in_run for 16 lanes, the kernel's purchases side by side (kLanes).
CXSIM_CLONES std::uint64_t next_in_run16(const double* cum, std::size_t end, std::size_t from, double demand,
                                         double inv_demand, std::size_t run_end, const double* rate, const double* e,
                                         std::int32_t* out) noexcept {
  return next_in_run_lanes<16>(cum, end, from, demand, inv_demand, run_end, rate, e, 16, out);
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
  std::int32_t step = -1;
  next_purchases(after, &rate, &e, 1, &step);
  return step;
}

int Timeline::first_step_reaching(std::size_t from, double need) const noexcept {
  // Branch-free halving (the comparisons are unpredictable) over the steps
  // after the run of demand in force at `from`, or over the whole rest if
  // the answer may lie in that run after all (rounding).
  const double* cum = cum_demand_.data();
  const std::size_t first = from + 1, end = cum_demand_.size();
  // No purchase within the horizon (cum is nondecreasing): the common case
  // late in a run, for the customers who buy least often.
  if (cum[end - 1] < need) return -1;
  std::size_t lo = run_end_[from];
  if (lo > first && cum[lo - 1] >= need) lo = first;
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
  // For each: the smallest t > after with rate x (cum(t + 1) - cum(after + 1)) >= e,
  // i.e. the lower bound of need = cum(after + 1) + e / rate over
  // cum[after + 2 .. T], minus one; -1 for none or a rate of 0.
  const auto from = static_cast<std::size_t>(after + 1);
  const std::size_t end = cum_demand_.size();
  if (from + 1 >= end) {  // no step left (after >= T - 1)
    for (int l = 0; l < count; ++l) out[l] = -1;
    return;
  }
  for (int at = 0; at < count; at += 64) {
    const int lanes = std::min(64, count - at);
    std::uint64_t rest =
        lanes == 16 ? next_in_run16(cum_demand_.data(), end, from, demand_[from], inv_demand_[from], run_end_[from],
                                    rate + at, e + at, out + at)
                    : next_in_run(cum_demand_.data(), end, from, demand_[from], inv_demand_[from], run_end_[from],
                                  rate + at, e + at, lanes, out + at);
    for (; rest != 0; rest &= rest - 1) {
      const int l = at + std::countr_zero(rest);
      out[l] = rate[l] > 0.0 ? first_step_reaching(from, cum_demand_[from] + e[l] / rate[l]) : -1;
    }
  }
}

}  // namespace cxsim
