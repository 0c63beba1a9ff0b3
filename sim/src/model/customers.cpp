// The lane vector helpers here (and fast_exp_in_range) take and return GCC
// vectors by value; they are always inlined, so GCC's note that such a
// function's ABI differs without AVX-512 concerns no call that is ever made.
// (Silenced for the whole file: GCC reports it at the end of the translation
// unit, at the template's declaration in its header.)
#pragma GCC diagnostic ignored "-Wpsabi"

#include "cxsim/model/customers.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "cxsim/core/fastmath.hpp"
#include "cxsim/core/philox_batch.hpp"
#include "cxsim/core/rng.hpp"

namespace cxsim {

namespace {

std::uint16_t to_u16(float x) noexcept {
  return static_cast<std::uint16_t>(round_nonneg(std::clamp(x, 0.0f, 1.0f) * kUnit16));
}
std::uint8_t to_u8(float x) noexcept {
  return static_cast<std::uint8_t>(round_nonneg(std::clamp(x, 0.0f, 1.0f) * 255.0f));
}
/// round(x), half away from zero, without a library call.
/// (Without a branch: the signs of values deviations are random.)
long round_to_long(double x) noexcept { return static_cast<long>(x + std::copysign(0.5, x)); }
std::int8_t to_dev(double x) noexcept {
  return static_cast<std::int8_t>(std::clamp<long>(round_to_long(x * kDevScale), -127, 127));
}
std::uint16_t to_step(int t) noexcept { return t < 0 ? kNever : static_cast<std::uint16_t>(t); }

/// Commitment (x 255): loyalty grounded in shared, believed values, which
/// does not wear off between purchases.
std::uint8_t commitment(float values_anchor, float salience, float trust, float alignment) noexcept {
  return to_u8(values_anchor * salience * trust * std::max(0.0f, alignment));
}

static_assert(std::endian::native == std::endian::little, "the packed trust rows assume little-endian");

/// Uniforms from raw Philox words, as CounterRng makes them.
float word_to_float(std::uint32_t w) noexcept { return (static_cast<float>(w >> 9) + 0.5f) * 0x1.0p-23f; }
double word_to_double(std::uint32_t w) noexcept { return uniform_from_word(w); }

/// Events handled together: the contacts of kBatch events are computed side
/// by side (collect), and so are the purchase-stream Philox blocks of a batch
/// (run_batch).
constexpr int kBatch = 128;
/// Events ahead of the one being gathered whose memory is prefetched: one
/// event's lines per purchase gathered, so that the misses are spread out
/// (a core keeps only so many in flight, and a burst of a whole batch's
/// prefetches at once was measured slower; docs/performance.md item 14).
constexpr std::size_t kAhead = 32;

/// SmallWorld::rewired_many and redirected_many, compiled for the vector
/// instructions the CPU has.
CXSIM_CLONES void rewired_of_range(const SmallWorld& network, std::size_t first, int count, std::uint64_t* out) {
  network.rewired_many(first, count, out);
}
CXSIM_CLONES void redirected_of(const SmallWorld& network, const std::uint32_t* who, const std::uint8_t* slot,
                                int count, std::uint32_t* out) {
  network.redirected_many(who, slot, count, out);
}

/// Eight customer indices, stored at once.
using Customers8 = std::uint32_t __attribute__((vector_size(32)));

/// For each byte value m: the positions of its set bits in ascending order,
/// one per byte from the lowest (the rest 0), and how many there are.
struct SlotsOfByte {
  std::array<std::uint64_t, 256> slots{};
  std::array<std::uint8_t, 256> count{};
};
constexpr SlotsOfByte kSlotsOfByte = [] {
  SlotsOfByte t;
  for (unsigned m = 0; m < 256; ++m) {
    int c = 0;
    for (unsigned j = 0; j < 8; ++j)
      if ((m >> j) & 1u) t.slots[m] |= std::uint64_t{j} << (8 * c++);
    t.count[m] = static_cast<std::uint8_t>(c);
  }
  return t;
}();

/// Customers born side by side at initialisation.
constexpr int kInitBatch = 64;

/// The words of a birth's kBirth sequence, by slot: K values normals, then 3
/// weight normals, the normal and the uniform of the first attempt of each
/// of the 3 Gammas (salience X, salience Y, purchase rate), and the uniform of
/// each Gamma's U^(1/shape) boost (used only for shapes below 1).
constexpr int kBirthWordsBeyondK = 12;
constexpr int kMaxBirthWords = kMaxDimensions + kBirthWordsBeyondK;
constexpr int kMaxBirthBlocks = (kMaxBirthWords + 3) / 4;

/// Births side by side, one lane per customer (structure of arrays).
struct BirthLanes {
  int count = 0, k = 0;
  // Inputs.
  alignas(64) std::uint32_t word[kMaxBirthWords][kInitBatch];  ///< the kBirth words by slot
  alignas(64) double values_mean[kMaxDimensions][kInitBatch];
  alignas(64) double values_sd[kInitBatch];
  alignas(64) double gamma_d[3][kInitBatch];
  alignas(64) double gamma_c[3][kInitBatch];
  alignas(64) double weight_base[3][kInitBatch];
  alignas(64) double weights_sd[kInitBatch];
  alignas(64) std::uint32_t exit_word[kInitBatch];  ///< kSchedule word 0
  alignas(64) std::uint32_t wait_word[kInitBatch];  ///< kSchedule word 1
  // Results.
  alignas(64) double z[kMaxDimensions + 6][kInitBatch];  ///< the normals of slots 0 .. K + 5
  // 1 for the normals in the tails; their words, places in z and normals.
  alignas(64) std::int32_t in_tail[kMaxDimensions + 6][kInitBatch];
  alignas(64) std::uint32_t tail_word[(kMaxDimensions + 6) * kInitBatch];
  alignas(64) std::int32_t tail_at[(kMaxDimensions + 6) * kInitBatch];
  alignas(64) double tail_z[(kMaxDimensions + 6) * kInitBatch];
  alignas(64) std::int32_t dev[kMaxDimensions][kInitBatch];  ///< values deviations x 63.5
  alignas(64) double gamma[3][kInitBatch];            ///< d v^3 of each Gamma's first attempt
  alignas(64) std::int32_t accepted[3][kInitBatch];   ///< 1 if that attempt was accepted
  alignas(64) std::int32_t weight[3][kInitBatch];     ///< life, time, money x 85
  alignas(64) double exit_log[kInitBatch];            ///< ln U of the exit uniform
  alignas(64) double wait[kInitBatch];                ///< Exp(1): -ln U of the wait uniform
};

/// round(x x 63.5) clamped to [-127, 127], as to_dev, in 32 bits and without
/// a branch so that loops over it vectorise.
std::int32_t dev_lane(double x) noexcept {
  const double y = std::clamp(x * kDevScale, -127.0, 127.0);
  return static_cast<std::int32_t>(y + std::copysign(0.5, y));
}

/// The vector part of births: every normal (the quantile of its word), the
/// values deviations, the first attempt of each Gamma by Marsaglia and Tsang
/// (accepted, for shapes of 1 or more, about 98% of the time; the caller
/// redraws the rest), the weights and the logs of the schedule uniforms.
CXSIM_CLONES void birth_lanes(BirthLanes& g) {
  const int n = g.count;
  const int k = g.k;
  // Every normal by the central function, then the 15% or so in the tails
  // again by the tail function, set aside (without a branch) and computed
  // side by side.
  for (int s = 0; s < k + 6; ++s)
    for (int a = 0; a < n; ++a) {
      g.z[s][a] = normal_central(g.word[s][a]);
      g.in_tail[s][a] = static_cast<std::int32_t>(!normal_is_central(g.word[s][a]));
    }
  int tails = 0;
  for (int s = 0; s < k + 6; ++s)
    for (int a = 0; a < n; ++a) {
      g.tail_word[tails] = g.word[s][a];
      g.tail_at[tails] = s * kInitBatch + a;
      tails += g.in_tail[s][a];
    }
  for (int j = 0; j < tails; ++j) g.tail_z[j] = normal_tail(g.tail_word[j]);
  double* const z = &g.z[0][0];
  for (int j = 0; j < tails; ++j) z[g.tail_at[j]] = g.tail_z[j];
  for (int d = 0; d < k; ++d)
    for (int a = 0; a < n; ++a) {
      const double mean = g.values_mean[d][a];
      const double v = std::clamp(mean + g.values_sd[a] * g.z[d][a], -1.0, 1.0);
      g.dev[d][a] = dev_lane(v - mean);
    }
  for (int j = 0; j < 3; ++j)
    for (int a = 0; a < n; ++a) {
      const double x = g.z[k + 3 + j][a];
      const double d = g.gamma_d[j][a];
      const double v = 1.0 + g.gamma_c[j][a] * x;
      const double v3 = v * v * v;
      const double u = word_to_double(g.word[k + 6 + j][a]);
      const double x2 = x * x;
      const bool squeeze = u < 1.0 - 0.0331 * x2 * x2;
      const bool full = log_positive(u) < 0.5 * x2 + d * (1.0 - v3 + log_positive(select(v > 0.0, v3, 1.0)));
      g.accepted[j][a] = static_cast<std::int32_t>((v > 0.0) & (squeeze | full));
      g.gamma[j][a] = d * v3;
    }
  // Log-normal noise on the weights, then normalised to sum to 3: the common
  // factor e^(-sigma^2 / 2) and the largest noise term cancel, which keeps
  // every exponent at or below 0.
  for (int a = 0; a < n; ++a) {
    const double sd = g.weights_sd[a];
    const double e0 = sd * g.z[k][a], e1 = sd * g.z[k + 1][a], e2 = sd * g.z[k + 2][a];
    const double top = std::max(e0, std::max(e1, e2));
    const float w0 = static_cast<float>(g.weight_base[0][a]) * fast_exp(static_cast<float>(e0 - top));
    const float w1 = static_cast<float>(g.weight_base[1][a]) * fast_exp(static_cast<float>(e1 - top));
    const float w2 = static_cast<float>(g.weight_base[2][a]) * fast_exp(static_cast<float>(e2 - top));
    const float scale = 3.0f / (w0 + w1 + w2);
    g.weight[0][a] = static_cast<std::int32_t>(round_nonneg(std::clamp(w0 * scale, 0.0f, 3.0f) * kWeightScale));
    g.weight[1][a] = static_cast<std::int32_t>(round_nonneg(std::clamp(w1 * scale, 0.0f, 3.0f) * kWeightScale));
    g.weight[2][a] = static_cast<std::int32_t>(round_nonneg(std::clamp(w2 * scale, 0.0f, 3.0f) * kWeightScale));
  }
  for (int a = 0; a < n; ++a) {
    g.exit_log[a] = log_positive(word_to_double(g.exit_word[a]));
    g.wait[a] = -log_positive(word_to_double(g.wait_word[a]));
  }
}

}  // namespace

namespace {

// W lanes' values in a GCC vector, for loops that keep several per-lane
// accumulators in registers across a loop with run-time bounds, which the
// auto-vectoriser would keep in memory. The kernel runs its kLanes = 16
// lanes as one 16-lane vector where that is one register (AVX-512), and as
// two halves of 8 elsewhere (one AVX2 register, two SSE2 ones): a 16-lane
// vector there is two or four registers, and the accumulators spill.
template <int W>
struct LaneVec;
template <>
struct LaneVec<16> {
  using F = float __attribute__((vector_size(64)));
  using I = std::int32_t __attribute__((vector_size(64)));
  using U = std::uint32_t __attribute__((vector_size(64)));
};
template <>
struct LaneVec<8> {
  using F = float __attribute__((vector_size(32)));
  using I = std::int32_t __attribute__((vector_size(32)));
  using U = std::uint32_t __attribute__((vector_size(32)));
};
/// The lane vectors of the same width as float lanes F.
template <class F>
using LanesLike = LaneVec<static_cast<int>(sizeof(F) / sizeof(float))>;

template <class V, class T>
[[gnu::always_inline]] inline V lanes_load(const T* p) noexcept {
  static_assert(sizeof(V) % sizeof(T) == 0);
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V, class T>
[[gnu::always_inline]] inline void lanes_store(T* p, V v) noexcept {
  static_assert(sizeof(V) % sizeof(T) == 0);
  std::memcpy(p, &v, sizeof v);
}

// Masks from integer arithmetic, not vector comparisons: GCC 12 splits many
// comparisons of these vectors into one scalar comparison per lane (vcomiss,
// cmov in the object code), in the AVX2 and baseline clones, where a vector
// is several registers, and in places in the AVX-512 clone too.

/// m ? a : b per lane, for a mask m with all bits set or clear.
template <class F, class I>
[[gnu::always_inline]] inline F lanes_select(I m, F a, F b) noexcept {
  return reinterpret_cast<F>((reinterpret_cast<I>(a) & m) | (reinterpret_cast<I>(b) & ~m));
}
/// All bits set where x == v, for x and v in [0, 2^30).
template <class I>
[[gnu::always_inline]] inline I lanes_equal(I x, std::int32_t v) noexcept { return ((x ^ v) - 1) >> 31; }
/// All bits set where x > 0 (x not NaN): its bits, as a signed integer, are positive.
template <class F>
[[gnu::always_inline]] inline typename LanesLike<F>::I lanes_positive(F x) noexcept {
  const auto bits = reinterpret_cast<typename LanesLike<F>::U>(x);
  return reinterpret_cast<typename LanesLike<F>::I>(~((bits - 1u) | bits)) >> 31;  // bits - 1 and bits both below 2^31
}
/// All bits set where a > b, for a and b not NaN: a - b is positive exactly
/// then (subnormal differences are kept).
template <class F>
[[gnu::always_inline]] inline typename LanesLike<F>::I lanes_greater(F a, F b) noexcept {
  return lanes_positive(a - b);
}
/// std::min(lo, x) and std::max(hi, x) per lane: x < lo ? x : lo, hi < x ? x : hi.
template <class F>
[[gnu::always_inline]] inline F lanes_min(F lo, F x) noexcept { return lanes_select(lanes_greater(lo, x), x, lo); }
template <class F>
[[gnu::always_inline]] inline F lanes_max(F hi, F x) noexcept { return lanes_select(lanes_greater(x, hi), x, hi); }

/// fast_exp on every lane, its range check from integer arithmetic.
template <class F>
[[gnu::always_inline]] inline F fast_exp_lanes(F x) noexcept {
  using I = typename LanesLike<F>::I;
  const I keep = ~(reinterpret_cast<I>(x + 87.0f) >> 31);  // x >= -87: all bits set unless it underflows
  return fast_exp_in_range(lanes_select(keep, x, F{} - 87.0f), keep);  // std::max(x, -87)
}

/// Brands whose word-of-mouth accumulators stay in registers together.
constexpr int kBrandBlock = 8;

/// Word of mouth about every brand: per brand, the users among the contacts,
/// their net promotion, and trust moved toward each speaking contact's, in
/// contact order. For each block of kBrandBlock brands the contacts are the
/// outer loop and the block's brands the inner one, unrolled, so that the
/// brands' trust updates (each a chain of dependent operations) overlap and
/// their accumulators never leave the registers. Users and net promotion are
/// counted together in one integer, users + 65536 x net: the same whole
/// numbers the sums of 1.0 and +-1.0 gave, so the floats are the same.
/// Lanes off .. off + W - 1.
template <int W>
[[gnu::always_inline]] inline void word_of_mouth(const PurchaseLanes& g, int brands, int degree, float wom_rate,
                                                 float (*__restrict users)[kLanes],
                                                 float (*__restrict net)[kLanes],
                                                 float (*__restrict tr)[kLanes], int off) noexcept {
  using LaneF = typename LaneVec<W>::F;
  using LaneI = typename LaneVec<W>::I;
  for (int b0 = 0; b0 < brands; b0 += kBrandBlock) {
    const int in_block = std::min(kBrandBlock, brands - b0);
    LaneI count[kBrandBlock];
    LaneF trust[kBrandBlock];
#pragma GCC unroll 8
    for (int r = 0; r < kBrandBlock; ++r) {
      count[r] = LaneI{};
      trust[r] = r < in_block ? __builtin_convertvector(lanes_load<LaneI>(g.trust_in[b0 + r] + off), LaneF) / kUnit16
                              : LaneF{};
    }
    for (int j = 0; j < degree; ++j) {
      const LaneI word = lanes_load<LaneI>(g.word[j] + off);
      const LaneI brand = word & 0x3F;
      const LaneI sentiment = (word >> 6) & 3;  // 0 none, 1 detractor, 2 passive, 3 promoter
      const LaneI spoke = -((sentiment + 3) >> 2);  // all bits set if the contact has an experience to tell
      const LaneI net_one = (sentiment & (sentiment >> 1)) - (sentiment & ~(sentiment >> 1) & 1);  // +1, -1, 0
      const LaneI tally = 1 + net_one * 65536;
      const LaneF told = __builtin_convertvector(word >> 8, LaneF) / 255.0f;
#pragma GCC unroll 8
      for (int r = 0; r < kBrandBlock; ++r) {
        const LaneI is_b = lanes_equal(brand, b0 + r);
        count[r] += tally & is_b;
        const LaneF moved = trust[r] + wom_rate * (told - trust[r]);
        trust[r] = lanes_select(is_b & spoke, moved, trust[r]);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < kBrandBlock; ++r) {
      if (r >= in_block) break;
      const LaneI users_count = count[r] & 0xFFFF;  // below 65536: degree <= kMaxDegree
      lanes_store(users[b0 + r] + off, __builtin_convertvector(users_count, LaneF));
      lanes_store(net[b0 + r] + off, __builtin_convertvector((count[r] - users_count) >> 16, LaneF));
      lanes_store(tr[b0 + r] + off, trust[r]);
    }
  }
}

/// Alignment of each lane's values v with brand b's stance: the sum over
/// dimensions in dimension order.
/// Lanes off .. off + W - 1.
template <int W>
[[gnu::always_inline]] inline typename LaneVec<W>::F alignment_lanes(const StepContext& ctx, int k, int brands, int b,
                                                                    const float (*v)[kLanes], int off) noexcept {
  using LaneF = typename LaneVec<W>::F;
  LaneF al = LaneF{};
  for (int d = 0; d < k; ++d)
    al += ctx.stance_by_dim[static_cast<std::size_t>(d * brands + b)] * lanes_load<LaneF>(v[d] + off);
  return al;
}

/// Logit choice per lane over `brands` utilities u[b][e], by inverting the
/// cumulative distribution (utilities shifted by their maximum) with the
/// uniform draw[e]. Leaves the cumulative sums in u. Lanes off .. off + W - 1.
template <int W>
[[gnu::always_inline]] inline void logit_lanes(float (*u)[kLanes], int brands, const float* draw,
                                               std::int32_t* chosen, int off) noexcept {
  using LaneF = typename LaneVec<W>::F;
  using LaneI = typename LaneVec<W>::I;
  LaneF top = lanes_load<LaneF>(u[0] + off);
  for (int b = 1; b < brands; ++b) top = lanes_max(top, lanes_load<LaneF>(u[b] + off));
  LaneF total = LaneF{};
  for (int b = 0; b < brands; ++b) {
    total += fast_exp_lanes(lanes_load<LaneF>(u[b] + off) - top);
    lanes_store(u[b] + off, total);  // now cumulative
  }
  const LaneF target = lanes_load<LaneF>(draw + off) * total;
  LaneI pick = LaneI{};
  for (int b = 0; b < brands; ++b)
    pick += 1 + lanes_greater(lanes_load<LaneF>(u[b] + off), target);  // + (u[b] <= target)
  const LaneI beyond = (brands - 1 - pick) >> 31;  // pick > brands - 1
  lanes_store(chosen + off, (pick & ~beyond) | ((brands - 1) & beyond));
}

/// The initial brand choice of kLanes new customers, one per lane: the base
/// utilities (values alignment credited by the initial trust, effort, price)
/// and the logit choice, with init's operations in init's order.
struct InitialLanes {
  alignas(64) float v[kMaxDimensions][kLanes];  ///< values at step 0
  alignas(64) float s[kLanes];                  ///< salience at step 0
  alignas(64) float w[3][kLanes];               ///< life, time and money weights
  alignas(64) float choice_draw[kLanes];
  // Results.
  alignas(64) std::int32_t brand[kLanes];
  alignas(64) float align[kLanes];  ///< alignment with the chosen brand
  alignas(64) float trust[kLanes];  ///< initial trust in the chosen brand
};

CXSIM_CLONES void lanes_initial_choice(InitialLanes& g, const LaneCoefficients& c, const float* initial_trust,
                                       const StepContext& ctx) noexcept {
  constexpr int L = kLanes;
  const int nb = c.brands;
  alignas(64) float u[kMaxBrands][L], align[kMaxBrands][L], life_scale[L];
  for (int e = 0; e < L; ++e) life_scale[e] = c.beta_life * g.w[0][e] * g.s[e];
  for (int b = 0; b < nb; ++b) {
    const auto j = static_cast<std::size_t>(b);
    lanes_store(align[b], alignment_lanes<kLanes>(ctx, c.k, nb, b, g.v, 0));
    const float credit_shared = (initial_trust[j] - c.hypocrisy) * c.inv_credible_range;
    const float time_term = ctx.time_term[j], money_term = ctx.money_term[j];
    for (int e = 0; e < L; ++e) {
      const float credit = select(align[b][e] > 0.0f, credit_shared, 1.0f);
      u[b][e] = life_scale[e] * align[b][e] * credit - g.w[1][e] * time_term - g.w[2][e] * money_term;
    }
  }
  logit_lanes<kLanes>(u, nb, g.choice_draw, g.brand, 0);
  for (int e = 0; e < L; ++e) {
    g.align[e] = 0.0f;
    g.trust[e] = 0.0f;
  }
  for (int b = 0; b < nb; ++b)
    for (int e = 0; e < L; ++e) {
      g.align[e] = select(g.brand[e] == b, align[b][e], g.align[e]);
      g.trust[e] = select(g.brand[e] == b, initial_trust[b], g.trust[e]);
    }
}

/// The vector part of lanes_choose for lanes off .. off + W - 1: the lead,
/// word of mouth, the utilities and the logit choice.
template <int W>
[[gnu::always_inline]] inline void choose_lanes(PurchaseLanes& g, const LaneCoefficients& c, const StepContext& ctx,
                                                const float (*w)[kLanes], const float* life_scale,
                                                float (*u)[kLanes], float (*align)[kLanes], int off) noexcept {
  using LaneF = typename LaneVec<W>::F;
  using LaneI = typename LaneVec<W>::I;
  const int nb = c.brands;
  // The lead: 2b an ambassador of brand b, 2b + 1 its marketing, 2 x brands none.
  LaneI lead_kind = LaneI{};
  {
    const LaneF draw = lanes_load<LaneF>(g.lead_draw + off);
    for (int q = 0; q < 2 * nb; ++q)  // + (cum <= draw)
      lead_kind += 1 + lanes_greater(LaneF{} + ctx.lead_cum[static_cast<std::size_t>(q)], draw);
  }
  const float inv_degree = c.degree > 0 ? 1.0f / static_cast<float>(c.degree) : 0.0f;
  word_of_mouth<W>(g, nb, c.degree, c.wom_rate, g.users, g.net, g.trust, off);
  // The utilities, brand by brand, with the per-lane values in registers.
  {
    const LaneF loyalty = lanes_load<LaneF>(g.loyalty + off), scale = lanes_load<LaneF>(life_scale + off);
    const LaneF w_time = lanes_load<LaneF>(w[1] + off), w_money = lanes_load<LaneF>(w[2] + off);
    const LaneI current = lanes_load<LaneI>(g.current + off);
    const LaneI lead_brand = lead_kind >> 1;
    LaneF lo_life = LaneF{} + 1e30f, hi_life = LaneF{} - 1e30f;
    for (int b = 0; b < nb; ++b) {
      const auto bj = static_cast<std::size_t>(b);
      const LaneF al = alignment_lanes<W>(ctx, c.k, nb, b, g.v, off);
      lanes_store(align[b] + off, al);
      // A stance the customer shares counts only as far as it is believed, and a
      // disbelieved one reads as hypocrisy; an opposed stance counts in full.
      const LaneF tr = lanes_load<LaneF>(g.trust[b] + off);
      const LaneF credit = lanes_select(lanes_positive(al), (tr - c.hypocrisy) * c.inv_credible_range, LaneF{} + 1.0f);
      const LaneF life = scale * al * credit;
      const LaneF time = w_time * ctx.time_term[bj];
      const LaneF money = w_money * ctx.money_term[bj];
      LaneF x = life - time - money +
                inv_degree * (c.beta_social * lanes_load<LaneF>(g.users[b] + off) +
                              c.beta_wom * lanes_load<LaneF>(g.net[b] + off));
      lo_life = lanes_min(lo_life, life);
      hi_life = lanes_max(hi_life, life);
      x = lanes_select(lanes_equal(current, b), x + ctx.loyalty_bonus[bj] * loyalty, x);
      const LaneF lift = lanes_select(lanes_equal(lead_kind, 2 * b), LaneF{} + ctx.lead_lift[2 * bj],
                                      LaneF{} + ctx.lead_lift[2 * bj + 1]);
      x = lanes_select(lanes_equal(lead_brand, b), x + lift, x);
      lanes_store(u[b] + off, x);
    }
    // How much of the difference between brands comes from values (life).
    // The time and money terms' extremes over brands are the weight times the
    // brand terms' extremes: a weight is at least 0, and rounding a product
    // with it keeps the order of the terms, so these are the same floats.
    const LaneF lo_time = w_time * ctx.time_term_min, hi_time = w_time * ctx.time_term_max;
    const LaneF lo_money = w_money * ctx.money_term_min, hi_money = w_money * ctx.money_term_max;
    const LaneF spread = (hi_life - lo_life) + (hi_time - lo_time) + (hi_money - lo_money);
    alignas(64) float values_share[W], spread_of[W];
    lanes_store(values_share, (hi_life - lo_life) / spread * 1048576.0f);
    lanes_store(spread_of, spread);
    for (int e = 0; e < W; ++e) g.values_weight_fx[off + e] = spread_of[e] > 0.0f ? round_nonneg(values_share[e]) : 0u;
  }
  logit_lanes<W>(u, nb, g.choice_draw, g.chosen, off);
}

}  // namespace

int vector_lanes_for_cpu() noexcept {
#if CXSIM_HAVE_CLONES
  // As the clones' resolver chooses: the x86-64-v4 clone where the CPU has it.
  __builtin_cpu_init();
  return __builtin_cpu_supports("x86-64-v4") ? kLanes : 8;
#elif defined(__AVX512F__) || !(defined(__x86_64__) || defined(__i386__))
  return kLanes;  // no clones: the instruction set this file was compiled for
#else
  return 8;
#endif
}

CXSIM_CLONES void lanes_word_of_mouth(PurchaseLanes& g, const LaneCoefficients& c) noexcept {
  if (c.vector_lanes != 8) {
    word_of_mouth<kLanes>(g, c.brands, c.degree, c.wom_rate, g.users, g.net, g.trust, 0);
  } else {
    word_of_mouth<8>(g, c.brands, c.degree, c.wom_rate, g.users, g.net, g.trust, 0);
    word_of_mouth<8>(g, c.brands, c.degree, c.wom_rate, g.users, g.net, g.trust, 8);
  }
}

CXSIM_CLONES void lanes_choose(PurchaseLanes& g, const LaneCoefficients& c, const StepContext& ctx) noexcept {
  constexpr int L = kLanes;
  const int nb = c.brands;
  for (int d = 0; d < c.k; ++d)
    for (int e = 0; e < L; ++e)
      g.v[d][e] = std::clamp(g.mean[d][e] + static_cast<float>(g.dev[d][e]) / kDevScale, -1.0f, 1.0f);
  alignas(64) float w[3][L], life_scale[L];
  for (int e = 0; e < L; ++e) {
    g.salience[e] = std::clamp(g.salience_mean[e] + static_cast<float>(g.salience_dev[e]) / kDevScale, 0.0f, 1.0f);
    for (int j = 0; j < 3; ++j) w[j][e] = static_cast<float>(g.weight[j][e]) / kWeightScale;
    g.loyalty[e] = static_cast<float>(g.loyalty_in[e]) / kUnit16 *
                   fast_exp(static_cast<float>(g.idle[e]) * g.log_retention[e]);
    life_scale[e] = c.beta_life * w[0][e] * g.salience[e];
  }
  alignas(64) float u[kMaxBrands][L], align[kMaxBrands][L];
  if (c.vector_lanes != 8) {
    choose_lanes<kLanes>(g, c, ctx, w, life_scale, u, align, 0);
  } else {
    static_assert(kLanes == 16);
    choose_lanes<8>(g, c, ctx, w, life_scale, u, align, 0);
    choose_lanes<8>(g, c, ctx, w, life_scale, u, align, 8);
  }
  for (int e = 0; e < L; ++e) {
    g.action[e] = 0.0f;
    g.align[e] = 0.0f;
    g.trust_chosen[e] = 0.0f;
  }
  // Experience reveals what the chosen brand really does: trust moves toward its action.
  for (int b = 0; b < nb; ++b) {
    const float action = ctx.action[static_cast<std::size_t>(b)];
    for (int e = 0; e < L; ++e) {
      const bool is_chosen = g.chosen[e] == b;
      const float tr = g.trust[b][e];
      const float learned = select(is_chosen, tr + c.learn_rate * (action - tr), tr);
      g.trust_out[b][e] = to_u16(learned);
      g.trust_chosen[e] = select(is_chosen, learned, g.trust_chosen[e]);
      g.action[e] = select(is_chosen, action, g.action[e]);
      g.align[e] = select(is_chosen, align[b][e], g.align[e]);
    }
  }
}

CXSIM_CLONES void lanes_finish(PurchaseLanes& g, const LaneCoefficients& c, const StepContext& ctx) noexcept {
  constexpr int L = kLanes;
  alignas(64) float quality[L];
  for (int e = 0; e < L; ++e) quality[e] = 0.0f;
  for (int b = 0; b < c.brands; ++b) {
    const float q = ctx.quality[static_cast<std::size_t>(b)];
    for (int e = 0; e < L; ++e) quality[e] = select(g.chosen[e] == b, q, quality[e]);
  }
  // The experience: support need, its resolution, and the satisfaction class.
  // (Loops keep to one element size, doubles here, so that they vectorise.)
  alignas(64) double fit[L], quality_d[L];
  for (int e = 0; e < L; ++e) {
    fit[e] = g.salience[e] * std::max(0.0f, g.align[e]) * g.action[e];
    quality_d[e] = quality[e];
  }
  for (int e = 0; e < L; ++e) g.wait[e] = -log_positive(g.wait_draw[e]);
  alignas(64) std::int64_t detractor_q[L], promoter_q[L], need_q[L];
  const double d0 = c.detractor_by_outcome[0], d1 = c.detractor_by_outcome[1], d2 = c.detractor_by_outcome[2];
  const double p0 = c.promoter_by_outcome[0], p1 = c.promoter_by_outcome[1], p2 = c.promoter_by_outcome[2];
  for (int e = 0; e < L; ++e) {
    const bool need = g.need_draw[e] < c.support_rate;
    const bool resolved = need & (g.resolve_draw[e] < quality_d[e]);
    const double detractor = select(need, select(resolved, d2, d1), d0);
    const double promoter_base = select(need, select(resolved, p2, p1), p0);
    const double promoter = std::min(promoter_base + c.fit_gain * fit[e], 1.0 - detractor);
    const std::int64_t is_detractor = g.outcome_draw[e] < detractor;
    need_q[e] = need;
    detractor_q[e] = is_detractor;
    promoter_q[e] = (is_detractor ^ 1) & static_cast<std::int64_t>(g.outcome_draw[e] < detractor + promoter);
  }
  const float* const side_of = g.v[ctx.segment_dim];
  const float segment_threshold = ctx.segment_threshold, salience_threshold = ctx.salience_threshold;
  for (int e = 0; e < L; ++e) {
    const auto is_detractor = static_cast<std::int32_t>(detractor_q[e]);
    const auto is_promoter = static_cast<std::int32_t>(promoter_q[e]);
    const std::int32_t sentiment = static_cast<std::int32_t>(Sentiment::kPassive) + is_promoter - is_detractor;
    // Loyalty: reset by a switch; promoter and passive experiences close part
    // of the gap to 1, a detractor loses a share.
    float l = select(g.chosen[e] != g.current[e], c.after_switch, g.loyalty[e]);
    l = select(is_detractor != 0, l - c.loss_detractor * l,
               l + select(is_promoter != 0, c.gain_promoter, c.gain_passive) * (1.0f - l));
    g.loyalty_out[e] = static_cast<std::int32_t>(to_u16(l));
    g.commitment_out[e] = commitment(c.values_anchor, g.salience[e], g.trust_chosen[e], g.align[e]);
    g.word_after[e] = g.chosen[e] | (sentiment << 6) | (static_cast<std::int32_t>(to_u8(g.trust_chosen[e])) << 8);
    g.support[e] = static_cast<std::int32_t>(need_q[e]);
    g.promoter[e] = is_promoter;
    g.detractor[e] = is_detractor;
    const float side = side_of[e];
    g.segment[e] = side >= segment_threshold ? kShares : side <= -segment_threshold ? kOpposes : kNeutral;
    g.salient[e] = g.salience[e] >= salience_threshold;
  }
  for (int q = 0; 4 * q < c.brands; ++q) {
    for (int e = 0; e < L; ++e) g.trust_packed[q][e] = 0;
    for (int r = 0; r < 4 && 4 * q + r < c.brands; ++r)
      for (int e = 0; e < L; ++e) g.trust_packed[q][e] |= std::uint64_t{g.trust_out[4 * q + r][e]} << (16 * r);
  }
}

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
      beta_time_(static_cast<float>(spec.choice.beta_time)),
      beta_money_(static_cast<float>(spec.choice.beta_money)) {
  double cum = 0.0;
  for (const auto& c : spec.cohorts) cohort_cum_.push_back(cum += c.fraction);
  for (std::size_t b = 0; b < spec.brands.size(); ++b)
    initial_trust_[b] = to_u16(static_cast<float>(spec.brands[b].initial_trust));
  lanes_.brands = static_cast<int>(spec.brands.size());
  lanes_.k = spec.k();
  lanes_.degree = network.degree();
  lanes_.vector_lanes = vector_lanes_for_cpu();
  lanes_.beta_life = static_cast<float>(spec.choice.beta_life);
  lanes_.beta_social = static_cast<float>(spec.choice.beta_social);
  lanes_.beta_wom = static_cast<float>(spec.choice.beta_wom);
  lanes_.hypocrisy = static_cast<float>(spec.trust.hypocrisy_threshold);
  lanes_.inv_credible_range = static_cast<float>(1.0 / (1.0 - spec.trust.hypocrisy_threshold));
  lanes_.wom_rate = static_cast<float>(spec.trust.wom_rate);
  lanes_.learn_rate = static_cast<float>(spec.trust.learn_rate);
  const auto& ex = spec.experience;
  lanes_.support_rate = ex.support_rate;
  lanes_.fit_gain = ex.fit_gain;
  lanes_.promoter_by_outcome[0] = ex.promoter_base;
  lanes_.promoter_by_outcome[1] = ex.promoter_unresolved;
  lanes_.promoter_by_outcome[2] = ex.promoter_resolved;
  lanes_.detractor_by_outcome[0] = ex.detractor_base;
  lanes_.detractor_by_outcome[1] = ex.detractor_unresolved;
  lanes_.detractor_by_outcome[2] = ex.detractor_resolved;
  lanes_.after_switch = static_cast<float>(spec.loyalty.after_switch);
  lanes_.gain_promoter = static_cast<float>(spec.loyalty.gain_promoter);
  lanes_.gain_passive = static_cast<float>(spec.loyalty.gain_passive);
  lanes_.loss_detractor = static_cast<float>(spec.loyalty.loss_detractor);
  lanes_.values_anchor = static_cast<float>(spec.loyalty.values_anchor);
  log_survival_ = spec.replacement_rate > 0.0 && spec.replacement_rate < 1.0 ? std::log1p(-spec.replacement_rate) : 0.0;
  for (std::size_t c = 0; c < log_retention_.size(); ++c)
    log_retention_[c] = static_cast<float>(
        std::log1p(-spec.loyalty.decay * (1.0 - static_cast<double>(static_cast<float>(c) / 255.0f))));
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
  const OwnState v = pop.own_state(i);
  const auto idle = static_cast<float>(t - v.t_last);
  return v.loyalty / kUnit16 * fast_exp(idle * log_retention_[pop.commitment(i)]);
}

std::uint16_t CustomerKernel::exit_after(int after, double log_u) const {
  const double rho = spec_.replacement_rate;
  int exit = -1;
  if (rho > 0.0) {
    const double wait = rho >= 1.0 ? 1.0 : std::ceil(log_u / log_survival_);
    // (A wait of total_steps still ends within the run for the initial
    // population, born "after step -1"; longer ones never do.)
    if (wait <= static_cast<double>(spec_.total_steps())) exit = after + std::max(1, static_cast<int>(wait));
  }
  return exit >= spec_.total_steps() ? kNever : to_step(exit);
}

CustomerKernel::BirthCohort CustomerKernel::birth_cohort(int t, int c) const {
  const auto& cohort = spec_.cohorts[static_cast<std::size_t>(c)];
  BirthCohort p;
  p.values_mean = timeline_.values_mean(t, c);
  p.values_sd = cohort.values_sd;
  p.salience_mean = timeline_.salience_mean(t, c);
  // Events may move the salience mean close to 0 or 1: keep the Beta valid.
  const double s_mean = std::clamp(p.salience_mean, 1e-3, 1.0 - 1e-3);
  const double s_sd = std::min(cohort.salience_sd, 0.99 * std::sqrt(s_mean * (1.0 - s_mean)));
  p.salience_fixed = s_mean;
  p.salience_beta = s_sd > 0.0;
  // Beta with mean m and sd s: X / (X + Y), X ~ Gamma(m nu), Y ~ Gamma((1 - m) nu).
  const double nu = p.salience_beta ? s_mean * (1.0 - s_mean) / (s_sd * s_sd) - 1.0 : 1.0;
  p.shape[0] = s_mean * nu;
  p.shape[1] = (1.0 - s_mean) * nu;
  p.shape[2] = cohort.purchase_shape;
  for (int j = 0; j < 3; ++j) {
    const double shape = p.shape[j] < 1.0 ? p.shape[j] + 1.0 : p.shape[j];
    p.gamma_d[j] = shape - 1.0 / 3.0;
    p.gamma_c[j] = 1.0 / std::sqrt(9.0 * p.gamma_d[j]);
  }
  p.weight[0] = cohort.weight_life;
  p.weight[1] = cohort.weight_time;
  p.weight[2] = cohort.weight_money;
  p.weights_sd = cohort.weights_sd;
  p.purchase_rate = cohort.purchase_rate;
  return p;
}

void CustomerKernel::births(Population& pop, const std::uint32_t* who, int count, const int* cohort,
                            const BirthCohort* const* params, int t, bool initial, double* wait) const {
  // Initial customers draw from counter step 0, entrants at step t from t + 1.
  const std::uint32_t step = initial ? 0u : static_cast<std::uint32_t>(t) + 1;
  const int k = pop.k;
  const int words = k + kBirthWordsBeyondK;
  const int blocks = (words + 3) / 4;
  alignas(64) std::uint32_t born[kInitBatch * kMaxBirthBlocks * 4], schedule[kInitBatch * 4];
  philox_blocks_of(spec_.seed, Stream::kBirth, step, who, count, blocks, born);
  philox_blocks_of(spec_.seed, Stream::kSchedule, step, who, count, 1, schedule);
  BirthLanes g;
  g.count = count;
  g.k = k;
  for (int a = 0; a < count; ++a) {
    const BirthCohort& p = *params[a];
    const std::uint32_t* mine = born + static_cast<std::size_t>(a) * 4 * static_cast<std::size_t>(blocks);
    for (int w = 0; w < words; ++w) g.word[w][a] = mine[w];
    for (int d = 0; d < k; ++d) g.values_mean[d][a] = p.values_mean[d];
    g.values_sd[a] = p.values_sd;
    for (int j = 0; j < 3; ++j) {
      g.gamma_d[j][a] = p.gamma_d[j];
      g.gamma_c[j][a] = p.gamma_c[j];
      g.weight_base[j][a] = p.weight[j];
    }
    g.weights_sd[a] = p.weights_sd;
    g.exit_word[a] = schedule[4 * a];
    g.wait_word[a] = schedule[4 * a + 1];
  }
  birth_lanes(g);
  const int after = initial ? -1 : t;
  for (int a = 0; a < count; ++a) {
    const std::size_t i = who[a];
    const BirthCohort& p = *params[a];
    pop.cohort(i) = static_cast<std::uint8_t>(cohort[a]);
    std::int8_t* dev = pop.values_dev(i);
    for (int d = 0; d < k; ++d) dev[d] = static_cast<std::int8_t>(g.dev[d][a]);
    // Each Gamma: its first attempt if accepted, else Marsaglia-Tsang afresh
    // on the retry stream (a restarted rejection sampler has the same
    // distribution), times U^(1/shape) for shapes below 1.
    CounterRng retry(spec_.seed, Stream::kBirthRetry, step, i);
    double x[3];
    for (int j = p.salience_beta ? 0 : 2; j < 3; ++j) {
      x[j] = g.gamma[j][a];
      if (g.accepted[j][a] == 0) x[j] = retry.gamma(p.gamma_d[j] + 1.0 / 3.0);
      if (p.shape[j] < 1.0) x[j] *= std::pow(word_to_double(g.word[k + 9 + j][a]), 1.0 / p.shape[j]);
    }
    const double salience = p.salience_beta ? x[0] / (x[0] + x[1]) : p.salience_fixed;
    pop.salience_dev(i) = to_dev(salience - p.salience_mean);
    std::uint8_t* weights = pop.weights(i);
    for (int j = 0; j < 3; ++j) weights[j] = static_cast<std::uint8_t>(g.weight[j][a]);
    pop.rate(i) = static_cast<float>(x[2] * p.purchase_rate / p.shape[2]);
    pop.exit_step(i) = exit_after(after, g.exit_log[a]);
    wait[a] = g.wait[a];
  }
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
  const auto terms = [nb](const std::array<float, kMaxBrands>& x) {
    return std::minmax_element(x.begin(), x.begin() + nb);
  };
  const auto [time_min, time_max] = terms(ctx.time_term);
  const auto [money_min, money_max] = terms(ctx.money_term);
  ctx.time_term_min = *time_min;
  ctx.time_term_max = *time_max;
  ctx.money_term_min = *money_min;
  ctx.money_term_max = *money_max;
}

void CustomerKernel::init(Population& pop, std::size_t begin, std::size_t end, const StepContext& ctx) const {
  // A batch of customers at a time: their kInitialState Philox blocks side by
  // side, their births side by side, then their first brands (kLanes at a
  // time) and first purchase steps.
  std::uint32_t state[kInitBatch * 4];
  float initial_trust[kMaxBrands];
  for (int b = 0; b < ctx.brands; ++b) initial_trust[b] = initial_trust_[static_cast<std::size_t>(b)] / kUnit16;
  const double loyalty_scale = 2.0 * spec_.loyalty.initial;
  const float anchor = static_cast<float>(spec_.loyalty.values_anchor);
  const int cohorts = static_cast<int>(cohort_cum_.size());
  std::array<BirthCohort, kMaxCohorts> born_into;
  for (int c = 0; c < cohorts; ++c) born_into[static_cast<std::size_t>(c)] = birth_cohort(0, c);
  for (std::size_t first = begin; first < end; first += kInitBatch) {
    const int count = static_cast<int>(std::min<std::size_t>(kInitBatch, end - first));
    philox_blocks(spec_.seed, Stream::kInitialState, 0, first, count, 1, state);
    // The cohort: the first draw of the kInitialState stream.
    int cohort[kInitBatch];
    const BirthCohort* params[kInitBatch];
    for (int a = 0; a < count; ++a) {
      const double u = word_to_double(state[4 * a]) * cohort_cum_.back();
      cohort[a] = std::min(pick(cohort_cum_.data(), cohorts, u), cohorts - 1);
      params[a] = &born_into[static_cast<std::size_t>(cohort[a])];
    }
    double wait[kInitBatch], rate[kInitBatch];
    std::int32_t purchase[kInitBatch];
    std::uint32_t born[kInitBatch];
    for (int a = 0; a < count; ++a) born[a] = static_cast<std::uint32_t>(first + static_cast<std::size_t>(a));
    births(pop, born, count, cohort, params, 0, true, wait);
    for (int a = 0; a < count; ++a) {
      const std::size_t i = first + static_cast<std::size_t>(a);
      auto trust = pop.trust_of(i);
      for (int b = 0; b < ctx.brands; ++b) trust[static_cast<std::size_t>(b)] = initial_trust_[static_cast<std::size_t>(b)];
      rate[a] = pop.rate(i);
    }
    // Initial brand, loyalty and commitment. Draws of the kInitialState
    // stream, in order: cohort (above), brand, loyalty.
    for (int a0 = 0; a0 < count; a0 += kLanes) {
      const int lanes = std::min(kLanes, count - a0);
      InitialLanes g;
      for (int e = 0; e < kLanes; ++e) {  // unused lanes repeat the last customer
        const std::size_t i = first + static_cast<std::size_t>(a0 + std::min(e, lanes - 1));
        float v[kMaxDimensions];
        values_at(pop, i, 0, v);
        for (int d = 0; d < pop.k; ++d) g.v[d][e] = v[d];
        g.s[e] = salience_at(pop, i, 0);
        const std::uint8_t* wq = pop.weights(i);
        for (int j = 0; j < 3; ++j) g.w[j][e] = wq[j] / kWeightScale;
        g.choice_draw[e] = word_to_float(state[4 * (a0 + std::min(e, lanes - 1)) + 1]);
      }
      lanes_initial_choice(g, lanes_, initial_trust, ctx);
      for (int e = 0; e < lanes; ++e) {
        const int a = a0 + e;
        const std::size_t i = first + static_cast<std::size_t>(a);
        const std::uint16_t loyalty = to_u16(static_cast<float>(loyalty_scale * word_to_double(state[4 * a + 2])));
        pop.commitment(i) = commitment(anchor, g.s[e], g.trust[e], g.align[e]);
        const auto word =
            Visible{static_cast<std::uint8_t>(g.brand[e]), Sentiment::kNone, to_u8(g.trust[e])}.pack();
        pop.word[i] = word;  // (no one reads during initialisation)
        pop.set_own_state(i, {0, loyalty});
      }
    }
    // First purchase steps of the batch side by side.
    timeline_.next_purchases(-1, rate, wait, count, purchase);
    for (int a = 0; a < count; ++a) {
      const std::size_t i = first + static_cast<std::size_t>(a);
      pop.next_event[i] = std::min(to_step(purchase[a]), pop.exit_step(i));
    }
  }
}

void CustomerKernel::enter(Population& pop, const std::uint32_t* who, int count, const StepContext& ctx,
                           Tally& tally, WordLog& written) const {
  const int t = ctx.t;
  const int cohort = spec_.entrant_cohort;
  const BirthCohort born_into = birth_cohort(t, cohort);
  int cohorts[kLanes];
  const BirthCohort* params[kLanes];
  std::fill_n(cohorts, kLanes, cohort);
  std::fill_n(params, kLanes, &born_into);
  for (int a = 0; a < count; ++a) --tally.base_delta[pop.current(who[a]).brand];
  double wait[kLanes];
  births(pop, who, count, cohorts, params, t, false, wait);
  const int nb = ctx.brands;
  for (int a = 0; a < count; ++a) {
    const std::size_t i = who[a];
    const std::uint16_t first = to_step(timeline_.next_purchase(t, pop.rate(i), wait[a]));
    CounterRng rng(spec_.seed, Stream::kEntrantBrand, static_cast<std::uint32_t>(t), i);
    const int brand =
        std::min(pick(ctx.entrant_brand_cum.data(), nb, rng.uniform_f() * ctx.entrant_brand_cum.back()), nb - 1);
    ++tally.base_delta[static_cast<std::size_t>(brand)];
    auto trust = pop.trust_of(i);
    for (int b = 0; b < nb; ++b) trust[static_cast<std::size_t>(b)] = initial_trust_[static_cast<std::size_t>(b)];
    pop.commitment(i) = 0;
    const auto word = Visible{static_cast<std::uint8_t>(brand), Sentiment::kNone,
                              to_u8(trust[static_cast<std::size_t>(brand)] / kUnit16)}.pack();
    written.add(i, word);
    pop.set_own_state(i, {static_cast<std::uint16_t>(t), 0});
    pop.next_event[i] = std::min(first, pop.exit_step(i));
  }
}

void CustomerKernel::gather_own(const Population& pop, int t, const std::uint32_t* customers, int lanes,
                                PurchaseLanes& g) const {
  const int k = pop.k;
  const int nb = pop.brands;
  const int degree = network_.degree();
  for (int e = 0; e < kLanes; ++e) {
    if (e >= lanes) {  // unused lanes compute on zeros
      for (int d = 0; d < k; ++d) g.mean[d][e] = 0.0f, g.dev[d][e] = 0;
      for (int b = 0; b < nb; ++b) g.trust_in[b][e] = 0;
      for (int j = 0; j < degree; ++j) g.word[j][e] = 0;
      g.salience_mean[e] = 0.0f;
      g.salience_dev[e] = g.weight[0][e] = g.weight[1][e] = g.weight[2][e] = g.loyalty_in[e] = g.idle[e] =
          g.current[e] = 0;
      g.log_retention[e] = g.lead_draw[e] = g.choice_draw[e] = 0.0f;
      g.rate[e] = 0.0;
      g.exit_step[e] = g.cohort[e] = 0;
      g.need_draw[e] = g.resolve_draw[e] = g.outcome_draw[e] = g.wait_draw[e] = 0.5;
      continue;
    }
    const std::size_t i = customers[e];
    const OwnState me = pop.own_state(i);
    const int cohort = pop.cohort(i);
    const float* mean = timeline_.values_mean(t, cohort);
    const std::int8_t* dev = pop.values_dev(i);
    for (int d = 0; d < k; ++d) {
      g.mean[d][e] = mean[d];
      g.dev[d][e] = dev[d];
    }
    g.salience_mean[e] = timeline_.salience_mean(t, cohort);
    g.salience_dev[e] = pop.salience_dev(i);
    const std::uint8_t* wq = pop.weights(i);
    for (int j = 0; j < 3; ++j) g.weight[j][e] = wq[j];
    const auto trust_row = pop.trust_of(i);
    for (int b = 0; b < nb; ++b) g.trust_in[b][e] = trust_row[static_cast<std::size_t>(b)];
    g.loyalty_in[e] = me.loyalty;
    g.idle[e] = t - me.t_last;
    g.log_retention[e] = log_retention_[pop.commitment(i)];
    g.current[e] = pop.current(i).brand;
    g.cohort[e] = cohort;
    g.rate[e] = pop.rate(i);
    g.exit_step[e] = pop.exit_step(i);
  }
}

void CustomerKernel::gather_lanes(const Population& pop, int t, const std::uint32_t* customers,
                                  const std::uint32_t* const* contacts, std::size_t contact_stride, int lanes,
                                  PurchaseLanes& g) const {
  gather_own(pop, t, customers, lanes, g);
  const int degree = network_.degree();
  for (int e = 0; e < lanes; ++e)
    for (int j = 0; j < degree; ++j) g.word[j][e] = pop.word[contacts[e][static_cast<std::size_t>(j) * contact_stride]];
}

void CustomerKernel::BatchCounts::clear(int brands, int cohorts) noexcept {
  const auto nb = static_cast<std::size_t>(brands);
  std::fill_n(brand, nb, 0);
  std::fill_n(segment, nb, 0);
  std::fill_n(switches, nb, 0);
  std::fill_n(cohort, nb * static_cast<std::size_t>(cohorts), 0u);
}

void CustomerKernel::BatchCounts::add_to(Tally& tally, int brands, int cohorts) const {
  constexpr std::uint64_t k16 = 0xFFFF, k32 = 0xFFFFFFFF;
  for (int b = 0; b < brands; ++b) {
    const auto j = static_cast<std::size_t>(b);
    tally.purchases[j] += static_cast<std::int64_t>(brand[j] & k16);
    tally.promoters[j] += static_cast<std::int64_t>((brand[j] >> 16) & k16);
    tally.detractors[j] += static_cast<std::int64_t>((brand[j] >> 32) & k16);
    tally.support_cases[j] += static_cast<std::int64_t>(brand[j] >> 48);
    const auto acquired = static_cast<std::int64_t>(switches[j] & k32);
    const auto lost = static_cast<std::int64_t>(switches[j] >> 32);
    tally.acquisitions[j] += acquired;
    tally.defections[j] += lost;
    tally.base_delta[j] += acquired - lost;
    for (int q = 0; q < kSegments; ++q) {
      const auto n = static_cast<std::int64_t>((segment[j] >> (16 * q)) & k16);
      tally.segment_purchases[static_cast<std::size_t>(q * brands) + j] += n;
    }
  }
  const auto n = static_cast<std::size_t>(brands) * static_cast<std::size_t>(cohorts);
  for (std::size_t x = 0; x < n; ++x) tally.cohort_purchases[x] += cohort[x];
}

// Always inlined: a function of prefetches alone has no side effects as far
// as GCC can tell, and a call to it whose result is unused is deleted.
[[gnu::always_inline]] inline void CustomerKernel::prefetch_event(const Population& pop, std::size_t i) const {
  __builtin_prefetch(pop.record(i));
  // A record straddles two lines unless its stride divides 64 (32 at K=4, B=8).
  const std::size_t stride = pop.stride;
  if ((stride & (stride - 1)) != 0 || stride > 64) __builtin_prefetch(pop.record(i) + stride - 1);
  __builtin_prefetch(pop.state.data() + i);
  __builtin_prefetch(pop.next_event.data() + i, 1);  // written after the purchase; read long before, in collect
  // The ring neighbours' words, i - half .. i + half (the customer's own
  // among them), lie on one or two cache lines: fetch both ends.
  const std::size_t half = static_cast<std::size_t>(network_.degree() / 2);
  __builtin_prefetch(pop.word.data() + (i >= half ? i - half : 0));
  __builtin_prefetch(pop.word.data() + std::min(i + half, pop.n - 1));
}

void CustomerKernel::contact_words(const Population& pop, const StepEvents::Block& block, std::size_t p,
                                   std::uint32_t request, std::int32_t* out, std::size_t stride) const {
  std::uint16_t far[kMaxDegree];
  const int rewired = std::popcount(block.rewired[p]);
  for (int q = 0; q < rewired; ++q) far[q] = block.word[block.at[request + static_cast<std::uint32_t>(q)]];
  contact_words(pop, block.who[p], block.rewired[p], far, out, stride);
}

void CustomerKernel::contact_words(const Population& pop, std::size_t customer, std::uint64_t rewired,
                                   const std::uint16_t* far, std::int32_t* out, std::size_t stride) const {
  const int degree = network_.degree();
  const int half = degree / 2;
  const auto n = static_cast<std::int64_t>(pop.n);
  const auto i = static_cast<std::int64_t>(customer);
  const std::uint16_t* column = pop.word.data();
  auto slot = [out, stride](int j) -> std::int32_t& { return out[static_cast<std::size_t>(j) * stride]; };
  // The ring first (SmallWorld::ring_offset: slots 0 .. half - 1 are
  // i - half .. i - 1, the others i + 1 .. i + half), then the rewired slots
  // overwritten.
  if (i >= half && i + half < n) {
    const std::uint16_t* ring = column + (i - half);
    for (int j = 0; j < half; ++j) slot(j) = ring[j];
    for (int j = half; j < degree; ++j) slot(j) = ring[j + 1];
  } else {
    for (int j = 0; j < degree; ++j) slot(j) = column[SmallWorld::ring_wrap(i + SmallWorld::ring_offset(j, degree), n)];
  }
  for (std::uint64_t mask = rewired; mask != 0; mask &= mask - 1) slot(std::countr_zero(mask)) = *far++;
}

void CustomerKernel::purchase_lanes(Population& pop, const BatchView& batch, const int* at, int lanes,
                                    const StepContext& ctx, BatchCounts& counts, Tally& tally,
                                    WordLog& written) const {
  const int t = ctx.t;
  const int nb = ctx.brands;
  const std::uint32_t* who = batch.block->who.data() + batch.first;
  // 1. Gather each purchaser's record, its contacts' words as of last step
  //    and its first two draws. A ring neighbour's word is read from the
  //    column (next to the purchaser's own); a rewired contact's from the
  //    block's resolved words, in slot order.
  std::uint32_t customers[kLanes] = {};
  for (int e = 0; e < lanes; ++e) customers[e] = who[at[e]];
  PurchaseLanes g;
  gather_own(pop, t, customers, lanes, g);
  const StepEvents::Block& block = *batch.block;
  for (int e = 0; e < lanes; ++e) {
    const std::size_t p = batch.first + static_cast<std::size_t>(at[e]);  // in the block
    if (p + kAhead < block.who.size()) prefetch_event(pop, block.who[p + kAhead]);
    contact_words(pop, block.who[p], block.rewired[p], batch.far + (batch.first_request[at[e]] - batch.far_base),
                  &g.word[0][e], kLanes);
  }
  // Draws of the purchase stream, in order: lead, choice, support need,
  // resolution, satisfaction, time to the next purchase.
  const std::uint32_t* const* draws = batch.draws;
  for (int e = 0; e < lanes; ++e) {
    const int p = at[e];
    g.lead_draw[e] = word_to_float(draws[0][2 * p]);
    g.choice_draw[e] = word_to_float(draws[1][2 * p]);
    g.need_draw[e] = word_to_double(draws[2][2 * p]);
    g.resolve_draw[e] = word_to_double(draws[3][2 * p]);
    g.outcome_draw[e] = word_to_double(draws[0][2 * p + 1]);
    g.wait_draw[e] = word_to_double(draws[1][2 * p + 1]);
  }

  // 2. Word of mouth, utility, choice and trust; the experience, loyalty and
  //    the step of the next purchase: all lanes at once.
  lanes_choose(g, lanes_, ctx);
  lanes_finish(g, lanes_, ctx);
  std::int32_t next[kLanes];
  timeline_.next_purchases(t, g.rate, g.wait, lanes, next);

  // 3. The customers' new state and the tallies.
  // Everything the loop reads through a pointer is loaded into locals first:
  // the record's byte stores could alias any of it and force reloads.
  std::uint64_t* const by_brand = counts.brand;
  std::uint64_t* const by_segment = counts.segment;
  std::uint64_t* const switches = counts.switches;
  std::uint32_t* const by_cohort = counts.cohort;
  std::int64_t values_weight_fx = 0;
  for (int e = 0; e < lanes; ++e) {
    const std::size_t i = customers[e];
    const int chosen = g.chosen[e];
    const int current = g.current[e];
    const auto cb = static_cast<std::size_t>(chosen);
    if (chosen != current) {
      ++switches[cb];
      switches[static_cast<std::size_t>(current)] += std::uint64_t{1} << 32;
    }
    // Brand 4q + r's trust lands at byte 2 (4q + r) of the row (little-endian).
    auto* trust_row = reinterpret_cast<unsigned char*>(pop.trust_of(i).data());
    for (int q = 0; 4 * q < nb; ++q) {
      if (nb - 4 * q >= 4)
        std::memcpy(trust_row + 8 * q, &g.trust_packed[q][e], 8);
      else
        std::memcpy(trust_row + 8 * q, &g.trust_packed[q][e], static_cast<std::size_t>(nb - 4 * q) * 2);
    }
    pop.commitment(i) = static_cast<std::uint8_t>(g.commitment_out[e]);
    pop.set_own_state(i, {static_cast<std::uint16_t>(t), static_cast<std::uint16_t>(g.loyalty_out[e])});
    written.add(i, static_cast<std::uint16_t>(g.word_after[e]));
    pop.next_event[i] = std::min(to_step(next[e]), static_cast<std::uint16_t>(g.exit_step[e]));

    by_brand[cb] += 1 | (static_cast<std::uint64_t>(g.promoter[e]) << 16) |
                    (static_cast<std::uint64_t>(g.detractor[e]) << 32) |
                    (static_cast<std::uint64_t>(g.support[e]) << 48);
    by_segment[cb] +=
        (std::uint64_t{1} << (16 * g.segment[e])) | (static_cast<std::uint64_t>(g.salient[e]) << (16 * kSalient));
    ++by_cohort[static_cast<std::size_t>(g.cohort[e] * nb) + cb];
    values_weight_fx += g.values_weight_fx[e];
    if (ctx.panel != nullptr && ctx.panel->contains(i))
      tally.panel.push_back({ctx.report_step, static_cast<std::uint32_t>(i), static_cast<std::uint8_t>(g.cohort[e]),
                             static_cast<std::uint8_t>(chosen), static_cast<std::uint8_t>((g.word_after[e] >> 6) & 3),
                             ctx.price[cb]});
  }
  tally.values_weight_fx += values_weight_fx;
}

void CustomerKernel::collect(const Population& pop, int t, const StepEvents& events, StepEvents::Block& block) const {
  const auto now = static_cast<std::uint16_t>(t);
  const std::uint16_t* next = pop.next_event.data();
  std::vector<std::uint32_t>& who = block.who;
  who.clear();
  auto add = [&who](std::size_t base, std::uint64_t mask) {
    for (; mask != 0; mask &= mask - 1)
      who.push_back(static_cast<std::uint32_t>(base + static_cast<std::size_t>(std::countr_zero(mask))));
  };
  const std::size_t end = block.end;
  std::size_t base = block.begin;
#if defined(__SSE2__)
  // 64 customers at a time: compare their next event steps with t, 16 per instruction.
  const __m128i at_t = _mm_set1_epi16(static_cast<short>(now));
  for (; base + 64 <= end; base += 64) {
    std::uint64_t mask = 0;
    for (int q = 0; q < 4; ++q) {
      const auto* p = reinterpret_cast<const __m128i*>(next + base + 16 * static_cast<std::size_t>(q));
      const __m128i a = _mm_cmpeq_epi16(_mm_loadu_si128(p), at_t);
      const __m128i b = _mm_cmpeq_epi16(_mm_loadu_si128(p + 1), at_t);
      mask |= static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_packs_epi16(a, b)))) << (16 * q);
    }
    if (mask != 0) add(base, mask);
  }
#endif
  for (; base < end; base += 64) {
    const std::size_t stop = std::min(end, base + 64);
    std::uint64_t mask = 0;
    for (std::size_t i = base; i < stop; ++i) mask |= std::uint64_t{next[i] == now} << (i - base);
    if (mask != 0) add(base, mask);
  }
  // The rewired-slot masks of the block's customers, at the first step only
  // (the network does not change): (degree + 7) / 8 bytes each.
  const int degree = network_.degree();
  const auto mask_bytes = static_cast<std::size_t>((degree + 7) / 8);
  if (block.masks.size() != (end - block.begin) * mask_bytes) {
    block.masks.resize((end - block.begin) * mask_bytes);
    std::uint64_t masks[kBatch];
    for (std::size_t first = block.begin; first < end; first += kBatch) {
      const int m = static_cast<int>(std::min<std::size_t>(kBatch, end - first));
      rewired_of_range(network_, first, m, masks);
      for (int e = 0; e < m; ++e)
        for (std::size_t q = 0; q < mask_bytes; ++q)
          block.masks[(first - block.begin + static_cast<std::size_t>(e)) * mask_bytes + q] =
              static_cast<std::uint8_t>(masks[e] >> (8 * q));
    }
  }
  // The events' masks and rewired slots, kBatch events at a time: the slots
  // listed without a branch (each mask byte's slots stored from a table, the
  // cursor moved on by their count), then their contacts side by side.
  const std::size_t count = who.size();
  block.rewired.resize(count);
  block.first_request.resize(count);
  block.request.clear();
  alignas(64) std::uint32_t customer_of[kBatch * kMaxDegree + 8];
  alignas(64) std::uint8_t slot_of[kBatch * kMaxDegree + 8];
  alignas(64) std::uint32_t contact_of[kBatch * kMaxDegree];
  for (std::size_t first = 0; first < count; first += kBatch) {
    const std::size_t stop = std::min(count, first + kBatch);
    const auto before = static_cast<std::uint32_t>(block.request.size());
    std::uint32_t kept = 0;
    for (std::size_t p = first; p < stop; ++p) {
      const std::uint32_t i = who[p];
      const std::uint8_t* bytes = block.masks.data() + (i - block.begin) * mask_bytes;
      block.first_request[p] = before + kept;
      std::uint64_t mask = 0;
      for (std::size_t q = 0; q < mask_bytes; ++q) {
        const std::uint8_t byte = bytes[q];
        mask |= std::uint64_t{byte} << (8 * q);
        const std::uint64_t slots = kSlotsOfByte.slots[byte] + 0x0808080808080808ull * q;
        std::memcpy(slot_of + kept, &slots, sizeof slots);
        const Customers8 eight = Customers8{} + i;  // one vector store (two on SSE2)
        std::memcpy(customer_of + kept, &eight, sizeof eight);
        kept += kSlotsOfByte.count[byte];
      }
      block.rewired[p] = mask;
    }
    redirected_of(network_, customer_of, slot_of, static_cast<int>(kept), contact_of);
    block.request.insert(block.request.end(), contact_of, contact_of + kept);
  }
  events.sort_requests(block);
}

