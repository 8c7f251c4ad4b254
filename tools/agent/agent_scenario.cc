// AgentService::RunScenario: a scenario on the agent's backend, its progress
// streamed while it runs, its report last.
#include <deque>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/scenario/run_environment.h"
#include "core/scenario/runner.h"
#include "environment/registry.h"
#include "tools/agent/agent_events.h"
#include "tools/agent/agent_service.h"

namespace xehil::agent {
namespace {

// Scenario pressure taken through the agent's lease table, so the caps
// apply to it, GetInfo lists it and shutdown releases it.
class TableInjector : public PressureInjector {
 public:
  TableInjector(LeaseTable* table, AgentBackend* backend, std::string provider,
                std::string holder)
      : table_(table),
        backend_(backend),
        provider_(std::move(provider)),
        holder_(std::move(holder)) {}

  std::string Name() const override { return provider_; }
  absl::Status CheckAvailable() const override {
    return backend_->Provider(provider_).status();
  }
  absl::StatusOr<std::unique_ptr<PressureLease>> Acquire(
      const PressureSpec& spec) override {
    XEHIL_RETURN_IF_ERROR(ValidatePressureSpec(spec));
    LeaseRequest request;
    request.provider = provider_;
    request.region_instance = spec.region_instance;
    request.bytes = spec.bytes;
    // The run cannot renew: the longest TTL the agent allows.
    request.ttl = table_->limits().max_ttl;
    if (spec.ttl > absl::ZeroDuration() && spec.ttl < request.ttl) {
      request.ttl = spec.ttl;
    }
    request.holder = holder_;
    request.note = "scenario pressure step";
    XEHIL_ASSIGN_OR_RETURN(LeaseInfo info, table_->Acquire(request));
    return PressureLease::Create(info.description, info.bytes,
                                 std::make_unique<Holding>(table_, info.id),
                                 absl::ZeroDuration(), nullptr);
  }

 private:
  class Holding : public PressureHolding {
   public:
    Holding(LeaseTable* table, std::string id)
        : table_(table), id_(std::move(id)) {}
    absl::Status Release() override {
      absl::Status status = table_->Release(id_, "scenario").status();
      // Already ended by the table (TTL, shutdown): the memory is back.
      return absl::IsNotFound(status) ? absl::OkStatus() : status;
    }

   private:
    LeaseTable* const table_;
    const std::string id_;
  };

