// LabHosts: what every xehil-lab command starts from — the inventory, the
// hosts its --hosts selector picked (with a connection each), the fan-out
// settings and the per-RPC deadlines.
//
//   LabOptions options;
//   options.inventory_path = "lab.textproto";
//   options.selector = "gpu=xe";
//   absl::StatusOr<std::unique_ptr<LabHosts>> lab = LabHosts::Open(options);
//   if (!lab.ok()) return Usage(lab.status());   // input errors: exit 2
//   AgentInfo info;
//   int attempts = 0;
//   absl::Status s = (*lab)->Call(0, &Agent::Stub::GetInfo, GetInfoRequest(),
//                                 &info, &attempts);
#ifndef XEHIL_TOOLS_LAB_LAB_HOSTS_H_
#define XEHIL_TOOLS_LAB_LAB_HOSTS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/lab.grpc.pb.h"
#include "proto/lab_controller.pb.h"
#include "tools/lab/connection.h"
#include "tools/lab/fanout.h"

namespace xehil::lab {

inline constexpr absl::Duration kDefaultRpcDeadline = absl::Seconds(5);
inline constexpr absl::Duration kDefaultRunDeadline = absl::Minutes(10);

struct LabOptions {
  std::string inventory_path;
  std::string selector = "all";
  int parallel = 32;
  int attempts = 3;
  // Zero: the inventory's info_deadline_ms / run_deadline_ms, else the
  // defaults above.
  absl::Duration rpc_deadline = absl::ZeroDuration();
  absl::Duration run_deadline = absl::ZeroDuration();
  // Backoff between UNAVAILABLE retries (tests shorten it).
  absl::Duration initial_backoff = absl::Milliseconds(250);
};

class LabHosts {
 public:
  // INVALID_ARGUMENT / NOT_FOUND for a bad inventory, selector or
  // credential file (usage errors); nothing is contacted yet.
  static absl::StatusOr<std::unique_ptr<LabHosts>> Open(
      const LabOptions& options);

  const Inventory& inventory() const { return inventory_; }
  const std::string& inventory_path() const { return options_.inventory_path; }
  const std::string& selector() const { return options_.selector; }
  size_t size() const { return hosts_.size(); }
  HostConnection& host(size_t i) { return *hosts_[i]; }
  const FanoutOptions& fanout() const { return fanout_; }
  absl::Duration rpc_deadline() const { return rpc_deadline_; }
  absl::Duration run_deadline() const { return run_deadline_; }
  // The longest selected host name, for aligned output.
  size_t name_width() const { return name_width_; }

  // One unary RPC on host `i` with the RPC deadline and UNAVAILABLE retries.
  template <typename Request, typename Response, typename Method>
  absl::Status Call(size_t i, Method method, const Request& request,
                    Response* response, int* attempts = nullptr) {
    HostConnection& conn = *hosts_[i];
    return CallWithRetries(
        fanout_.retry,
        [&](int) {
          std::unique_ptr<grpc::ClientContext> context =
              conn.NewContext(rpc_deadline_);
          return FromGrpc(
              (conn.stub().*method)(context.get(), request, response));
        },
        attempts);
  }

 private:
  LabHosts() = default;

  LabOptions options_;
  Inventory inventory_;
  std::vector<std::unique_ptr<HostConnection>> hosts_;
  FanoutOptions fanout_;
  absl::Duration rpc_deadline_ = kDefaultRpcDeadline;
  absl::Duration run_deadline_ = kDefaultRunDeadline;
  size_t name_width_ = 4;
};

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_LAB_HOSTS_H_