void CustomerKernel::run_batch(Population& pop, const StepEvents::Block& block, std::size_t first, int count,
                               const StepContext& ctx, BatchCounts& counts, Tally& tally, WordLog& written) const {
  const auto t = static_cast<std::uint32_t>(ctx.t);
  const std::uint32_t* who = block.who.data() + first;
  // The purchase stream's first two Philox blocks of every customer in the batch.
  alignas(64) std::uint32_t x0[2 * kBatch], x1[2 * kBatch], x2[2 * kBatch], x3[2 * kBatch];
  const std::uint32_t stream = static_cast<std::uint32_t>(Stream::kPurchase) << 24;
  for (int e = 0; e < count; ++e) {
    for (int block_of_two = 0; block_of_two < 2; ++block_of_two) {
      const int l = 2 * e + block_of_two;
      x0[l] = static_cast<std::uint32_t>(who[e]);
      x1[l] = stream;  // customer indices are below 2^32
      x2[l] = t;
      x3[l] = static_cast<std::uint32_t>(block_of_two);
    }
  }
  philox_lanes(static_cast<std::uint32_t>(spec_.seed), static_cast<std::uint32_t>(spec_.seed >> 32), 2 * count, x0, x1,
               x2, x3);
  const std::uint32_t* const draws[4] = {x0, x1, x2, x3};
  // The batch's rewired contacts' words, in request order: read from the
  // block's resolved words side by side here (independent loads that
  // overlap) rather than one by one among the purchases.
  const std::uint32_t far_base = block.first_request[first];
  const std::size_t after = first + static_cast<std::size_t>(count);
  const auto far_end =
      after < block.who.size() ? block.first_request[after] : static_cast<std::uint32_t>(block.request.size());
  alignas(64) std::uint16_t far[kBatch * kMaxDegree];
  for (std::uint32_t r = far_base; r < far_end; ++r) far[r - far_base] = block.word[block.at[r]];
  const BatchView batch{&block, first, block.first_request.data() + first, far, far_base, draws};
  // kLanes events at a time (their records prefetched kAhead events before):
  // the exits, each replaced by an entrant (which reads no contacts), then
  // the others' purchases side by side.
  for (int group = 0; group < count; group += kLanes) {
    int buyers[kLanes];
    std::uint32_t leaving[kLanes];
    int lanes = 0, exits = 0;
    for (int e = group; e < std::min(count, group + kLanes); ++e) {
      if (pop.exit_step(who[e]) == t)
        leaving[exits++] = who[e];
      else
        buyers[lanes++] = e;
    }
    if (exits > 0) enter(pop, leaving, exits, ctx, tally, written);
    if (lanes > 0) purchase_lanes(pop, batch, buyers, lanes, ctx, counts, tally, written);
  }
}

