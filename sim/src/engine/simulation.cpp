#include "cxsim/engine/simulation.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cmath>

#include "cxsim/model/customers.hpp"
#include "cxsim/model/network.hpp"
#include "cxsim/model/panel.hpp"
#include "cxsim/model/timeline.hpp"
#include "cxsim/model/workforce.hpp"

namespace cxsim {

namespace {

constexpr std::size_t kCustomerGrain = 8192;
constexpr std::size_t kEmployeeBlock = 4096;
constexpr std::size_t kSurveyBlocks = 16;  ///< tracking-sample blocks measured in parallel
constexpr std::size_t kSurveyAhead = 16;   ///< sampled customers prefetched ahead of the one measured

/// Carries the previous value forward when a ratio has no denominator.
double ratio_or(double num, double den, double previous) { return den > 0.0 ? num / den : previous; }

/// Each row of a rows x brands count table divided by its row total.
std::vector<double> row_shares(const std::vector<std::int64_t>& counts, std::size_t brands,
                               const std::vector<double>& previous) {
  std::vector<double> out(counts.size());
  for (std::size_t row = 0; row < counts.size(); row += brands) {
    std::int64_t total = 0;
    for (std::size_t b = 0; b < brands; ++b) total += counts[row + b];
    for (std::size_t b = 0; b < brands; ++b)
      out[row + b] = ratio_or(static_cast<double>(counts[row + b]), static_cast<double>(total), previous[row + b]);
  }
  return out;
}

}  // namespace

struct Simulation::Impl {
  Impl(std::shared_ptr<const ScenarioSpec> s, ExecutionPolicy p)
      : spec(std::move(s)), policy(p), oversubscribe(make_control(p)), arena(std::max(1, p.threads)), timeline(*spec),
        network(spec->seed, static_cast<std::size_t>(spec->customers), spec->degree, spec->rewire),
        workforce(*spec, spec->customers), kernel(*spec, timeline, network),
        brands(static_cast<int>(spec->brands.size())), cohorts(static_cast<int>(spec->cohorts.size())),
        tallies([this] { return Tally(brands, cohorts); }) {}

  /// Runs fn(begin, end) over [0, n) in chunks: serially, or in parallel in the arena.
  template <class F>
  void for_range(std::size_t n, std::size_t grain, F&& fn) {
    if (policy.serial) {
      for (std::size_t b = 0; b < n; b += grain) fn(b, std::min(n, b + grain));
      return;
    }
    arena.execute([&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, grain),
                        [&](const tbb::blocked_range<std::size_t>& r) { fn(r.begin(), r.end()); });
    });
  }

  void init();
  void apply_events(int t);
  void update_employees(int t);
  void build_context(int t);
  void step();
  void measure(int t, const Tally& tally);

  /// TBB caps workers at the core count; more threads than cores (as the
  /// determinism tests ask for) need the cap raised while this run lives.
  static std::unique_ptr<tbb::global_control> make_control(const ExecutionPolicy& p) {
    if (p.serial || p.threads <= tbb::info::default_concurrency()) return nullptr;
    return std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                 static_cast<std::size_t>(p.threads));
  }

  std::shared_ptr<const ScenarioSpec> spec;
  ExecutionPolicy policy;
  std::unique_ptr<tbb::global_control> oversubscribe;
  tbb::task_arena arena;
  Timeline timeline;
  SmallWorld network;
  Workforce workforce;
  CustomerKernel kernel;
  int brands;
  int cohorts;
  Population pop;
  std::vector<BrandPolicy> policies;
  std::vector<StepObserver*> observers;
  int t = 0;

  // Brand state carried between steps.
  std::vector<std::int64_t> base;
  std::vector<double> support_cases;  ///< last step's support cases per brand
  std::vector<double> quality, engagement, turnover;
  std::vector<double> perceived;  ///< service quality as customers expect it
  std::vector<double> skill;      ///< service skill of each brand's workforce
  std::vector<std::int64_t> ambassadors;
  std::vector<double> entrant_brand_weights;
  StepContext ctx;
  StepMetrics previous;
  tbb::enumerable_thread_specific<Tally> tallies;
  StepEvents events;  ///< this step's events and their rewired contacts' words
  tbb::enumerable_thread_specific<WordLog> written;  ///< the visible words each worker wrote this step
  std::vector<const WordLog*> logs;
  std::vector<WorkforceSums> employee_blocks;
  std::vector<std::size_t> sample;
  std::vector<std::int64_t> survey;  ///< per-block sums of the tracking sample
  PanelSample panel;
  Simulation* owner = nullptr;
};

