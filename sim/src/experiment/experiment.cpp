#include "cxsim/experiment/experiment.hpp"

#include <boost/random/sobol.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "cxsim/core/fastmath.hpp"
#include "cxsim/core/rng.hpp"

namespace cxsim {

const std::vector<std::string> kOutcomeNames = {
    "final_share", "mean_share", "final_customers", "mean_margin", "total_margin",
    "mean_nps",    "churn",      "mean_trust",      "mean_loyalty",
};

namespace {

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
constexpr std::uint64_t kMaxSeed = (std::uint64_t{1} << 63) - 1;  // TOML integers are signed

/// One SplitMix64 step from state x: the state advanced by the golden gamma,
/// then the output function (fastmath.hpp).
std::uint64_t splitmix64_next(std::uint64_t x) noexcept { return splitmix64(x + kGolden); }

/// Shortest text that reads back as exactly `x`, as a TOML float literal.
std::string toml_float(double x) {
  std::array<char, 64> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), x);
  std::string s(buf.data(), res.ptr);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string format_value(const Factor& f, double x) {
  return f.integer ? std::to_string(static_cast<std::int64_t>(x)) : toml_float(x);
}

/// Maps u in [0, 1) to the factor's range; integer factors take each of
/// low..high with equal probability.
double scale(const Factor& f, double u) {
  if (!f.integer) return f.low + u * (f.high - f.low);
  const double x = std::floor(f.low + u * (f.high - f.low + 1.0));
  return std::min(x, f.high);
}

std::string run_id(int index) {
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "%06d", index);
  return buf.data();
}

/// Sampled designs draw from their own seed so that they do not repeat the replicate seeds.
std::uint64_t design_seed(std::uint64_t master) noexcept {
  return splitmix64_next(master ^ 0x6C68732D736F626FULL);  // "lhs-sobo"
}

}  // namespace

std::uint64_t replicate_seed(std::uint64_t master, int replicate) noexcept {
  return splitmix64_next(master + static_cast<std::uint64_t>(replicate) * kGolden) & kMaxSeed;
}

std::vector<std::vector<double>> latin_hypercube(int n, int k, std::uint64_t seed) {
  if (n < 1 || k < 0) return {};
  const auto un = static_cast<std::size_t>(n);
  std::vector<std::vector<double>> points(un, std::vector<double>(static_cast<std::size_t>(k)));
  std::vector<int> strata(un);
  for (int d = 0; d < k; ++d) {
    // The seed is the design's own, so any stream is independent of the runs' draws.
    CounterRng rng(seed, Stream::kBirth, 0, static_cast<std::uint64_t>(d));
    std::iota(strata.begin(), strata.end(), 0);
    for (std::size_t i = un - 1; i > 0; --i) {
      const auto j = static_cast<std::size_t>(rng.uniform() * static_cast<double>(i + 1));
      std::swap(strata[i], strata[std::min(j, i)]);
    }
    for (std::size_t i = 0; i < un; ++i)
      points[i][static_cast<std::size_t>(d)] = (strata[i] + rng.uniform()) / n;
  }
  return points;
}

std::vector<std::vector<double>> sobol_points(int n, int dimensions) {
  if (n < 1 || dimensions < 1) return {};
  // Boost's sequence starts after the origin: 0.5, 0.5, ... is its first point.
  boost::random::sobol engine(static_cast<std::size_t>(dimensions));
  std::vector<std::vector<double>> points(static_cast<std::size_t>(n));
  for (auto& p : points) {
    p.resize(static_cast<std::size_t>(dimensions));
    for (auto& x : p) x = static_cast<double>(engine() >> 11) * 0x1.0p-53;  // 53 bits: never 1
  }
  return points;
}