void CustomerKernel::process_block(Population& pop, const StepEvents::Block& block, const StepContext& ctx,
                                   Tally& tally, WordLog& written) const {
  const std::size_t count = block.who.size();
  // Each purchase gathered prefetches the event kAhead on (purchase_lanes);
  // the first kAhead are prefetched here.
  for (std::size_t p = 0; p < std::min(count, kAhead); ++p) prefetch_event(pop, block.who[p]);
  for (std::size_t k = 0; k < block.word.size(); k += 32) __builtin_prefetch(block.word.data() + k);
  // Counts in 16-bit fields, added to the tally every kCountedEvents events.
  constexpr std::size_t kCountedEvents = 32768;
  static_assert(kCountedEvents < 0xFFFF && kCountedEvents % kBatch == 0, "BatchCounts has 16-bit fields");
  const int cohorts = static_cast<int>(spec_.cohorts.size());
  BatchCounts counts;
  counts.clear(ctx.brands, cohorts);
  for (std::size_t first = 0; first < count; first += kBatch) {
    run_batch(pop, block, first, static_cast<int>(std::min<std::size_t>(kBatch, count - first)), ctx, counts, tally,
              written);
    if ((first + kBatch) % kCountedEvents == 0 || first + kBatch >= count) {
      counts.add_to(tally, ctx.brands, cohorts);
      counts.clear(ctx.brands, cohorts);
    }
  }
}

}  // namespace cxsim
