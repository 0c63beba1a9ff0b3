#pragma once
/// \file
/// The simulation: owns the live state of one run and advances it step by step.
///
/// `Simulation` takes an immutable scenario, builds the initial population and
/// workforce, and runs steps either serially (the reference) or with TBB on a
/// given number of threads. Both give bit-identical results: every random draw
/// is counter-based and every cross-customer sum is exact integer arithmetic.
/// `step()` neither prints nor writes files; observers receive each step's metrics.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "cxsim/model/metrics.hpp"
#include "cxsim/model/population.hpp"
#include "cxsim/model/scenario.hpp"

namespace cxsim {

/// How to execute the step loops.
struct ExecutionPolicy {
  /// Worker threads for TBB (>= 1). Ignored when `serial`.
  int threads = 1;
  /// Plain loops without TBB: the reference stepper.
  bool serial = false;
};

class Simulation;
struct StepContext;

/// Receives the metrics of every scenario step (not of burn-in steps).
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  /// Called after each step with that step's metrics.
  virtual void on_step(const Simulation& sim, const StepMetrics& metrics) = 0;
};

class Simulation {
 public:
  /// Builds the initial state. Cost is proportional to customers + employees.
  explicit Simulation(std::shared_ptr<const ScenarioSpec> spec, ExecutionPolicy policy = {});
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  /// Observers are called in the order they were added; they must outlive the run.
  void add_observer(StepObserver* observer);

  /// Advances one step. Precondition: !done().
  void step();
  /// Runs the remaining steps. If `stop` becomes true, returns after the current
  /// step with done() still false.
  void run(const std::atomic<bool>* stop = nullptr);

  [[nodiscard]] bool done() const noexcept;
  /// Scenario steps completed so far (burn-in steps not counted).
  [[nodiscard]] int steps_done() const noexcept;
  [[nodiscard]] const ScenarioSpec& spec() const noexcept;
  [[nodiscard]] const Population& population() const noexcept;
  [[nodiscard]] const ExecutionPolicy& policy() const noexcept;
  /// What customers saw in the last step processed (brand views, leads,
  /// stances): lets benchmarks run the customer kernel's parts on real conditions.
  [[nodiscard]] const StepContext& context() const noexcept;
  /// Customers per brand right now.
  [[nodiscard]] const std::vector<std::int64_t>& customer_base() const noexcept;
  /// Employees per brand.
  [[nodiscard]] std::vector<std::int64_t> employees() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cxsim
