#pragma once
/// \file
/// The customers, stored column-wise (structure of arrays).
///
/// Layout is chosen for throughput at tens of millions of customers: compact
/// fixed-point columns, per-customer times instead of per-step flags (work is
/// proportional to the customers who act in a step, not to the population),
/// and only the state neighbours read (the "visible" word) double-buffered.
/// Bytes per customer: 26 + K + 2B (K dimensions, B brands); 46 at K=4, B=8.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace cxsim {

/// Step value meaning "never" in the 16-bit time columns.
inline constexpr std::uint16_t kNever = 0xFFFF;

/// Satisfaction class of a customer's last experience.
enum class Sentiment : std::uint8_t { kNone = 0, kDetractor = 1, kPassive = 2, kPromoter = 3 };

/// What a customer's contacts can see of it: current brand, sentiment of the
/// last experience, and trust in the current brand's values (8-bit).
/// Packed into 16 bits: brand (bits 0-5), sentiment (6-7), trust (8-15).
struct Visible {
  std::uint8_t brand = 0;
  Sentiment sentiment = Sentiment::kNone;
  std::uint8_t trust = 0;  ///< trust x 255

  [[nodiscard]] static constexpr Visible unpack(std::uint16_t w) noexcept {
    return {static_cast<std::uint8_t>(w & 0x3F), static_cast<Sentiment>((w >> 6) & 0x3),
            static_cast<std::uint8_t>(w >> 8)};
  }
  [[nodiscard]] constexpr std::uint16_t pack() const noexcept {
    return static_cast<std::uint16_t>(brand | (static_cast<unsigned>(sentiment) << 6) |
                                      (static_cast<unsigned>(trust) << 8));
  }
};

/// Fixed-point scales of the compact columns.
inline constexpr float kUnit16 = 65535.0f;      ///< loyalty and trust: value x 65535
inline constexpr float kDevScale = 63.5f;       ///< values and salience deviations in [-2, 2]: x 63.5
inline constexpr float kWeightScale = 85.0f;    ///< life/time/money weights in [0, 3]: x 85

/// All customers. Index i is the customer's position on the network ring.
struct Population {
  std::size_t n = 0;  ///< customers
  int k = 0;          ///< value dimensions
  int brands = 0;

  // Set at birth (initial population or entry), never changed afterwards.
  std::vector<std::uint8_t> cohort;
  std::vector<std::uint16_t> birth;        ///< step of birth (0 for the initial population)
  std::vector<std::int8_t> values_dev;     ///< n x k: own values minus the cohort mean at birth (lasting)
  std::vector<std::int8_t> salience_dev;   ///< own salience minus the cohort mean at birth (lasting)
  std::vector<std::uint8_t> weights;       ///< n x 3: life, time, money weights (sum 3)
  std::vector<float> rate;                 ///< category purchase rate per step at demand 1

  // Schedule: the next step at which something happens to the customer.
  std::vector<std::uint16_t> next_event;     ///< min of the three below (and catch-up of the visible word)
  std::vector<std::uint16_t> next_purchase;  ///< step of the next purchase
  std::vector<std::uint16_t> exit_step;      ///< step at which the customer leaves the market
  std::vector<std::uint16_t> t_last;         ///< step of the last purchase or of entry

  // Relationship state, read and written only by the customer itself.
  std::vector<std::uint16_t> loyalty;  ///< loyalty to the current brand as of t_last (x 65535)
  std::vector<std::uint8_t> commitment;  ///< values-grounded share of loyalty that does not decay (x 255)
  std::vector<std::uint16_t> trust;    ///< n x brands: trust in each brand's stated values (x 65535)

  /// Visible word, double-buffered: during step t contacts read visible[t % 2]
  /// and the customer writes visible[(t + 1) % 2].
  std::vector<std::uint16_t> visible[2];

  /// Allocates every column for n customers (contents unspecified).
  void resize(std::size_t customers, int dimensions, int brand_count) {
    n = customers;
    k = dimensions;
    brands = brand_count;
    cohort.resize(n);
    birth.resize(n);
    values_dev.resize(n * static_cast<std::size_t>(k));
    salience_dev.resize(n);
    weights.resize(n * 3);
    rate.resize(n);
    next_event.resize(n);
    next_purchase.resize(n);
    exit_step.resize(n);
    t_last.resize(n);
    loyalty.resize(n);
    commitment.resize(n);
    trust.resize(n * static_cast<std::size_t>(brands));
    visible[0].resize(n);
    visible[1].resize(n);
  }

  /// Bytes of customer state per customer.
  [[nodiscard]] std::size_t bytes_per_customer() const noexcept {
    return 1 + 2 + static_cast<std::size_t>(k) + 1 + 3 + 4 + 4 * 2 + 2 + 1 +
           2 * static_cast<std::size_t>(brands) + 2 * 2;
  }

  [[nodiscard]] std::span<std::uint16_t> trust_of(std::size_t i) noexcept {
    return {trust.data() + i * static_cast<std::size_t>(brands), static_cast<std::size_t>(brands)};
  }
};

}  // namespace cxsim
