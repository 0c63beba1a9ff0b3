#include "cxsim/model/customers.hpp"

#include <algorithm>
#include <cmath>

#include "cxsim/core/rng.hpp"

namespace cxsim {

namespace {

std::uint16_t to_u16(float x) noexcept {
  return static_cast<std::uint16_t>(std::lround(std::clamp(x, 0.0f, 1.0f) * kUnit16));
}
std::uint8_t to_u8(float x) noexcept {
  return static_cast<std::uint8_t>(std::lround(std::clamp(x, 0.0f, 1.0f) * 255.0f));
}
std::int8_t to_dev(double x) noexcept {
  return static_cast<std::int8_t>(std::clamp<long>(std::lround(x * kDevScale), -127, 127));
}
std::uint16_t to_step(int t) noexcept { return t < 0 ? kNever : static_cast<std::uint16_t>(t); }

/// Index of the first cumulative weight above u, or n if none.
template <class T>
int pick(const T* cum, int n, T u) noexcept {
  for (int b = 0; b < n; ++b)
    if (u < cum[b]) return b;
  return n;
}

/// Draws an index with probability proportional to exp(utility).
int choose_logit(const float* utility, int n, float u) noexcept {
  float cum[kMaxBrands];
  const float top = *std::max_element(utility, utility + n);
  float total = 0.0f;
  for (int b = 0; b < n; ++b) cum[b] = total += std::exp(utility[b] - top);
  return std::min(pick(cum, n, u * total), n - 1);
}

}  // namespace

Tally::Tally(int brands, int cohorts) {
  const auto nb = static_cast<std::size_t>(brands);
  for (auto* v : {&purchases, &acquisitions, &defections, &promoters, &detractors, &support_cases, &base_delta})
    v->assign(nb, 0);
  cohort_purchases.assign(nb * static_cast<std::size_t>(cohorts), 0);
  segment_purchases.assign(nb * kSegments, 0);
}

void Tally::add(const Tally& o) {
  auto sum = [](std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
    for (std::size_t j = 0; j < a.size(); ++j) a[j] += b[j];
  };
  sum(purchases, o.purchases);
  sum(acquisitions, o.acquisitions);
  sum(defections, o.defections);
  sum(promoters, o.promoters);
  sum(detractors, o.detractors);
  sum(support_cases, o.support_cases);
  sum(base_delta, o.base_delta);
  sum(cohort_purchases, o.cohort_purchases);
  sum(segment_purchases, o.segment_purchases);
  panel.insert(panel.end(), o.panel.begin(), o.panel.end());
  values_weight_fx += o.values_weight_fx;
}

void Tally::clear() {
  for (auto* v : {&purchases, &acquisitions, &defections, &promoters, &detractors, &support_cases, &base_delta,
                  &cohort_purchases, &segment_purchases})
    std::fill(v->begin(), v->end(), 0);
  panel.clear();
  values_weight_fx = 0;
}

CustomerKernel::CustomerKernel(const ScenarioSpec& spec, const Timeline& timeline, const SmallWorld& network)
    : spec_(spec), timeline_(timeline), network_(network),
      beta_life_(static_cast<float>(spec.choice.beta_life)),
      beta_time_(static_cast<float>(spec.choice.beta_time)),
      beta_money_(static_cast<float>(spec.choice.beta_money)),
      beta_social_(static_cast<float>(spec.choice.beta_social)),
      beta_wom_(static_cast<float>(spec.choice.beta_wom)),
      hypocrisy_(static_cast<float>(spec.trust.hypocrisy_threshold)),
      inv_credible_range_(static_cast<float>(1.0 / (1.0 - spec.trust.hypocrisy_threshold))) {
  double cum = 0.0;
  for (const auto& c : spec.cohorts) cohort_cum_.push_back(cum += c.fraction);
}

float CustomerKernel::base_utility(float alignment, float trust, float salience, const float w[3],
                                   const BrandView& brand, float* parts) const noexcept {
  // A stance the customer shares counts only as far as it is believed, and a
  // disbelieved one reads as hypocrisy; a stance the customer opposes counts
  // against the brand in full.
  const float credit = alignment > 0.0f ? (trust - hypocrisy_) * inv_credible_range_ : 1.0f;
  const float life = beta_life_ * w[0] * salience * alignment * credit;
  const float time = beta_time_ * w[1] * brand.time_cost;
  const float money = beta_money_ * w[2] * brand.money;
  if (parts != nullptr) {
    parts[0] = life;
    parts[1] = time;
    parts[2] = money;
  }
  return life - time - money;
}

void CustomerKernel::values_at(const Population& pop, std::size_t i, int t, float* out) const {
  const float* mean = timeline_.values_mean(t, pop.cohort[i]);
  const std::int8_t* dev = pop.values_dev.data() + i * static_cast<std::size_t>(pop.k);
  for (int d = 0; d < pop.k; ++d) out[d] = std::clamp(mean[d] + dev[d] / kDevScale, -1.0f, 1.0f);
}

float CustomerKernel::salience_at(const Population& pop, std::size_t i, int t) const {
  return std::clamp(timeline_.salience_mean(t, pop.cohort[i]) + pop.salience_dev[i] / kDevScale, 0.0f, 1.0f);
}

float CustomerKernel::loyalty_at(const Population& pop, std::size_t i, int t) const {
  const int idle = t - pop.t_last[i];
  if (pop.commitment[i] == 0) return pop.loyalty[i] / kUnit16 * timeline_.loyalty_decay()[idle];
  const float rate = static_cast<float>(spec_.loyalty.decay) * (1.0f - pop.commitment[i] / 255.0f);
  return pop.loyalty[i] / kUnit16 * std::pow(1.0f - rate, static_cast<float>(idle));
}

std::uint8_t CustomerKernel::commitment(float salience, float trust, float alignment) const noexcept {
  // Loyalty grounded in shared, believed values does not wear off between purchases.
  return to_u8(static_cast<float>(spec_.loyalty.values_anchor) * salience * trust * std::max(0.0f, alignment));
}

void CustomerKernel::schedule_exit(Population& pop, std::size_t i, int after, CounterRng& rng) const {
  const double u = rng.uniform();
  const double rho = spec_.replacement_rate;
  int exit = -1;
  if (rho > 0.0) {
    const double wait = rho >= 1.0 ? 1.0 : std::ceil(std::log(u) / std::log1p(-rho));
    if (wait < static_cast<double>(spec_.total_steps())) exit = after + std::max(1, static_cast<int>(wait));
  }
  pop.exit_step[i] = exit >= spec_.total_steps() ? kNever : to_step(exit);
}

void CustomerKernel::schedule_purchase(Population& pop, std::size_t i, int after, CounterRng& rng) const {
  pop.next_purchase[i] = to_step(timeline_.next_purchase(after, pop.rate[i], rng.exponential()));
}

void CustomerKernel::birth(Population& pop, std::size_t i, int t, int c, bool initial) const {
  // Initial customers draw from counter step 0, entrants at step t from t + 1.
  CounterRng rng(spec_.seed, Stream::kBirth, initial ? 0u : static_cast<std::uint32_t>(t) + 1, i);
  const auto& cohort = spec_.cohorts[static_cast<std::size_t>(c)];
  pop.cohort[i] = static_cast<std::uint8_t>(c);
  pop.birth[i] = static_cast<std::uint16_t>(t);

  const float* mean = timeline_.values_mean(t, c);
  std::int8_t* dev = pop.values_dev.data() + i * static_cast<std::size_t>(pop.k);
  for (int d = 0; d < pop.k; ++d) {
    const double v = std::clamp(mean[d] + cohort.values_sd * rng.normal(), -1.0, 1.0);
    dev[d] = to_dev(v - mean[d]);
  }

  // Events may move the salience mean close to 0 or 1: keep the Beta valid.
  const double s_mean = std::clamp<double>(timeline_.salience_mean(t, c), 1e-3, 1.0 - 1e-3);
  const double s_sd = std::min(cohort.salience_sd, 0.99 * std::sqrt(s_mean * (1.0 - s_mean)));
  pop.salience_dev[i] = to_dev(rng.beta_mean_sd(s_mean, s_sd) - timeline_.salience_mean(t, c));

  const double sigma = cohort.weights_sd;
  double w[3] = {cohort.weight_life, cohort.weight_time, cohort.weight_money};
  double total = 0.0;
  for (double& x : w) total += x *= std::exp(sigma * rng.normal() - 0.5 * sigma * sigma);
  for (int j = 0; j < 3; ++j)
    pop.weights[i * 3 + static_cast<std::size_t>(j)] =
        static_cast<std::uint8_t>(std::lround(std::clamp(3.0 * w[j] / total, 0.0, 3.0) * kWeightScale));

  const double shape = cohort.purchase_shape;
  pop.rate[i] = static_cast<float>(rng.gamma(shape) * cohort.purchase_rate / shape);

  CounterRng schedule(spec_.seed, Stream::kSchedule, initial ? 0u : static_cast<std::uint32_t>(t) + 1, i);
  const int after = initial ? -1 : t;
  schedule_exit(pop, i, after, schedule);
  schedule_purchase(pop, i, after, schedule);
}

void CustomerKernel::init(Population& pop, std::size_t i, const StepContext& ctx) const {
  CounterRng rng(spec_.seed, Stream::kInitialState, 0, i);
  const int c = std::min(pick(cohort_cum_.data(), static_cast<int>(cohort_cum_.size()),
                              rng.uniform() * cohort_cum_.back()),
                         static_cast<int>(cohort_cum_.size()) - 1);
  birth(pop, i, 0, c, true);

  const int nb = ctx.brands;
  float v[kMaxDimensions];
  values_at(pop, i, 0, v);
  const float s = salience_at(pop, i, 0);
  const float w[3] = {pop.weights[i * 3] / kWeightScale, pop.weights[i * 3 + 1] / kWeightScale,
                      pop.weights[i * 3 + 2] / kWeightScale};
  Eigen::Matrix<float, Eigen::Dynamic, 1, 0, kMaxBrands, 1> align =
      ctx.stance.lazyProduct(Eigen::Map<const Eigen::VectorXf>(v, pop.k));
  float u[kMaxBrands];
  auto trust = pop.trust_of(i);
  for (int b = 0; b < nb; ++b) {
    const float tr = static_cast<float>(spec_.brands[static_cast<std::size_t>(b)].initial_trust);
    trust[static_cast<std::size_t>(b)] = to_u16(tr);
    u[b] = base_utility(align[b], trust[static_cast<std::size_t>(b)] / kUnit16, s, w, ctx.brand[static_cast<std::size_t>(b)]);
  }
  const int brand = choose_logit(u, nb, rng.uniform_f());
  pop.loyalty[i] = to_u16(static_cast<float>(2.0 * spec_.loyalty.initial * rng.uniform()));
  pop.commitment[i] = commitment(s, trust[static_cast<std::size_t>(brand)] / kUnit16, align[brand]);
  pop.t_last[i] = 0;
  const auto word = Visible{static_cast<std::uint8_t>(brand), Sentiment::kNone,
                            to_u8(trust[static_cast<std::size_t>(brand)] / kUnit16)}.pack();
  pop.visible[0][i] = pop.visible[1][i] = word;
  pop.next_event[i] = std::min(pop.next_purchase[i], pop.exit_step[i]);
}

void CustomerKernel::enter(Population& pop, std::size_t i, const StepContext& ctx, Tally& tally) const {
  const int t = ctx.t;
  const auto old_brand = Visible::unpack(pop.visible[t & 1][i]).brand;
  --tally.base_delta[old_brand];
  birth(pop, i, t, spec_.entrant_cohort, false);
  CounterRng rng(spec_.seed, Stream::kEntrantBrand, static_cast<std::uint32_t>(t), i);
  const int nb = ctx.brands;
  const int brand = std::min(pick(ctx.entrant_brand_cum.data(), nb, rng.uniform_f() * ctx.entrant_brand_cum.back()), nb - 1);
  ++tally.base_delta[static_cast<std::size_t>(brand)];
  auto trust = pop.trust_of(i);
  for (int b = 0; b < nb; ++b)
    trust[static_cast<std::size_t>(b)] = to_u16(static_cast<float>(spec_.brands[static_cast<std::size_t>(b)].initial_trust));
  pop.loyalty[i] = 0;
  pop.commitment[i] = 0;
  pop.t_last[i] = static_cast<std::uint16_t>(t);
  pop.visible[(t + 1) & 1][i] = Visible{static_cast<std::uint8_t>(brand), Sentiment::kNone,
                                        to_u8(trust[static_cast<std::size_t>(brand)] / kUnit16)}.pack();
}

void CustomerKernel::purchase(Population& pop, std::size_t i, const StepContext& ctx, Tally& tally) const {
  const int t = ctx.t;
  const int nb = ctx.brands;
  const std::uint16_t* read = pop.visible[t & 1].data();
  const Visible me = Visible::unpack(read[i]);
  const int current = me.brand;
  const auto& ex = spec_.experience;

  float v[kMaxDimensions];
  values_at(pop, i, t, v);
  const float s = salience_at(pop, i, t);
  const float w[3] = {pop.weights[i * 3] / kWeightScale, pop.weights[i * 3 + 1] / kWeightScale,
                      pop.weights[i * 3 + 2] / kWeightScale};
  auto trust_row = pop.trust_of(i);
  float trust[kMaxBrands];
  for (int b = 0; b < nb; ++b) trust[b] = trust_row[static_cast<std::size_t>(b)] / kUnit16;

  // Word of mouth and social proof: what contacts did and said as of last step.
  float users[kMaxBrands] = {};
  float net_promoters[kMaxBrands] = {};
  const int degree = network_.degree();
  if (degree > 0) {
    std::uint32_t contacts[kMaxDegree];
    network_.contacts(i, contacts);
    const auto wom_rate = static_cast<float>(spec_.trust.wom_rate);
    for (int j = 0; j < degree; ++j) {
      const Visible o = Visible::unpack(read[contacts[j]]);
      users[o.brand] += 1.0f;
      if (o.sentiment == Sentiment::kNone) continue;
      net_promoters[o.brand] += o.sentiment == Sentiment::kPromoter    ? 1.0f
                                : o.sentiment == Sentiment::kDetractor ? -1.0f
                                                                       : 0.0f;
      trust[o.brand] += wom_rate * (o.trust / 255.0f - trust[o.brand]);
    }
  }

  CounterRng rng(spec_.seed, Stream::kPurchase, static_cast<std::uint32_t>(t), i);
  const float lead_draw = rng.uniform_f();
  const float choice_draw = rng.uniform_f();
  const double need_draw = rng.uniform();
  const double resolve_draw = rng.uniform();
  const double outcome_draw = rng.uniform();

  const int lead = pick(ctx.lead_cum.data(), 2 * nb, lead_draw);
  const float loyalty = loyalty_at(pop, i, t);
  const float inv_degree = degree > 0 ? 1.0f / static_cast<float>(degree) : 0.0f;
  Eigen::Matrix<float, Eigen::Dynamic, 1, 0, kMaxBrands, 1> align =
      ctx.stance.lazyProduct(Eigen::Map<const Eigen::VectorXf>(v, pop.k));
  float u[kMaxBrands];
  float lo[3] = {1e30f, 1e30f, 1e30f}, hi[3] = {-1e30f, -1e30f, -1e30f};
  for (int b = 0; b < nb; ++b) {
    float parts[3];
    u[b] = base_utility(align[b], trust[b], s, w, ctx.brand[static_cast<std::size_t>(b)], parts) +
           inv_degree * (beta_social_ * users[b] + beta_wom_ * net_promoters[b]);
    for (int j = 0; j < 3; ++j) {
      lo[j] = std::min(lo[j], parts[j]);
      hi[j] = std::max(hi[j], parts[j]);
    }
  }
  u[current] += ctx.brand[static_cast<std::size_t>(current)].loyalty_bonus * loyalty;
  if (lead < 2 * nb) u[lead / 2] += ctx.lead_lift[static_cast<std::size_t>(lead)];
  const int chosen = choose_logit(u, nb, choice_draw);
  const auto cb = static_cast<std::size_t>(chosen);
  const BrandView& brand = ctx.brand[cb];

  // The experience: support need, its resolution, and the satisfaction class.
  const bool need = need_draw < ex.support_rate;
  const bool resolved = need && resolve_draw < brand.quality;
  double promoter = need ? (resolved ? ex.promoter_resolved : ex.promoter_unresolved) : ex.promoter_base;
  const double detractor = need ? (resolved ? ex.detractor_resolved : ex.detractor_unresolved) : ex.detractor_base;
  const double fit = s * std::max(0.0f, align[chosen]) * brand.action;
  promoter = std::min(promoter + ex.fit_gain * fit, 1.0 - detractor);
  const Sentiment sentiment = outcome_draw < detractor              ? Sentiment::kDetractor
                              : outcome_draw < detractor + promoter ? Sentiment::kPromoter
                                                                    : Sentiment::kPassive;

  const auto& lp = spec_.loyalty;
  float l = loyalty;
  if (chosen != current) {
    l = static_cast<float>(lp.after_switch);
    ++tally.acquisitions[cb];
    ++tally.defections[static_cast<std::size_t>(current)];
    ++tally.base_delta[cb];
    --tally.base_delta[static_cast<std::size_t>(current)];
  }
  switch (sentiment) {
    case Sentiment::kPromoter: l += static_cast<float>(lp.gain_promoter) * (1.0f - l); break;
    case Sentiment::kPassive: l += static_cast<float>(lp.gain_passive) * (1.0f - l); break;
    default: l -= static_cast<float>(lp.loss_detractor) * l; break;
  }
  // Experience reveals what the brand really does: trust moves toward its action.
  trust[chosen] += static_cast<float>(spec_.trust.learn_rate) * (brand.action - trust[chosen]);
  for (int b = 0; b < nb; ++b) trust_row[static_cast<std::size_t>(b)] = to_u16(trust[b]);
  pop.loyalty[i] = to_u16(l);
  pop.commitment[i] = commitment(s, trust[chosen], align[chosen]);
  pop.t_last[i] = static_cast<std::uint16_t>(t);
  pop.visible[(t + 1) & 1][i] = Visible{static_cast<std::uint8_t>(chosen), sentiment, to_u8(trust[chosen])}.pack();

  ++tally.purchases[cb];
  if (sentiment == Sentiment::kPromoter) ++tally.promoters[cb];
  if (sentiment == Sentiment::kDetractor) ++tally.detractors[cb];
  if (need) ++tally.support_cases[cb];
  ++tally.cohort_purchases[pop.cohort[i] * static_cast<std::size_t>(nb) + cb];
  const float side = v[ctx.segment_dim];
  const int segment = side >= ctx.segment_threshold ? kShares : side <= -ctx.segment_threshold ? kOpposes : kNeutral;
  ++tally.segment_purchases[static_cast<std::size_t>(segment * nb) + cb];
  if (s >= ctx.salience_threshold) ++tally.segment_purchases[static_cast<std::size_t>(kSalient * nb) + cb];
  if (ctx.panel != nullptr && ctx.panel->contains(i))
    tally.panel.push_back({ctx.report_step, static_cast<std::uint32_t>(i), pop.cohort[i],
                           static_cast<std::uint8_t>(chosen), static_cast<std::uint8_t>(sentiment), ctx.price[cb]});
  // How much of the difference between brands comes from values (life).
  const float spread = (hi[0] - lo[0]) + (hi[1] - lo[1]) + (hi[2] - lo[2]);
  if (spread > 0.0f) tally.values_weight_fx += std::lround((hi[0] - lo[0]) / spread * 1048576.0f);

  CounterRng schedule(spec_.seed, Stream::kSchedule, static_cast<std::uint32_t>(t) + 1, i);
  schedule_purchase(pop, i, t, schedule);
}

void CustomerKernel::process(Population& pop, std::size_t i, const StepContext& ctx, Tally& tally) const {
  const int t = ctx.t;
  if (pop.next_event[i] != t) return;
  // The visible word changed last step: bring this step's buffer up to date.
  if (pop.t_last[i] + 1 == t) pop.visible[(t + 1) & 1][i] = pop.visible[t & 1][i];
  if (pop.exit_step[i] == t)
    enter(pop, i, ctx, tally);
  else if (pop.next_purchase[i] == t)
    purchase(pop, i, ctx, tally);
  const std::uint16_t catch_up = pop.t_last[i] == t ? static_cast<std::uint16_t>(t + 1) : kNever;
  pop.next_event[i] = std::min({pop.next_purchase[i], pop.exit_step[i], catch_up});
}

}  // namespace cxsim
