#include "core/scenario/internal/totals.h"

#include "core/metrics/latency_histogram.h"

namespace xehil::scenario_internal {

RestartCounts SumRestarts(RunState& state, const std::string& file) {
  RestartCounts n;
  for (const auto& f : state.files) {
    if (f->engine == nullptr || (!file.empty() && f->name != file)) continue;
    const RecoveryEngine::Stats s = f->engine->counters();
    n.set_tried(n.tried() + s.restarts_tried);
    n.set_succeeded(n.succeeded() + s.restarts_succeeded);
    n.set_failed(n.failed() + s.restarts_failed);
    n.set_benign(n.benign() + s.restarts_benign);
    n.set_eagain_tries(n.eagain_tries() + s.eagain_tries);
    n.set_reconciles(n.reconciles() + s.reconciles);
    n.set_coalesced(n.coalesced() + s.coalesced);
    n.set_reported(n.reported() + s.reported);
    n.set_given_up(n.given_up() + s.given_up);
  }
  return n;
}

LatencySummary MergeLatency(RunState& state, const std::string& file) {
  LatencyHistogram merged;
  for (const auto& f : state.files) {
    if (f->engine == nullptr || (!file.empty() && f->name != file)) continue;
    f->engine->MergeLatencyInto(merged);
  }
  const LatencyHistogram::Summary s = merged.Summarize();
  LatencySummary l;
  if (s.count == 0) return l;
  l.set_count(s.count);
  l.set_p50_us(s.p50_ns / 1000.0);
  l.set_p90_us(s.p90_ns / 1000.0);
  l.set_p99_us(s.p99_ns / 1000.0);
  l.set_max_us(s.max_ns / 1000.0);
  return l;
}

}  // namespace xehil::scenario_internal
