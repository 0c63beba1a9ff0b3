// Experiment files (TOML): reading and validation. The format is documented in
// docs/experiments.md; errors follow the scenario files' `FILE:LINE: key: expected ...`.

#include <toml.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "cxsim/core/error.hpp"
#include "cxsim/experiment/experiment.hpp"
#include "cxsim/io/scenario_io.hpp"
#include "cxsim/model/scenario.hpp"
#include "toml_text.hpp"

namespace cxsim {
namespace {

using namespace toml_text;
using Value = toml::value;
namespace fs = std::filesystem;

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMaxRuns = 1'000'000;  // run ids are six digits

// ---------------------------------------------------------------------------
// Text helpers

std::string key_text(std::string_view key) {
  return is_bare_key(key) ? std::string(key) : quote(key);
}

std::string join_path(const std::string& a, std::string_view b) {
  return a.empty() ? key_text(b) : a + "." + key_text(b);
}

std::string show(const Value& v) {
  if (v.is_integer()) return std::to_string(v.as_integer());
  if (v.is_floating()) return shortest(v.as_floating());
  if (v.is_boolean()) return v.as_boolean() ? "true" : "false";
  if (v.is_string()) return quote(v.as_string().str);
  return std::string(noun(v));
}

double number(const Value& v) {
  return v.is_floating() ? v.as_floating() : static_cast<double>(v.as_integer());
}

/// A value as `--set` reads it back (TOML syntax); nullopt for dates and times.
std::optional<std::string> render(const Value& v) {
  if (v.is_integer() || v.is_boolean() || v.is_string()) return show(v);
  if (v.is_floating()) return toml_float(v.as_floating());
  if (v.is_array()) {
    std::string out = "[";
    for (const auto& item : v.as_array()) {
      const auto s = render(item);
      if (!s) return std::nullopt;
      out += (out.size() == 1 ? "" : ", ") + *s;
    }
    return out + "]";
  }
  if (v.is_table()) {
    std::vector<std::string> items;
    for (const auto& [k, item] : v.as_table()) {
      const auto s = render(item);
      if (!s) return std::nullopt;
      items.push_back(key_text(k) + " = " + *s);
    }
    std::sort(items.begin(), items.end());  // toml11 tables are unordered; keep plans stable
    return items.empty() ? "{}" : "{ " + join(items) + " }";
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// The schema

enum class Kind : std::uint8_t {
  kName,      ///< identifier-like string: letters, digits, _ and -
  kText,      ///< any string
  kPath,      ///< non-empty string: a file path
  kKeyPath,   ///< a dotted scenario key path
  kInt,       ///< integer in [lo, hi]
  kBool,
  kDesign,    ///< one of kDesigns
  kSet,       ///< inline table of "key.path" = value
  kOutcomes,  ///< array of outcome names
  kNumbers,   ///< non-empty array of numbers
  kRange,     ///< [low, high], low < high
  kTables,    ///< array of tables
  kTable,
};

struct Key {
  std::string_view name;
  Kind kind = Kind::kText;
  bool required = false;
  std::int64_t lo = 0;
  std::int64_t hi = kMaxInt;
};

constexpr std::array kTopKeys{
    Key{"experiment", Kind::kTable, true}, Key{"outcomes", Kind::kTable},
    Key{"policies", Kind::kTables}, Key{"factors", Kind::kTables}};
constexpr std::array kExperimentKeys{
    Key{"name", Kind::kName, true},
    Key{"description", Kind::kText},
    Key{"scenario", Kind::kPath},
    Key{"seed", Kind::kInt, false, 0, kMaxInt},
    Key{"replicates", Kind::kInt, false, 1, kMaxRuns},
    Key{"design", Kind::kDesign},
    Key{"samples", Kind::kInt, false, 2, kMaxRuns},
    Key{"set", Kind::kSet}};
constexpr std::array kOutcomeKeys{Key{"metrics", Kind::kOutcomes},
                                  Key{"window", Kind::kInt, false, 1, kMaxSteps}};
constexpr std::array kPolicyKeys{Key{"name", Kind::kName, true}, Key{"scenario", Kind::kPath},
                                 Key{"set", Kind::kSet}};
constexpr std::array kFactorKeys{Key{"key", Kind::kKeyPath, true}, Key{"values", Kind::kNumbers},
                                 Key{"range", Kind::kRange}, Key{"integer", Kind::kBool}};

constexpr std::array<std::pair<std::string_view, Design>, 4> kDesigns{{
    {"policies", Design::kPolicies},
    {"grid", Design::kGrid},
    {"lhs", Design::kLatinHypercube},
    {"sobol", Design::kSobol},
}};

std::string_view design_name(Design d) {
  for (const auto& [name, design] : kDesigns)
    if (design == d) return name;
  return "";
}

template <std::size_t N>
std::vector<std::string> key_names(const std::array<Key, N>& keys) {
  std::vector<std::string> out;
  for (const auto& k : keys) out.emplace_back(k.name);
  return out;
}

std::string range_phrase(std::int64_t lo, std::int64_t hi) {
  if (hi == kMaxInt) return " >= " + std::to_string(lo);
  return " in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
}

// ---------------------------------------------------------------------------
// Reading

struct Where {
  int line = 1;
  int column = 0;
  auto operator<=>(const Where&) const = default;
};

Where where(const Value& v) {
  const auto loc = v.location();
  return {std::max(1, static_cast<int>(loc.line())), static_cast<int>(loc.column())};
}

/// A key of a table, its path in messages and its position.
struct Entry {
  std::string key;
  std::string path;
  const Value* value = nullptr;
  Where where;
};

/// The keys of a table in file order (toml11 tables are unordered).
std::vector<Entry> entries(const Value& table, const std::string& path) {
  std::vector<Entry> out;
  for (const auto& [key, v] : table.as_table()) out.push_back({key, join_path(path, key), &v, where(v)});
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.where, a.key) < std::tie(b.where, b.key);
  });
  return out;
}

/// The valid keys of one table, by name.
using Fields = std::map<std::string, Entry, std::less<>>;

/// An entry of [[policies]] or [[factors]]: its valid keys and where the table starts.
using Table = std::pair<Fields, Where>;

const Value* get(const Fields& f, std::string_view key) {
  const auto it = f.find(key);
  return it == f.end() ? nullptr : it->second.value;
}

class Reader {
 public:
  Reader(const Value& root, fs::path file) : root_(root), file_(std::move(file)) {}

