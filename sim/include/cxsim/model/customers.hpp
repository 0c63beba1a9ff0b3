#pragma once
/// \file
/// The customer rules of one step: birth, purchase (utility, choice,
/// experience, loyalty, trust, word of mouth) and exit.
///
/// A step runs in the three passes StepEvents describes. In the last,
/// `CustomerKernel::process_block` handles the events of a block of
/// customers for step t: each reads only its own record and state and its
/// contacts' visible words, which do not change during the step, and writes
/// only its own record and state; its new visible word goes to a WordLog,
/// published after the step. It is therefore safe to call for different
/// blocks concurrently, and the result does not depend on the order of calls.
///
/// Within a block, each event's memory is prefetched a few dozen events
/// before it is processed, and purchases are computed kLanes at a time, one SIMD lane
/// per purchaser (gather_lanes, then lanes_choose), with the
/// same operations per lane as for a single purchaser.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "cxsim/core/fastmath.hpp"
#include "cxsim/core/rng.hpp"
#include "cxsim/model/network.hpp"
#include "cxsim/model/panel.hpp"
#include "cxsim/model/population.hpp"
#include "cxsim/model/scenario.hpp"
#include "cxsim/model/step_events.hpp"
#include "cxsim/model/timeline.hpp"

namespace cxsim {

/// Brand-level quantities customers see in one step.
struct BrandView {
  float time_cost = 0.0f;  ///< effort + hassle x support_rate x (1 - service quality)
  float money = 0.0f;      ///< price / reference price
  float action = 0.0f;     ///< share of the stance lived, [0, 1]
  float quality = 0.0f;    ///< P(support case resolved well)
  float loyalty_bonus = 0.0f;  ///< utility per unit loyalty: beta_loyalty x (1 + loyalty_program)
};

/// Purchaser segments of `segment_share`: side of segment_dimension, and salience.
enum Segment : int { kOpposes = 0, kNeutral = 1, kShares = 2, kSalient = 3, kSegments = 4 };

/// Per-step counts, summed over customers. Integer (or fixed-point) so that the
/// sum is exact in any order: results do not depend on the thread count.
struct Tally {
  explicit Tally(int brands = 0, int cohorts = 0);
  void add(const Tally& o);
  void clear();

  std::vector<std::int64_t> purchases, acquisitions, defections, promoters, detractors;
  std::vector<std::int64_t> support_cases;   ///< purchases that needed support
  std::vector<std::int64_t> base_delta;      ///< change in customer base (switches, exits, entries)
  std::vector<std::int64_t> cohort_purchases;  ///< cohorts x brands
  std::vector<std::int64_t> segment_purchases;  ///< kSegments x brands
  std::vector<PanelPurchase> panel;          ///< purchases of panel members (any order)
  std::int64_t values_weight_fx = 0;         ///< sum over purchasers of the values share of utility spread, x 2^20
};

/// Read-only inputs of the customer kernel for one step.
struct StepContext {
  int t = 0;
  int brands = 0;
  int k = 0;
  std::vector<BrandView> brand;
  /// Stances, brands x K (row-major), fixed capacity so nothing is allocated per customer.
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor, kMaxBrands, kMaxDimensions> stance;
  /// Leads: cumulative probabilities over 2 x brands entries (ambassador lead of
  /// brand b at 2b, marketing lead at 2b+1); a draw beyond the last means no lead.
  std::vector<float> lead_cum;
  std::vector<float> lead_lift;  ///< utility lift of each of the 2 x brands lead kinds
  /// Entrants' first brand: cumulative distribution over brands.
  std::vector<float> entrant_brand_cum;
  std::vector<double> price;     ///< price paid per brand (panel records)
  int report_step = 0;           ///< scenario step (t - burn_in) for panel records
  int segment_dim = 0;
  float segment_threshold = 0.2f;
  float salience_threshold = 0.5f;
  const PanelSample* panel = nullptr;  ///< null: no panel

