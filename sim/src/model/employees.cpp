#include <algorithm>
#include <cmath>

#include <Eigen/Core>

#include "cxsim/core/philox_batch.hpp"
#include "cxsim/core/rng.hpp"
#include "cxsim/model/workforce.hpp"

namespace cxsim {

void WorkforceSums::add(const WorkforceSums& o) {
  for (std::size_t b = 0; b < engagement.size(); ++b) {
    engagement[b] += o.engagement[b];
    effectiveness[b] += o.effectiveness[b];
    quits[b] += o.quits[b];
    ambassadors[b] += o.ambassadors[b];
  }
}

Workforce::Workforce(const ScenarioSpec& spec, std::int64_t customers) : spec_(spec) {
  const auto brands = spec.brands.size();
  offset_.assign(brands + 1, 0);
  for (std::size_t b = 0; b < brands; ++b) {
    const double wanted = spec.brands[b].employees_per_1k * static_cast<double>(customers) / 1000.0;
    offset_[b + 1] = offset_[b] + std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(wanted)));
  }
  const std::size_t n = offset_.back();
  brand_.resize(n);
  for (std::size_t b = 0; b < brands; ++b)
    std::fill(brand_.begin() + static_cast<std::ptrdiff_t>(offset_[b]),
              brand_.begin() + static_cast<std::ptrdiff_t>(offset_[b + 1]), static_cast<std::uint8_t>(b));
  engagement_.resize(n);
  values_.resize(n * static_cast<std::size_t>(spec.k()));
  tenure_.resize(n);
  double cum = 0.0;
  for (const auto& c : spec.cohorts) cohort_cum_.push_back(cum += c.fraction);
  // The initial workforce has served a while: tenure spread over two ramp
  // periods, engagement near its brand's equilibrium so the market starts settled.
  const auto& p = spec.employees;
  const auto k = static_cast<std::size_t>(spec.k());
  for (std::size_t e = 0; e < n; ++e) {
    hire(e, 0);
    const auto& policy = spec.brands[brand_[e]].policy;
    double target = p.baseline + p.ex_effect * policy.ex_investment;
    for (std::size_t d = 0; d < k; ++d) target += p.alignment_effect * values_[e * k + d] * policy.stance[d] * policy.action;
    CounterRng rng(spec.seed, Stream::kHire, 0, e);
    engagement_[e] = static_cast<float>(std::clamp(target + p.noise_sd * rng.normal(), 0.0, 1.0));
    tenure_[e] = static_cast<std::uint16_t>(rng.next_u32() % static_cast<std::uint32_t>(2 * p.ramp_steps + 1));
  }
}

void Workforce::hire(std::size_t e, int t) {
  // Stream kHire, agent e, step t: new hires are drawn from the population's cohorts.
  CounterRng rng(spec_.seed, Stream::kHire, static_cast<std::uint32_t>(t) + 1, e);
  const double u = rng.uniform() * cohort_cum_.back();
  const auto c = static_cast<std::size_t>(
      std::min<std::ptrdiff_t>(std::upper_bound(cohort_cum_.begin(), cohort_cum_.end(), u) - cohort_cum_.begin(),
                               static_cast<std::ptrdiff_t>(cohort_cum_.size()) - 1));
  const auto& cohort = spec_.cohorts[c];
  const auto k = static_cast<std::size_t>(spec_.k());
  for (std::size_t d = 0; d < k; ++d)
    values_[e * k + d] = static_cast<float>(std::clamp(cohort.values_mean[d] + cohort.values_sd * rng.normal(), -1.0, 1.0));
  engagement_[e] = static_cast<float>(std::clamp(spec_.employees.hire_engagement + 0.1 * rng.normal(), 0.0, 1.0));
  tenure_[e] = 0;
}

void Workforce::add_to(WorkforceSums& sums, std::size_t e) const {
  const auto b = brand_[e];
  const auto& p = spec_.employees;
  const double ramp = std::min(1.0, (tenure_[e] + 1.0) / p.ramp_steps);
  sums.engagement[b] += engagement_[e];
  sums.effectiveness[b] += engagement_[e] * ramp;
  // Without a branch: about half of the employees are ambassadors.
  sums.ambassadors[b] += static_cast<std::int64_t>(engagement_[e] >= p.ambassador_threshold);
}

WorkforceSums Workforce::measure(std::size_t begin, std::size_t end) const {
  WorkforceSums sums(static_cast<int>(spec_.brands.size()));
  for (std::size_t e = begin; e < end; ++e) add_to(sums, e);
  return sums;
}

WorkforceSums Workforce::update(std::size_t begin, std::size_t end, int t,
                                const std::vector<BrandWorkConditions>& conditions) {
  const auto& p = spec_.employees;
  const auto k = static_cast<Eigen::Index>(spec_.k());
  WorkforceSums sums(static_cast<int>(spec_.brands.size()));
  // Each employee's first Philox block (its normal and its uniform, unless the
  // ziggurat needs more words) computed for a chunk side by side; the draws
  // are the same as one generator per employee would make.
  constexpr int kChunk = 256;
  alignas(64) std::uint32_t blocks[4 * kChunk];
  for (std::size_t first = begin; first < end; first += kChunk) {
    const int count = static_cast<int>(std::min<std::size_t>(kChunk, end - first));
    philox_blocks(spec_.seed, Stream::kEmployee, static_cast<std::uint32_t>(t), first, count, 1, blocks);
    for (int j = 0; j < count; ++j) {
      const std::size_t e = first + static_cast<std::size_t>(j);
      const auto& cond = conditions[brand_[e]];
      const Eigen::Map<const Eigen::VectorXf> own(values_.data() + e * static_cast<std::size_t>(k), k);
      const Eigen::Map<const Eigen::VectorXf> lived(cond.lived_stance, k);
      const float target = cond.target_base + own.dot(lived);
      CounterRng rng(spec_.seed, Stream::kEmployee, static_cast<std::uint32_t>(t), e, blocks + 4 * j, 1);
      float x = engagement_[e] + static_cast<float>(p.adjust_rate) * (target - engagement_[e]) +
                static_cast<float>(p.noise_sd * rng.normal());
      engagement_[e] = std::clamp(x, 0.0f, 1.0f);
      const double gap = 1.0 - engagement_[e];
      if (rng.uniform() < p.turnover_base + p.turnover_slope * gap * gap) {
        ++sums.quits[brand_[e]];
        hire(e, t + 1);
      } else if (tenure_[e] < 0xFFFF) {
        ++tenure_[e];
      }
      add_to(sums, e);
    }
  }
  return sums;
}

}  // namespace cxsim
