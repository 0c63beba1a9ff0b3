#include "cxsim/io/scenario_io.hpp"

#include <toml.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <tuple>
#include <type_traits>
#include <variant>

#include "cxsim/core/error.hpp"
#include "toml_text.hpp"

namespace cxsim {
namespace {

using namespace toml_text;
using Value = toml::value;
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---------------------------------------------------------------------------
// Text helpers

using toml_text::shortest;  // the overload below would hide it

/// `x` as written in a range: an integer key's bounds as integers.
std::string shortest(double x, bool integer) {
  return integer ? std::to_string(static_cast<std::int64_t>(x)) : shortest(x);
}

std::string join_path(const std::string& a, std::string_view b) {
  return a.empty() ? std::string(b) : a + "." + std::string(b);
}

bool is_identifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

int index_of(const std::vector<std::string>& names, const std::string& name) {
  const auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

/// The offending value as it appears in messages.
std::string show(const Value& v) {
  if (v.is_integer()) return std::to_string(v.as_integer());
  if (v.is_floating()) return shortest(v.as_floating());
  if (v.is_boolean()) return v.as_boolean() ? "true" : "false";
  if (v.is_string()) return quote(v.as_string().str);
  return std::string(noun(v));
}

// ---------------------------------------------------------------------------
// The schema: one descriptor per key, shared by the reader, the writer and the docs.

struct Range {
  double lo = -kInf;
  double hi = kInf;
  bool lo_open = false;
  bool hi_open = false;

  [[nodiscard]] bool contains(double x) const {
    return std::isfinite(x) && (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
  }
  [[nodiscard]] std::string text(bool integer) const {
    const bool has_lo = lo > -kInf;
    const bool has_hi = hi < kInf;
    if (has_lo && has_hi)
      return (lo_open ? "(" : "[") + shortest(lo, integer) + ", " + shortest(hi, integer) +
             (hi_open ? ")" : "]");
    if (has_lo) return (lo_open ? "> " : ">= ") + shortest(lo, integer);
    if (has_hi) return (hi_open ? "< " : "<= ") + shortest(hi, integer);
    return "";
  }
  /// " in [0, 1]", " > 0" or "" (follows "expected a number").
  [[nodiscard]] std::string phrase(bool integer) const {
    const std::string t = text(integer);
    if (t.empty()) return t;
    return (t[0] == '[' || t[0] == '(') ? " in " + t : " " + t;
  }
};

constexpr Range closed(double lo, double hi) { return {lo, hi, false, false}; }
constexpr Range open(double lo, double hi) { return {lo, hi, true, true}; }
constexpr Range at_least(double lo) { return {lo, kInf, false, false}; }
constexpr Range above(double lo) { return {lo, kInf, true, false}; }
constexpr Range kUnit = closed(0.0, 1.0);
constexpr Range kSigned = closed(-1.0, 1.0);
constexpr Range kBeta = closed(0.0, 100.0);

enum class Type : std::uint8_t {
  kFloat, kInt, kBool, kString, kNames, kDimVector, kCohortRef, kBrandRef, kTable
};

struct Meta {
  std::string_view key;
  Type type = Type::kFloat;
  Range range;
  std::string_view unit;
  std::string_view meaning;
  bool required = false;
  bool even = false;
  bool nonempty = false;
  std::optional<EventField> event;   ///< set: timeline events may change this key
  std::string_view default_text;     ///< docs: overrides the default read from the struct
  std::string_view range_text;       ///< docs: overrides the range computed from `range`
};

template <class S>
using Member = std::variant<double S::*, int S::*, std::int64_t S::*, std::uint64_t S::*,
                            bool S::*, std::string S::*, std::vector<double> S::*,
                            std::vector<std::string> S::*>;

template <class S>
struct Field {
  Meta meta;
  Member<S> member;

  [[nodiscard]] constexpr Field with(auto Meta::*flag, auto value) const {
    Field f = *this;
    f.meta.*flag = value;
    return f;
  }
  [[nodiscard]] constexpr Field required() const { return with(&Meta::required, true); }
  [[nodiscard]] constexpr Field even() const { return with(&Meta::even, true); }
  [[nodiscard]] constexpr Field nonempty() const { return with(&Meta::nonempty, true); }
  [[nodiscard]] constexpr Field event(EventField e) const {
    return with(&Meta::event, std::optional<EventField>(e));
  }
  [[nodiscard]] constexpr Field as(Type t, std::string_view def) const {
    return with(&Meta::type, t).with(&Meta::default_text, def);
  }
};

template <class M>
constexpr Type type_of() {
  if constexpr (std::is_same_v<M, double>) return Type::kFloat;
  else if constexpr (std::is_same_v<M, bool>) return Type::kBool;
  else if constexpr (std::is_integral_v<M>) return Type::kInt;
  else if constexpr (std::is_same_v<M, std::string>) return Type::kString;
  else if constexpr (std::is_same_v<M, std::vector<double>>) return Type::kDimVector;
  else return Type::kNames;
}

template <class S, class M>
constexpr Field<S> field(std::string_view key, M S::*member, Range range, std::string_view unit,
                         std::string_view meaning) {
  Meta m;
  m.key = key;
  m.type = type_of<M>();
  m.range = range;
  m.unit = unit;
  m.meaning = meaning;
  return {m, member};
}

using SS = ScenarioSpec;
constexpr std::array kScenarioFields{
    field("name", &SS::name, {}, "", "short identifier of the scenario").required().nonempty(),
    field("description", &SS::description, {}, "", "free text"),
    field("steps", &SS::steps, closed(1, kMaxSteps), "steps", "horizon (one step is a week)"),
    field("burn_in", &SS::burn_in, closed(0, kMaxSteps), "steps",
          "steps simulated before step 0, without events and not recorded, so the market starts settled"),
    field("seed", &SS::seed, at_least(0), "", "master seed of every random stream"),
};
constexpr std::array kPopulationFields{
    field("customers", &SS::customers, closed(1, 2e9), "customers", "population size"),
    field("replacement_rate", &SS::replacement_rate, closed(0, 0.1), "fraction per step",
          "share of customers replaced by entrants per step"),
    field("entrant_cohort", &SS::entrant_cohort, {}, "",
          "cohort of the entrants (normally the youngest)")
        .as(Type::kCohortRef, "first cohort"),
};
constexpr std::array kValuesFields{
    field("dimensions", &SS::dimensions, closed(1, kMaxDimensions), "",
          "names of the value dimensions; every values vector lists them in this order")
        .required(),
    field("drift", &SS::values_drift, kUnit, "fraction per step",
          "share of the gap between each cohort's mean values and its target closed per step"),
    field("salience_drift", &SS::salience_drift, kUnit, "fraction per step",
          "same as `drift`, for each cohort's mean salience"),
};
constexpr std::array kNetworkFields{
    field("degree", &SS::degree, closed(0, kMaxDegree), "contacts", "contacts per customer")
        .even(),
    field("rewire", &SS::rewire, kUnit, "probability", "Watts-Strogatz rewiring probability"),
};
constexpr std::array kMetricsFields{
    field("tracking_sample", &SS::tracking_sample, closed(1, 2e9), "customers",
          "customers surveyed each step for loyalty, trust and salience"),
    field("segment_dimension", &SS::segment_dimension, {}, "",
          "value dimension splitting purchasers into opposes / neutral / shares segments")
        .with(&Meta::default_text, "first dimension"),
    field("segment_threshold", &SS::segment_threshold, kUnit, "[0, 1]",
          "a customer shares (opposes) when its value on segment_dimension is >= t (<= -t)"),
    field("salience_threshold", &SS::salience_threshold, kUnit, "[0, 1]",
          "salience at or above which a customer counts as values-salient"),
    field("panel", &SS::panel, closed(0, 2e9), "customers",
          "consumer panel size: every purchase of this many sampled customers is recorded (0: none)"),
    field("panel_from", &SS::panel_from, closed(-1, kMaxSteps), "steps",
          "first step of the panel summary period (-1: the last 52 steps)"),
    field("panel_to", &SS::panel_to, closed(-1, kMaxSteps), "steps",
          "one past the last step of the panel summary period (-1: the horizon)"),
};

using CP = ChoiceParams;
constexpr std::array kChoiceFields{
    field("beta_life", &CP::beta_life, kBeta, "utility",
          "utility per unit of weighted, trusted values alignment"),
    field("beta_time", &CP::beta_time, kBeta, "utility",
          "utility lost per unit of weighted effort plus hassle"),
    field("beta_money", &CP::beta_money, kBeta, "utility",
          "utility lost per unit of weighted price / reference price"),
    field("beta_loyalty", &CP::beta_loyalty, kBeta, "utility",
          "utility bonus per unit of loyalty to the current brand"),
    field("beta_social", &CP::beta_social, kBeta, "utility",
          "utility per unit share of contacts using the brand"),
    field("beta_wom", &CP::beta_wom, kBeta, "utility",
          "utility per unit net promoters among contacts using the brand"),
    field("quality_learning", &CP::quality_learning, kUnit, "fraction per step",
          "share of the gap between the service quality customers expect and the real one closed per step"),
    field("hassle", &CP::hassle, kBeta, "weight",
          "weight of expected unresolved support in the time part"),
    field("reference_price", &CP::reference_price, at_least(0), "currency units",
          "price scale of the money part; 0 means the mean initial brand price"),
    field("lead_lift", &CP::lead_lift, kBeta, "utility",
          "utility lift of a marketing lead for its brand"),
    field("ambassador_ratio", &CP::ambassador_ratio, closed(1, 1000), "ratio",
          "odds of converting after an ambassador lead / after a marketing lead"),
    field("ambassador_contacts", &CP::ambassador_contacts, closed(0, 1e6), "customers per step",
          "customers one ambassador reaches per step"),
};

using XP = ExperienceParams;
constexpr std::array kExperienceFields{
    field("support_rate", &XP::support_rate, kUnit, "probability",
          "probability a purchase needs post-purchase support"),
    field("promoter_base", &XP::promoter_base, kUnit, "probability",
          "P(promoter) without a support need"),
    field("detractor_base", &XP::detractor_base, kUnit, "probability",
          "P(detractor) without a support need"),
    field("promoter_resolved", &XP::promoter_resolved, kUnit, "probability",
          "P(promoter) when support resolved the issue well"),
    field("detractor_resolved", &XP::detractor_resolved, kUnit, "probability",
          "P(detractor) when support resolved the issue well"),
    field("promoter_unresolved", &XP::promoter_unresolved, kUnit, "probability",
          "P(promoter) when the issue was not resolved"),
    field("detractor_unresolved", &XP::detractor_unresolved, kUnit, "probability",
          "P(detractor) when the issue was not resolved"),
    field("fit_gain", &XP::fit_gain, kUnit, "probability",
          "added P(promoter) per unit of lived values fit"),
};

using LP = LoyaltyParams;
constexpr std::array kLoyaltyFields{
    field("initial", &LP::initial, closed(0, 0.5), "loyalty",
          "mean loyalty of the initial population (uniform on [0, 2 initial])"),
    field("decay", &LP::decay, kUnit, "fraction per step",
          "loyalty lost per step without a purchase (multiplicative)"),
    field("gain_promoter", &LP::gain_promoter, kUnit, "fraction",
          "loyalty gain toward 1 after a promoter experience"),
    field("gain_passive", &LP::gain_passive, kUnit, "fraction",
          "loyalty gain toward 1 after a passive experience"),
    field("loss_detractor", &LP::loss_detractor, kUnit, "fraction",
          "share of loyalty lost after a detractor experience"),
    field("values_anchor", &LP::values_anchor, closed(0, 100), "per unit",
          "commitment = min(1, values_anchor x salience x trust x max(0, alignment)) of the brand last "
          "bought; loyalty decays at decay x (1 - commitment)"),
    field("after_switch", &LP::after_switch, kUnit, "loyalty",
          "loyalty right after switching brand"),
};

using TP = TrustParams;
constexpr std::array kTrustFields{
    field("learn_rate", &TP::learn_rate, kUnit, "fraction per experience",
          "step toward the brand's real action per own experience"),
    field("hypocrisy_threshold", &TP::hypocrisy_threshold, closed(0, 0.99), "trust",
          "credit for a shared stance is (trust - h) / (1 - h): full at trust 1, none at h, negative below"),
    field("wom_rate", &TP::wom_rate, kUnit, "fraction per signal",
          "step toward a contact's trust per word-of-mouth signal"),
};

using EP = EmployeeParams;
constexpr std::array kEmployeeFields{
    field("enabled", &EP::enabled, {}, "",
          "false: service quality = service_level and no ambassadors"),
    field("baseline", &EP::baseline, kUnit, "engagement",
          "engagement target with no EX investment and no alignment"),
    field("adjust_rate", &EP::adjust_rate, kUnit, "fraction per step",
          "share of the gap to the engagement target closed per step"),
    field("ex_effect", &EP::ex_effect, kUnit, "engagement",
          "target gain per unit of EX investment"),
    field("alignment_effect", &EP::alignment_effect, kUnit, "engagement",
          "target gain per unit of values alignment with stance x action"),
    field("workload_effect", &EP::workload_effect, kUnit, "engagement",
          "target loss per unit of support overload"),
    field("noise_sd", &EP::noise_sd, kUnit, "engagement", "sd of per-step engagement noise"),
    field("turnover_base", &EP::turnover_base, kUnit, "probability per step",
          "quit probability per step of a fully engaged employee"),
    field("turnover_slope", &EP::turnover_slope, kUnit, "probability per step",
          "added quit probability per step at zero engagement (times (1 - e)^2)"),
    field("hire_engagement", &EP::hire_engagement, kUnit, "engagement",
          "mean engagement of a new hire"),
    field("ambassador_threshold", &EP::ambassador_threshold, kUnit, "engagement",
          "engagement at or above which an employee is an ambassador"),
    field("ramp_steps", &EP::ramp_steps, closed(1, kMaxSteps), "steps",
          "steps for a new hire to reach full effectiveness"),
    field("skill_learning", &EP::skill_learning, kUnit, "fraction per step",
          "share of the gap between service skill and what the workforce's engagement allows closed per step"),
    field("quality_floor", &EP::quality_floor, kUnit, "[0, 1]",
          "service skill of a disengaged workforce"),
    field("cases_per_employee", &EP::cases_per_employee, above(0),
          "cases per step", "support cases one employee handles per step at service_level 1"),
};

constexpr std::array kMarketFields{
    field("demand", &MarketParams::demand, closed(0, 10), "multiplier",
          "multiplier on every purchase rate (a drought is < 1)")
        .event(EventField::kDemand),
};

using CS = CohortSpec;
constexpr std::array kCohortFields{
    field("fraction", &CS::fraction, kUnit, "fraction", "share of the initial population")
        .required(),
    field("values_mean", &CS::values_mean, kSigned, "[-1, 1]",
          "mean values vector; an event sets the target the cohort drifts toward")
        .event(EventField::kValuesMean),
    field("values_sd", &CS::values_sd, closed(0, 2), "[-1, 1] scale",
          "sd of each value around the mean (normal, clipped to [-1, 1])"),
    field("salience_mean", &CS::salience_mean, open(0, 1), "salience",
          "mean of the Beta-distributed values salience; an event sets the drift target")
        .event(EventField::kSalienceMean),
    field("salience_sd", &CS::salience_sd, at_least(0), "salience", "sd of salience"),
    field("weight_life", &CS::weight_life, at_least(0), "relative weight",
          "mean weight of values (\"life\") in choices"),
    field("weight_time", &CS::weight_time, at_least(0), "relative weight",
          "mean weight of effort and service (\"time\")"),
    field("weight_money", &CS::weight_money, at_least(0), "relative weight",
          "mean weight of price (\"money\")"),
    field("weights_sd", &CS::weights_sd, closed(0, 5), "log-normal sigma",
          "sigma of each weight before normalising the three to sum 3"),
    field("purchase_rate", &CS::purchase_rate, at_least(0), "purchases per step",
          "mean category purchase rate (Gamma mean)"),
    field("purchase_shape", &CS::purchase_shape, above(0), "Gamma shape",
          "heterogeneity of purchase rates (NBD)"),
};

using BP = BrandPolicy;
constexpr std::array kPolicyFields{
    field("price", &BP::price, above(0), "currency units", "price per purchase")
        .required().event(EventField::kPrice),
    field("unit_cost", &BP::unit_cost, at_least(0), "currency units",
          "cost of goods per purchase").event(EventField::kUnitCost),
    field("effort", &BP::effort, kUnit, "[0, 1]", "friction of doing business")
        .event(EventField::kEffort),
    field("stance", &BP::stance, kSigned, "[-1, 1]", "public stance (0: no stance)")
        .event(EventField::kStance),
    field("action", &BP::action, kUnit, "fraction",
          "share of the stance lived in operations").event(EventField::kAction),
    field("service_level", &BP::service_level, kUnit, "[0, 1]",
          "post-purchase service funding").event(EventField::kServiceLevel),
    field("service_cost", &BP::service_cost, at_least(0), "currency units",
          "service cost per purchase at service_level 1").event(EventField::kServiceCost),
    field("ex_investment", &BP::ex_investment, kUnit, "[0, 1]",
          "employee-experience investment").event(EventField::kExInvestment),
    field("ex_cost", &BP::ex_cost, at_least(0), "currency units per employee-step",
          "EX cost per employee per step at ex_investment 1").event(EventField::kExCost),
    field("marketing_reach", &BP::marketing_reach, kUnit, "probability",
          "probability a purchase occasion carries one of the brand's marketing leads")
        .event(EventField::kMarketingReach),
    field("loyalty_program", &BP::loyalty_program, closed(0, 10), "multiplier",
          "transactional loyalty scheme (points, discounts): the loyalty bonus of its customers is "
          "multiplied by 1 + loyalty_program").event(EventField::kLoyaltyProgram),
    field("loyalty_cost", &BP::loyalty_cost, at_least(0), "currency units",
          "cost of the loyalty scheme per purchase at loyalty_program 1 (points redeemed, discounts); "
          "charged as loyalty_program x loyalty_cost per purchase").event(EventField::kLoyaltyCost),
    field("cx_spend", &BP::cx_spend, at_least(0), "currency units per step per 1000 customers",
          "customer-experience spend the model does not charge by itself (marketing, effort "
          "reduction, advocacy), per 1000 customers in the market; charged to margin")
        .event(EventField::kCxSpend),
};
constexpr std::array kBrandFields{
    field("employees_per_1k", &BrandSpec::employees_per_1k, above(0), "employees",
          "employees per 1000 customers in the market (at least 1 employee)"),
    field("initial_trust", &BrandSpec::initial_trust, kUnit, "trust",
          "every customer's initial trust in the brand's stated values"),
};

constexpr Meta event_key(std::string_view key, Type type, Range range, std::string_view unit,
                         std::string_view meaning, bool required, std::string_view def,
                         std::string_view range_text) {
  Meta m;
  m.key = key;
  m.type = type;
  m.range = range;
  m.unit = unit;
  m.meaning = meaning;
  m.required = required;
  m.default_text = def;
  m.range_text = range_text;
  return m;
}

constexpr std::array kEventKeys{
    event_key("step", Type::kInt, closed(0, kMaxSteps - 1), "steps",
              "0-based step at whose start the event applies", true, "", "[0, steps - 1]"),
    event_key("brand", Type::kBrandRef, {}, "", "brand the event changes", false, "none", ""),
    event_key("cohort", Type::kCohortRef, {}, "", "cohort the event changes", false, "none", ""),
    event_key("set", Type::kTable, {}, "", "the changes `{ key = value, ... }` (keys below)", true,
              "", ""),
};

template <class S>
struct Section {
  std::string_view name;
  std::string_view summary;
  std::span<const Field<S>> fields;
  S& (*project)(ScenarioSpec&);
  std::string_view notes;  ///< docs: cross-key rules, one per line
};

ScenarioSpec& self(ScenarioSpec& s) { return s; }

const auto kFixedSections = std::make_tuple(
    Section<SS>{"scenario", "Identity, horizon and seed of the run.", kScenarioFields, &self,
                "`burn_in + steps` must not exceed 65000."},
    Section<SS>{"population", "Size and renewal of the customer population.", kPopulationFields,
                &self, "`entrant_cohort` must name a cohort defined in the file."},
    Section<SS>{"values", "The value dimensions and how values drift.", kValuesFields, &self,
                "`dimensions` are unique identifiers (letters, digits and `_`, not starting "
                "with a digit)."},
    Section<SS>{"network", "The small-world network of customer contacts.", kNetworkFields,
                &self, "`degree` must be less than `population.customers`."},
    Section<SS>{"metrics", "What is measured each step.", kMetricsFields, &self, ""},
    Section<CP>{"choice", "Utility coefficients of the multinomial-logit brand choice.",
                kChoiceFields, +[](SS& s) -> CP& { return s.choice; }, ""},
    Section<XP>{"experience", "The purchase experience and its satisfaction outcome.",
                kExperienceFields, +[](SS& s) -> XP& { return s.experience; },
                "`promoter_base + detractor_base <= 1`, and likewise for `_resolved` and "
                "`_unresolved`."},
    Section<LP>{"loyalty", "Habit and commitment to the current brand.", kLoyaltyFields,
                +[](SS& s) -> LP& { return s.loyalty; }, ""},
    Section<TP>{"trust", "Trust in each brand's stated values.", kTrustFields,
                +[](SS& s) -> TP& { return s.trust; }, ""},
    Section<EP>{"employees", "Employees: engagement, turnover, ambassadors, service quality.",
                kEmployeeFields, +[](SS& s) -> EP& { return s.employees; },
                "`turnover_base + turnover_slope <= 1`."},
    Section<MarketParams>{"market", "Market-wide conditions.", kMarketFields,
                          +[](SS& s) -> MarketParams& { return s.market; }, ""});

template <class F>
void for_each_section(F&& f) {
  std::apply([&](const auto&... section) { (f(section), ...); }, kFixedSections);
}

std::vector<std::string> top_level_keys() {
  std::vector<std::string> keys;
  for_each_section([&](const auto& s) { keys.emplace_back(s.name); });
  keys.insert(keys.end(), {"cohorts", "brands", "events"});
  return keys;
}

/// Name of the key an event field is written as, and its descriptor.
const Meta* event_meta(EventField e) {
  const Meta* found = nullptr;
  auto scan = [&](const auto& fields) {
    for (const auto& f : fields)
      if (f.meta.event == e) found = &f.meta;
  };
  scan(kPolicyFields);
  scan(kCohortFields);
  scan(kMarketFields);
  return found;
}

// ---------------------------------------------------------------------------
// Reading

using Scalar = std::variant<double, std::int64_t, bool, std::string, std::vector<double>,
                            std::vector<std::string>>;

/// Where a value came from; problems are reported in this order.
struct Where {
  int rank = 0;  ///< 0: the file, 1: a --set override
  int line = 1;
  int column = 0;
  auto operator<=>(const Where&) const = default;
};

struct Entry {
  std::string key;
  std::string path;
  const Value* value;
  Where where;
};

template <class S>
struct Bound {
  S& obj;
  std::span<const Field<S>> fields;
};

template <class S, class Fields>
Bound<S> bind(S& obj, const Fields& fields) {
  return {obj, std::span<const Field<S>>(fields)};
}

const Value* child(const Value& table, std::string_view key) {
  if (!table.is_table()) return nullptr;
  const auto& t = table.as_table();
  const auto it = t.find(std::string(key));
  return it == t.end() ? nullptr : &it->second;
}

/// Validates a parsed (and overridden) document into a ScenarioSpec. Problems are
/// collected rather than thrown so that the one earliest in the file is reported.
class Reader {
 public:
  Reader(const Value& root, std::string file, std::map<std::string, int> set_by)
      : root_(root), file_(std::move(file)), set_by_(std::move(set_by)) {}

  ScenarioSpec read() {
    for (const auto& e : entries(root_, "")) {
      if (index_of(top_level_keys(), e.key) < 0)
        fail(e.where, e.path, "unknown key (expected one of: " + join(top_level_keys()) + ")");
    }
    const auto cohort_tables = collect("cohorts", "cohort", kMaxCohorts, &is_identifier,
                                       "expected a cohort name made of letters, digits and _, "
                                       "not starting with a digit");
    const auto brand_tables = collect("brands", "brand", kMaxBrands, &is_bare_key,
                                      "expected a brand name made of letters, digits, _ and -");
    for (const auto& [name, table] : cohort_tables) cohort_names_.push_back(name);
    for (const auto& [name, table] : brand_tables) brand_names_.push_back(name);

    for_each_section([&](const auto& section) {
      const std::string path(section.name);
      const Value* t = child(root_, path);
      if (t != nullptr && !t->is_table()) {
        fail(where(path, *t), path, "expected a table, got " + std::string(noun(*t)));
        return;
      }
      read_table(t != nullptr ? *t : empty_, path, bind(section.project(spec_), section.fields));
    });
    require_section("cohorts");
    require_section("brands");
    dims_ok_ = !spec_.dimensions.empty();
    const auto k = spec_.dimensions.size();

    for (const auto& [name, table] : cohort_tables) {
      CohortSpec c;
      c.name = name;
      c.values_mean.assign(k, 0.0);
      read_table(*table, "cohorts." + name, bind(c, kCohortFields));
      spec_.cohorts.push_back(std::move(c));
    }
    for (const auto& [name, table] : brand_tables) {
      BrandSpec b;
      b.name = name;
      b.policy.stance.assign(k, 0.0);
      read_table(*table, "brands." + name, bind(b.policy, kPolicyFields), bind(b, kBrandFields));
      spec_.brands.push_back(std::move(b));
    }
    read_events();
    throw_first();
    cross_check();
    throw_first();
    return std::move(spec_);
  }

 private:
  void fail(const Where& w, const std::string& key, const std::string& expected) {
    problems_.push_back({w, key, expected});
  }

  void throw_first() const {
    if (problems_.empty()) return;
    // min_element keeps the first of equal positions: discovery order breaks ties.
    const auto it = std::min_element(
        problems_.begin(), problems_.end(),
        [](const auto& a, const auto& b) { return a.where < b.where; });
    throw ConfigError(it->where.rank == 0 ? file_ : "--set", it->where.line, it->key,
                      it->expected);
  }

  [[nodiscard]] Where where(const std::string& path, const Value& v) const {
    std::string p = path;
    while (!p.empty()) {
      if (const auto it = set_by_.find(p); it != set_by_.end()) return {1, it->second, 0};
      const auto cut = p.find_last_of(".[");
      p.resize(cut == std::string::npos ? 0 : cut);
    }
    const auto loc = v.location();
    return {0, std::max(1, static_cast<int>(loc.line())), static_cast<int>(loc.column())};
  }

  /// The keys of a table in file order.
  [[nodiscard]] std::vector<Entry> entries(const Value& table, const std::string& path) const {
    std::vector<Entry> out;
    for (const auto& [key, v] : table.as_table()) {
      std::string p = join_path(path, key);
      const Where w = where(p, v);
      out.push_back({key, std::move(p), &v, w});
    }
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
      return std::tie(a.where, a.key) < std::tie(b.where, b.key);
    });
    return out;
  }

  [[nodiscard]] const Value* find(const std::string& path) const {
    const Value* v = &root_;
    std::size_t start = 0;
    while (v != nullptr && start <= path.size()) {
      const auto dot = std::min(path.find('.', start), path.size());
      v = child(*v, std::string_view(path).substr(start, dot - start));
      start = dot + 1;
    }
    return v;
  }

  /// Reports a rule between keys at the one of `paths` set last (an override, or the
  /// latest line): that is where the rule became broken. Falls back to the table of
  /// the first path when none is present.
  void fail_at(const std::vector<std::string>& paths, const std::string& expected) {
    const std::string* best = nullptr;
    Where best_where;
    for (const auto& p : paths) {
      const Value* v = find(p);
      if (v == nullptr) continue;
      const Where w = where(p, *v);
      if (best == nullptr || best_where < w) {
        best = &p;
        best_where = w;
      }
    }
    if (best != nullptr) return fail(best_where, *best, expected);
    const std::string& first = paths.front();
    const std::string table = first.substr(0, first.rfind('.'));
    const Value* t = find(table);
    fail(t != nullptr ? where(table, *t) : Where{}, first, expected);
  }

  std::vector<std::pair<std::string, const Value*>> collect(
      const std::string& section, const std::string& what, int max_count,
      bool (*valid_name)(std::string_view), const std::string& name_rule) {
    std::vector<std::pair<std::string, const Value*>> out;
    const Value* t = child(root_, section);
    if (t == nullptr) return out;  // reported by require_section()
    if (!t->is_table()) {
      fail(where(section, *t), section,
           "expected a table of [" + section + ".<name>] tables, got " + std::string(noun(*t)));
      return out;
    }
    for (const auto& e : entries(*t, section)) {
      if (!valid_name(e.key)) {
        fail(e.where, e.path, name_rule);
      } else if (!e.value->is_table()) {
        fail(e.where, e.path, "expected a table, got " + std::string(noun(*e.value)));
      } else if (std::ssize(out) == max_count) {
        fail(e.where, e.path,
             "too many " + section + " (at most " + std::to_string(max_count) + ")");
      } else {
        out.emplace_back(e.key, e.value);
      }
    }
    if (t->as_table().empty())
      fail(where(section, *t), section, "expected at least one " + what);
    return out;
  }

  void require_section(const std::string& section) {
    if (child(root_, section) == nullptr)
      fail(where("", root_), section,
           "required section is missing (expected at least one [" + section + ".<name>] table)");
  }

  [[nodiscard]] std::string unknown(const std::string& what, const std::string& name,
                                    const std::vector<std::string>& names) const {
    return "unknown " + what + " " + quote(name) + " (expected one of: " + join(names) + ")";
  }

  std::optional<Scalar> read_value(const Meta& m, const Value& v, const std::string& path) {
    const Where w = where(path, v);
    auto type_error = [&](const std::string& want) -> std::optional<Scalar> {
      fail(w, path, "expected " + want + ", got " + std::string(noun(v)));
      return std::nullopt;
    };
    switch (m.type) {
      case Type::kFloat: {
        if (!v.is_floating() && !v.is_integer()) return type_error("a number");
        const double x = v.is_floating() ? v.as_floating() : static_cast<double>(v.as_integer());
        if (!m.range.contains(x)) {
          fail(w, path, std::string("expected a ") + (std::isfinite(x) ? "" : "finite ") +
                            "number" + m.range.phrase(false) + ", got " + show(v));
          return std::nullopt;
        }
        return x;
      }
      case Type::kInt: {
        const std::string want = m.even ? "an even integer" : "an integer";
        if (!v.is_integer()) return type_error(want);
        const std::int64_t x = v.as_integer();
        if (!m.range.contains(static_cast<double>(x)) || (m.even && x % 2 != 0)) {
          fail(w, path, "expected " + want + m.range.phrase(true) + ", got " + show(v));
          return std::nullopt;
        }
        return x;
      }
      case Type::kBool:
        if (!v.is_boolean()) return type_error("a boolean");
        return v.as_boolean();
      case Type::kString:
      case Type::kCohortRef:
      case Type::kBrandRef: {
        if (!v.is_string()) return type_error("a string");
        std::string s = v.as_string().str;
        if (m.nonempty && s.empty()) return type_error("a non-empty string");
        if (m.type == Type::kString) return s;
        const bool cohort = m.type == Type::kCohortRef;
        const auto& names = cohort ? cohort_names_ : brand_names_;
        const int i = index_of(names, s);
        if (i < 0) {
          fail(w, path, unknown(cohort ? "cohort" : "brand", s, names));
          return std::nullopt;
        }
        return std::int64_t{i};
      }
      case Type::kNames: {
        if (!v.is_array()) return type_error("an array of strings");
        std::vector<std::string> names;
        bool ok = true;
        const auto& items = v.as_array();
        for (std::size_t i = 0; i < items.size(); ++i) {
          const std::string p = path + "[" + std::to_string(i) + "]";
          const Where wi = where(p, items[i]);
          if (!items[i].is_string()) {
            fail(wi, p, "expected a string, got " + std::string(noun(items[i])));
            ok = false;
            continue;
          }
          const std::string& s = items[i].as_string().str;
          if (!is_identifier(s)) {
            fail(wi, p, "expected an identifier (letters, digits and _, not starting with a "
                        "digit), got " + quote(s));
            ok = false;
          } else if (index_of(names, s) >= 0) {
            fail(wi, p, "duplicate name " + quote(s));
            ok = false;
          }
          names.push_back(s);
        }
        if (!m.range.contains(static_cast<double>(names.size()))) {
          fail(w, path, "expected " + shortest(m.range.lo) + " to " + shortest(m.range.hi) +
                            " names, got " + std::to_string(names.size()));
          ok = false;
        }
        if (!ok) return std::nullopt;
        return names;
      }
      case Type::kDimVector: {
        if (!v.is_table()) return type_error("a table { dimension = number, ... }");
        if (!dims_ok_) return std::nullopt;  // values.dimensions is reported instead
        std::vector<double> out(spec_.dimensions.size(), 0.0);
        bool ok = true;
        Meta element = m;
        element.type = Type::kFloat;
        for (const auto& e : entries(v, path)) {
          const int i = index_of(spec_.dimensions, e.key);
          if (i < 0) {
            fail(e.where, e.path, unknown("dimension", e.key, spec_.dimensions));
            ok = false;
          } else if (const auto x = read_value(element, *e.value, e.path)) {
            out[static_cast<std::size_t>(i)] = std::get<double>(*x);
          } else {
            ok = false;
          }
        }
        if (!ok) return std::nullopt;
        return out;
      }
      case Type::kTable:
        break;
    }
    return std::nullopt;
  }

  template <class S>
  static void assign(S& obj, const Member<S>& member, Scalar&& s) {
    std::visit(
        [&](auto p) {
          using M = std::remove_reference_t<decltype(obj.*p)>;
          if constexpr (std::is_arithmetic_v<M> && !std::is_same_v<M, double> &&
                        !std::is_same_v<M, bool>)
            obj.*p = static_cast<M>(std::get<std::int64_t>(s));  // range-checked already
          else
            obj.*p = std::get<M>(std::move(s));
        },
        member);
  }

  template <class S>
  bool read_field(Bound<S>& g, const Entry& e) {
    for (const auto& f : g.fields) {
      if (f.meta.key != e.key) continue;
      if (auto s = read_value(f.meta, *e.value, e.path)) assign(g.obj, f.member, std::move(*s));
      return true;
    }
    return false;
  }

  template <class S>
  void require(const Bound<S>& g, const Value& table, const std::string& path) {
    for (const auto& f : g.fields) {
      if (f.meta.required && child(table, f.meta.key) == nullptr)
        fail(where(path, table), join_path(path, f.meta.key), "required key is missing");
    }
  }

  template <class... S>
  void read_table(const Value& table, const std::string& path, Bound<S>... groups) {
    for (const auto& e : entries(table, path)) {
      if (!(read_field(groups, e) || ...)) {
        std::vector<std::string> keys;
        (..., [&] { for (const auto& f : groups.fields) keys.emplace_back(f.meta.key); }());
        fail(e.where, e.path, "unknown key (expected one of: " + join(keys) + ")");
      }
    }
    (require(groups, table, path), ...);
  }

  void read_events() {
    const Value* events = child(root_, "events");
    if (events == nullptr) return;
    if (!events->is_array()) {
      fail(where("events", *events), "events",
           "expected an array of tables ([[events]]), got " + std::string(noun(*events)));
      return;
    }
    std::vector<std::string> event_keys;
    for (const auto& m : kEventKeys) event_keys.emplace_back(m.key);
    const auto& items = events->as_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string path = "events[" + std::to_string(i) + "]";
      const Value& ev = items[i];
      const Where w = where(path, ev);
      if (!ev.is_table()) {
        fail(w, path, "expected a table, got " + std::string(noun(ev)));
        continue;
      }
      EventSpec out;
      const Entry* set = nullptr;
      bool ok = true;
      bool target_ok = true;  // without a known target the keys of `set` cannot be judged
      const auto keys = entries(ev, path);
      for (const auto& e : keys) {
        const auto m = std::find_if(kEventKeys.begin(), kEventKeys.end(),
                                    [&](const Meta& k) { return k.key == e.key; });
        if (m == kEventKeys.end()) {
          fail(e.where, e.path, "unknown key (expected one of: " + join(event_keys) + ")");
          ok = false;
          continue;
        }
        if (m->type == Type::kTable) {
          set = &e;
          continue;
        }
        Meta meta = *m;
        if (meta.key == "step" && !spec_failed("scenario.steps"))
          meta.range.hi = static_cast<double>(spec_.steps - 1);
        const auto s = read_value(meta, *e.value, e.path);
        if (!s) {
          ok = false;
          if (meta.key != "step") target_ok = false;
        } else if (meta.key == "step") {
          out.step = static_cast<int>(std::get<std::int64_t>(*s));
        } else if (out.target != EventTarget::kMarket) {
          fail(w, path, "expected either brand or cohort, not both");
          ok = target_ok = false;
        } else {
          out.target = meta.type == Type::kBrandRef ? EventTarget::kBrand : EventTarget::kCohort;
          out.index = static_cast<int>(std::get<std::int64_t>(*s));
        }
      }
      for (const auto& m : kEventKeys) {
        if (m.required && child(ev, m.key) == nullptr) {
          fail(w, path + "." + std::string(m.key), "required key is missing");
          ok = false;
        }
      }
      if (set != nullptr && target_ok && !read_changes(*set, out)) ok = false;
      if (ok) spec_.events.push_back(std::move(out));
    }
    std::stable_sort(spec_.events.begin(), spec_.events.end(),
                     [](const EventSpec& a, const EventSpec& b) { return a.step < b.step; });
  }