void Simulation::Impl::init() {
  const auto n = static_cast<std::size_t>(spec->customers);
  const auto nb = static_cast<std::size_t>(brands);
  pop.resize(n, spec->k(), brands);
  events.resize(n);
  for (const auto& b : spec->brands) policies.push_back(b.policy);
  base.assign(nb, 0);
  support_cases.assign(nb, 0.0);
  quality.assign(nb, 0.0);
  skill.assign(nb, 0.0);
  engagement.assign(nb, 0.0);
  turnover.assign(nb, 0.0);
  ambassadors.assign(nb, 0);

  // Expected purchases per step (equal shares) set the first support load:
  // P(purchase) = 1 - E[exp(-rate x demand)] = 1 - (1 + demand x mean / shape)^-shape for Gamma rates.
  double purchase_prob = 0.0;
  for (const auto& c : spec->cohorts)
    purchase_prob += c.fraction * (1.0 - std::pow(1.0 + timeline.demand(0) * c.purchase_rate / c.purchase_shape, -c.purchase_shape));
  for (std::size_t b = 0; b < nb; ++b)
    support_cases[b] = spec->experience.support_rate * purchase_prob * static_cast<double>(n) / static_cast<double>(nb);
  update_employees(-1);
  build_context(0);

  for_range(n, kCustomerGrain, [&](std::size_t begin, std::size_t end) { kernel.init(pop, begin, end, ctx); });
  for (std::size_t i = 0; i < n; ++i) ++base[pop.current(i).brand];
  for (std::size_t b = 0; b < nb; ++b)
    support_cases[b] = spec->experience.support_rate * purchase_prob * static_cast<double>(base[b]);
  entrant_brand_weights.assign(base.begin(), base.end());

  const std::size_t s = std::min<std::size_t>(n, static_cast<std::size_t>(spec->tracking_sample));
  sample.resize(s);
  for (std::size_t j = 0; j < s; ++j) sample[j] = static_cast<std::size_t>((static_cast<double>(j) + 0.5) * static_cast<double>(n) / static_cast<double>(s));

  previous.share.assign(nb, 0.0);
  previous.nps.assign(nb, 0.0);
  previous.loyalty.assign(nb, 0.0);
  previous.cohort_share.assign(nb * static_cast<std::size_t>(cohorts), 0.0);
  previous.segment_share.assign(nb * kSegments, 0.0);
  panel = PanelSample(n, static_cast<std::size_t>(spec->panel));
}

void Simulation::Impl::apply_events(int step) {
  for (const auto& event : spec->events) {
    if (event.step + spec->burn_in != step || event.target != EventTarget::kBrand) continue;
    BrandPolicy& p = policies[static_cast<std::size_t>(event.index)];
    for (const auto& c : event.changes) {
      switch (c.field) {
        case EventField::kPrice: p.price = c.value; break;
        case EventField::kUnitCost: p.unit_cost = c.value; break;
        case EventField::kEffort: p.effort = c.value; break;
        case EventField::kStance: p.stance = c.vector; break;
        case EventField::kAction: p.action = c.value; break;
        case EventField::kServiceLevel: p.service_level = c.value; break;
        case EventField::kServiceCost: p.service_cost = c.value; break;
        case EventField::kExInvestment: p.ex_investment = c.value; break;
        case EventField::kExCost: p.ex_cost = c.value; break;
        case EventField::kMarketingReach: p.marketing_reach = c.value; break;
        case EventField::kLoyaltyProgram: p.loyalty_program = c.value; break;
        case EventField::kLoyaltyCost: p.loyalty_cost = c.value; break;
        case EventField::kCxSpend: p.cx_spend = c.value; break;
        default: break;  // market and cohort fields live in the Timeline
      }
    }
  }
}

