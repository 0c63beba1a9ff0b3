#pragma once
/// \file
/// Counter-based random numbers (Philox4x32-10 from Random123).
///
/// A draw is a pure function of (seed, stream, step, agent, draw index): no
/// generator state is shared between agents or threads, so results do not
/// depend on how work is split across threads or processes.

#include <Random123/philox.h>

#include <cmath>
#include <cstdint>
#include <numbers>

namespace cxsim {

/// Independent random streams. Each model process draws from its own stream so
/// that adding a draw to one process never shifts the numbers another sees.
enum class Stream : std::uint32_t {
  kBirth = 1,      ///< customer attributes at creation (initial population and entrants)
  kInitialState,   ///< initial brand, loyalty of the initial population
  kSchedule,       ///< purchase and exit times
  kPurchase,       ///< lead, choice and experience of one purchase
  kNetwork,        ///< rewiring of the small-world network (step is 0)
  kEmployee,       ///< employee engagement noise and turnover
  kHire,           ///< attributes of a new employee
  kEntrantBrand,   ///< first brand of an entrant
};

/// A sequence of random numbers for one (seed, stream, step, agent) tuple.
/// Cheap to construct (no state beyond the counter); make one per agent per step.
class CounterRng {
 public:
  CounterRng(std::uint64_t seed, Stream stream, std::uint32_t step, std::uint64_t agent) noexcept
      : key_{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}},
        ctr_{{static_cast<std::uint32_t>(agent), static_cast<std::uint32_t>(agent >> 32) ^
                                                     (static_cast<std::uint32_t>(stream) << 24),
              step, 0}} {}

  /// Next raw 32-bit word. Words are produced four at a time per Philox call.
  std::uint32_t next_u32() noexcept {
    if (used_ == 4) refill();
    return block_.v[used_++];
  }

  /// Uniform in the open interval (0, 1), 32-bit resolution.
  double uniform() noexcept { return (static_cast<double>(next_u32()) + 0.5) * 0x1.0p-32; }

  /// Uniform float in (0, 1).
  float uniform_f() noexcept {
    return (static_cast<float>(next_u32() >> 9) + 0.5f) * 0x1.0p-23f;  // 23 bits: never 1.0f
  }

  /// Bernoulli(p).
  bool bernoulli(double p) noexcept { return uniform() < p; }

  /// Exponential with rate 1.
  double exponential() noexcept { return -std::log(uniform()); }

  /// Standard normal (Box-Muller; the second variate of a pair is kept for the next call).
  double normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    const double theta = 2.0 * std::numbers::pi * uniform();
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
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
    block_ = r123::Philox4x32{}(ctr_, key_);
    ++ctr_.v[3];
    used_ = 0;
  }

  r123::Philox4x32::key_type key_;
  r123::Philox4x32::ctr_type ctr_;
  r123::Philox4x32::ctr_type block_{};
  int used_ = 4;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace cxsim