  ExperimentSpec read() {
    spec_.source_file = file_;
    const Fields top = read_table(root_, "", kTopKeys);
    throw_first();  // without the sections' shapes nothing below can be judged

    const Fields exp = read_table(*get(top, "experiment"), "experiment", kExperimentKeys);
    const Value* outcomes = get(top, "outcomes");
    const Fields out = outcomes != nullptr ? read_table(*outcomes, "outcomes", kOutcomeKeys) : Fields{};
    const auto policies = read_tables(top, "policies", kPolicyKeys);
    const auto factors = read_tables(top, "factors", kFactorKeys);
    throw_first();

    read_experiment(exp);
    read_outcomes(out);
    check_design(top, exp, policies, factors);
    for (std::size_t i = 0; i < policies.size(); ++i) read_policy(policies[i], i);
    for (std::size_t i = 0; i < factors.size(); ++i) read_factor(factors[i], i);
    if (spec_.design != Design::kPolicies && spec_.scenario.empty())
      fail(where(*get(top, "experiment")), "experiment.scenario", "required key is missing");
    throw_first();
    check_run_count(top);
    throw_first();
    check_scenarios(top, out);
    return std::move(spec_);
  }

 private:
  struct Problem {
    Where where;
    std::string key;
    std::string expected;
  };

  void fail(const Where& w, const std::string& key, const std::string& expected) {
    problems_.push_back({w, key, expected});
  }

  void fail(const Entry& e, const std::string& expected) { fail(e.where, e.path, expected); }

  bool bad(const Entry& e, const std::string& expected) {
    fail(e, expected);
    return false;
  }

