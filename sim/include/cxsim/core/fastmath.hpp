#pragma once
/// \file
/// Small numeric kernels of the hot path, written so that loops over brands
/// or purchasers vectorise: an exp accurate to about 2 ulp, a log within
/// 1 ulp, the normal quantile of a random word, fixed-point rounding without
/// library calls, and the SplitMix64 mixer.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

/// Compiles a hot function once per vector instruction set (AVX-512 as in
/// x86-64-v4, AVX2, and the baseline), chosen at load time by the CPU. Files
/// that use it are compiled without floating-point contraction, so every
/// clone computes bit-identical results.
/// CXSIM_HAVE_CLONES is 1 where it does (GCC on x86-64, no sanitizers).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define CXSIM_HAVE_CLONES 1
#define CXSIM_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define CXSIM_HAVE_CLONES 0
#define CXSIM_CLONES
#endif

namespace cxsim {

/// fast_exp after its range check, for a float or a GCC vector of floats F
/// with integers I of the same shape: x >= -87 with keep all bits set, or
/// x = -87 with keep clear where the argument underflowed. Range reduction
/// x = n ln 2 + r, |r| <= ln 2 / 2, then the Cephes expf polynomial for e^r
/// and 2^n put into the exponent bits. fast_exp and the customer kernel's
/// 16-lane exp both call it, so they compute the same operations in the same
/// order. Always inlined: a vector instance must be compiled in its caller's
/// instruction set.
template <class F, class I>
[[nodiscard, gnu::always_inline]] inline F fast_exp_in_range(F x, I keep) noexcept {
  // Round x / ln 2 to the nearest integer by adding 1.5 x 2^23.
  const F shifted = x * 1.44269504088896341f + 12582912.0f;
  const F n = shifted - 12582912.0f;
  const F r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  F p = F{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const F er = p * r * r + r + 1.0f;
  const I e = std::bit_cast<I>(shifted) - 0x4B400000;  // n as an integer
  return std::bit_cast<F>((std::bit_cast<I>(er) + (e << 23)) & keep);
}

/// e^x for x <= 88, relative error below 3e-7; returns 0 below -87.
[[nodiscard]] inline float fast_exp(float x) noexcept {
  const std::int32_t keep = -static_cast<std::int32_t>(x >= -87.0f);  // all bits set unless it underflows
  return fast_exp_in_range(std::max(x, -87.0f), keep);
}

/// ln(x) for positive normal x, within 1 ulp: the fdlibm algorithm
/// (x = 2^k m, m in [sqrt(2)/2, sqrt(2)), s = (m - 1) / (m + 1), a degree-14
/// polynomial in s), written without branches so that loops over it
/// vectorise. The same operations in the same order on every instruction set.
[[nodiscard]] inline double log_positive(double x) noexcept {
  constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  constexpr double lg1 = 6.666666666666735130e-01, lg2 = 3.999999999940941908e-01, lg3 = 2.857142874366239149e-01,
                   lg4 = 2.222219843214978396e-01, lg5 = 1.818357216161805012e-01, lg6 = 1.531383769920937332e-01,
                   lg7 = 1.479819860511658591e-01;
  const auto bits = std::bit_cast<std::uint64_t>(x);
  auto hx = static_cast<std::int32_t>(bits >> 32);
  std::int32_t k = (hx >> 20) - 1023;
  hx &= 0x000FFFFF;
  const std::int32_t i = (hx + 0x95F64) & 0x100000;
  // m, or m / 2 when m >= sqrt(2)
  const auto high = static_cast<std::uint64_t>(static_cast<std::uint32_t>(hx | (i ^ 0x3FF00000)));
  const double m = std::bit_cast<double>((high << 32) | (bits & 0xFFFFFFFFull));
  k += i >> 20;
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const auto dk = static_cast<double>(k);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (lg2 + w * (lg4 + w * lg6));
  const double t2 = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7)));
  const double r = t2 + t1;
  const double hfsq = 0.5 * f * f;
  const bool far_from_1 = ((hx - 0x6147A) | (0x6B851 - hx)) > 0;
  const double a = dk * ln2_hi - ((hfsq - (s * (hfsq + r) + dk * ln2_lo)) - f);
  const double b = dk * ln2_hi - ((s * (f - r) - dk * ln2_lo) - f);
  return far_from_1 ? a : b;
}

