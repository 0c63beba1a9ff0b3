// One whole simulation step of the throughput scenario, serial reference and
// TBB side by side (items: customer-steps), and building the initial
// population (items: customers). Set-up is outside the timed region; a step
// does no I/O (observers are not attached).

#include <benchmark/benchmark.h>

#include "common.hpp"

namespace {

void BM_Step(benchmark::State& state, bool serial) {
  const auto customers = state.range(0);
  const auto threads = static_cast<int>(state.range(1));
  cxsim::Simulation sim(cxsim::bench::throughput_spec(customers), {threads, serial});
  for (int t = 0; t < 5; ++t) sim.step();  // past the start-up transient
  for (auto _ : state) sim.step();
  state.SetItemsProcessed(state.iterations() * customers);
}

void BM_StepSerial(benchmark::State& state) { BM_Step(state, true); }
void BM_StepTbb(benchmark::State& state) { BM_Step(state, false); }

void BM_Init(benchmark::State& state, bool serial) {
  const auto customers = state.range(0);
  const auto spec = cxsim::bench::throughput_spec(customers);
  for (auto _ : state) {
    cxsim::Simulation sim(spec, {static_cast<int>(state.range(1)), serial});
    benchmark::DoNotOptimize(&sim);
  }
  state.SetItemsProcessed(state.iterations() * customers);
}

}  // namespace

BENCHMARK(BM_StepSerial)->Args({100'000, 1})->Args({1'000'000, 1})->Args({10'000'000, 1})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StepTbb)
    ->Args({1'000'000, 1})
    ->Args({1'000'000, 2})
    ->Args({10'000'000, 1})
    ->Args({10'000'000, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

CXSIM_BENCH_MODES(BM_Init, 1'000'000);

BENCHMARK_MAIN();