  void throw_first() const {
    if (problems_.empty()) return;
    // min_element keeps the first of equal positions: discovery order breaks ties.
    const auto it = std::min_element(problems_.begin(), problems_.end(),
                                      [](const auto& a, const auto& b) { return a.where < b.where; });
    throw ConfigError(file_.string(), it->where.line, it->key, it->expected);
  }

  [[nodiscard]] fs::path resolve(const Value& v) const {
    const fs::path p(v.as_string().str);
    return p.is_absolute() ? p : (file_.parent_path() / p).lexically_normal();
  }

  /// Checks every key of `table` against `keys`; returns the valid ones.
  template <std::size_t N>
  Fields read_table(const Value& table, const std::string& path, const std::array<Key, N>& keys) {
    Fields out;
    for (const auto& e : entries(table, path)) {
      const auto k = std::find_if(keys.begin(), keys.end(), [&](const Key& x) { return x.name == e.key; });
      if (k == keys.end())
        fail(e, "unknown key (expected one of: " + join(key_names(keys)) + ")");
      else if (check(*k, e))
        out.emplace(e.key, e);
    }
    for (const auto& k : keys) {
      if (k.required && !table.contains(std::string(k.name)))
        fail(path.empty() ? Where{} : where(table), join_path(path, k.name),
             k.kind == Kind::kTable ? "required section is missing" : "required key is missing");
    }
    return out;
  }

  template <std::size_t N>
  std::vector<Table> read_tables(const Fields& top, const std::string& name,
                                                    const std::array<Key, N>& keys) {
    std::vector<Table> out;
    if (const Value* items = get(top, name)) {
      for (std::size_t i = 0; i < items->as_array().size(); ++i) {
        const Value& t = items->as_array()[i];
        out.emplace_back(read_table(t, name + "[" + std::to_string(i) + "]", keys), where(t));
      }
    }
    return out;
  }

  /// The type and range of one value; reports and returns false when wrong.
  bool check(const Key& k, const Entry& e) {
    const Value& v = *e.value;
    auto type_error = [&](const std::string& want) {
      return bad(e, "expected " + want + ", got " + std::string(noun(v)));
    };
    switch (k.kind) {
      case Kind::kName:
        if (!v.is_string()) return type_error("a string");
        if (!is_bare_key(v.as_string().str))
          return bad(e, "expected a name made of letters, digits, _ and -, got " + show(v));
        return true;
      case Kind::kText: return v.is_string() || type_error("a string");
      case Kind::kPath:
        if (!v.is_string()) return type_error("a string (a file path)");
        if (v.as_string().str.empty()) return bad(e, "expected a file path, got \"\"");
        return true;
      case Kind::kKeyPath:
        if (!v.is_string()) return type_error("a string (a scenario key path)");
        if (!is_key_path(v.as_string().str))
          return bad(e, "expected a scenario key path such as \"brands.Anchor.price\", got " + show(v));
        return true;
      case Kind::kInt: {
        const std::string want = "an integer" + range_phrase(k.lo, k.hi);
        if (!v.is_integer()) return type_error(want);
        if (v.as_integer() < k.lo || v.as_integer() > k.hi)
          return bad(e, "expected " + want + ", got " + show(v));
        return true;
      }
      case Kind::kBool: return v.is_boolean() || type_error("a boolean");
      case Kind::kDesign: {
        std::vector<std::string> names;
        for (const auto& [name, d] : kDesigns) names.push_back(quote(name));
        const std::string want = "one of " + join(names);
        if (!v.is_string()) return type_error(want);
        if (!parse_design(v.as_string().str)) return bad(e, "expected " + want + ", got " + show(v));
        return true;
      }
      case Kind::kSet: return check_set(e);
      case Kind::kOutcomes: return check_outcomes(e);
      case Kind::kNumbers:
      case Kind::kRange: {
        const bool range = k.kind == Kind::kRange;
        const std::string want = range ? "an array [low, high] of two numbers" : "a non-empty array of numbers";
        if (!v.is_array()) return type_error(want);
        const auto& items = v.as_array();
        if (items.empty() || (range && items.size() != 2))
          return bad(e, "expected " + want + ", got " + std::to_string(items.size()) + " values");
        bool ok = true;
        for (std::size_t i = 0; i < items.size(); ++i) {
          const Value& x = items[i];
          const std::string p = e.path + "[" + std::to_string(i) + "]";
          if (!(x.is_integer() || x.is_floating()) || !std::isfinite(number(x))) {
            fail(where(x), p, "expected a finite number, got " + show(x));
            ok = false;
          }
        }
        if (ok && range && !(number(items[0]) < number(items[1])))
          return bad(e, "expected low < high, got [" + show(items[0]) + ", " + show(items[1]) + "]");
        return ok;
      }
      case Kind::kTables: {
        const std::string want = "an array of tables ([[" + e.key + "]])";
        if (!v.is_array()) return type_error(want);
        if (v.as_array().empty())
          return bad(e, "expected at least one [[" + e.key + "]] table");
        bool ok = true;
        for (std::size_t i = 0; i < v.as_array().size(); ++i) {
          const Value& t = v.as_array()[i];
          if (!t.is_table()) {
            fail(where(t), e.path + "[" + std::to_string(i) + "]", "expected a table, got " + std::string(noun(t)));
            ok = false;
          }
        }
        return ok;
      }
      case Kind::kTable: return v.is_table() || type_error("a table");
    }
    return false;
  }