  // Derived from the above by CustomerKernel::prepare, in the layout the purchase loop reads.
  std::array<float, kMaxBrands> time_term{};   ///< beta_time x time_cost
  std::array<float, kMaxBrands> money_term{};  ///< beta_money x money
  float time_term_min = 0.0f, time_term_max = 0.0f;    ///< over brands
  float money_term_min = 0.0f, money_term_max = 0.0f;  ///< over brands
  std::array<float, kMaxBrands> quality{};
  std::array<float, kMaxBrands> action{};
  std::array<float, kMaxBrands> loyalty_bonus{};
  std::array<float, kMaxDimensions * kMaxBrands> stance_by_dim{};  ///< K x brands: stance_t[d * brands + b]
};

/// Purchasers processed in lockstep: one SIMD lane per purchaser.
inline constexpr int kLanes = 16;

/// Inputs and results of the vector part of kLanes purchases, one array
/// element per lane (structure of arrays, so that every loop over lanes is a
/// vector operation). Rows beyond the brand, dimension and degree counts in
/// use are not touched.
struct alignas(64) PurchaseLanes {
  // Gathered from the records.
  alignas(64) float mean[kMaxDimensions][kLanes];    ///< cohort mean of each value dimension at t
  alignas(64) std::int32_t dev[kMaxDimensions][kLanes];  ///< own deviation x 63.5
  alignas(64) float salience_mean[kLanes];
  alignas(64) std::int32_t salience_dev[kLanes];
  alignas(64) std::int32_t weight[3][kLanes];        ///< life, time, money x 85
  alignas(64) std::int32_t trust_in[kMaxBrands][kLanes];  ///< x 65535
  alignas(64) std::int32_t loyalty_in[kLanes];       ///< loyalty at t_last x 65535
  alignas(64) std::int32_t idle[kLanes];             ///< t - t_last
  alignas(64) float log_retention[kLanes];
  alignas(64) std::int32_t current[kLanes];          ///< brand before the purchase
  alignas(64) std::int32_t word[kMaxDegree][kLanes];  ///< contacts' visible words as of t - 1
  alignas(64) float lead_draw[kLanes];
  alignas(64) float choice_draw[kLanes];
  // Gathered for the finish (lanes_finish and the writes after it).
  alignas(64) double rate[kLanes];                 ///< purchase rate (the record's float, for Timeline::next_purchases)
  alignas(64) std::int32_t exit_step[kLanes];
  alignas(64) std::int32_t cohort[kLanes];
  alignas(64) double need_draw[kLanes];            ///< uniform: does the purchase need support?
  alignas(64) double resolve_draw[kLanes];         ///< uniform: is the need resolved?
  alignas(64) double outcome_draw[kLanes];         ///< uniform: satisfaction class
  alignas(64) double wait_draw[kLanes];            ///< uniform: time to the next purchase (-log is Exp(1))
  // Results of word of mouth (lanes_word_of_mouth, lanes_choose), per brand.
  alignas(64) float users[kMaxBrands][kLanes];  ///< contacts using the brand
  alignas(64) float net[kMaxBrands][kLanes];    ///< promoters minus detractors among them
  alignas(64) float trust[kMaxBrands][kLanes];  ///< trust after word of mouth
  // Results of lanes_choose.
  alignas(64) float v[kMaxDimensions][kLanes];  ///< values at t
  alignas(64) float salience[kLanes];
  alignas(64) float loyalty[kLanes];            ///< loyalty at t, before the purchase
  alignas(64) std::int32_t chosen[kLanes];
  alignas(64) float action[kLanes];             ///< action of the chosen brand
  alignas(64) float align[kLanes];              ///< alignment with the chosen brand
  alignas(64) float trust_chosen[kLanes];       ///< trust in the chosen brand after the experience of its action
  alignas(64) std::uint16_t trust_out[kMaxBrands][kLanes];  ///< every brand's trust after the purchase, x 65535
  alignas(64) std::uint32_t values_weight_fx[kLanes];  ///< values share of the utility spread x 2^20 (0: no spread)
  // Results of lanes_finish.
  alignas(64) std::int32_t support[kLanes];      ///< 1 if the purchase needed support
  alignas(64) std::int32_t promoter[kLanes];     ///< 1 if a promoter
  alignas(64) std::int32_t detractor[kLanes];    ///< 1 if a detractor
  alignas(64) std::int32_t segment[kLanes];      ///< kOpposes, kNeutral or kShares
  alignas(64) std::int32_t salient[kLanes];      ///< 1 if salience >= the salience threshold
  alignas(64) std::int32_t word_after[kLanes];   ///< new visible word
  alignas(64) std::int32_t loyalty_out[kLanes];  ///< loyalty after the purchase x 65535
  alignas(64) std::int32_t commitment_out[kLanes];  ///< x 255
  alignas(64) double wait[kLanes];               ///< Exp(1) draw: -log(wait_draw)
  /// trust_out four brands to a word (brand 4q + r in bits 16r..16r+15 of
  /// trust_packed[q]), as the record stores them, so that each purchaser's row is
  /// written with a few 8-byte stores.
  alignas(64) std::uint64_t trust_packed[kMaxBrands / 4][kLanes];
};

/// Model coefficients the lane functions read (CustomerKernel::lane_coefficients).
struct LaneCoefficients {
  int brands, k, degree;
  /// Lanes per vector in the vector parts of lanes_choose and
  /// lanes_word_of_mouth: 8 runs them as two halves, anything else as one
  /// vector of kLanes. Both give the same results; the kernel takes
  /// vector_lanes_for_cpu().
  int vector_lanes;
  float beta_life, beta_social, beta_wom, hypocrisy, inv_credible_range, wom_rate, learn_rate;
  // The experience and loyalty (lanes_finish).
  double support_rate, fit_gain;
  double promoter_by_outcome[3], detractor_by_outcome[3];  ///< no support need, need unresolved, need resolved
  float after_switch, gain_promoter, gain_passive, loss_detractor, values_anchor;
};

/// kLanes where the CPU runs the x86-64-v4 clones (a 16-lane vector is one
/// AVX-512 register), else 8: two halves, so that a vector is one AVX2
/// register (or two SSE2 ones) and the accumulators need not spill. Builds
/// without clones (sanitizers, other compilers) choose by the instruction
/// set they were compiled for: 8 on x86 without AVX-512, kLanes elsewhere.
[[nodiscard]] int vector_lanes_for_cpu() noexcept;

/// Word of mouth and social proof (6.10, 6.11) for the kLanes purchasers of
/// `g`: from the contacts' words, per brand, the users, their net promotion,
/// and trust moved toward each speaking contact's, in contact order.
/// lanes_choose does the same brand by brand (same code, same results); this
/// standalone pass is for benchmarks and tests.
void lanes_word_of_mouth(PurchaseLanes& g, const LaneCoefficients& c) noexcept;

/// Word of mouth (as lanes_word_of_mouth), values, salience, loyalty,
/// utility, logit choice and the update of trust by the chosen brand's
/// action, for the kLanes purchasers of `g`.
///
/// Each lane computes exactly what the rules compute for one purchaser, with
/// the same operations in the same order, so results are bit-identical
/// whatever the vector width the CPU offers (the file is compiled without
/// floating-point contraction).
void lanes_choose(PurchaseLanes& g, const LaneCoefficients& c, const StepContext& ctx) noexcept;

/// The experience of the purchase (support need, its resolution, the
/// satisfaction class), the loyalty after it, the commitment, the new visible
/// word, the purchaser's segment, the Exp(1) draw of the wait to the next
/// purchase, and the trust rows packed for the record, for the lanes of `g`
/// after lanes_choose. Like lanes_choose, each lane does exactly what the
/// rules do for one purchaser.
void lanes_finish(PurchaseLanes& g, const LaneCoefficients& c, const StepContext& ctx) noexcept;

/// Applies the model's customer rules. Holds references to the immutable spec,
/// timeline and network; owns nothing mutable.
class CustomerKernel {
 public:
  CustomerKernel(const ScenarioSpec& spec, const Timeline& timeline, const SmallWorld& network);