  bool read_changes(const Entry& set, EventSpec& out) {
    if (!set.value->is_table()) {
      fail(set.where, set.path, "expected a table { key = value, ... }, got " +
                                    std::string(noun(*set.value)));
      return false;
    }
    if (set.value->as_table().empty()) {
      fail(set.where, set.path, "expected at least one key = value");
      return false;
    }
    std::vector<const Meta*> allowed;
    auto allow = [&](const auto& fields) {
      for (const auto& f : fields)
        if (f.meta.event) allowed.push_back(&f.meta);
    };
    const char* target = "market";
    switch (out.target) {
      case EventTarget::kBrand: allow(kPolicyFields); target = "brand"; break;
      case EventTarget::kCohort: allow(kCohortFields); target = "cohort"; break;
      case EventTarget::kMarket: allow(kMarketFields); break;
    }
    bool ok = true;
    for (const auto& e : entries(*set.value, set.path)) {
      const auto m = std::find_if(allowed.begin(), allowed.end(),
                                  [&](const Meta* a) { return a->key == e.key; });
      if (m == allowed.end()) {
        std::vector<std::string> keys;
        for (const Meta* a : allowed) keys.emplace_back(a->key);
        fail(e.where, e.path, std::string("unknown key for a ") + target +
                                  " event (expected one of: " + join(keys) + ")");
        ok = false;
      } else if (auto s = read_value(**m, *e.value, e.path)) {
        EventChange c;
        c.field = *(*m)->event;
        if (auto* x = std::get_if<double>(&*s)) c.value = *x;
        else c.vector = std::get<std::vector<double>>(std::move(*s));
        out.changes.push_back(std::move(c));
      } else {
        ok = false;
      }
    }
    return ok;
  }