  static bool is_key_path(std::string_view s) {
    if (s.find('.') == std::string_view::npos) return false;
    for (std::size_t start = 0;;) {
      const auto dot = s.find('.', start);
      if (trim(s.substr(start, dot - start)).empty()) return false;
      if (dot == std::string_view::npos) return true;
      start = dot + 1;
    }
  }

  static std::optional<Design> parse_design(std::string_view s) {
    for (const auto& [name, d] : kDesigns)
      if (name == s) return d;
    return std::nullopt;
  }

  bool check_set(const Entry& e) {
    if (!e.value->is_table())
      return bad(e, "expected an inline table { \"key.path\" = value, ... }, got " +
                         std::string(noun(*e.value)));
    bool ok = true;
    for (const auto& x : entries(*e.value, e.path)) {
      if (!is_key_path(x.key)) {
        fail(x, "expected a quoted scenario key path such as \"population.customers\" = 50000");
        ok = false;
      } else if (!render(*x.value)) {
        fail(x, "expected a number, boolean, string, array or inline table, got " + std::string(noun(*x.value)));
        ok = false;
      }
    }
    return ok;
  }

  bool check_outcomes(const Entry& e) {
    const std::string want = "a non-empty array of outcome names (" + join(kOutcomeNames) + ")";
    if (!e.value->is_array()) return bad(e, "expected " + want + ", got " + std::string(noun(*e.value)));
    const auto& items = e.value->as_array();
    if (items.empty()) return bad(e, "expected " + want);
    bool ok = true;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Value& x = items[i];
      const std::string p = e.path + "[" + std::to_string(i) + "]";
      if (!x.is_string()) {
        fail(where(x), p, "expected a string, got " + std::string(noun(x)));
        ok = false;
      } else if (std::find(kOutcomeNames.begin(), kOutcomeNames.end(), x.as_string().str) == kOutcomeNames.end()) {
        fail(where(x), p, "unknown outcome " + show(x) + " (expected one of: " + join(kOutcomeNames) + ")");
        ok = false;
      } else if (!seen.insert(x.as_string().str).second) {
        fail(where(x), p, "duplicate outcome " + show(x));
        ok = false;
      }
    }
    return ok;
  }

  /// The overrides of a `set` table, in file order.
  static std::vector<std::string> overrides(const Value* set) {
    std::vector<std::string> out;
    if (set != nullptr)
      for (const auto& e : entries(*set, "")) out.push_back(e.key + "=" + *render(*e.value));
    return out;
  }

