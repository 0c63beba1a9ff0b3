// Purchase draw: who acts this step and when they buy next.
//  - BM_Scan: the step's pass over next_event for a step at which nobody acts
//    (CustomerKernel::process_range finds no event), i.e. the cost every
//    customer pays every step; items are customer-steps.
//  - BM_NextPurchase: the purchase stream's Philox block and the next purchase
//    step sampled from cumulative demand (Timeline::next_purchase), as after
//    every purchase; items are purchases.

#include <benchmark/benchmark.h>

#include <cmath>

#include "common.hpp"
#include "cxsim/core/rng.hpp"
#include "cxsim/model/customers.hpp"
#include "cxsim/model/timeline.hpp"

namespace {

using cxsim::bench::over;

void BM_Scan(benchmark::State& state, bool serial) {
  const auto n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const cxsim::bench::Parts parts(n);
  cxsim::StepContext ctx;
  ctx.t = cxsim::kMaxSteps;  // no customer has an event then: nothing is written
  ctx.brands = static_cast<int>(parts.spec.brands.size());
  auto& pop = const_cast<cxsim::Population&>(parts.pop);
  for (auto _ : state) {
    over(pop.n, serial, threads, [&](std::size_t b, std::size_t e) {
      cxsim::Tally tally(ctx.brands, static_cast<int>(parts.spec.cohorts.size()));
      parts.kernel.process_range(pop, b, e, ctx, tally);
      benchmark::DoNotOptimize(tally.purchases.data());
    }, 1 << 18);
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_NextPurchase(benchmark::State& state, bool serial) {
  const auto n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const cxsim::bench::Parts parts(n);
  const auto& pop = parts.pop;
  std::vector<std::uint16_t> next(static_cast<std::size_t>(n));
  const int t = 10;
  for (auto _ : state) {
    over(pop.n, serial, threads, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) {
        cxsim::CounterRng rng(parts.spec.seed, cxsim::Stream::kPurchase, static_cast<std::uint32_t>(t), i);
        for (int j = 0; j < 5; ++j) benchmark::DoNotOptimize(rng.next_u32());
        next[i] = static_cast<std::uint16_t>(parts.timeline.next_purchase(t, pop.rate(i), rng.exponential()));
      }
    });
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

}  // namespace

CXSIM_BENCH_MODES(BM_Scan, 1'000'000);
CXSIM_BENCH_MODES(BM_Scan, 10'000'000);
CXSIM_BENCH_MODES(BM_NextPurchase, 1'000'000);

BENCHMARK_MAIN();
