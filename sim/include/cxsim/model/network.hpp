#pragma once
/// \file
/// The social network: a Watts-Strogatz small world computed on the fly.
///
/// Customer i's contacts are its ring-lattice neighbours i-k/2..i-1, i+1..i+k/2
/// (modulo n), each independently rewired with probability p to a uniformly
/// drawn other customer. Whether and where a slot is rewired is a pure function
/// of (seed, i, slot), so the network costs no memory, is the same for any
/// thread or process count, and keeps most contacts close to i in memory.
/// Ties are directed (i listens to its contacts); with p = 0 they are symmetric.

#include <cstddef>
#include <cstdint>

#include "cxsim/core/rng.hpp"

namespace cxsim {

class SmallWorld {
 public:
  /// \param n customers, \param degree contacts per customer (even, < n),
  /// \param rewire probability that a lattice tie is redirected, [0, 1].
  SmallWorld(std::uint64_t seed, std::size_t n, int degree, double rewire) noexcept
      : seed_(seed), n_(n), degree_(degree),
        threshold_(rewire >= 1.0 ? 0xFFFFFFFFull + 1 : static_cast<std::uint64_t>(rewire * 4294967296.0)) {}

  [[nodiscard]] int degree() const noexcept { return degree_; }

  /// Writes the `degree()` contacts of customer i to `out`.
  void contacts(std::size_t i, std::uint32_t* out) const noexcept {
    const int half = degree_ / 2;
    if (threshold_ == 0) {
      for (int j = 0; j < degree_; ++j) out[j] = lattice(i, j, half);
      return;
    }
    CounterRng rng(seed_, Stream::kNetwork, 0, i);
    for (int j = 0; j < degree_; ++j) {
      if (rng.next_u32() < threshold_) {
        // Uniform over the n-1 other customers (Lemire's multiply-shift).
        auto other = static_cast<std::size_t>((static_cast<std::uint64_t>(rng.next_u32()) * (n_ - 1)) >> 32);
        out[j] = static_cast<std::uint32_t>(other >= i ? other + 1 : other);
      } else {
        out[j] = lattice(i, j, half);
      }
    }
  }

 private:
  [[nodiscard]] std::uint32_t lattice(std::size_t i, int slot, int half) const noexcept {
    const std::ptrdiff_t offset = slot < half ? slot - half : slot - half + 1;
    auto j = static_cast<std::ptrdiff_t>(i) + offset;
    const auto n = static_cast<std::ptrdiff_t>(n_);
    if (j < 0) j += n;
    if (j >= n) j -= n;
    return static_cast<std::uint32_t>(j);
  }

  std::uint64_t seed_;
  std::size_t n_;
  int degree_;
  std::uint64_t threshold_;
};

}  // namespace cxsim