  void read_experiment(const Fields& f) {
    spec_.name = get(f, "name")->as_string().str;
    if (const Value* v = get(f, "description")) spec_.description = v->as_string().str;
    if (const Value* v = get(f, "scenario")) spec_.scenario = resolve(*v);
    if (const Value* v = get(f, "seed")) spec_.seed = static_cast<std::uint64_t>(v->as_integer());
    if (const Value* v = get(f, "replicates")) spec_.replicates = static_cast<int>(v->as_integer());
    if (const Value* v = get(f, "samples")) spec_.samples = static_cast<int>(v->as_integer());
    spec_.overrides = overrides(get(f, "set"));
  }

  void read_outcomes(const Fields& f) {
    spec_.outcomes = kOutcomeNames;
    if (const Value* v = get(f, "metrics")) {
      spec_.outcomes.clear();
      for (const auto& x : v->as_array()) spec_.outcomes.push_back(x.as_string().str);
    }
    if (const Value* v = get(f, "window")) spec_.window = static_cast<int>(v->as_integer());
  }

  void check_design(const Fields& top, const Fields& exp, const std::vector<Table>& policies,
                    const std::vector<Table>& factors) {
    const Value* design = get(exp, "design");
    const auto at = [&](const char* key) -> const Entry& { return exp.at(key); };
    if (!policies.empty() && !factors.empty()) {
      const Entry& p = top.at("policies");
      const Entry& f = top.at("factors");
      const Entry& later = p.where < f.where ? f : p;
      fail(later, "expected either [[policies]] or [[factors]], not both");
      return;
    }
    if (design != nullptr) {
      spec_.design = *parse_design(design->as_string().str);
    } else if (policies.empty() && factors.empty()) {
      fail(Where{}, "policies", "expected [[policies]] or [[factors]] tables (the experiment has nothing to vary)");
      return;
    } else {
      spec_.design = policies.empty() ? Design::kGrid : Design::kPolicies;
    }
    const std::string name = quote(design_name(spec_.design));
    if (spec_.design == Design::kPolicies && policies.empty())
      fail(at("design"), "expected [[policies]] tables with design " + name);
    if (spec_.design != Design::kPolicies && factors.empty())
      fail(at("design"), "expected [[factors]] tables with design " + name);
    const bool sampled = spec_.design == Design::kLatinHypercube || spec_.design == Design::kSobol;
    if (sampled && get(exp, "samples") == nullptr)
      fail(where(*get(top, "experiment")), "experiment.samples", "required key is missing (design " + name + ")");
    if (!sampled && get(exp, "samples") != nullptr)
      fail(at("samples"), "expected no samples with design " + name + " (samples apply to \"lhs\" and \"sobol\")");
  }

  void read_policy(const Table& table, std::size_t i) {
    const Fields& f = table.first;
    Policy p;
    p.name = get(f, "name")->as_string().str;
    const auto dup = std::find_if(spec_.policies.begin(), spec_.policies.end(),
                                  [&](const Policy& q) { return q.name == p.name; });
    if (dup != spec_.policies.end()) fail(f.at("name"), "duplicate policy name " + quote(p.name));
    if (const Value* v = get(f, "scenario")) {
      p.scenario = resolve(*v);
    } else if (spec_.scenario.empty()) {
      fail(table.second, "policies[" + std::to_string(i) + "].scenario",
           "required key is missing (the experiment names no scenario)");
    } else {
      p.scenario = spec_.scenario;
    }
    p.overrides = overrides(get(f, "set"));
    spec_.policies.push_back(std::move(p));
  }

