#pragma once
/// \file
/// Employees of every brand: engagement, tenure, turnover, ambassadors, and the
/// service quality they deliver.
///
/// Each brand's employees are a contiguous range. The per-employee update is a
/// pure function of the employee's state, its brand's conditions and the
/// counter-based random numbers for (step, employee), so any split of the range
/// over threads gives the same state; sums are combined in block order.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cxsim/model/scenario.hpp"

namespace cxsim {

/// What a brand's employees face in one step.
struct BrandWorkConditions {
  float target_base = 0.0f;              ///< baseline + EX effect - workload effect
  float lived_stance[kMaxDimensions] = {};  ///< alignment_effect x stance x action
};

/// Sums over a block of employees, per brand.
struct WorkforceSums {
  std::vector<double> engagement, effectiveness;
  std::vector<std::int64_t> quits, ambassadors;
  explicit WorkforceSums(int brands = 0)
      : engagement(static_cast<std::size_t>(brands)), effectiveness(static_cast<std::size_t>(brands)),
        quits(static_cast<std::size_t>(brands)), ambassadors(static_cast<std::size_t>(brands)) {}
  void add(const WorkforceSums& o);
};

class Workforce {
 public:
  /// Hires the initial workforce for a market of `customers` customers.
  Workforce(const ScenarioSpec& spec, std::int64_t customers);

  [[nodiscard]] std::size_t size() const noexcept { return engagement_.size(); }
  [[nodiscard]] std::size_t employees(int brand) const noexcept {
    return offset_[static_cast<std::size_t>(brand) + 1] - offset_[static_cast<std::size_t>(brand)];
  }

  /// Updates employees [begin, end) for step t and returns their sums.
  WorkforceSums update(std::size_t begin, std::size_t end, int t,
                       const std::vector<BrandWorkConditions>& conditions);
  /// Sums over employees [begin, end) without changing them (initial state).
  [[nodiscard]] WorkforceSums measure(std::size_t begin, std::size_t end) const;

 private:
  void hire(std::size_t e, int t);
  void add_to(WorkforceSums& sums, std::size_t e) const;

  const ScenarioSpec& spec_;
  std::vector<std::size_t> offset_;
  std::vector<std::uint8_t> brand_;
  std::vector<float> engagement_;
  std::vector<float> values_;  ///< employees x K
  std::vector<std::uint16_t> tenure_;
  std::vector<double> cohort_cum_;
};

}  // namespace cxsim
