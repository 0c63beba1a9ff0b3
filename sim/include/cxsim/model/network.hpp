#pragma once
/// \file
/// The social network: a Watts-Strogatz small world computed on the fly.
///
/// Customer i's contacts are its ring-lattice neighbours i-k/2..i-1, i+1..i+k/2
/// (modulo n), each independently rewired with probability p to a uniformly
/// drawn other customer. Whether and where a slot is rewired is a pure function
/// of (seed, i, slot), so the network is the same for any thread or process
/// count, costs almost no memory, and keeps most contacts close to i in memory.
/// The function is the SplitMix64 sequence of the seed at position
/// i x degree + slot: the high 32 bits of that 64-bit word decide whether the
/// slot is rewired, the low 32 bits where to (one multiply-xorshift chain per
/// slot, several times cheaper than a Philox block). The step keeps each
/// customer's rewired-slot mask (one byte at degree 8, StepEvents::Block::masks,
/// computed once) and hashes only the rewired slots of each event again.
/// Ties are directed (i listens to its contacts); with p = 0 they are symmetric.

#include <cstddef>
#include <cstdint>

#include "cxsim/core/fastmath.hpp"

namespace cxsim {

class SmallWorld {
 public:
  /// \param n customers, \param degree contacts per customer (even, < n),
  /// \param rewire probability that a lattice tie is redirected, [0, 1].
  SmallWorld(std::uint64_t seed, std::size_t n, int degree, double rewire) noexcept
      : key_(splitmix64(seed ^ 0x6E6574776F726B21ull)), n_(n), degree_(degree),
        threshold_(rewire >= 1.0 ? 0xFFFFFFFFull + 1 : static_cast<std::uint64_t>(rewire * 4294967296.0)) {}

  [[nodiscard]] int degree() const noexcept { return degree_; }

  /// Offset from customer i of its ring slot j: slots 0 .. degree/2 - 1 are
  /// i - degree/2 .. i - 1, the others i + 1 .. i + degree/2.
  [[nodiscard]] static constexpr std::int64_t ring_offset(int j, int degree) noexcept {
    const int half = degree / 2;
    return j < half ? j - half : j - half + 1;
  }
  /// x modulo n for x in (-n, 2n): a ring neighbour's index.
  [[nodiscard]] static constexpr std::int64_t ring_wrap(std::int64_t x, std::int64_t n) noexcept {
    x += x < 0 ? n : 0;
    return x - (x >= n ? n : 0);
  }

  /// The slot's hash: SplitMix64 of the seed's key at position i x degree + j.
  [[nodiscard]] static constexpr std::uint64_t slot_hash(std::uint64_t key, std::uint64_t degree, std::uint64_t i,
                                                         int j) noexcept {
    return splitmix64(key + (i * degree + static_cast<std::uint64_t>(j) + 1) * 0x9E3779B97F4A7C15ull);
  }
  /// Whether the slot of hash h is rewired: its high 32 bits below the threshold.
  [[nodiscard]] static constexpr bool redirected(std::uint64_t h, std::uint64_t threshold) noexcept {
    return (h >> 32) < threshold;
  }
  /// Where a rewired slot of customer i with hash h leads: uniform over the
  /// n - 1 other customers (`others` = n - 1) by Lemire's multiply-shift of
  /// its low 32 bits.
  [[nodiscard]] static constexpr std::uint64_t redirect(std::uint64_t h, std::uint64_t i,
                                                        std::uint64_t others) noexcept {
    std::uint64_t other = ((h & 0xFFFFFFFFull) * others) >> 32;
    return other + (other >= i ? 1 : 0);
  }

  /// The masks contacts() returns of customers first .. first + count - 1,
  /// to out[e] (bits 0 .. degree - 1 of each).
  [[gnu::always_inline]] void rewired_many(std::size_t first, int count, std::uint64_t* out) const noexcept {
    const std::uint64_t key = key_, threshold = threshold_, d = static_cast<std::uint64_t>(degree_);
    const int degree = degree_;
    for (int e = 0; e < count; ++e) out[e] = 0;
    for (int j = 0; j < degree; ++j) {
      const std::uint64_t bit = std::uint64_t{1} << (j & 63);
      for (int e = 0; e < count; ++e) {
        const std::uint64_t i = first + static_cast<std::size_t>(e);
        out[e] |= redirected(slot_hash(key, d, i, j), threshold) ? bit : 0;
      }
    }
  }

  /// The contacts of rewired slots: customer who[r]'s slot slot[r] for r in
  /// [0, count), to out[r] (each slot must be one that contacts() reports
  /// rewired).
  [[gnu::always_inline]] void redirected_many(const std::uint32_t* who, const std::uint8_t* slot, int count,
                                              std::uint32_t* out) const noexcept {
    const std::uint64_t key = key_, others = n_ - 1, d = static_cast<std::uint64_t>(degree_);
    for (int r = 0; r < count; ++r) {
      const std::uint64_t i = who[r];
      out[r] = static_cast<std::uint32_t>(redirect(slot_hash(key, d, i, slot[r]), i, others));
    }
  }

  /// Writes the `degree()` contacts of customer i to `out`; returns a bit mask
  /// of the slots that were rewired (bit j for slot j; degrees are at most 64).
  std::uint64_t contacts(std::size_t i, std::uint32_t* out) const noexcept {
    const auto who = static_cast<std::uint32_t>(i);
    std::uint64_t rewired = 0;
    contacts_many(&who, 1, out, 1, &rewired);
    return rewired;
  }

  /// contacts() of customers who[0..count), slot-major: contact j of customer
  /// e goes to out[j x stride + e], and the mask contacts() returns to
  /// rewired[e]. Without branches and customer by customer in the inner loop,
  /// so that the compiler works out many customers' slots side by side
  /// (vector instructions). The step uses rewired_many and redirected_many,
  /// which give the same masks and far contacts (tests compare).
  [[gnu::always_inline]] void contacts_many(const std::uint32_t* who, int count, std::uint32_t* out, std::size_t stride,
                                            std::uint64_t* rewired) const noexcept {
    // Members in locals: the stores to `out` could otherwise alias them.
    const int degree = degree_;
    const auto n = static_cast<std::int64_t>(n_);
    const std::uint64_t others = n_ - 1, key = key_, threshold = threshold_;
    const auto d = static_cast<std::uint64_t>(degree);
    for (int e = 0; e < count; ++e) rewired[e] = 0;
    for (int j = 0; j < degree; ++j) {
      const std::int64_t offset = ring_offset(j, degree);
      std::uint32_t* __restrict o = out + static_cast<std::size_t>(j) * stride;
      const std::uint64_t bit = std::uint64_t{1} << (j & 63);
      for (int e = 0; e < count; ++e) {
        const std::uint64_t i = who[e];
        const std::uint64_t h = slot_hash(key, d, i, j);
        const bool far = redirected(h, threshold);
        const std::int64_t near = ring_wrap(static_cast<std::int64_t>(i) + offset, n);
        o[e] = static_cast<std::uint32_t>(far ? redirect(h, i, others) : static_cast<std::uint64_t>(near));
        rewired[e] |= far ? bit : 0;
      }
    }
  }

 private:
  std::uint64_t key_;
  std::size_t n_;
  int degree_;
  std::uint64_t threshold_;
};

}  // namespace cxsim
