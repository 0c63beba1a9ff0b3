// Purchase draw: who acts this step and when they buy next.
//  - BM_Scan: the step's pass over next_event for a step at which nobody acts
//    (CustomerKernel::collect finds no event in any block), i.e. the cost
//    every customer pays every step; items are customer-steps.
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
  const int t = cxsim::kMaxSteps;  // no customer has an event then
  cxsim::StepEvents events;
  events.resize(parts.pop.n);
  for (auto _ : state) {
    over(events.blocks(), serial, threads, [&](std::size_t b, std::size_t e) {
      for (std::size_t blk = b; blk < e; ++blk) {
        parts.kernel.collect(parts.pop, t, events, events.block(blk));
        benchmark::DoNotOptimize(events.block(blk).who.data());
      }
    }, 1);
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
