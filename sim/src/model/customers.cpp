#include "cxsim/model/customers.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "cxsim/core/fastmath.hpp"
#include "cxsim/core/rng.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define CXSIM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CXSIM_CLONES
#endif

namespace cxsim {

namespace {

std::uint16_t to_u16(float x) noexcept {
  return static_cast<std::uint16_t>(round_nonneg(std::clamp(x, 0.0f, 1.0f) * kUnit16));
}
std::uint8_t to_u8(float x) noexcept {
  return static_cast<std::uint8_t>(round_nonneg(std::clamp(x, 0.0f, 1.0f) * 255.0f));
}
/// round(x), half away from zero, without a library call.
long round_to_long(double x) noexcept { return static_cast<long>(x + (x >= 0.0 ? 0.5 : -0.5)); }
std::int8_t to_dev(double x) noexcept {
  return static_cast<std::int8_t>(std::clamp<long>(round_to_long(x * kDevScale), -127, 127));
}
std::uint16_t to_step(int t) noexcept { return t < 0 ? kNever : static_cast<std::uint16_t>(t); }

/// Uniforms from raw Philox words, as CounterRng makes them.
float word_to_float(std::uint32_t w) noexcept { return (static_cast<float>(w >> 9) + 0.5f) * 0x1.0p-23f; }
double word_to_double(std::uint32_t w) noexcept { return (static_cast<double>(w) + 0.5) * 0x1.0p-32; }

/// Events handled together: contacts and random words are computed for the
/// whole batch first, so that the memory the purchases read is already on its way.
constexpr int kBatch = 128;
constexpr int kFlush = 64;

/// Philox4x32-10 (Random123's rounds and constants) of `lanes` counters
/// (x0, x1, x2, x3)[l] under one key, in place: lanes side by side so that the
/// compiler uses vector multiplies. Bit-identical to r123::Philox4x32.
CXSIM_CLONES void philox_lanes(std::uint32_t k0, std::uint32_t k1, int lanes, std::uint32_t* __restrict x0,
                               std::uint32_t* __restrict x1, std::uint32_t* __restrict x2,
                               std::uint32_t* __restrict x3) {
  for (int r = 0; r < 10; ++r) {
    for (int l = 0; l < lanes; ++l) {
      const std::uint64_t p0 = std::uint64_t{0xD2511F53u} * x0[l];
      const std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * x2[l];
      const auto y0 = static_cast<std::uint32_t>(p1 >> 32) ^ x1[l] ^ k0;
      const auto y2 = static_cast<std::uint32_t>(p0 >> 32) ^ x3[l] ^ k1;
      x1[l] = static_cast<std::uint32_t>(p1);
      x3[l] = static_cast<std::uint32_t>(p0);
      x0[l] = y0;
      x2[l] = y2;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
}

/// Blocks 0..blocks-1 of the Philox sequences of (stream, step) for agents
/// first..first+count-1, agent-major: out[(a x blocks + block) x 4 + word].
/// The same words CounterRng(seed, stream, step, agent) draws, computed side by side.
void philox_blocks(std::uint64_t seed, Stream stream, std::uint32_t step, std::size_t first, int count, int blocks,
                   std::uint32_t* out) {
  constexpr int kLanes = 256;
  alignas(64) std::uint32_t x0[kLanes], x1[kLanes], x2[kLanes], x3[kLanes];
  const int total = count * blocks;
  for (int start = 0; start < total; start += kLanes) {
    const int lanes = std::min(kLanes, total - start);
    for (int l = 0; l < lanes; ++l) {
      const int a = (start + l) / blocks;
      const auto agent = static_cast<std::uint64_t>(first) + static_cast<std::uint64_t>(a);
      x0[l] = static_cast<std::uint32_t>(agent);
      x1[l] = CounterRng::counter_word1(stream, agent);
      x2[l] = step;
      x3[l] = static_cast<std::uint32_t>((start + l) % blocks);
    }
    philox_lanes(static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32), lanes, x0, x1, x2, x3);
    for (int l = 0; l < lanes; ++l) {
      std::uint32_t* o = out + 4 * static_cast<std::size_t>(start + l);
      o[0] = x0[l];
      o[1] = x1[l];
      o[2] = x2[l];
      o[3] = x3[l];
    }
  }
}

/// Philox blocks precomputed per customer at initialisation (they cover the
/// draws of almost every birth; rare extra draws are computed on demand).
constexpr int kInitBatch = 64;
constexpr int kBirthBlocks = 5;

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
      inv_credible_range_(static_cast<float>(1.0 / (1.0 - spec.trust.hypocrisy_threshold))),
      gain_promoter_(static_cast<float>(spec.loyalty.gain_promoter)),
      gain_passive_(static_cast<float>(spec.loyalty.gain_passive)),
      loss_detractor_(static_cast<float>(spec.loyalty.loss_detractor)) {
  double cum = 0.0;
  for (const auto& c : spec.cohorts) cohort_cum_.push_back(cum += c.fraction);
  for (std::size_t b = 0; b < spec.brands.size(); ++b)
    initial_trust_[b] = to_u16(static_cast<float>(spec.brands[b].initial_trust));
  for (std::size_t c = 0; c < log_retention_.size(); ++c)
    log_retention_[c] = static_cast<float>(
        std::log1p(-spec.loyalty.decay * (1.0 - static_cast<double>(static_cast<float>(c) / 255.0f))));
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
  const float* mean = timeline_.values_mean(t, pop.cohort(i));
  const std::int8_t* dev = pop.values_dev(i);
  for (int d = 0; d < pop.k; ++d) out[d] = std::clamp(mean[d] + dev[d] / kDevScale, -1.0f, 1.0f);
}

float CustomerKernel::salience_at(const Population& pop, std::size_t i, int t) const {
  return std::clamp(timeline_.salience_mean(t, pop.cohort(i)) + pop.salience_dev(i) / kDevScale, 0.0f, 1.0f);
}

float CustomerKernel::loyalty_at(const Population& pop, std::size_t i, int t) const {
  const VisibleState v = VisibleState::unpack(pop.visible_state(i));
  const auto idle = static_cast<float>(t - v.t_last);
  return v.loyalty / kUnit16 * fast_exp(idle * log_retention_[pop.commitment(i)]);
}

std::uint8_t CustomerKernel::commitment(float salience, float trust, float alignment) const noexcept {
  // Loyalty grounded in shared, believed values does not wear off between purchases.
  return to_u8(static_cast<float>(spec_.loyalty.values_anchor) * salience * trust * std::max(0.0f, alignment));
}

std::uint16_t CustomerKernel::exit_after(int after, CounterRng& rng) const {
  const double u = rng.uniform();
  const double rho = spec_.replacement_rate;
  int exit = -1;
  if (rho > 0.0) {
    const double wait = rho >= 1.0 ? 1.0 : std::ceil(std::log(u) / std::log1p(-rho));
    if (wait < static_cast<double>(spec_.total_steps())) exit = after + std::max(1, static_cast<int>(wait));
  }
  return exit >= spec_.total_steps() ? kNever : to_step(exit);
}

std::uint16_t CustomerKernel::birth(Population& pop, std::size_t i, int t, int c, bool initial,
                                    const std::uint32_t* birth_blocks, const std::uint32_t* schedule_block) const {
  // Initial customers draw from counter step 0, entrants at step t from t + 1.
  CounterRng rng(spec_.seed, Stream::kBirth, initial ? 0u : static_cast<std::uint32_t>(t) + 1, i, birth_blocks,
                 birth_blocks != nullptr ? kBirthBlocks : 0);
  const auto& cohort = spec_.cohorts[static_cast<std::size_t>(c)];
  pop.cohort(i) = static_cast<std::uint8_t>(c);

  const float* mean = timeline_.values_mean(t, c);
  std::int8_t* dev = pop.values_dev(i);
  for (int d = 0; d < pop.k; ++d) {
    const double v = std::clamp(mean[d] + cohort.values_sd * rng.normal(), -1.0, 1.0);
    dev[d] = to_dev(v - mean[d]);
  }

  // Events may move the salience mean close to 0 or 1: keep the Beta valid.
  const double s_mean = std::clamp<double>(timeline_.salience_mean(t, c), 1e-3, 1.0 - 1e-3);
  const double s_sd = std::min(cohort.salience_sd, 0.99 * std::sqrt(s_mean * (1.0 - s_mean)));
  pop.salience_dev(i) = to_dev(rng.beta_mean_sd(s_mean, s_sd) - timeline_.salience_mean(t, c));

  const double sigma = cohort.weights_sd;
  double w[3] = {cohort.weight_life, cohort.weight_time, cohort.weight_money};
  double total = 0.0;
  for (double& x : w) total += x *= std::exp(sigma * rng.normal() - 0.5 * sigma * sigma);
  std::uint8_t* weights = pop.weights(i);
  for (int j = 0; j < 3; ++j)
    weights[j] = static_cast<std::uint8_t>(round_to_long(std::clamp(3.0 * w[j] / total, 0.0, 3.0) * kWeightScale));

  const double shape = cohort.purchase_shape;
  const auto rate = static_cast<float>(rng.gamma(shape) * cohort.purchase_rate / shape);
  pop.rate(i) = rate;

  CounterRng schedule(spec_.seed, Stream::kSchedule, initial ? 0u : static_cast<std::uint32_t>(t) + 1, i,
                      schedule_block, schedule_block != nullptr ? 1 : 0);
  const int after = initial ? -1 : t;
  pop.exit_step(i) = exit_after(after, schedule);
  return to_step(timeline_.next_purchase(after, rate, schedule.exponential()));
}

void CustomerKernel::prepare(StepContext& ctx) const {
  const int nb = ctx.brands;
  for (int b = 0; b < nb; ++b) {
    const BrandView& v = ctx.brand[static_cast<std::size_t>(b)];
    const auto j = static_cast<std::size_t>(b);
    ctx.time_term[j] = beta_time_ * v.time_cost;
    ctx.money_term[j] = beta_money_ * v.money;
    ctx.quality[j] = v.quality;
    ctx.action[j] = v.action;
    ctx.loyalty_bonus[j] = v.loyalty_bonus;
    for (int d = 0; d < ctx.k; ++d)
      ctx.stance_by_dim[static_cast<std::size_t>(d * nb + b)] = ctx.stance(b, d);
  }
}

void CustomerKernel::init(Population& pop, std::size_t begin, std::size_t end, const StepContext& ctx) const {
  // The Philox blocks of a batch of customers are computed side by side first.
  std::uint32_t state[kInitBatch * 4], born[kInitBatch * kBirthBlocks * 4], schedule[kInitBatch * 4];
  for (std::size_t first = begin; first < end; first += kInitBatch) {
    const int count = static_cast<int>(std::min<std::size_t>(kInitBatch, end - first));
    philox_blocks(spec_.seed, Stream::kInitialState, 0, first, count, 1, state);
    philox_blocks(spec_.seed, Stream::kBirth, 0, first, count, kBirthBlocks, born);
    philox_blocks(spec_.seed, Stream::kSchedule, 0, first, count, 1, schedule);
    for (int a = 0; a < count; ++a)
      init_one(pop, first + static_cast<std::size_t>(a), ctx, state + 4 * a, born + kBirthBlocks * 4 * a,
               schedule + 4 * a);
  }
}

void CustomerKernel::init_one(Population& pop, std::size_t i, const StepContext& ctx, const std::uint32_t* state,
                              const std::uint32_t* born, const std::uint32_t* schedule) const {
  CounterRng rng(spec_.seed, Stream::kInitialState, 0, i, state, 1);
  const int c = std::min(pick(cohort_cum_.data(), static_cast<int>(cohort_cum_.size()),
                              rng.uniform() * cohort_cum_.back()),
                         static_cast<int>(cohort_cum_.size()) - 1);
  const std::uint16_t first = birth(pop, i, 0, c, true, born, schedule);

  const int nb = ctx.brands;
  float v[kMaxDimensions];
  values_at(pop, i, 0, v);
  const float s = salience_at(pop, i, 0);
  const std::uint8_t* wq = pop.weights(i);
  const float w[3] = {wq[0] / kWeightScale, wq[1] / kWeightScale, wq[2] / kWeightScale};
  float align[kMaxBrands] = {};
  for (int d = 0; d < pop.k; ++d)
    for (int b = 0; b < nb; ++b) align[b] += ctx.stance_by_dim[static_cast<std::size_t>(d * nb + b)] * v[d];
  float u[kMaxBrands];
  auto trust = pop.trust_of(i);
  const float life_scale = beta_life_ * w[0] * s;
  for (int b = 0; b < nb; ++b) {
    const auto j = static_cast<std::size_t>(b);
    trust[j] = initial_trust_[j];
    const float credit = select(align[b] > 0.0f, (initial_trust_[j] / kUnit16 - hypocrisy_) * inv_credible_range_, 1.0f);
    u[b] = life_scale * align[b] * credit - w[1] * ctx.time_term[j] - w[2] * ctx.money_term[j];
  }
  const int brand = choose_logit(u, nb, rng.uniform_f());
  const std::uint16_t loyalty = to_u16(static_cast<float>(2.0 * spec_.loyalty.initial * rng.uniform()));
  pop.commitment(i) = commitment(s, trust[static_cast<std::size_t>(brand)] / kUnit16, align[brand]);
  const auto word = Visible{static_cast<std::uint8_t>(brand), Sentiment::kNone,
                            to_u8(trust[static_cast<std::size_t>(brand)] / kUnit16)}.pack();
  pop.set_visible_state(i, {word, word, 0, loyalty});
  pop.next_event[i] = std::min(first, pop.exit_step(i));
}

void CustomerKernel::enter(Population& pop, std::size_t i, const StepContext& ctx, Tally& tally) const {
  const int t = ctx.t;
  const std::uint16_t old_word = VisibleState::unpack(pop.visible_state(i)).word;
  --tally.base_delta[Visible::unpack(old_word).brand];
  const std::uint16_t first = birth(pop, i, t, spec_.entrant_cohort, false, nullptr, nullptr);
  CounterRng rng(spec_.seed, Stream::kEntrantBrand, static_cast<std::uint32_t>(t), i);
  const int nb = ctx.brands;
  const int brand = std::min(pick(ctx.entrant_brand_cum.data(), nb, rng.uniform_f() * ctx.entrant_brand_cum.back()), nb - 1);
  ++tally.base_delta[static_cast<std::size_t>(brand)];
  auto trust = pop.trust_of(i);
  for (int b = 0; b < nb; ++b) trust[static_cast<std::size_t>(b)] = initial_trust_[static_cast<std::size_t>(b)];
  pop.commitment(i) = 0;
  const auto word = Visible{static_cast<std::uint8_t>(brand), Sentiment::kNone,
                            to_u8(trust[static_cast<std::size_t>(brand)] / kUnit16)}.pack();
  pop.set_visible_state(i, {word, old_word, static_cast<std::uint16_t>(t), 0});
  pop.next_event[i] = std::min(first, pop.exit_step(i));
}

void CustomerKernel::purchase(Population& pop, std::size_t i, const std::uint32_t* draws,
                              const std::uint32_t* contacts, const StepContext& ctx, Tally& tally) const {
  const int t = ctx.t;
  const int nb = ctx.brands;
  const VisibleState me = VisibleState::unpack(pop.visible_state(i));
  const int current = Visible::unpack(me.word).brand;
  const auto& ex = spec_.experience;
  const int cohort = pop.cohort(i);

  float v[kMaxDimensions];
  {
    const float* mean = timeline_.values_mean(t, cohort);
    const std::int8_t* dev = pop.values_dev(i);
    for (int d = 0; d < pop.k; ++d) v[d] = std::clamp(mean[d] + dev[d] / kDevScale, -1.0f, 1.0f);
  }
  const float s = std::clamp(timeline_.salience_mean(t, cohort) + pop.salience_dev(i) / kDevScale, 0.0f, 1.0f);
  const std::uint8_t* wq = pop.weights(i);
  const float w[3] = {wq[0] / kWeightScale, wq[1] / kWeightScale, wq[2] / kWeightScale};
  auto trust_row = pop.trust_of(i);
  float trust[kMaxBrands];
  float users[kMaxBrands];
  float net_promoters[kMaxBrands];
  for (int b = 0; b < nb; ++b) {
    trust[b] = trust_row[static_cast<std::size_t>(b)] / kUnit16;
    users[b] = 0.0f;
    net_promoters[b] = 0.0f;
  }

  // Word of mouth and social proof: what contacts did and said as of last step.
  const int degree = network_.degree();
  const auto wom_rate = static_cast<float>(spec_.trust.wom_rate);
  word_of_mouth(pop, contacts, degree, t, wom_rate, trust, users, net_promoters);

  // Draws of the purchase stream, in order: lead, choice, support need,
  // resolution, satisfaction, time to the next purchase.
  const float lead_draw = word_to_float(draws[0]);
  const float choice_draw = word_to_float(draws[1]);
  const double need_draw = word_to_double(draws[2]);
  const double resolve_draw = word_to_double(draws[3]);
  const double outcome_draw = word_to_double(draws[4]);
  const double wait_draw = -std::log(word_to_double(draws[5]));

  const int lead = pick(ctx.lead_cum.data(), 2 * nb, lead_draw);
  const float loyalty = me.loyalty / kUnit16 *
                        fast_exp(static_cast<float>(t - me.t_last) * log_retention_[pop.commitment(i)]);
  const float inv_degree = degree > 0 ? 1.0f / static_cast<float>(degree) : 0.0f;
  float align[kMaxBrands];
  for (int b = 0; b < nb; ++b) align[b] = 0.0f;
  for (int d = 0; d < pop.k; ++d) {
    const float* column = ctx.stance_by_dim.data() + static_cast<std::size_t>(d * nb);
    for (int b = 0; b < nb; ++b) align[b] += column[b] * v[d];
  }
  float u[kMaxBrands], life[kMaxBrands], time[kMaxBrands], money[kMaxBrands];
  const float life_scale = beta_life_ * w[0] * s;
  for (int b = 0; b < nb; ++b) {
    // A stance the customer shares counts only as far as it is believed, and a
    // disbelieved one reads as hypocrisy; an opposed stance counts in full.
    const float credit = select(align[b] > 0.0f, (trust[b] - hypocrisy_) * inv_credible_range_, 1.0f);
    life[b] = life_scale * align[b] * credit;
    time[b] = w[1] * ctx.time_term[static_cast<std::size_t>(b)];
    money[b] = w[2] * ctx.money_term[static_cast<std::size_t>(b)];
    u[b] = life[b] - time[b] - money[b] + inv_degree * (beta_social_ * users[b] + beta_wom_ * net_promoters[b]);
  }
  float lo[3] = {1e30f, 1e30f, 1e30f}, hi[3] = {-1e30f, -1e30f, -1e30f};
  for (int b = 0; b < nb; ++b) {
    lo[0] = std::min(lo[0], life[b]);
    hi[0] = std::max(hi[0], life[b]);
    lo[1] = std::min(lo[1], time[b]);
    hi[1] = std::max(hi[1], time[b]);
    lo[2] = std::min(lo[2], money[b]);
    hi[2] = std::max(hi[2], money[b]);
  }
  u[current] += ctx.loyalty_bonus[static_cast<std::size_t>(current)] * loyalty;
  if (lead < 2 * nb) u[lead / 2] += ctx.lead_lift[static_cast<std::size_t>(lead)];
  const int chosen = choose_logit(u, nb, choice_draw);
  const auto cb = static_cast<std::size_t>(chosen);
  const float action = ctx.action[cb];

  // The experience: support need, its resolution, and the satisfaction class.
  const bool need = need_draw < ex.support_rate;
  const bool resolved = need && resolve_draw < ctx.quality[cb];
  double promoter = need ? (resolved ? ex.promoter_resolved : ex.promoter_unresolved) : ex.promoter_base;
  const double detractor = need ? (resolved ? ex.detractor_resolved : ex.detractor_unresolved) : ex.detractor_base;
  const double fit = s * std::max(0.0f, align[chosen]) * action;
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
  // Promoter and passive experiences close part of the gap to 1, a detractor loses a share.
  l = select(sentiment == Sentiment::kDetractor, l - loss_detractor_ * l,
             l + select(sentiment == Sentiment::kPromoter, gain_promoter_, gain_passive_) * (1.0f - l));
  // Experience reveals what the brand really does: trust moves toward its action.
  trust[chosen] += static_cast<float>(spec_.trust.learn_rate) * (action - trust[chosen]);
  for (int b = 0; b < nb; ++b) trust_row[static_cast<std::size_t>(b)] = to_u16(trust[b]);
  pop.commitment(i) = commitment(s, trust[chosen], align[chosen]);
  const auto word = Visible{static_cast<std::uint8_t>(chosen), sentiment, to_u8(trust[chosen])}.pack();
  pop.set_visible_state(i, {word, me.word, static_cast<std::uint16_t>(t), to_u16(l)});

  ++tally.purchases[cb];
  tally.promoters[cb] += sentiment == Sentiment::kPromoter;
  tally.detractors[cb] += sentiment == Sentiment::kDetractor;
  tally.support_cases[cb] += need;
  ++tally.cohort_purchases[static_cast<std::size_t>(cohort * nb) + cb];
  const float side = v[ctx.segment_dim];
  const int segment = side >= ctx.segment_threshold ? kShares : side <= -ctx.segment_threshold ? kOpposes : kNeutral;
  ++tally.segment_purchases[static_cast<std::size_t>(segment * nb) + cb];
  if (s >= ctx.salience_threshold) ++tally.segment_purchases[static_cast<std::size_t>(kSalient * nb) + cb];
  if (ctx.panel != nullptr && ctx.panel->contains(i))
    tally.panel.push_back({ctx.report_step, static_cast<std::uint32_t>(i), static_cast<std::uint8_t>(cohort),
                           static_cast<std::uint8_t>(chosen), static_cast<std::uint8_t>(sentiment), ctx.price[cb]});
  // How much of the difference between brands comes from values (life).
  const float spread = (hi[0] - lo[0]) + (hi[1] - lo[1]) + (hi[2] - lo[2]);
  if (spread > 0.0f) tally.values_weight_fx += round_nonneg((hi[0] - lo[0]) / spread * 1048576.0f);

  const std::uint16_t next = to_step(timeline_.next_purchase(t, pop.rate(i), wait_draw));
  pop.next_event[i] = std::min(next, pop.exit_step(i));
}

void CustomerKernel::run_batch(Population& pop, const std::uint32_t* who, int count, const StepContext& ctx,
                               Tally& tally) const {
  const auto t = static_cast<std::uint32_t>(ctx.t);
  // 1. Contacts, and the memory this batch will read: own record and visible
  //    entry, and the visible entries of rewired (far) contacts.
  std::uint32_t contacts[kBatch * kMaxDegree];
  for (int e = 0; e < count; ++e) {
    const std::size_t i = who[e];
    __builtin_prefetch(pop.record(i));
    __builtin_prefetch(pop.record(i) + pop.stride - 1);
    __builtin_prefetch(pop.visible.data() + i);
    std::uint32_t* out = contacts + static_cast<std::size_t>(e) * kMaxDegree;
    for (std::uint64_t far = network_.contacts(i, out); far != 0; far &= far - 1)
      __builtin_prefetch(pop.visible.data() + out[std::countr_zero(far)]);
  }
  // 2. The purchase stream's first two Philox blocks of every customer in the batch.
  alignas(64) std::uint32_t x0[2 * kBatch], x1[2 * kBatch], x2[2 * kBatch], x3[2 * kBatch];
  const std::uint32_t stream = static_cast<std::uint32_t>(Stream::kPurchase) << 24;
  for (int e = 0; e < count; ++e) {
    for (int block = 0; block < 2; ++block) {
      const int l = 2 * e + block;
      x0[l] = static_cast<std::uint32_t>(who[e]);
      x1[l] = stream;  // customer indices are below 2^32
      x2[l] = t;
      x3[l] = static_cast<std::uint32_t>(block);
    }
  }
  philox_lanes(static_cast<std::uint32_t>(spec_.seed), static_cast<std::uint32_t>(spec_.seed >> 32), 2 * count, x0, x1,
               x2, x3);
  // 3. The events themselves.
  for (int e = 0; e < count; ++e) {
    const std::size_t i = who[e];
    if (pop.exit_step(i) == t) {
      enter(pop, i, ctx, tally);
      continue;
    }
    const std::uint32_t draws[8] = {x0[2 * e], x1[2 * e], x2[2 * e], x3[2 * e],
                                    x0[2 * e + 1], x1[2 * e + 1], x2[2 * e + 1], x3[2 * e + 1]};
    purchase(pop, i, draws, contacts + static_cast<std::size_t>(e) * kMaxDegree, ctx, tally);
  }
}

void CustomerKernel::process_range(Population& pop, std::size_t begin, std::size_t end, const StepContext& ctx,
                                   Tally& tally) const {
  const auto t = static_cast<std::uint16_t>(ctx.t);
  const std::uint16_t* next = pop.next_event.data();
  std::uint32_t who[kBatch];
  int count = 0;
  auto collect = [&](std::size_t base, std::uint64_t mask) {
    for (; mask != 0; mask &= mask - 1) who[count++] = static_cast<std::uint32_t>(base + static_cast<std::size_t>(std::countr_zero(mask)));
    if (count >= kFlush) {
      run_batch(pop, who, count, ctx, tally);
      count = 0;
    }
  };
  std::size_t base = begin;
#if defined(__SSE2__)
  // 64 customers at a time: compare their next event steps with t, 16 per instruction.
  const __m128i now = _mm_set1_epi16(static_cast<short>(t));
  for (; base + 64 <= end; base += 64) {
    std::uint64_t mask = 0;
    for (int q = 0; q < 4; ++q) {
      const auto* p = reinterpret_cast<const __m128i*>(next + base + 16 * static_cast<std::size_t>(q));
      const __m128i a = _mm_cmpeq_epi16(_mm_loadu_si128(p), now);
      const __m128i b = _mm_cmpeq_epi16(_mm_loadu_si128(p + 1), now);
      mask |= static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_packs_epi16(a, b)))) << (16 * q);
    }
    if (mask != 0) collect(base, mask);
  }
#endif
  for (; base < end; base += 64) {
    const std::size_t stop = std::min(end, base + 64);
    std::uint64_t mask = 0;
    for (std::size_t i = base; i < stop; ++i) mask |= std::uint64_t{next[i] == t} << (i - base);
    if (mask != 0) collect(base, mask);
  }
  if (count > 0) run_batch(pop, who, count, ctx, tally);
}

}  // namespace cxsim