/// Employees react to last step's workload; their engagement sets this step's
/// service quality. Step -1 only derives quality from the initial workforce.
void Simulation::Impl::update_employees(int step) {
  const auto& ep = spec->employees;
  const auto nb = static_cast<std::size_t>(brands);
  std::vector<double> capacity(nb);
  for (std::size_t b = 0; b < nb; ++b)
    capacity[b] = policies[b].service_level * static_cast<double>(workforce.employees(static_cast<int>(b))) *
                  ep.cases_per_employee;
  if (!ep.enabled) {  // no workforce: quality is the funded service level, nobody engaged
    for (std::size_t b = 0; b < nb; ++b) {
      quality[b] = policies[b].service_level;
      engagement[b] = turnover[b] = 0.0;
      ambassadors[b] = 0;
    }
    return;
  }
  WorkforceSums sums(brands);
  if (step < 0) {
    sums = workforce.measure(0, workforce.size());
  } else {
    std::vector<BrandWorkConditions> conditions(nb);
    for (std::size_t b = 0; b < nb; ++b) {
      const double load = capacity[b] > 0.0 ? support_cases[b] / capacity[b] : (support_cases[b] > 0.0 ? 10.0 : 0.0);
      conditions[b].target_base = static_cast<float>(ep.baseline + ep.ex_effect * policies[b].ex_investment -
                                                     ep.workload_effect * (load > 1.0 ? 1.0 - 1.0 / load : 0.0));
      for (int d = 0; d < spec->k(); ++d)
        conditions[b].lived_stance[d] =
            static_cast<float>(ep.alignment_effect * policies[b].stance[static_cast<std::size_t>(d)] * policies[b].action);
    }
    const std::size_t blocks = (workforce.size() + kEmployeeBlock - 1) / kEmployeeBlock;
    employee_blocks.assign(blocks, WorkforceSums(brands));
    for_range(blocks, 1, [&](std::size_t begin, std::size_t end) {
      for (std::size_t blk = begin; blk < end; ++blk)
        employee_blocks[blk] = workforce.update(blk * kEmployeeBlock, std::min(workforce.size(), (blk + 1) * kEmployeeBlock),
                                                step, conditions);
    });
    for (const auto& blk : employee_blocks) sums.add(blk);  // fixed order: deterministic
  }
  for (std::size_t b = 0; b < nb; ++b) {
    const auto e = static_cast<double>(workforce.employees(static_cast<int>(b)));
    engagement[b] = sums.engagement[b] / e;
    turnover[b] = static_cast<double>(sums.quits[b]) / e;
    ambassadors[b] = sums.ambassadors[b];
    // Engaged staff improve how cases are handled over weeks, not at once.
    const double target = ep.quality_floor + (1.0 - ep.quality_floor) * sums.effectiveness[b] / e;
    skill[b] = step < 0 ? target : skill[b] + ep.skill_learning * (target - skill[b]);
    // Share of cases handled in time: saturates as capacity outgrows the case load.
    const double coverage = support_cases[b] > 0.0 ? 1.0 - std::exp(-capacity[b] / support_cases[b]) : 1.0;
    quality[b] = skill[b] * coverage;
  }
}