  /// Creates customers [begin, end) of the initial population (birth at step 0,
  /// initial brand chosen by the base utilities). `ctx` gives brand conditions at step 0.
  void init(Population& pop, std::size_t begin, std::size_t end, const StepContext& ctx) const;

  /// Fills the derived fields of `ctx` from its brand views and stances.
  void prepare(StepContext& ctx) const;

  /// Pass 1 of a step (see StepEvents): the customers of `block` with an
  /// event at step t, the rewired contact slots of each, and the block's
  /// requests for those contacts' words, sorted by part of the word column.
  void collect(const Population& pop, int t, const StepEvents& events, StepEvents::Block& block) const;

  /// Pass 3 of a step: processes the events `collect` found in `block` (a
  /// purchase, or an exit and the entrant that replaces it), after
  /// StepEvents::resolve has fetched the block's requested words. Tallies
  /// into `tally`; the new visible words go to `written`, for
  /// Population::publish once every block of the step is processed.
  void process_block(Population& pop, const StepEvents::Block& block, const StepContext& ctx, Tally& tally,
                     WordLog& written) const;

  /// Coefficients of the lane functions for this scenario.
  [[nodiscard]] const LaneCoefficients& lane_coefficients() const noexcept { return lanes_; }

  /// Fills lanes [0, lanes) of `g` (lanes <= kLanes) with what the purchases
  /// of `customers` at step t read: their records, loyalty and current brand,
  /// and the words of their contacts (contact j of lane e is
  /// contacts[e][j x contact_stride]; network degree contacts each). Lanes
  /// from `lanes` on are zeroed; the draws of the others are left for the
  /// caller to set.
  void gather_lanes(const Population& pop, int t, const std::uint32_t* customers, const std::uint32_t* const* contacts,
                    std::size_t contact_stride, int lanes, PurchaseLanes& g) const;