  [[nodiscard]] bool spec_failed(const std::string& key) const {
    return std::any_of(problems_.begin(), problems_.end(),
                       [&](const Problem& p) { return p.key == key; });
  }

  void cross_check() {
    double sum = 0.0;
    std::vector<std::string> fractions;
    for (const auto& c : spec_.cohorts) {
      sum += c.fraction;
      fractions.push_back("cohorts." + c.name + ".fraction");
    }
    if (std::abs(sum - 1.0) > 1e-6)
      fail_at(fractions, "expected cohort fractions summing to 1, got " + shortest(sum));
    for (const auto& c : spec_.cohorts) {
      const std::string p = "cohorts." + c.name;
      const double var = c.salience_mean * (1.0 - c.salience_mean);
      if (!(c.salience_sd * c.salience_sd < var))
        fail_at({p + ".salience_sd", p + ".salience_mean"},
                "expected salience_sd^2 < salience_mean (1 - salience_mean), i.e. salience_sd < " +
                    shortest(std::sqrt(var)) + ", got salience_sd = " + shortest(c.salience_sd) +
                    " with salience_mean = " + shortest(c.salience_mean));
      if (!(c.weight_life + c.weight_time + c.weight_money > 0.0))
        fail_at({p + ".weight_life", p + ".weight_time", p + ".weight_money"},
                "expected weight_life + weight_time + weight_money > 0");
    }
    if (!spec_.segment_dimension.empty() && index_of(spec_.dimensions, spec_.segment_dimension) < 0)
      fail_at({"metrics.segment_dimension"},
              unknown("dimension", spec_.segment_dimension, spec_.dimensions));
    if (spec_.panel > spec_.customers)
      fail_at({"metrics.panel", "population.customers"},
              "expected metrics.panel <= population.customers, got " + std::to_string(spec_.panel));
    {
      const auto [from, to] = spec_.panel_period();
      if (to > spec_.steps || from >= to)
        fail_at({"metrics.panel_from", "metrics.panel_to"},
                "expected 0 <= panel_from < panel_to <= scenario.steps, got the period [" +
                    std::to_string(from) + ", " + std::to_string(to) + ")");
    }
    if (spec_.total_steps() > kMaxSteps)
      fail_at({"scenario.burn_in", "scenario.steps"},
              "expected scenario.burn_in + scenario.steps <= " + std::to_string(kMaxSteps) + ", got " +
                  std::to_string(spec_.total_steps()));
    if (spec_.degree >= spec_.customers)
      fail_at({"network.degree", "population.customers"},
              "expected network.degree < population.customers, got " +
                  std::to_string(spec_.degree) + " >= " + std::to_string(spec_.customers));
    const auto& x = spec_.experience;
    const std::array<std::tuple<const char*, double, double>, 3> pairs{{
        {"base", x.promoter_base, x.detractor_base},
        {"resolved", x.promoter_resolved, x.detractor_resolved},
        {"unresolved", x.promoter_unresolved, x.detractor_unresolved},
    }};
    for (const auto& [suffix, promoter, detractor] : pairs) {
      const std::string pk = std::string("experience.promoter_") + suffix;
      const std::string dk = std::string("experience.detractor_") + suffix;
      if (promoter + detractor > 1.0)
        fail_at({dk, pk}, "expected promoter_" + std::string(suffix) + " + detractor_" + suffix +
                              " <= 1, got " + shortest(promoter + detractor));
    }
    const auto& emp = spec_.employees;
    if (emp.turnover_base + emp.turnover_slope > 1.0)
      fail_at({"employees.turnover_slope", "employees.turnover_base"},
              "expected turnover_base + turnover_slope <= 1, got " +
                  shortest(emp.turnover_base + emp.turnover_slope));
  }

