#pragma once
/// \file
/// The immutable, validated description of one market: what to simulate.
///
/// A `ScenarioSpec` is produced once by the scenario reader (io/scenario_io.hpp)
/// and then shared read-only (`std::shared_ptr<const ScenarioSpec>`). Nothing in
/// it changes during a run; timeline events are applied to the engine's own
/// copy of the brand and cohort state. Defaults below are the model's defaults;
/// docs/model.md gives each one's unit and source.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cxsim {

/// Largest number of value dimensions K.
inline constexpr int kMaxDimensions = 16;
/// Largest number of brands (one byte per customer's current brand, one value reserved).
inline constexpr int kMaxBrands = 64;
/// Largest number of cohorts.
inline constexpr int kMaxCohorts = 16;
/// Largest horizon in steps (times are stored in 16 bits; 0xFFFF means "never").
inline constexpr int kMaxSteps = 65000;
/// Largest network degree.
inline constexpr int kMaxDegree = 64;

/// A group of customers born in the same era, with its own distributions.
struct CohortSpec {
  std::string name;                  ///< e.g. "gen_z"
  double fraction = 0.0;             ///< share of the initial population, [0, 1]; fractions sum to 1
  std::vector<double> values_mean;   ///< mean values vector, K entries in [-1, 1]
  double values_sd = 0.35;           ///< sd of each value around the mean (normal, clipped to [-1, 1])
  double salience_mean = 0.5;        ///< mean of Beta-distributed values salience, (0, 1)
  double salience_sd = 0.2;          ///< sd of salience; sd^2 < mean (1 - mean)
  double weight_life = 0.45;         ///< mean weight of values ("life") in choices
  double weight_time = 0.33;         ///< mean weight of effort and service ("time")
  double weight_money = 0.22;        ///< mean weight of price ("money")
  double weights_sd = 0.25;          ///< log-normal sigma of each weight before normalising the three to sum 3
  double purchase_rate = 0.085;      ///< mean category purchase rate, purchases per step (Gamma mean)
  double purchase_shape = 1.5;       ///< Gamma shape of the purchase rate (NBD heterogeneity)

  bool operator==(const CohortSpec&) const = default;
};

/// The parts of a brand that timeline events may change.
struct BrandPolicy {
  double price = 10.0;               ///< price per purchase, currency units
  double unit_cost = 6.0;            ///< cost of goods per purchase, currency units
  double effort = 0.3;               ///< friction of doing business, [0, 1]
  std::vector<double> stance;        ///< public stance, K entries in [-1, 1] (0: no stance)
  double action = 0.5;               ///< share of the stance lived in operations, [0, 1]
  double service_level = 0.6;        ///< post-purchase service funding, [0, 1]
  double service_cost = 0.5;         ///< service cost per purchase at service_level 1, currency units
  double ex_investment = 0.3;        ///< employee-experience investment, [0, 1]
  double ex_cost = 20.0;             ///< EX cost per employee per step at ex_investment 1, currency units
  double marketing_reach = 0.03;     ///< probability a purchase occasion carries one of its marketing leads
  double loyalty_program = 0.0;      ///< transactional loyalty scheme: extra loyalty bonus, x (1 + this)
  double loyalty_cost = 0.25;        ///< scheme cost per purchase at loyalty_program 1 (points, discounts), currency units
  double cx_spend = 0.0;             ///< other CX spend charged to margin, currency units per step per 1000 customers in the market

  bool operator==(const BrandPolicy&) const = default;
};

/// A brand: its fixed attributes and its initial policy.
struct BrandSpec {
  std::string name;                  ///< e.g. "Verde"
  BrandPolicy policy;                ///< initial policy
  double employees_per_1k = 2.0;     ///< employees per 1000 customers in the market (at least 1 employee)
  double initial_trust = 0.5;        ///< every customer's initial trust in the brand's stated values, [0, 1]

  bool operator==(const BrandSpec&) const = default;
};