/// c ? a : b without a branch (so that loops containing it vectorise).
[[nodiscard]] inline float select(bool c, float a, float b) noexcept {
  const std::int32_t m = -static_cast<std::int32_t>(c);
  return std::bit_cast<float>((std::bit_cast<std::int32_t>(a) & m) | (std::bit_cast<std::int32_t>(b) & ~m));
}

/// c ? a : b for doubles, without a branch.
[[nodiscard]] inline double select(bool c, double a, double b) noexcept {
  const std::int64_t m = -static_cast<std::int64_t>(c);
  return std::bit_cast<double>((std::bit_cast<std::int64_t>(a) & m) | (std::bit_cast<std::int64_t>(b) & ~m));
}

/// The uniform (w + 0.5) / 2^32 in (0, 1) of a 32-bit word, as CounterRng
/// draws it.
[[nodiscard]] inline double uniform_from_word(std::uint32_t w) noexcept {
  return (static_cast<double>(w) + 0.5) * 0x1.0p-32;
}

/// The standard normal quantile of the uniform (w + 0.5) / 2^32 made from a
/// 32-bit word: Wichura's algorithm AS 241 (PPND16, relative error about
/// 1e-16) with its central rational function for |p - 1/2| <= 0.425 and its
/// first tail function otherwise, which covers every such uniform (the most
/// extreme, 2^-33 from 0 or 1, is 6.34 standard deviations out).
/// Loops over words vectorise as normal_central for every word, then
/// normal_tail for the 15% or so that are not normal_is_central, set aside.
/// One word per normal, the same operations on every instruction set.
[[nodiscard]] inline bool normal_is_central(std::uint32_t w) noexcept {
  return std::fabs(uniform_from_word(w) - 0.5) <= 0.425;
}
/// normal_from_word(w) where normal_is_central(w): the central function.
[[nodiscard]] inline double normal_central(std::uint32_t w) noexcept {
  const double q = uniform_from_word(w) - 0.5;
  const double r = 0.180625 - q * q;
  const double num =
      ((((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r + 6.7265770927008700853e+4) * r +
             4.5921953931549871457e+4) * r + 1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r +
          1.3314166789178437745e+2) * r + 3.3871328727963666080e+0)) * q;
  const double den =
      (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r + 3.9307895800092710610e+4) * r +
            2.1213794301586595867e+4) * r + 5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r +
         4.2313330701600911252e+1) * r + 1.0);
  return num / den;
}
/// normal_from_word(w) where !normal_is_central(w): the tail function.
[[nodiscard]] inline double normal_tail(std::uint32_t w) noexcept {
  const double p = uniform_from_word(w);
  // min(p, 1 - p) >= 2^-33, so s = sqrt(-ln min(p, 1 - p)) - 1.6 stays below 3.2.
  const double s = std::sqrt(-log_positive(std::min(p, 1.0 - p))) - 1.6;
  const double num =
      (((((((7.74545014278341407640e-4 * s + 2.27238449892691845833e-2) * s + 2.41780725177450611770e-1) * s +
           1.27045825245236838258e+0) * s + 3.64784832476320460504e+0) * s + 5.76949722146069140550e+0) * s +
        4.63033784615654529590e+0) * s + 1.42343711074968357734e+0);
  const double den =
      (((((((1.05075007164441684324e-9 * s + 5.47593808499534494600e-4) * s + 1.51986665636164571966e-2) * s +
           1.48103976427480074590e-1) * s + 6.89767334985100004550e-1) * s + 1.67638483018380384940e+0) * s +
        2.05319162663775882187e+0) * s + 1.0);
  return std::copysign(num, p - 0.5) / den;
}
[[nodiscard]] inline double normal_from_word(std::uint32_t w) noexcept {
  return normal_is_central(w) ? normal_central(w) : normal_tail(w);
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

}  // namespace cxsim