  struct Problem {
    Where where;
    std::string key;
    std::string expected;
  };

  const Value& root_;
  std::string file_;
  std::map<std::string, int> set_by_;
  const Value empty_ = Value(toml::table{});
  ScenarioSpec spec_;
  std::vector<std::string> cohort_names_;
  std::vector<std::string> brand_names_;
  bool dims_ok_ = false;
  std::vector<Problem> problems_;
};

// ---------------------------------------------------------------------------
// Parsing and overrides

/// A --set value: TOML if it parses as a single value, else the raw text as a
/// string. An integer literal beyond 64 bits is an error of override `ordinal`
/// for key `path` (toml11 would read it as the nearest limit).
Value parse_override_value(const std::string& raw, int ordinal, const std::string& path) {
  Value doc;
  try {
    std::istringstream in("v = " + raw);
    doc = toml::parse(in, "--set");
  } catch (const std::exception&) {
    return Value(raw);  // not TOML
  }
  if (doc.as_table().size() != 1 || !doc.contains("v")) return Value(raw);
  try {
    toml_text::reject_saturated_integers(doc, "--set", "");
  } catch (const ConfigError&) {
    throw ConfigError("--set", ordinal, path, "expected an integer that fits in 64 bits, got " + raw);
  }
  return doc.at("v");
}

std::vector<std::string> names_in_file_order(const Value* table) {
  std::vector<std::pair<std::tuple<unsigned, unsigned, std::string>, std::string>> keyed;
  if (table != nullptr && table->is_table())
    for (const auto& [k, v] : table->as_table())
      keyed.push_back({{v.location().line(), v.location().column(), k}, k});
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::string> out;
  for (auto& [pos, k] : keyed) out.push_back(std::move(k));
  return out;
}

/// Applies the overrides to the document; returns, per key path set, the 1-based
/// ordinal of the override that set it last (messages about it point there).
std::map<std::string, int> apply_overrides(Value& doc, const std::vector<std::string>& overrides) {
  std::map<std::string, int> set_by;
  for (std::size_t n = 0; n < overrides.size(); ++n) {
    const int ordinal = static_cast<int>(n) + 1;
    const std::string& text = overrides[n];
    const auto eq = text.find('=');
    const std::string path = eq == std::string::npos ? "" : trim(text.substr(0, eq));
    if (path.empty())
      throw ConfigError("--set", ordinal, "", "expected key.path=value, got " + quote(text));
    std::vector<std::string> segs;
    for (std::size_t start = 0;;) {
      const auto dot = path.find('.', start);
      segs.push_back(trim(path.substr(start, dot - start)));
      if (segs.back().empty())
        throw ConfigError("--set", ordinal, path, "empty key in path");
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    const std::string& section = segs[0];
    if (section == "events")
      throw ConfigError("--set", ordinal, path, "events cannot be changed with --set");
    if (index_of(top_level_keys(), section) < 0)
      throw ConfigError("--set", ordinal, section,
                        "unknown key (expected one of: " + join(top_level_keys()) + ")");
    const bool named = section == "cohorts" || section == "brands";
    if (std::ssize(segs) < (named ? 3 : 2))
      throw ConfigError("--set", ordinal, path,
                        "expected " + section + (named ? ".<name>" : "") + ".<key>=value");
    if (named) {
      const auto names = names_in_file_order(child(doc, section));
      if (index_of(names, segs[1]) < 0) {
        const std::string what = section == "brands" ? "brand" : "cohort";
        throw ConfigError("--set", ordinal, section + "." + segs[1],
                          "unknown " + what + " (expected one of: " + join(names) + ")");
      }
    }
    Value* cur = &doc;
    std::string prefix;
    for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
      prefix = join_path(prefix, segs[i]);
      if (!cur->contains(segs[i])) {
        cur->as_table()[segs[i]] = Value(toml::table{});
        set_by[prefix] = ordinal;
      }
      cur = &cur->as_table()[segs[i]];
      if (!cur->is_table())
        throw ConfigError("--set", ordinal, prefix,
                          "cannot set a key inside " + std::string(noun(*cur)));
    }
    cur->as_table()[segs.back()] = parse_override_value(trim(text.substr(eq + 1)), ordinal, path);
    const std::string below = path + ".";
    std::erase_if(set_by, [&](const auto& kv) { return kv.first.rfind(below, 0) == 0; });
    set_by[path] = ordinal;
  }
  return set_by;
}

// ---------------------------------------------------------------------------
// Writing

std::string dim_table(const std::vector<std::string>& dims, const std::vector<double>& v) {
  std::string out = "{ ";
  for (std::size_t i = 0; i < dims.size() && i < v.size(); ++i)
    out += (i == 0 ? "" : ", ") + dims[i] + " = " + toml_float(v[i]);
  return out + " }";
}

template <class S>
std::string render(const Field<S>& f, const S& obj, const ScenarioSpec& spec) {
  return std::visit(
      [&](auto p) -> std::string {
        const auto& x = obj.*p;
        using M = std::remove_cvref_t<decltype(x)>;
        if constexpr (std::is_same_v<M, double>) {
          return toml_float(x);
        } else if constexpr (std::is_same_v<M, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_integral_v<M>) {
          if (f.meta.type == Type::kCohortRef) {
            const auto i = static_cast<std::size_t>(x);
            return i < spec.cohorts.size() ? quote(spec.cohorts[i].name) : quote("");
          }
          return std::to_string(x);
        } else if constexpr (std::is_same_v<M, std::string>) {
          return quote(x);
        } else if constexpr (std::is_same_v<M, std::vector<double>>) {
          return dim_table(spec.dimensions, x);
        } else {
          std::string out = "[";
          for (std::size_t i = 0; i < x.size(); ++i) out += (i == 0 ? "" : ", ") + quote(x[i]);
          return out + "]";
        }
      },
      f.member);
}

template <class S, class Fields>
void write_fields(std::string& out, const S& obj, const Fields& fields, const ScenarioSpec& spec) {
  for (const auto& f : fields)
    out += std::string(f.meta.key) + " = " + render(f, obj, spec) + "\n";
}

// ---------------------------------------------------------------------------
// Reference documentation

std::string_view type_name(Type t) {
  switch (t) {
    case Type::kFloat: return "float";
    case Type::kInt: return "integer";
    case Type::kBool: return "boolean";
    case Type::kString: return "string";
    case Type::kNames: return "array of strings";
    case Type::kDimVector: return "table { dimension = float }";
    case Type::kCohortRef: return "string (cohort name)";
    case Type::kBrandRef: return "string (brand name)";
    case Type::kTable: return "table";
  }
  return "";
}

std::string range_text(const Meta& m) {
  if (!m.range_text.empty()) return std::string(m.range_text);
  const std::string r = m.range.text(m.type == Type::kInt);
  switch (m.type) {
    case Type::kFloat: return r.empty() ? "any" : r;
    case Type::kInt: return (m.even ? "even, " : "") + r;
    case Type::kBool: return "true, false";
    case Type::kString: return m.nonempty ? "non-empty" : "any";
    case Type::kNames:
      return shortest(m.range.lo) + " to " + shortest(m.range.hi) + " unique identifiers";
    case Type::kDimVector: return "each in " + r;
    case Type::kCohortRef: return "a cohort of the file";
    case Type::kBrandRef: return "a brand of the file";
    case Type::kTable: return "";
  }
  return r;
}

std::string cell(std::string_view s) {
  std::string out;
  for (const char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out.empty() ? "—" : out;
}

template <class S>
std::string default_text(const Field<S>& f) {
  if (!f.meta.default_text.empty()) return std::string(f.meta.default_text);
  if (f.meta.required) return "required";
  static const S defaults{};
  switch (f.meta.type) {
    case Type::kDimVector: return "0 per dimension";
    case Type::kString: return "`" + render(f, defaults, ScenarioSpec{}) + "`";
    default: return render(f, defaults, ScenarioSpec{});
  }
}

std::string row(const Meta& m, const std::string& def) {
  return "| `" + std::string(m.key) + "` | " + std::string(type_name(m.type)) + " | " + def +
         " | " + cell(range_text(m)) + " | " + cell(m.unit) + " | " + cell(m.meaning) + " |\n";
}

constexpr std::string_view kTableHead =
    "| key | type | default | range | unit | meaning |\n|---|---|---|---|---|---|\n";

template <class Fields>
void doc_rows(std::string& out, const Fields& fields) {
  for (const auto& f : fields) out += row(f.meta, default_text(f));
}

void doc_section(std::string& out, const std::string& title, std::string_view summary,
                 const std::string& rows, const std::vector<std::string>& notes) {
  out += "### `" + title + "`\n\n" + std::string(summary) + "\n\n" + std::string(kTableHead) +
         rows;
  if (!notes.empty()) {
    out += "\nRules:\n\n";
    for (const auto& n : notes) out += "- " + n + "\n";
  }
  out += "\n";
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API

ScenarioSpec parse_scenario(const std::string& text, const std::string& file_name,
                            const std::vector<std::string>& overrides) {
  Value doc = parse_toml(text, file_name);
  const auto set_by = apply_overrides(doc, overrides);
  ScenarioSpec spec = Reader(doc, file_name, set_by).read();
  spec.source_file = file_name;
  return spec;
}

ScenarioSpec load_scenario(const std::filesystem::path& file,
                           const std::vector<std::string>& overrides) {
  return parse_scenario(toml_text::read_file(file, "scenario"), file.string(), overrides);
}

std::string to_toml(const ScenarioSpec& spec) {
  ScenarioSpec copy = spec;  // sections are reached through non-const projections
  std::string out = "# Canonical form of scenario " + quote(spec.name) +
                    ": every key explicit (written by cxsim).\n";
  for_each_section([&](const auto& section) {
    out += "\n[" + std::string(section.name) + "]\n";
    write_fields(out, section.project(copy), section.fields, spec);
  });
  for (const auto& c : spec.cohorts) {
    out += "\n[cohorts." + c.name + "]\n";
    write_fields(out, c, kCohortFields, spec);
  }
  for (const auto& b : spec.brands) {
    out += "\n[brands." + b.name + "]\n";
    write_fields(out, b.policy, kPolicyFields, spec);
    write_fields(out, b, kBrandFields, spec);
  }
  for (const auto& e : spec.events) {
    out += "\n[[events]]\nstep = " + std::to_string(e.step) + "\n";
    const auto i = static_cast<std::size_t>(e.index);
    if (e.target == EventTarget::kBrand && i < spec.brands.size())
      out += "brand = " + quote(spec.brands[i].name) + "\n";
    if (e.target == EventTarget::kCohort && i < spec.cohorts.size())
      out += "cohort = " + quote(spec.cohorts[i].name) + "\n";
    out += "set = { ";
    for (std::size_t j = 0; j < e.changes.size(); ++j) {
      const auto& c = e.changes[j];
      const Meta* m = event_meta(c.field);
      out += (j == 0 ? "" : ", ") + std::string(m != nullptr ? m->key : "?") + " = " +
             (c.field == EventField::kStance || c.field == EventField::kValuesMean
                  ? dim_table(spec.dimensions, c.vector)
                  : toml_float(c.value));
    }
    out += " }\n";
  }
  return out;
}

std::string scenario_reference_markdown() {
  std::string out;
  for_each_section([&](const auto& section) {
    std::string rows;
    doc_rows(rows, section.fields);
    std::vector<std::string> notes;
    if (!section.notes.empty()) notes.emplace_back(section.notes);
    doc_section(out, "[" + std::string(section.name) + "]", section.summary, rows, notes);
  });

  std::string rows;
  doc_rows(rows, kCohortFields);
  doc_section(out, "[cohorts.<name>]",
              "One table per customer cohort, in file order. Required: at least one.", rows,
              {"between 1 and " + std::to_string(kMaxCohorts) +
                   " cohorts; names are identifiers (letters, digits and `_`, not starting "
                   "with a digit)",
               "the `fraction`s of all cohorts sum to 1 (within 1e-6)",
               "`values_mean` is an inline table `{ dimension = value, ... }`; dimensions left "
               "out are 0, unknown dimension names are errors",
               "`salience_sd^2 < salience_mean (1 - salience_mean)` (the Beta distribution "
               "must exist)",
               "`weight_life + weight_time + weight_money > 0`"});

  rows.clear();
  doc_rows(rows, kPolicyFields);
  doc_rows(rows, kBrandFields);
  doc_section(out, "[brands.<name>]",
              "One table per brand, in file order (the order of the output columns). "
              "Required: at least one.",
              rows,
              {"between 1 and " + std::to_string(kMaxBrands) +
                   " brands; names are made of letters, digits, `_` and `-`",
               "`stance` is an inline table like `values_mean`; dimensions left out are 0"});

  rows.clear();
  for (const auto& m : kEventKeys)
    rows += row(m, m.required ? "required" : std::string(m.default_text));
  doc_section(out, "[[events]]",
              "Timeline changes, applied at the start of their step. Optional.", rows,
              {"`brand` and `cohort` are exclusive; with neither, the event changes the market",
               "events are sorted by `step`; events of the same step keep their file order",
               "a vector set by an event (`stance`, `values_mean`) replaces the whole vector: "
               "dimensions left out are 0"});

  out += "### Keys allowed in an event's `set`\n\n"
         "| target | key | type | range | unit | meaning |\n|---|---|---|---|---|---|\n";
  auto set_rows = [&](std::string_view target, const auto& fields) {
    for (const auto& f : fields) {
      if (!f.meta.event) continue;
      out += "| " + std::string(target) + " | `" + std::string(f.meta.key) + "` | " +
             std::string(type_name(f.meta.type)) + " | " + cell(range_text(f.meta)) + " | " +
             cell(f.meta.unit) + " | " + cell(f.meta.meaning) + " |\n";
    }
  };
  set_rows("brand", kPolicyFields);
  set_rows("cohort", kCohortFields);
  set_rows("market", kMarketFields);
  return out;
}

}  // namespace cxsim
