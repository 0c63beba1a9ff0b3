// Purchase draw: who acts this step and when they buy next.
//  - BM_Scan: the step's pass over next_event for a step at which nobody acts
//    (CustomerKernel::process_range finds no event), i.e. the cost every
//    customer pays every step; items are customer-steps.
//  - BM_NextPurchase: the purchase stream's Philox block and the next purchase
//    step sampled from cumulative demand (Timeline::next_purchases, 16 at a
//    time as in the kernel), as after every purchase; items are purchases.

#include <benchmark/benchmark.h>

#include <algorithm>
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
      cxsim::WordLog written;
      parts.kernel.process_range(pop, b, e, ctx, tally, written);
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
      // As the kernel does: the steps of a group of kLanes purchases side by side.
      double rate[cxsim::kLanes], wait[cxsim::kLanes];
      std::int32_t step[cxsim::kLanes];
      for (std::size_t first = b; first < e; first += cxsim::kLanes) {
        const int lanes = static_cast<int>(std::min<std::size_t>(cxsim::kLanes, e - first));
        for (int l = 0; l < lanes; ++l) {
          const std::size_t i = first + static_cast<std::size_t>(l);
          cxsim::CounterRng rng(parts.spec.seed, cxsim::Stream::kPurchase, static_cast<std::uint32_t>(t), i);
          for (int j = 0; j < 5; ++j) benchmark::DoNotOptimize(rng.next_u32());
          rate[l] = pop.rate(i);
          wait[l] = rng.exponential();
        }
        parts.timeline.next_purchases(t, rate, wait, lanes, step);
        for (int l = 0; l < lanes; ++l) next[first + static_cast<std::size_t>(l)] = static_cast<std::uint16_t>(step[l]);
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
