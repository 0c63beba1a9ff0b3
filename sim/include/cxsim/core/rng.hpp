#pragma once
/// \file
/// Counter-based random numbers (Philox4x32-10 from Random123).
///
/// A draw is a pure function of (seed, stream, step, agent, draw index): no
/// generator state is shared between agents or threads, so results do not
/// depend on how work is split across threads or processes.

#include <Random123/philox.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "cxsim/core/fastmath.hpp"

namespace cxsim {

/// Independent random streams. Each model process draws from its own stream so
/// that adding a draw to one process never shifts the numbers another sees.
enum class Stream : std::uint32_t {
  kBirth = 1,      ///< customer attributes at creation (initial population and entrants)
  kInitialState,   ///< initial brand, loyalty of the initial population
  kSchedule,       ///< purchase and exit times
  kPurchase,       ///< lead, choice and experience of one purchase
  kNetwork,        ///< unused (the network hashes with SplitMix64); kept so later stream numbers stay put
  kEmployee,       ///< employee engagement noise and turnover
  kHire,           ///< attributes of a new employee
  kEntrantBrand,   ///< first brand of an entrant
  kBirthRetry,     ///< the rare second and later attempts of a birth's Gamma draws
};

namespace detail {

/// Tables of the 128-layer ziggurat for the standard normal (Marsaglia and
/// Tsang 2000, in the form of Doornik 2005): x[i] are the layer edges, ratio[i]
/// = x[i+1] / x[i] the share of layer i inside the density.
struct Ziggurat {
  static constexpr int kLayers = 128;
  static constexpr double kR = 3.442619855899;
  static constexpr double kV = 9.91256303526217e-3;
  double x[kLayers + 1];
  double ratio[kLayers];
  Ziggurat() noexcept {
    double f = std::exp(-0.5 * kR * kR);
    x[0] = kV / f;  // the bottom layer, with the tail beyond kR
    x[1] = kR;
    x[kLayers] = 0.0;
    for (int i = 2; i < kLayers; ++i) {
      x[i] = std::sqrt(-2.0 * std::log(kV / x[i - 1] + f));
      f = std::exp(-0.5 * x[i] * x[i]);
    }
    for (int i = 0; i < kLayers; ++i) ratio[i] = x[i + 1] / x[i];
  }
};
inline const Ziggurat kZiggurat;

}  // namespace detail

/// A sequence of random numbers for one (seed, stream, step, agent) tuple.
/// Cheap to construct (no state beyond the counter); make one per agent per step.
class CounterRng {
 public:
  CounterRng(std::uint64_t seed, Stream stream, std::uint32_t step, std::uint64_t agent) noexcept
      : key_{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}},
        ctr_{{static_cast<std::uint32_t>(agent), static_cast<std::uint32_t>(agent >> 32) ^
                                                     (static_cast<std::uint32_t>(stream) << 24),
              step, 0}} {}

  /// The same sequence, with its first `blocks` Philox blocks already computed
  /// (4 words each, in counter order; e.g. by a vectorised batch), which must
  /// outlive the generator. Draws are identical to the plain constructor's.
  CounterRng(std::uint64_t seed, Stream stream, std::uint32_t step, std::uint64_t agent, const std::uint32_t* blocks,
             std::uint32_t count) noexcept
      : CounterRng(seed, stream, step, agent) {
    pre_ = blocks;
    pre_blocks_ = count;
  }

  /// The Philox counter of block `block` of (stream, step, agent), as the
  /// generator uses it: (agent low, agent high ^ stream << 24, step, block).
  static constexpr std::uint32_t counter_word1(Stream stream, std::uint64_t agent) noexcept {
    return static_cast<std::uint32_t>(agent >> 32) ^ (static_cast<std::uint32_t>(stream) << 24);
  }

  /// Next raw 32-bit word. Words are produced four at a time per Philox call.
  std::uint32_t next_u32() noexcept {
    if (used_ == 4) refill();
    return block_.v[used_++];
  }

  /// Uniform in the open interval (0, 1), 32-bit resolution.
  double uniform() noexcept { return uniform_from_word(next_u32()); }

  /// Uniform float in (0, 1).
  float uniform_f() noexcept {
    return (static_cast<float>(next_u32() >> 9) + 0.5f) * 0x1.0p-23f;  // 23 bits: never 1.0f
  }

  /// Bernoulli(p).
  bool bernoulli(double p) noexcept { return uniform() < p; }

  /// Exponential with rate 1.
  double exponential() noexcept { return -std::log(uniform()); }

  /// Standard normal by the 128-layer ziggurat: one 32-bit word (7 bits pick
  /// the layer, 25 the position) for 98.8% of draws, more words otherwise.
  double normal() noexcept {
    const auto& z = detail::kZiggurat;
    for (;;) {
      const std::uint32_t w = next_u32();
      const int i = static_cast<int>(w & 0x7F);
      const double u = (static_cast<double>(w >> 7) + 0.5) * 0x1.0p-24 - 1.0;  // (-1, 1)
      if (std::fabs(u) < z.ratio[i]) return u * z.x[i];  // inside the layer's rectangle
      if (i == 0) {  // the tail beyond kR (Marsaglia 1964)
        double x = 0.0, y = 0.0;
        do {
          x = std::log(uniform()) / detail::Ziggurat::kR;
          y = std::log(uniform());
        } while (-2.0 * y < x * x);
        return u < 0.0 ? x - detail::Ziggurat::kR : detail::Ziggurat::kR - x;
      }
      // The wedge between the rectangle and the density.
      const double x = u * z.x[i];
      const double f0 = std::exp(-0.5 * (z.x[i] * z.x[i] - x * x));
      const double f1 = std::exp(-0.5 * (z.x[i + 1] * z.x[i + 1] - x * x));
      if (f1 + uniform() * (f0 - f1) < 1.0) return x;
    }
  }

  /// Gamma(shape, 1) by Marsaglia and Tsang (2000); shape > 0.
  double gamma(double shape) noexcept {
    if (shape < 1.0) {
      const double g = gamma(shape + 1.0);
      return g * std::pow(uniform(), 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x = 0.0;
      double v = 0.0;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = uniform();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
    }
  }

  /// Beta with the given mean in (0, 1) and standard deviation; sd 0 returns the mean.
  /// Requires sd^2 < mean (1 - mean) (checked by scenario validation).
  double beta_mean_sd(double mean, double sd) noexcept {
    if (sd <= 0.0) return mean;
    const double nu = mean * (1.0 - mean) / (sd * sd) - 1.0;
    const double x = gamma(mean * nu);
    const double y = gamma((1.0 - mean) * nu);
    return x / (x + y);
  }

 private:
  void refill() noexcept {
    if (ctr_.v[3] < pre_blocks_) {
      const std::uint32_t* p = pre_ + 4 * static_cast<std::size_t>(ctr_.v[3]);
      block_ = {{p[0], p[1], p[2], p[3]}};
    } else {
      block_ = r123::Philox4x32{}(ctr_, key_);
    }
    ++ctr_.v[3];
    used_ = 0;
  }

  r123::Philox4x32::key_type key_;
  r123::Philox4x32::ctr_type ctr_;
  r123::Philox4x32::ctr_type block_{};
  int used_ = 4;
  const std::uint32_t* pre_ = nullptr;
  std::uint32_t pre_blocks_ = 0;
};

}  // namespace cxsim
