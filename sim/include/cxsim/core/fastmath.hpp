#pragma once
/// \file
/// Small numeric kernels of the hot path, written so that loops over brands
/// vectorise: an exp accurate to about 2 ulp, fixed-point rounding without
/// library calls, and the SplitMix64 mixer.

#include <algorithm>
#include <bit>
#include <cstdint>

namespace cxsim {

/// e^x for x <= 88, relative error below 3e-7; returns 0 below -87.
/// Range reduction x = n ln 2 + r, |r| <= ln 2 / 2, then the Cephes expf
/// polynomial for e^r and 2^n put into the exponent bits.
[[nodiscard]] inline float fast_exp(float x) noexcept {
  const std::int32_t keep = -static_cast<std::int32_t>(x >= -87.0f);  // all bits set unless it underflows
  x = std::max(x, -87.0f);
  // Round x / ln 2 to the nearest integer by adding 1.5 x 2^23.
  const float shifted = x * 1.44269504088896341f + 12582912.0f;
  const float n = shifted - 12582912.0f;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.0f;
  const std::int32_t e = std::bit_cast<std::int32_t>(shifted) - 0x4B400000;  // n as an integer
  return std::bit_cast<float>((std::bit_cast<std::int32_t>(er) + (e << 23)) & keep);
}

/// c ? a : b without a branch (so that loops containing it vectorise).
[[nodiscard]] inline float select(bool c, float a, float b) noexcept {
  const std::int32_t m = -static_cast<std::int32_t>(c);
  return std::bit_cast<float>((std::bit_cast<std::int32_t>(a) & m) | (std::bit_cast<std::int32_t>(b) & ~m));
}

/// round(x) for x >= 0 (half away from zero), as an unsigned integer.
[[nodiscard]] inline std::uint32_t round_nonneg(float x) noexcept { return static_cast<std::uint32_t>(x + 0.5f); }

/// SplitMix64 output function (Steele, Lea and Flood 2014; Stafford's mix13).
[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Index of the first cumulative weight above u, or n if none (cum is
/// nondecreasing, so this is the number of weights at or below u).
template <class T>
[[nodiscard]] int pick(const T* cum, int n, T u) noexcept {
  int below = 0;
  for (int b = 0; b < n; ++b) below += cum[b] <= u;
  return below;
}

/// Draws an index in [0, n) with probability proportional to exp(utility[b]),
/// by inverting the cumulative distribution with the uniform u in (0, 1)
/// (utilities shifted by their maximum). n <= 64.
[[nodiscard]] inline int choose_logit(const float* utility, int n, float u) noexcept {
  float cum[64];
  float top = utility[0];
  for (int b = 1; b < n; ++b) top = std::max(top, utility[b]);
  for (int b = 0; b < n; ++b) cum[b] = fast_exp(utility[b] - top);
  float total = 0.0f;
  for (int b = 0; b < n; ++b) cum[b] = total += cum[b];
  return std::min(pick(cum, n, u * total), n - 1);
}

}  // namespace cxsim
