#pragma once
/// \file
/// Experiments: many runs of one market. An experiment file (TOML, see
/// docs/experiments.md) names a base scenario and either policies (named
/// variants, each a set of scenario overrides and optionally its own scenario
/// file) or factors (scenario keys swept over a grid, a Latin hypercube or a
/// Sobol/Saltelli design), a number of replicates and the outcomes to summarise.
///
/// Replicate r of every policy or design point uses the same seed, so policy
/// differences are paired on common random numbers.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cxsim/model/metrics.hpp"

namespace cxsim {

/// How the runs of an experiment are laid out.
enum class Design : std::uint8_t {
  kPolicies,        ///< one run per policy and replicate
  kGrid,            ///< every combination of the factors' listed values
  kLatinHypercube,  ///< `samples` points, each factor's range cut in `samples` equal strata
  kSobol,           ///< Saltelli's scheme on a Sobol sequence: matrices A, B and AB_i (k + 2 runs per sample)
};

/// A named scenario variant.
struct Policy {
  std::string name;
  std::filesystem::path scenario;      ///< scenario file of this policy (the experiment's if not given)
  std::vector<std::string> overrides;  ///< `key.path=value`, applied like `cxsim run --set`
  bool operator==(const Policy&) const = default;
};

/// A scenario key varied by a factor design.
struct Factor {
  std::string key;                     ///< scenario key path, e.g. "cohorts.gen_z.salience_mean"
  std::vector<double> values;          ///< grid design: the values, in order
  double low = 0.0, high = 0.0;        ///< LHS and Sobol designs: the range sampled (uniformly)
  bool integer = false;                ///< round sampled values to integers
  bool operator==(const Factor&) const = default;
};

/// A validated experiment.
struct ExperimentSpec {
  std::string name;
  std::string description;
  std::filesystem::path source_file;   ///< the experiment file
  std::filesystem::path scenario;      ///< base scenario file (resolved relative to the experiment file)
  std::vector<std::string> overrides;  ///< applied to every run before policy or factor overrides
  std::uint64_t seed = 1;              ///< master seed; replicate seeds derive from it
  int replicates = 1;
  Design design = Design::kPolicies;
  int samples = 0;                     ///< LHS / Sobol: number of base samples
  std::vector<Policy> policies;
  std::vector<Factor> factors;
  std::vector<std::string> outcomes;   ///< outcome names (see kOutcomeNames)
  int window = 52;                     ///< steps at the end of the horizon that "last window" outcomes average
  bool operator==(const ExperimentSpec&) const = default;
};

/// The outcome names an experiment may ask for; each is computed per brand.
///  final_share, mean_share, final_customers, mean_margin, total_margin,
///  mean_nps, churn (mean defections / customers per step), mean_trust, mean_loyalty.
extern const std::vector<std::string> kOutcomeNames;

/// One run of an experiment.
struct RunPlan {
  int index = 0;                       ///< position in the experiment, 0-based
  std::string run_id;                  ///< zero-padded index, e.g. "000017"
  std::string policy;                  ///< policy name (policy designs), "" otherwise
  int point = 0;                       ///< design point (policy index, grid cell or sample)
  std::vector<double> factor_values;   ///< one per factor (factor designs)
  std::string sobol_matrix;            ///< Sobol design: "A", "B" or "AB<i>" (1-based factor), "" otherwise
  int replicate = 0;                   ///< 0-based
  std::uint64_t seed = 0;
  std::filesystem::path scenario;      ///< scenario file
  std::vector<std::string> overrides;  ///< every override of this run, in order (incl. scenario.seed)
  bool operator==(const RunPlan&) const = default;
};

/// Reads and validates an experiment file. Errors: ConfigError as
/// `FILE:LINE: key: expected ...` (exit 2); IoError for an unreadable file.
/// Every run's scenario is validated too, so a sweep never fails half way on input.
ExperimentSpec load_experiment(const std::filesystem::path& file);

/// The seed of replicate r (a pure function of the master seed and r).
std::uint64_t replicate_seed(std::uint64_t master, int replicate) noexcept;

/// Every run of the experiment, in a fixed order: points outer, replicates inner.
std::vector<RunPlan> plan_runs(const ExperimentSpec& spec);

/// Design points in [0, 1)^k for the sampled designs (exposed for tests):
/// Latin hypercube with n strata per factor, and Saltelli's A/B matrices from a
/// scrambled-free Sobol sequence of dimension 2k (A = first k, B = last k columns).
std::vector<std::vector<double>> latin_hypercube(int n, int k, std::uint64_t seed);
std::vector<std::vector<double>> sobol_points(int n, int dimensions);

/// Summary columns of one finished run: name -> value, names `<outcome>.<brand>`.
std::vector<std::pair<std::string, double>> compute_outcomes(const RunResult& run,
                                                             const std::vector<std::string>& outcomes,
                                                             int window);

}  // namespace cxsim