std::vector<RunPlan> plan_runs(const ExperimentSpec& spec) {
  struct Point {
    std::string policy;
    std::filesystem::path scenario;
    std::vector<std::string> overrides;
    std::vector<double> values;
    std::string matrix;
    int point = 0;
  };
  std::vector<Point> points;
  auto factor_point = [&](std::vector<double> values, int point, std::string matrix) {
    Point p{"", spec.scenario, {}, std::move(values), std::move(matrix), point};
    for (std::size_t i = 0; i < spec.factors.size(); ++i)
      p.overrides.push_back(spec.factors[i].key + "=" + format_value(spec.factors[i], p.values[i]));
    points.push_back(std::move(p));
  };
  auto scaled = [&](const std::vector<double>& u) {
    std::vector<double> out(u.size());
    for (std::size_t i = 0; i < u.size(); ++i) out[i] = scale(spec.factors[i], u[i]);
    return out;
  };
  const auto k = spec.factors.size();

  switch (spec.design) {
    case Design::kPolicies:
      for (std::size_t i = 0; i < spec.policies.size(); ++i) {
        const Policy& pol = spec.policies[i];
        points.push_back({pol.name, pol.scenario.empty() ? spec.scenario : pol.scenario,
                          pol.overrides, {}, "", static_cast<int>(i)});
      }
      break;
    case Design::kGrid: {
      std::size_t cells = k == 0 ? 0 : 1;
      for (const auto& f : spec.factors) cells *= f.values.size();
      for (std::size_t c = 0; c < cells; ++c) {
        std::vector<double> values(k);
        std::size_t rest = c;
        for (std::size_t i = k; i-- > 0;) {  // last factor varies fastest
          const auto& v = spec.factors[i].values;
          values[i] = v[rest % v.size()];
          rest /= v.size();
        }
        factor_point(std::move(values), static_cast<int>(c), "");
      }
      break;
    }
    case Design::kLatinHypercube: {
      const auto u = latin_hypercube(spec.samples, static_cast<int>(k), design_seed(spec.seed));
      for (std::size_t j = 0; j < u.size(); ++j) factor_point(scaled(u[j]), static_cast<int>(j), "");
      break;
    }
    case Design::kSobol: {
      const auto u = sobol_points(spec.samples, static_cast<int>(2 * k));
      for (std::size_t j = 0; j < u.size(); ++j) {
        const std::vector<double> a(u[j].begin(), u[j].begin() + static_cast<std::ptrdiff_t>(k));
        const std::vector<double> b(u[j].begin() + static_cast<std::ptrdiff_t>(k), u[j].end());
        const int point = static_cast<int>(j);
        factor_point(scaled(a), point, "A");
        factor_point(scaled(b), point, "B");
        for (std::size_t i = 0; i < k; ++i) {
          std::vector<double> ab = a;
          ab[i] = b[i];
          factor_point(scaled(ab), point, "AB" + std::to_string(i + 1));
        }
      }
      break;
    }
  }

  std::vector<RunPlan> runs;
  runs.reserve(points.size() * static_cast<std::size_t>(std::max(spec.replicates, 0)));
  for (const auto& p : points) {
    for (int r = 0; r < spec.replicates; ++r) {
      RunPlan run;
      run.index = static_cast<int>(runs.size());
      run.run_id = run_id(run.index);
      run.policy = p.policy;
      run.point = p.point;
      run.factor_values = p.values;
      run.sobol_matrix = p.matrix;
      run.replicate = r;
      run.seed = replicate_seed(spec.seed, r);
      run.scenario = p.scenario;
      run.overrides = spec.overrides;
      run.overrides.insert(run.overrides.end(), p.overrides.begin(), p.overrides.end());
      run.overrides.push_back("scenario.seed=" + std::to_string(run.seed));
      runs.push_back(std::move(run));
    }
  }
  return runs;
}