  LeaseTable* const table_;
  AgentBackend* const backend_;
  const std::string provider_;
  const std::string holder_;
};

lab::ScenarioProgress::Kind ToKind(Progress::Kind kind) {
  switch (kind) {
    case Progress::Kind::kSetup:
      return lab::ScenarioProgress::KIND_SETUP;
    case Progress::Kind::kStepStarted:
      return lab::ScenarioProgress::KIND_STEP_STARTED;
    case Progress::Kind::kStepFinished:
      return lab::ScenarioProgress::KIND_STEP_FINISHED;
    case Progress::Kind::kEvent:
      return lab::ScenarioProgress::KIND_EVENT;
    case Progress::Kind::kRestart:
      return lab::ScenarioProgress::KIND_RESTART;
    case Progress::Kind::kExpectation:
      return lab::ScenarioProgress::KIND_EXPECTATION;
    case Progress::Kind::kDone:
      return lab::ScenarioProgress::KIND_DONE;
  }
  return lab::ScenarioProgress::KIND_UNSPECIFIED;
}

// The live output of one run, handed from the runner's threads to the
// handler thread that writes the stream.
class ProgressQueue {
 public:
  void Push(lab::RunScenarioUpdate update) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(update));
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  // Waits for updates; empty once closed and drained.
  std::deque<lab::RunScenarioUpdate> Take() {
    auto ready = [this] {
      mu_.AssertReaderHeld();
      return closed_ || !queue_.empty();
    };
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&ready));
    std::deque<lab::RunScenarioUpdate> out;
    out.swap(queue_);
    return out;
  }

 private:
  absl::Mutex mu_;
  std::deque<lab::RunScenarioUpdate> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::Status AgentService::RunScenario(
    grpc::ServerContext* context, const lab::RunScenarioRequest* request,
    grpc::ServerWriter<lab::RunScenarioUpdate>* writer) {
  absl::StatusOr<Caller> caller = auth_.Check(*context, Access::kAdmin);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (shutting_down_) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "the agent is shutting down");
  }
  const Scenario& scenario = request->scenario();
  // Declared first, destroyed last: after run_mu_ is unlocked.
  RunEnvironment env;
  // Runs the scenario on `env`, streaming its progress, then its report.
  auto run = [&]() -> grpc::Status {
    ProgressQueue queue;
    RunOptions options;
    options.source = request->source().empty() ? "remote" : request->source();
    options.seed = request->seed();
    options.repeat_index = request->repeat_index();
    EventHub* hub = &events_;
    const std::string scenario_name = scenario.name();
    options.on_progress = [&queue, hub, scenario_name](const Progress& p) {
      lab::RunScenarioUpdate update;
      lab::ScenarioProgress* out = update.mutable_progress();
      out->set_kind(ToKind(p.kind));
      out->set_t_us(p.t_us);
      out->set_text(p.text);
      out->set_result(p.result);
      queue.Push(std::move(update));
      if (p.kind == Progress::Kind::kEvent) {
        hub->Publish(ToAgentEvent(p, scenario_name));
      }
    };
    absl::StatusOr<Report> report = absl::UnknownError("not run");
    std::thread runner([&] {
      report = xehil::RunScenario(scenario, env, options);
      queue.Close();
    });
    bool client_gone = false;
    for (;;) {
      std::deque<lab::RunScenarioUpdate> updates = queue.Take();
      if (updates.empty()) break;  // closed and drained
      for (const lab::RunScenarioUpdate& update : updates) {
        // A client that went away stops being written to; the run goes on
        // to its end (it cannot be cancelled) and its leases are released.
        if (!client_gone && !writer->Write(update)) client_gone = true;
      }
    }
    runner.join();
    if (!report.ok()) return ToGrpcStatus(report.status());
    lab::RunScenarioUpdate last;
    *last.mutable_report() = *std::move(report);
    if (!client_gone) writer->Write(last);
    return grpc::Status::OK;
  };
  if (request->isolated_device()) {
    if (backend_->name() != "sim") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "isolated_device needs the sim backend");
    }
    EnvironmentDefaults defaults;
    defaults.sim_profile = scenario.device_profile();
    absl::StatusOr<RunEnvironment> fresh = OpenEnvironment("sim", defaults);
    if (!fresh.ok()) {
      return ToGrpcStatus(absl::InvalidArgumentError(fresh.status().message()));
    }
    env = *std::move(fresh);
    return run();
  }
  if (!backend_->device_status().ok()) {
    return ToGrpcStatus(absl::FailedPreconditionError(absl::StrCat(
        "no device to run on: ", backend_->device_status().message())));
  }
  if (!run_mu_.TryLock()) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "another scenario is running on the agent's device "
                        "(one at a time; or use isolated_device)");
  }
  grpc::Status status = [&]() -> grpc::Status {
    absl::StatusOr<RunEnvironment> own = backend_->ScenarioEnvironment();
    if (!own.ok()) return ToGrpcStatus(own.status());
    env = *std::move(own);
    // Pressure goes through the lease table, so a controller's leases and
    // the scenario's share one account of the device's memory.
    auto table = std::make_shared<TableInjector>(
        &leases_, backend_.get(), backend_->name() == "sim" ? "sim" : "xe-vram",
        absl::StrCat(caller->identity, " scenario '", scenario.name(), "'"));
    env.pressure = table.get();
    env.owned.push_back(std::move(table));
    env.device_description = backend_->device_description();
    return run();
  }();
  run_mu_.Unlock();
  return status;
}

}  // namespace xehil::agent
