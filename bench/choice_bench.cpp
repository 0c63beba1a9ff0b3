// Utility and choice, as the kernel runs it: customers in groups of kLanes
// (one SIMD lane each) gathered with their contacts' words
// (CustomerKernel::gather_lanes), then cxsim::lanes_choose: word of mouth
// (as cxsim::lanes_word_of_mouth), values and salience at step t, loyalty, alignment
// with every brand's stance, the utility of every brand with loyalty bonus,
// social proof and leads, the logit draw and the update of trust by the
// chosen brand's action. Brand conditions are those of the settled
// simulation's last step (Simulation::context). Items are purchase decisions;
// subtract BM_WordOfMouth's time per item for the choice alone.

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "cxsim/core/rng.hpp"
#include "cxsim/model/customers.hpp"
#include "cxsim/model/timeline.hpp"

namespace {

void BM_UtilityAndChoice(benchmark::State& state, bool serial) {
  const auto n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const cxsim::bench::Parts parts(n);
  const auto& kernel = parts.kernel;
  const cxsim::StepContext& ctx = parts.sim.context();
  const auto& coefficients = kernel.lane_coefficients();
  const int t = ctx.t;
  std::vector<std::uint8_t> chosen(static_cast<std::size_t>(n));
  for (auto _ : state) {
    cxsim::bench::over(parts.pop.n, serial, threads, [&](std::size_t begin, std::size_t end) {
      cxsim::PurchaseLanes g;
      cxsim::bench::over_lane_groups(kernel, parts.network, parts.pop, t, begin, end, g, [&](std::size_t first, int lanes) {
        for (int e = 0; e < lanes; ++e) {
          const std::uint64_t i = first + static_cast<std::size_t>(e);
          cxsim::CounterRng rng(parts.spec.seed, cxsim::Stream::kPurchase, static_cast<std::uint32_t>(t), i);
          g.lead_draw[e] = rng.uniform_f();
          g.choice_draw[e] = rng.uniform_f();
        }
        cxsim::lanes_choose(g, coefficients, ctx);
        for (int e = 0; e < lanes; ++e) chosen[first + static_cast<std::size_t>(e)] = static_cast<std::uint8_t>(g.chosen[e]);
      });
    });
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

}  // namespace

CXSIM_BENCH_MODES(BM_UtilityAndChoice, 1'000'000);

BENCHMARK_MAIN();