namespace {

/// Reads one brand's column of a (step, brand) series.
struct Column {
  const Series& s;
  std::size_t brand;
  std::size_t brands;
  double operator[](std::size_t t) const { return s.values[t * brands + brand]; }
};

const Series& series(const RunResult& run, const char* name) {
  const Series* s = run.find(name);
  if (s == nullptr || s->shape.size() != 2 || s->shape[1] < run.brands.size() ||
      s->values.size() < s->shape[0] * s->shape[1])
    throw std::invalid_argument(std::string("compute_outcomes: run has no (step, brand) series ") +
                                name);
  return *s;
}

using Outcome = double (*)(const RunResult&, std::size_t brand, std::size_t from, std::size_t to);

template <class F>
double sum(std::size_t from, std::size_t to, F&& f) {
  double total = 0.0;
  for (std::size_t t = from; t < to; ++t) total += f(t);
  return total;
}

template <class F>
double mean(std::size_t from, std::size_t to, F&& f) {
  return sum(from, to, f) / static_cast<double>(to - from);
}

Column column(const RunResult& run, const char* name, std::size_t brand) {
  const Series& s = series(run, name);
  return {s, brand, s.shape[1]};
}

double window_mean(const RunResult& run, const char* name, std::size_t b, std::size_t from,
                   std::size_t to) {
  const Column c = column(run, name, b);
  return mean(from, to, [&](std::size_t t) { return c[t]; });
}

struct OutcomeDef {
  std::string_view name;
  Outcome compute;
};

// `from`..`to` is the window; `to` is the number of steps recorded.
const std::array<OutcomeDef, 9> kOutcomes{{
    {"final_share", [](const RunResult& r, std::size_t b, std::size_t, std::size_t to) {
       return column(r, "share", b)[to - 1];
     }},
    {"mean_share", [](const RunResult& r, std::size_t b, std::size_t from, std::size_t to) {
       return window_mean(r, "share", b, from, to);
     }},
    {"final_customers", [](const RunResult& r, std::size_t b, std::size_t, std::size_t to) {
       return column(r, "customers", b)[to - 1];
     }},
    {"mean_margin", [](const RunResult& r, std::size_t b, std::size_t from, std::size_t to) {
       return window_mean(r, "margin", b, from, to);
     }},
    {"total_margin", [](const RunResult& r, std::size_t b, std::size_t, std::size_t to) {
       const Column c = column(r, "margin", b);
       return sum(0, to, [&](std::size_t t) { return c[t]; });
     }},
    {"mean_nps", [](const RunResult& r, std::size_t b, std::size_t from, std::size_t to) {
       return window_mean(r, "nps", b, from, to);
     }},
    {"churn", [](const RunResult& r, std::size_t b, std::size_t from, std::size_t to) {
       const Column defections = column(r, "defections", b);
       const Column customers = column(r, "customers", b);
       return mean(from, to, [&](std::size_t t) {
         return customers[t] > 0.0 ? defections[t] / customers[t] : 0.0;
       });
     }},
    {"mean_trust", [](const RunResult& r, std::size_t b, std::size_t from, std::size_t to) {
       return window_mean(r, "trust", b, from, to);
     }},
    {"mean_loyalty", [](const RunResult& r, std::size_t b, std::size_t from, std::size_t to) {
       return window_mean(r, "loyalty", b, from, to);
     }},
}};

}  // namespace

std::vector<std::pair<std::string, double>> compute_outcomes(const RunResult& run,
                                                             const std::vector<std::string>& outcomes,
                                                             int window) {
  const Series& share = series(run, "share");
  const std::size_t steps = share.shape[0];
  const std::size_t w = std::min(steps, static_cast<std::size_t>(std::max(window, 1)));
  std::vector<std::pair<std::string, double>> out;
  for (const auto& name : outcomes) {
    const auto def = std::find_if(kOutcomes.begin(), kOutcomes.end(),
                                  [&](const OutcomeDef& o) { return o.name == name; });
    if (def == kOutcomes.end())
      throw std::invalid_argument("compute_outcomes: unknown outcome " + name);
    for (std::size_t b = 0; b < run.brands.size(); ++b)
      out.emplace_back(name + "." + run.brands[b],
                       steps == 0 ? std::numeric_limits<double>::quiet_NaN()
                                  : def->compute(run, b, steps - w, steps));
  }
  return out;
}

}  // namespace cxsim