  /// The visible words of the contacts of event p of `block` (after
  /// collect and StepEvents::resolve), as its purchase reads them: contact
  /// slot j to out[j x stride]. Ring neighbours' words come from the word
  /// column, rewired contacts' from the block's resolved words; `request` is
  /// the number of requests of the block's events before p.
  void contact_words(const Population& pop, const StepEvents::Block& block, std::size_t p, std::uint32_t request,
                     std::int32_t* out, std::size_t stride) const;
  /// The same for customer i whose rewired slots are `rewired`, their
  /// contacts' words far[0 .. popcount(rewired)) in slot order.
  void contact_words(const Population& pop, std::size_t i, std::uint64_t rewired, const std::uint16_t* far,
                     std::int32_t* out, std::size_t stride) const;

  /// Values of customer i at step t: its cohort's drifting mean plus its own
  /// lasting deviation (K floats into `out`).
  void values_at(const Population& pop, std::size_t i, int t, float* out) const;
  /// Salience of customer i at step t (cohort's drifting mean plus own deviation).
  [[nodiscard]] float salience_at(const Population& pop, std::size_t i, int t) const;
  /// Loyalty of customer i at step t: decayed since its last purchase at
  /// decay x (1 - commitment) per step.
  [[nodiscard]] float loyalty_at(const Population& pop, std::size_t i, int t) const;

