#pragma once
/// \file
/// A consumer panel: every purchase of a fixed random sample of customers, and
/// the brand-performance summary market researchers read from such panels
/// (penetration, purchase frequency, share of category requirements, sole
/// buyers, duplication of purchase). Definitions: docs/panel.md.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cxsim {

/// One purchase by a panel member.
struct PanelPurchase {
  std::int32_t step = 0;          ///< scenario step of the purchase
  std::uint32_t customer = 0;     ///< customer index (the panel member)
  std::uint8_t cohort = 0;        ///< cohort index at the time of purchase
  std::uint8_t brand = 0;         ///< brand bought
  std::uint8_t satisfaction = 0;  ///< 1 detractor, 2 passive, 3 promoter (Sentiment)
  double price = 0.0;             ///< price paid, currency units
  bool operator==(const PanelPurchase&) const = default;
};

/// Which customers are on the panel: `size` customers spread evenly over the
/// population (systematic sample; customers are in random order, so this is a
/// random sample). Membership is an O(1) test, so the step does not slow down.
class PanelSample {
 public:
  PanelSample() = default;
  PanelSample(std::size_t customers, std::size_t size) noexcept
      : n_(customers), size_(size < customers ? size : customers) {}
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// The j-th member's customer index, j < size().
  [[nodiscard]] std::size_t member(std::size_t j) const noexcept {
    return static_cast<std::size_t>(((2 * static_cast<std::uint64_t>(j) + 1) * n_) / (2 * size_));  // < 2^63 for n, size < 2^31
  }
  /// True if customer i is on the panel.
  [[nodiscard]] bool contains(std::size_t i) const noexcept {
    if (size_ == 0) return false;
    // member() is increasing; the only candidate is near i * size / n.
    const auto j = static_cast<std::size_t>((static_cast<std::uint64_t>(i) * size_) / n_);
    for (std::size_t c = j == 0 ? 0 : j - 1; c <= j + 1 && c < size_; ++c)
      if (member(c) == i) return true;
    return false;
  }

 private:
  std::size_t n_ = 0;
  std::size_t size_ = 0;
};

/// Panel summary of one period, per brand.
struct PanelSummary {
  int from = 0;                       ///< first step of the period
  int to = 0;                         ///< one past the last step
  std::int64_t panel_size = 0;        ///< panel members
  std::int64_t category_buyers = 0;   ///< members with at least one purchase in the period
  std::vector<double> penetration;    ///< share of panel members buying the brand at least once
  std::vector<double> frequency;      ///< mean purchases of the brand per buyer of the brand
  std::vector<double> scr;            ///< share of category requirements: brand purchases / all purchases of its buyers
  std::vector<double> sole_buyers;    ///< share of the brand's buyers who bought no other brand
  std::vector<double> duplication;    ///< brands x brands, row-major: share of X's buyers who also bought Y (diagonal 1)
  bool operator==(const PanelSummary&) const = default;
};

/// Summarises the purchases with from <= step < to. `brands` sets the vector sizes.
/// Ratios with no buyers are 0.
PanelSummary summarize_panel(const std::vector<PanelPurchase>& purchases, std::int64_t panel_size, int brands,
                             int from, int to);

}  // namespace cxsim
