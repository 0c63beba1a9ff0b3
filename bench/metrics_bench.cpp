// Metrics: the per-step tracking survey (loyalty decayed to t, trust in every
// brand, salience, on the fixed sample of 65536 customers) in 16 blocks of
// integer sums as Simulation measures it, and the per-thread tallies added.
// Items are sample members.

#include <benchmark/benchmark.h>

#include <cmath>

#include "common.hpp"
#include "cxsim/model/customers.hpp"
#include "cxsim/model/timeline.hpp"

namespace {

void BM_TrackingSurvey(benchmark::State& state, bool serial) {
  const auto n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const cxsim::bench::Parts parts(n);
  const auto& spec = parts.spec;
  const auto& pop = parts.pop;
  const auto& kernel = parts.kernel;
  const auto nb = spec.brands.size();
  const auto nc = spec.cohorts.size();
  const std::size_t s = std::min<std::size_t>(pop.n, static_cast<std::size_t>(spec.tracking_sample));
  std::vector<std::size_t> sample(s);
  for (std::size_t j = 0; j < s; ++j)
    sample[j] = static_cast<std::size_t>((static_cast<double>(j) + 0.5) * static_cast<double>(pop.n) / static_cast<double>(s));
  constexpr std::size_t kBlocks = 16;
  const std::size_t width = 3 * nb + 2 * nc;
  std::vector<std::int64_t> survey(kBlocks * width);
  const std::size_t per = (s + kBlocks - 1) / kBlocks;
  const int t = 5;
  for (auto _ : state) {
    std::fill(survey.begin(), survey.end(), 0);
    cxsim::bench::over(kBlocks, serial, threads, [&](std::size_t b, std::size_t e) {
      for (std::size_t blk = b; blk < e; ++blk) {
        std::int64_t* sums = survey.data() + blk * width;
        for (std::size_t j = blk * per; j < std::min(s, (blk + 1) * per); ++j) {
          const std::size_t i = sample[j];
          const auto brand = pop.current(i).brand;
          sums[brand] += std::lround(kernel.loyalty_at(pop, i, t) * cxsim::kUnit16);
          ++sums[nb + brand];
          const auto row = pop.trust_of(i);
          for (std::size_t x = 0; x < nb; ++x) sums[2 * nb + x] += row[x];
          const std::size_t c = pop.cohort(i);
          sums[3 * nb + c] += std::lround(kernel.salience_at(pop, i, t) * cxsim::kUnit16);
          ++sums[3 * nb + nc + c];
        }
      }
    }, 1);
    benchmark::DoNotOptimize(survey.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(s));
}

void BM_TallyAdd(benchmark::State& state) {
  const auto& spec = cxsim::bench::settled(1'000'000).spec();
  const int nb = static_cast<int>(spec.brands.size()), nc = static_cast<int>(spec.cohorts.size());
  cxsim::Tally total(nb, nc), part(nb, nc);
  for (auto _ : state) {
    total.clear();
    total.add(part);
    total.add(part);
    benchmark::DoNotOptimize(total.purchases.data());
  }
  state.SetItemsProcessed(state.iterations() * 2);
}

}  // namespace

CXSIM_BENCH_MODES(BM_TrackingSurvey, 1'000'000);
CXSIM_BENCH_MODES(BM_TrackingSurvey, 10'000'000);
BENCHMARK(BM_TallyAdd);

BENCHMARK_MAIN();