 private:
  /// The distributions a customer of one cohort born at one step draws from.
  struct BirthCohort {
    const float* values_mean = nullptr;  ///< the cohort's K values means at the step
    double values_sd = 0.0;
    double salience_mean = 0.0;   ///< the cohort's salience mean (deviations are from it)
    double salience_fixed = 0.0;  ///< salience when its sd is 0 (the mean, kept inside (0, 1))
    bool salience_beta = false;   ///< salience is Beta(shape[0], shape[1]): X / (X + Y) of two Gammas
    /// Gammas 0 and 1 (salience X and Y) and 2 (purchase rate): shape, and
    /// Marsaglia and Tsang's d = s - 1/3 and c = 1 / sqrt(9 d) for s = the
    /// shape, or the shape + 1 below 1 (then boosted by U^(1/shape)).
    double shape[3] = {}, gamma_d[3] = {}, gamma_c[3] = {};
    double weight[3] = {};  ///< life, time and money weights before the log-normal noise
    double weights_sd = 0.0;
    double purchase_rate = 0.0;
  };
  [[nodiscard]] BirthCohort birth_cohort(int t, int cohort) const;
  /// Draws the lasting attributes and the exit step of customers who[0 ..
  /// count) (count <= 64), born at step t into cohort[a] with the
  /// distributions params[a], side by side; wait[a] is the Exp(1) draw that
  /// decides each one's first purchase step (Timeline::next_purchase after
  /// step t, or after -1 for the initial population).
  void births(Population& pop, const std::uint32_t* who, int count, const int* cohort,
              const BirthCohort* const* params, int t, bool initial, double* wait) const;
  /// gather_lanes without the contacts' words: the purchasers' own record
  /// fields, loyalty and current brand (lanes from `lanes` on zeroed, words too).
  void gather_own(const Population& pop, int t, const std::uint32_t* customers, int lanes, PurchaseLanes& g) const;
  /// Prefetches the memory an event of customer i will read or write: its
  /// record, state and next-event entry and its ring neighbours' words.
  void prefetch_event(const Population& pop, std::size_t i) const;
  /// What purchase_lanes reads of its batch: the block, the batch's first
  /// event in it, each event's first request (contact_words), the words of
  /// the batch's requests from request far_base on, and the x0..x3
  /// words of the batch's purchase-stream blocks (two per event).
  struct BatchView {
    const StepEvents::Block* block;
    std::size_t first;
    const std::uint32_t* first_request;
    const std::uint16_t* far;
    std::uint32_t far_base;
    const std::uint32_t* const* draws;
  };
  /// Purchase counts of up to 32768 events, in 16-bit fields of 64-bit
  /// words so that a purchase costs three or four increments instead of nine
  /// or thirteen; added to the Tally every 32768 events of a block and at
  /// its end (process_block).
  struct BatchCounts {
    std::uint64_t brand[kMaxBrands];     ///< purchases | promoters << 16 | detractors << 32 | support cases << 48
    std::uint64_t segment[kMaxBrands];   ///< by Segment: kOpposes, kNeutral, kShares, kSalient in bits 16 x segment
    std::uint64_t switches[kMaxBrands];  ///< acquisitions | defections << 32
    std::uint32_t cohort[kMaxCohorts * kMaxBrands];  ///< purchases, cohort x brands
    void clear(int brands, int cohorts) noexcept;
    void add_to(Tally& tally, int brands, int cohorts) const;
  };
  /// Processes the events first .. first + count - 1 of `block` (count <=
  /// kBatch), counting its purchases in `counts`.
  void run_batch(Population& pop, const StepEvents::Block& block, std::size_t first, int count,
                 const StepContext& ctx, BatchCounts& counts, Tally& tally, WordLog& written) const;
  /// Purchases of the batch's events at[0..lanes) (lanes <= kLanes),
  /// processed in lockstep. Counts go to `counts`, panel purchases and the
  /// values weight to `tally`.
  void purchase_lanes(Population& pop, const BatchView& batch, const int* at, int lanes, const StepContext& ctx,
                      BatchCounts& counts, Tally& tally, WordLog& written) const;
  /// Replaces the customers who[0 .. count) (count <= kLanes), whose exit
  /// step is now, by entrants born side by side.
  void enter(Population& pop, const std::uint32_t* who, int count, const StepContext& ctx, Tally& tally,
             WordLog& written) const;
  /// The exit step of a customer born after step `after`, from ln U of a uniform U.
  [[nodiscard]] std::uint16_t exit_after(int after, double log_u) const;

  const ScenarioSpec& spec_;
  const Timeline& timeline_;
  const SmallWorld& network_;
  std::vector<double> cohort_cum_;
  float beta_time_, beta_money_;  ///< for the brand terms of the step context (prepare)
  std::array<std::uint16_t, kMaxBrands> initial_trust_{};  ///< x 65535
  LaneCoefficients lanes_{};  ///< what the lane functions read, from the spec and network
  double log_survival_ = 0.0;  ///< ln(1 - replacement_rate), for replacement rates in (0, 1)
  std::array<float, 256> log_retention_{};  ///< ln(1 - decay x (1 - c / 255)) for commitment c (x 255)
};

}  // namespace cxsim