void Simulation::Impl::build_context(int step) {
  const auto nb = static_cast<std::size_t>(brands);
  const auto& ch = spec->choice;
  const double ref = spec->reference_price();
  ctx.t = step;
  ctx.report_step = step - spec->burn_in;
  ctx.segment_dim = spec->segment_index();
  ctx.segment_threshold = static_cast<float>(spec->segment_threshold);
  ctx.salience_threshold = static_cast<float>(spec->salience_threshold);
  ctx.panel = panel.size() > 0 && step >= spec->burn_in ? &panel : nullptr;
  ctx.price.resize(nb);
  ctx.brands = brands;
  ctx.k = spec->k();
  ctx.brand.resize(nb);
  ctx.stance.resize(brands, spec->k());
  ctx.lead_cum.resize(2 * nb);
  ctx.lead_lift.resize(2 * nb);
  double lead_total = 0.0;
  std::vector<double> lead_p(2 * nb);
  // Customers judge service by its reputation, which follows real quality with a lag.
  if (perceived.empty()) perceived = quality;
  for (std::size_t b = 0; b < nb; ++b) {
    const auto& p = policies[b];
    BrandView& v = ctx.brand[b];
    v.quality = static_cast<float>(quality[b]);
    perceived[b] += ch.quality_learning * (quality[b] - perceived[b]);
    v.time_cost = static_cast<float>(p.effort + ch.hassle * spec->experience.support_rate * (1.0 - perceived[b]));
    v.money = static_cast<float>(p.price / ref);
    v.action = static_cast<float>(p.action);
    v.loyalty_bonus = static_cast<float>(ch.beta_loyalty * (1.0 + p.loyalty_program));
    ctx.price[b] = p.price;
    for (int d = 0; d < spec->k(); ++d) ctx.stance(static_cast<Eigen::Index>(b), d) = static_cast<float>(p.stance[static_cast<std::size_t>(d)]);
    lead_p[2 * b] = spec->employees.enabled
                        ? std::min(1.0, static_cast<double>(ambassadors[b]) * ch.ambassador_contacts /
                                            static_cast<double>(spec->customers))
                        : 0.0;
    lead_p[2 * b + 1] = p.marketing_reach;
    ctx.lead_lift[2 * b] = static_cast<float>(ch.lead_lift + std::log(ch.ambassador_ratio));
    ctx.lead_lift[2 * b + 1] = static_cast<float>(ch.lead_lift);
    lead_total += lead_p[2 * b] + lead_p[2 * b + 1];
  }
  // At most one lead per purchase occasion: scale down if the reaches add up past 1.
  const double scale = lead_total > 1.0 ? 1.0 / lead_total : 1.0;
  double cum = 0.0;
  for (std::size_t j = 0; j < 2 * nb; ++j) ctx.lead_cum[j] = static_cast<float>(cum += lead_p[j] * scale);

  ctx.entrant_brand_cum.resize(nb);
  cum = 0.0;
  for (std::size_t b = 0; b < nb; ++b)
    ctx.entrant_brand_cum[b] = static_cast<float>(cum += entrant_brand_weights.empty() ? 1.0 : entrant_brand_weights[b]);
  if (cum <= 0.0)
    for (std::size_t b = 0; b < nb; ++b) ctx.entrant_brand_cum[b] = static_cast<float>(b + 1);
  kernel.prepare(ctx);
}

void Simulation::Impl::step() {
  apply_events(t);
  update_employees(t);
  build_context(t);
  for (auto& tally : tallies) tally.clear();
  for (auto& log : written) log.clear();
  // The three passes of StepEvents: events and their requests per block,
  // the requested words per part of the word column, the events per block.
  for_range(events.blocks(), 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t b = begin; b < end; ++b) kernel.collect(pop, t, events, events.block(b));
  });
  for_range(events.parts(), 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t q = begin; q < end; ++q) events.resolve(q, pop.word.data());
  });
  for_range(events.blocks(), 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t b = begin; b < end; ++b)
      kernel.process_block(pop, events.block(b), ctx, tallies.local(), written.local());
  });
  // The step's new visible words, seen by everyone from the next step on.
  logs.clear();
  for (const auto& log : written) logs.push_back(&log);
  for_range(logs.size(), 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t j = begin; j < end; ++j) pop.publish(*logs[j]);
  });
  Tally total(brands, cohorts);
  for (const auto& tally : tallies) total.add(tally);  // integer sums: order does not matter
  measure(t, total);
  ++t;
}