/// Utility coefficients of the multinomial-logit choice.
struct ChoiceParams {
  double beta_life = 4.0;            ///< utility per unit of weighted, trusted values alignment
  double beta_time = 3.0;            ///< utility lost per unit of weighted effort plus hassle
  double beta_money = 4.0;           ///< utility lost per unit of weighted price / reference price
  double beta_loyalty = 4.0;         ///< utility bonus per unit of loyalty to the current brand
  double beta_social = 1.0;          ///< utility per unit share of contacts using the brand
  double beta_wom = 0.8;             ///< utility per unit (promoters - detractors of the brand) / contacts
  double hassle = 2.0;               ///< weight of expected unresolved support (time part)
  double quality_learning = 0.05;    ///< share of the gap between expected and real service quality closed per step
  double reference_price = 0.0;      ///< price scale, currency units; 0 means the mean initial brand price
  double lead_lift = 0.5;            ///< utility lift of a marketing lead for its brand
  double ambassador_ratio = 7.0;     ///< odds of converting after an ambassador lead / after a marketing lead
  double ambassador_contacts = 25.0; ///< customers one ambassador reaches per step

  bool operator==(const ChoiceParams&) const = default;
};

/// The purchase experience and its satisfaction outcome.
struct ExperienceParams {
  double support_rate = 0.2;         ///< probability a purchase needs post-purchase support
  double promoter_base = 0.40;       ///< P(promoter) without a support need
  double detractor_base = 0.08;      ///< P(detractor) without a support need
  double promoter_resolved = 0.50;   ///< P(promoter) when support resolved the issue well
  double detractor_resolved = 0.10;  ///< P(detractor) when support resolved the issue well
  double promoter_unresolved = 0.03; ///< P(promoter) when the issue was not resolved
  double detractor_unresolved = 0.70;///< P(detractor) when the issue was not resolved
  double fit_gain = 0.4;             ///< added P(promoter) per unit of lived values fit

  bool operator==(const ExperienceParams&) const = default;
};

/// Habit and commitment to the current brand.
struct LoyaltyParams {
  double initial = 0.25;             ///< mean loyalty of the initial population (uniform on [0, 2*initial])
  double decay = 0.005;              ///< loyalty lost per step without a purchase (multiplicative)
  double gain_promoter = 0.2;        ///< loyalty gain toward 1 after a promoter experience
  double gain_passive = 0.08;        ///< loyalty gain toward 1 after a passive experience
  double loss_detractor = 0.3;       ///< share of loyalty lost after a detractor experience
  double after_switch = 0.1;         ///< loyalty right after switching brand
  double values_anchor = 3.0;        ///< commitment per unit of salience x trust x shared alignment; slows decay

  bool operator==(const LoyaltyParams&) const = default;
};

/// Trust in each brand's stated values.
struct TrustParams {
  double learn_rate = 0.25;          ///< step toward the brand's real action per own experience
  double wom_rate = 0.06;            ///< step toward a contact's trust per word-of-mouth signal
  double hypocrisy_threshold = 0.35; ///< trust below which a stance the customer shares counts against the brand

  bool operator==(const TrustParams&) const = default;
};

/// Employees: engagement, turnover, ambassadors and service quality.
struct EmployeeParams {
  bool enabled = true;               ///< false: service quality = service_level, no ambassadors
  double baseline = 0.5;             ///< engagement target with no EX investment and no alignment
  double adjust_rate = 0.08;         ///< share of the gap to the target closed per step
  double ex_effect = 0.35;           ///< target gain per unit of EX investment
  double alignment_effect = 0.3;     ///< target gain per unit of values alignment with stance x action
  double workload_effect = 0.4;      ///< target loss per unit of support overload
  double noise_sd = 0.03;            ///< sd of per-step engagement noise
  double turnover_base = 0.002;      ///< quit probability per step of a fully engaged employee
  double turnover_slope = 0.04;      ///< added quit probability per step at zero engagement (x (1-e)^2)
  double hire_engagement = 0.6;      ///< mean engagement of a new hire
  double ambassador_threshold = 0.8; ///< engagement at or above which an employee is an ambassador
  int ramp_steps = 12;               ///< steps for a new hire to reach full effectiveness
  double quality_floor = 0.4;        ///< service skill of a disengaged workforce, [0, 1]
  double skill_learning = 0.1;       ///< share of the gap between service skill and what engagement allows closed per step
  double cases_per_employee = 4.0;   ///< support cases one employee handles per step at service_level 1

  bool operator==(const EmployeeParams&) const = default;
};

/// Market-wide conditions.
struct MarketParams {
  double demand = 1.0;               ///< multiplier on every purchase rate (events change it)

  bool operator==(const MarketParams&) const = default;
};

/// Which state an event changes.
enum class EventTarget : std::uint8_t { kMarket, kBrand, kCohort };