  void read_factor(const Table& table, std::size_t i) {
    const Fields& f = table.first;
    const std::string path = "factors[" + std::to_string(i) + "]";
    Factor x;
    x.key = get(f, "key")->as_string().str;
    const auto dup = std::find_if(spec_.factors.begin(), spec_.factors.end(),
                                  [&](const Factor& y) { return y.key == x.key; });
    if (dup != spec_.factors.end()) fail(f.at("key"), "duplicate factor " + quote(x.key));
    const Value* values = get(f, "values");
    const Value* range = get(f, "range");
    const Value* integer = get(f, "integer");
    const bool grid = spec_.design == Design::kGrid;
    const std::string design = quote(design_name(spec_.design));
    if (grid && range != nullptr)
      fail(f.at("range"), "expected values = [...], not a range, with design " + design);
    if (!grid && values != nullptr)
      fail(f.at("values"), "expected range = [low, high], not a list of values, with design " + design);
    const char* needed = grid ? "values" : "range";
    if (values == nullptr && range == nullptr)
      fail(table.second, path + "." + needed, "required key is missing (design " + design + ")");

    // A grid written in integers is an integer factor unless told otherwise.
    x.integer = integer != nullptr ? integer->as_boolean()
                                   : grid && values != nullptr &&
                                         std::all_of(values->as_array().begin(), values->as_array().end(),
                                                     [](const Value& v) { return v.is_integer(); });
    const Value* list = grid ? values : range;
    std::vector<double> numbers;
    if (list != nullptr) {
      const auto& items = list->as_array();
      for (std::size_t j = 0; j < items.size(); ++j) {
        const double v = number(items[j]);
        if (x.integer && (v != std::floor(v) || std::abs(v) > 9e15))
          fail(where(items[j]), path + "." + needed + "[" + std::to_string(j) + "]",
               "expected an integer (the factor is integer), got " + show(items[j]));
        numbers.push_back(v);
      }
    }
    if (grid) {
      x.values = std::move(numbers);
    } else if (numbers.size() == 2) {
      x.low = numbers[0];
      x.high = numbers[1];
    }
    spec_.factors.push_back(std::move(x));
  }

  void check_run_count(const Fields& top) {
    std::int64_t points = 0;
    switch (spec_.design) {
      case Design::kPolicies: points = std::ssize(spec_.policies); break;
      case Design::kGrid:
        points = 1;
        for (const auto& f : spec_.factors) points = std::min(points * std::ssize(f.values), kMaxRuns + 1);
        break;
      case Design::kLatinHypercube: points = spec_.samples; break;
      case Design::kSobol: points = spec_.samples * (std::ssize(spec_.factors) + 2); break;
    }
    if (points * spec_.replicates > kMaxRuns)
      fail(where(*get(top, "experiment")), "experiment",
           "expected at most " + std::to_string(kMaxRuns) + " runs, got " +
               (points > kMaxRuns ? "more" : std::to_string(points * spec_.replicates)));
  }

  /// Loads the scenario of every distinct run (replicates differ only in their seed).
  void check_scenarios(const Fields& top, const Fields& out) {
    std::map<fs::path, std::string> texts;
    std::set<std::pair<fs::path, std::vector<std::string>>> seen;
    for (const RunPlan& run : plan_runs(spec_)) {
      std::vector<std::string> key(run.overrides.begin(), run.overrides.end() - 1);
      if (!seen.emplace(run.scenario, std::move(key)).second) continue;
      const std::string name = run.scenario.string();
      auto text = texts.find(run.scenario);
      const ScenarioSpec s = text == texts.end() ? load_scenario(run.scenario, run.overrides)
                                                 : parse_scenario(text->second, name, run.overrides);
      if (text == texts.end()) texts.emplace(run.scenario, read_text(run.scenario));
      if (spec_.window > s.steps) {
        const auto w = out.find("window");
        const Value* outcomes = get(top, "outcomes");
        fail(w != out.end() ? w->second.where : outcomes != nullptr ? where(*outcomes) : Where{}, "outcomes.window",
             "expected at most the scenario's steps (" + std::to_string(s.steps) + " in " + name +
                 "), got " + std::to_string(spec_.window));
        throw_first();
      }
    }
  }

  static std::string read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  const Value& root_;
  fs::path file_;
  ExperimentSpec spec_;
  std::vector<Problem> problems_;
};

}  // namespace

ExperimentSpec load_experiment(const std::filesystem::path& file) {
  const Value doc = toml_text::parse_toml(toml_text::read_file(file, "experiment"), file.string());
  return Reader(doc, file).read();
}

}  // namespace cxsim