void Simulation::Impl::measure(int step, const Tally& tally) {
  const auto nb = static_cast<std::size_t>(brands);
  const auto nc = static_cast<std::size_t>(cohorts);
  StepMetrics m;
  m.step = step - spec->burn_in;  // burn-in steps are negative and not reported
  m.demand = timeline.demand(step);
  for (std::size_t b = 0; b < nb; ++b) base[b] += tally.base_delta[b];
  m.customers = base;
  m.purchases = tally.purchases;
  m.acquisitions = tally.acquisitions;
  m.defections = tally.defections;
  m.promoters = tally.promoters;
  m.detractors = tally.detractors;
  m.panel = tally.panel;
  std::sort(m.panel.begin(), m.panel.end(),
            [](const PanelPurchase& a, const PanelPurchase& b) { return a.customer < b.customer; });
  std::int64_t purchases = 0;
  for (auto x : tally.purchases) purchases += x;
  m.share.resize(nb);
  m.revenue.resize(nb);
  m.margin.resize(nb);
  m.nps.resize(nb);
  for (std::size_t b = 0; b < nb; ++b) {
    const auto& p = policies[b];
    const auto q = static_cast<double>(tally.purchases[b]);
    m.share[b] = ratio_or(q, static_cast<double>(purchases), previous.share[b]);
    m.revenue[b] = q * p.price;
    m.margin[b] = m.revenue[b] - q * (p.unit_cost + p.service_level * p.service_cost + p.loyalty_program * p.loyalty_cost) -
                  p.ex_investment * p.ex_cost * static_cast<double>(workforce.employees(static_cast<int>(b))) -
                  p.cx_spend * static_cast<double>(spec->customers) / 1000.0;
    m.nps[b] = ratio_or(100.0 * static_cast<double>(tally.promoters[b] - tally.detractors[b]), q, previous.nps[b]);
    support_cases[b] = static_cast<double>(tally.support_cases[b]);
  }
  m.cohort_share = row_shares(tally.cohort_purchases, nb, previous.cohort_share);
  m.segment_share = row_shares(tally.segment_purchases, nb, previous.segment_share);
  const auto entrants = static_cast<std::size_t>(spec->entrant_cohort);
  const auto first = tally.cohort_purchases.begin() + static_cast<std::ptrdiff_t>(entrants * nb);
  if (std::any_of(first, first + static_cast<std::ptrdiff_t>(nb), [](std::int64_t x) { return x > 0; }))
    entrant_brand_weights.assign(first, first + static_cast<std::ptrdiff_t>(nb));
  m.values_weight = ratio_or(static_cast<double>(tally.values_weight_fx) / 1048576.0, static_cast<double>(purchases),
                             previous.values_weight);

  // Tracking survey: loyalty, trust and salience measured on a fixed sample,
  // in a fixed number of blocks of integer sums (exact in any order).
  const std::size_t width = 3 * nb + 2 * nc;
  survey.assign(kSurveyBlocks * width, 0);
  const std::size_t per_block = (sample.size() + kSurveyBlocks - 1) / kSurveyBlocks;
  for_range(kSurveyBlocks, 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t blk = begin; blk < end; ++blk) {
      std::int64_t* sums = survey.data() + blk * width;  // loyalty, count, trust per brand; salience, count per cohort
      const std::size_t stop = std::min(sample.size(), (blk + 1) * per_block);
      for (std::size_t j = blk * per_block; j < stop; ++j) {
        // Sampled customers are far apart: fetch the record, word and state
        // of one kSurveyAhead places on, so that the misses overlap.
        if (j + kSurveyAhead < stop) {
          const std::size_t ahead = sample[j + kSurveyAhead];
          __builtin_prefetch(pop.record(ahead));
          __builtin_prefetch(pop.word.data() + ahead);
          __builtin_prefetch(pop.state.data() + ahead);
        }
        const std::size_t i = sample[j];
        const auto b = pop.current(i).brand;
        sums[b] += std::lround(kernel.loyalty_at(pop, i, step) * kUnit16);
        ++sums[nb + b];
        const auto row = pop.trust_of(i);
        for (std::size_t x = 0; x < nb; ++x) sums[2 * nb + x] += row[x];
        const std::size_t c = pop.cohort(i);
        sums[3 * nb + c] += std::lround(kernel.salience_at(pop, i, step) * kUnit16);
        ++sums[3 * nb + nc + c];
      }
    }
  });
  std::vector<std::int64_t> loyalty_sum(nb), loyalty_n(nb), trust_sum(nb), salience_sum(nc), salience_n(nc);
  for (std::size_t blk = 0; blk < kSurveyBlocks; ++blk) {
    const std::int64_t* sums = survey.data() + blk * width;
    for (std::size_t b = 0; b < nb; ++b) {
      loyalty_sum[b] += sums[b];
      loyalty_n[b] += sums[nb + b];
      trust_sum[b] += sums[2 * nb + b];
    }
    for (std::size_t c = 0; c < nc; ++c) {
      salience_sum[c] += sums[3 * nb + c];
      salience_n[c] += sums[3 * nb + nc + c];
    }
  }
  m.loyalty.resize(nb);
  m.trust.resize(nb);
  for (std::size_t b = 0; b < nb; ++b) {
    m.loyalty[b] = ratio_or(static_cast<double>(loyalty_sum[b]) / kUnit16, static_cast<double>(loyalty_n[b]), previous.loyalty[b]);
    m.trust[b] = static_cast<double>(trust_sum[b]) / kUnit16 / static_cast<double>(sample.size());
  }
  m.salience.resize(nc);
  for (std::size_t c = 0; c < nc; ++c)
    m.salience[c] = ratio_or(static_cast<double>(salience_sum[c]) / kUnit16, static_cast<double>(salience_n[c]),
                             previous.salience.empty() ? 0.0 : previous.salience[c]);
  m.engagement = engagement;
  m.turnover = turnover;
  m.ambassadors = ambassadors;
  m.service_quality = quality;
  previous = m;
  if (m.step >= 0)
    for (auto* o : observers) o->on_step(*owner, m);
}