/// A field an event sets.
enum class EventField : std::uint8_t {
  kPrice, kUnitCost, kEffort, kStance, kAction, kServiceLevel, kServiceCost,
  kExInvestment, kExCost, kMarketingReach, kLoyaltyProgram, kLoyaltyCost, kCxSpend,  // brand
  kDemand,                                   // market
  kValuesMean, kSalienceMean,                // cohort (targets the cohort drifts toward)
};

/// One assignment inside an event.
struct EventChange {
  EventField field{};
  double value = 0.0;                ///< scalar fields
  std::vector<double> vector;        ///< kStance and kValuesMean: K entries

  bool operator==(const EventChange&) const = default;
};

/// A change that happens at the start of a step.
struct EventSpec {
  int step = 0;                      ///< 0-based step at whose start the event applies
  EventTarget target = EventTarget::kMarket;
  int index = -1;                    ///< brand or cohort index (-1 for market)
  std::vector<EventChange> changes;

  bool operator==(const EventSpec&) const = default;
};

/// Everything needed to run one market. Immutable once validated.
struct ScenarioSpec {
  std::string name;                  ///< short identifier
  std::string description;           ///< free text
  std::string source_file;           ///< file it was read from (for messages)
  int steps = 156;                   ///< horizon, steps (weeks)
  int burn_in = 0;                   ///< steps run before step 0 (no events, nothing recorded) to settle the market
  std::uint64_t seed = 1;            ///< master seed, [0, 2^63 - 1] (a TOML integer)

  std::int64_t customers = 100000;   ///< population size
  double replacement_rate = 0.0004;  ///< share of customers replaced by entrants per step
  int entrant_cohort = 0;            ///< cohort index of entrants (the youngest)

  std::vector<std::string> dimensions;  ///< value dimension names, K of them
  double values_drift = 0.01;        ///< share of the gap between each cohort's mean values and its target closed per step
  double salience_drift = 0.01;      ///< same, for each cohort's mean salience

  int degree = 8;                    ///< contacts per customer (even)
  double rewire = 0.1;               ///< Watts-Strogatz rewiring probability

  int tracking_sample = 65536;       ///< customers surveyed each step for loyalty/trust/salience
  std::string segment_dimension;     ///< dimension splitting customers into opposes/neutral/shares ("" = first)
  double segment_threshold = 0.2;    ///< |value| on segment_dimension at which a customer shares/opposes
  double salience_threshold = 0.5;   ///< salience at or above which a customer is values-salient
  int panel = 0;                     ///< consumer panel size (0: no panel)
  int panel_from = -1;               ///< first step of the panel summary period (-1: steps - 52, at least 0)
  int panel_to = -1;                 ///< one past its last step (-1: steps)

  std::vector<CohortSpec> cohorts;
  std::vector<BrandSpec> brands;
  ChoiceParams choice;
  ExperienceParams experience;
  LoyaltyParams loyalty;
  TrustParams trust;
  EmployeeParams employees;
  MarketParams market;
  std::vector<EventSpec> events;     ///< sorted by step (stable: file order within a step)

  bool operator==(const ScenarioSpec&) const = default;

  /// Index of segment_dimension.
  [[nodiscard]] int segment_index() const noexcept {
    for (std::size_t d = 0; d < dimensions.size(); ++d)
      if (dimensions[d] == segment_dimension) return static_cast<int>(d);
    return 0;
  }
  /// The panel summary period [first, second) with the defaults resolved.
  [[nodiscard]] std::pair<int, int> panel_period() const noexcept {
    const int to = panel_to < 0 ? steps : panel_to;
    const int from = panel_from < 0 ? (to > 52 ? to - 52 : 0) : panel_from;
    return {from, to};
  }
  /// Steps simulated in all: burn-in plus horizon.
  [[nodiscard]] int total_steps() const noexcept { return burn_in + steps; }
  /// Number of value dimensions K.
  [[nodiscard]] int k() const noexcept { return static_cast<int>(dimensions.size()); }
  /// Reference price used by the money part of utility.
  [[nodiscard]] double reference_price() const noexcept {
    if (choice.reference_price > 0.0 || brands.empty()) return choice.reference_price;
    double sum = 0.0;
    for (const auto& b : brands) sum += b.policy.price;
    return sum / static_cast<double>(brands.size());
  }
};

}  // namespace cxsim
