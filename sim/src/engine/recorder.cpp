#include "cxsim/engine/recorder.hpp"

#include <variant>

namespace cxsim {

namespace {

using DoubleField = std::vector<double> StepMetrics::*;
using CountField = std::vector<std::int64_t> StepMetrics::*;

struct BrandSeries {
  SeriesInfo info;
  std::variant<DoubleField, CountField> field;
};

const std::vector<BrandSeries>& brand_series() {
  static const std::vector<BrandSeries> kSeries = {
      {{"share", "fraction of purchases", "Share of this step's purchases bought from the brand"}, &StepMetrics::share},
      {{"customers", "customers", "Customers whose current brand it is at the end of the step"}, &StepMetrics::customers},
      {{"purchases", "purchases", "Purchases of the brand this step"}, &StepMetrics::purchases},
      {{"acquisitions", "customers", "Purchasers who switched to the brand this step"}, &StepMetrics::acquisitions},
      {{"defections", "customers", "Purchasers who switched away from the brand this step (churn)"}, &StepMetrics::defections},
      {{"promoters", "purchasers", "Purchasers of the brand this step whose experience made them promoters"}, &StepMetrics::promoters},
      {{"detractors", "purchasers", "Purchasers of the brand this step whose experience made them detractors"}, &StepMetrics::detractors},
      {{"revenue", "currency units", "Purchases times price"}, &StepMetrics::revenue},
      {{"margin", "currency units", "Revenue minus cost of goods, post-purchase service, loyalty scheme, EX and other CX spend"}, &StepMetrics::margin},
      {{"loyalty", "[0, 1]", "Mean loyalty of the brand's customers in the tracking sample"}, &StepMetrics::loyalty},
      {{"nps", "[-100, 100]", "Net promoter score among this step's purchasers: % promoters - % detractors"}, &StepMetrics::nps},
      {{"trust", "[0, 1]", "Mean trust in the brand's stated values over the tracking sample"}, &StepMetrics::trust},
      {{"engagement", "[0, 1]", "Mean engagement of the brand's employees"}, &StepMetrics::engagement},
      {{"turnover", "fraction of employees", "Share of the brand's employees who quit this step"}, &StepMetrics::turnover},
      {{"ambassadors", "employees", "Employees engaged at or above the ambassador threshold"}, &StepMetrics::ambassadors},
      {{"service_quality", "probability", "Probability that a post-purchase support case is resolved well"}, &StepMetrics::service_quality},
  };
  return kSeries;
}

Series make_series(const char* name, const char* unit, const char* description, std::vector<std::string> dims,
                   std::vector<std::size_t> shape, bool integer) {
  Series s{name, unit, description, std::move(dims), std::move(shape), integer, {}};
  std::size_t size = 1;
  for (auto d : s.shape) size *= d;
  s.values.reserve(size);
  return s;
}

}  // namespace

const std::vector<SeriesInfo>& brand_series_info() {
  static const std::vector<SeriesInfo> kInfo = [] {
    std::vector<SeriesInfo> out;
    for (const auto& s : brand_series()) out.push_back(s.info);
    return out;
  }();
  return kInfo;
}

Recorder::Recorder(const ScenarioSpec& spec, std::string run_id) {
  result_.run_id = std::move(run_id);
  for (const auto& b : spec.brands) result_.brands.push_back(b.name);
  for (const auto& c : spec.cohorts) result_.cohorts.push_back(c.name);
  result_.dimensions = spec.dimensions;
  result_.segments = {"opposes", "neutral", "shares", "salient"};
  result_.panel_size = spec.panel;
  panel_period_ = spec.panel_period();
  result_.steps = spec.steps;
  result_.customers = spec.customers;
  const auto T = static_cast<std::size_t>(spec.steps);
  const auto B = spec.brands.size();
  const auto C = spec.cohorts.size();
  for (const auto& s : brand_series())
    result_.series.push_back(make_series(s.info.name, s.info.unit, s.info.description, {"step", "brand"}, {T, B},
                                         std::holds_alternative<CountField>(s.field)));
  result_.series.push_back(make_series("cohort_share", "fraction of the cohort's purchases",
                                       "Share of each cohort's purchases this step bought from each brand",
                                       {"step", "cohort", "brand"}, {T, C, B}, false));
  result_.series.push_back(make_series("segment_share", "fraction of the segment's purchases",
                                       "Share of each purchaser segment's purchases this step bought from each brand: "
                                       "opposes/neutral/shares by value on metrics.segment_dimension, salient by "
                                       "metrics.salience_threshold (overlaps the others)",
                                       {"step", "segment", "brand"}, {T, result_.segments.size(), B}, false));
  result_.series.push_back(make_series("salience", "[0, 1]", "Mean values salience of each cohort in the tracking sample",
                                       {"step", "cohort"}, {T, C}, false));
  result_.series.push_back(make_series("values_weight", "fraction",
                                       "Mean over purchasers of the share of the spread of utility across brands that comes from values (life)",
                                       {"step"}, {T}, false));
  result_.series.push_back(make_series("demand", "multiplier", "Market demand multiplier in force", {"step"}, {T}, false));
}

void Recorder::on_step(const Simulation& /*sim*/, const StepMetrics& m) {
  const auto& table = brand_series();
  std::size_t j = 0;
  for (; j < table.size(); ++j) {
    auto& out = result_.series[j].values;
    std::visit([&](auto field) { out.insert(out.end(), (m.*field).begin(), (m.*field).end()); }, table[j].field);
  }
  auto append = [&](const std::vector<double>& v) {
    auto& out = result_.series[j++].values;
    out.insert(out.end(), v.begin(), v.end());
  };
  append(m.cohort_share);
  append(m.segment_share);
  append(m.salience);
  append({m.values_weight});
  append({m.demand});
  result_.panel.insert(result_.panel.end(), m.panel.begin(), m.panel.end());
  ++observed_;
}

RunResult Recorder::result() const {
  RunResult r = result_;
  // A run stopped early keeps the steps it did.
  r.steps = observed_;
  for (auto& s : r.series) s.shape[0] = static_cast<std::size_t>(observed_);
  if (r.panel_size > 0)
    r.panel_summary = summarize_panel(r.panel, r.panel_size, static_cast<int>(r.brands.size()), panel_period_.first,
                                      panel_period_.second);
  return r;
}

}  // namespace cxsim
