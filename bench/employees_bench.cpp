// Employees: one step of Workforce::update (engagement, quits and hires,
// brand sums) over the throughput scenario's workforce (2 per 1000
// customers per brand: 160000 at 10M), in blocks of 4096 as the engine runs it. Items are employees.

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "cxsim/model/workforce.hpp"

namespace {

void BM_Employees(benchmark::State& state, bool serial) {
  const auto customers = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const auto spec = cxsim::bench::throughput_spec(customers);
  cxsim::Workforce workforce(*spec, customers);
  const auto nb = spec->brands.size();
  std::vector<cxsim::BrandWorkConditions> conditions(nb);
  for (std::size_t b = 0; b < nb; ++b) {
    const auto& p = spec->brands[b].policy;
    conditions[b].target_base = static_cast<float>(0.5 + 0.35 * p.ex_investment);
    for (int d = 0; d < spec->k(); ++d)
      conditions[b].lived_stance[d] = static_cast<float>(0.3 * p.stance[static_cast<std::size_t>(d)] * p.action);
  }
  constexpr std::size_t kBlock = 4096;
  const std::size_t blocks = (workforce.size() + kBlock - 1) / kBlock;
  std::vector<cxsim::WorkforceSums> sums(blocks);
  int t = 0;
  for (auto _ : state) {
    cxsim::bench::over(blocks, serial, threads, [&](std::size_t b, std::size_t e) {
      for (std::size_t blk = b; blk < e; ++blk)
        sums[blk] = workforce.update(blk * kBlock, std::min(workforce.size(), (blk + 1) * kBlock), t, conditions);
    }, 1);
    ++t;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(workforce.size()));
}

}  // namespace

CXSIM_BENCH_MODES(BM_Employees, 10'000'000);
CXSIM_BENCH_MODES(BM_Employees, 100'000'000);

BENCHMARK_MAIN();