Simulation::Simulation(std::shared_ptr<const ScenarioSpec> spec, ExecutionPolicy policy)
    : impl_(std::make_unique<Impl>(std::move(spec), policy)) {
  impl_->owner = this;
  impl_->init();
}

Simulation::~Simulation() = default;

void Simulation::add_observer(StepObserver* observer) { impl_->observers.push_back(observer); }
void Simulation::step() { impl_->step(); }
void Simulation::run(const std::atomic<bool>* stop) {
  while (!done()) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) return;
    step();
  }
}
bool Simulation::done() const noexcept { return impl_->t >= impl_->spec->total_steps(); }
int Simulation::steps_done() const noexcept { return std::max(0, impl_->t - impl_->spec->burn_in); }
const ScenarioSpec& Simulation::spec() const noexcept { return *impl_->spec; }
const Population& Simulation::population() const noexcept { return impl_->pop; }
const ExecutionPolicy& Simulation::policy() const noexcept { return impl_->policy; }
const StepContext& Simulation::context() const noexcept { return impl_->ctx; }
const std::vector<std::int64_t>& Simulation::customer_base() const noexcept { return impl_->base; }
std::vector<std::int64_t> Simulation::employees() const {
  std::vector<std::int64_t> out;
  for (int b = 0; b < impl_->brands; ++b) out.push_back(static_cast<std::int64_t>(impl_->workforce.employees(b)));
  return out;
}

}  // namespace cxsim
