// lease_holder: a minimal controller for tests. It opens a HoldLeases stream
// to an agent, takes `bytes` of sim pressure on region 1 bound to that
// stream, prints "held <lease id>" and keeps the stream open until the agent
// ends it. Tests SIGKILL it to check that the agent releases the lease.
//
//   lease_holder ADDRESS BYTES [TOKEN]
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "proto/lab.grpc.pb.h"

namespace {

void AddToken(grpc::ClientContext* context, const char* token) {
  if (token != nullptr) {
    context->AddMetadata("authorization", std::string("Bearer ") + token);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: lease_holder ADDRESS BYTES [TOKEN]\n");
    return 2;
  }
  const char* token = argc > 3 ? argv[3] : nullptr;
  auto stub = xehil::lab::Agent::NewStub(
      grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials()));
  grpc::ClientContext hold_context;
  AddToken(&hold_context, token);
  auto hold = stub->HoldLeases(&hold_context, {});
  xehil::lab::HoldLeasesUpdate first;
  if (!hold->Read(&first)) {
    std::fprintf(stderr, "error: HoldLeases: %s\n",
                 hold->Finish().error_message().c_str());
    return 1;
  }
  xehil::lab::AcquirePressureRequest request;
  request.set_provider("sim");
  request.set_region_instance(1);
  request.set_bytes(std::strtoll(argv[2], nullptr, 10));
  request.set_ttl_ms(60000);
  request.set_bind_to_stream(first.session_id());
  request.set_note("lease_holder");
  grpc::ClientContext acquire_context;
  AddToken(&acquire_context, token);
  acquire_context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(20));
  xehil::lab::Lease lease;
  grpc::Status status =
      stub->AcquirePressure(&acquire_context, request, &lease);
  if (!status.ok()) {
    std::fprintf(stderr, "error: AcquirePressure: %s\n",
                 status.error_message().c_str());
    return 1;
  }
  std::printf("held %s\n", lease.lease_id().c_str());
  std::fflush(stdout);
  xehil::lab::HoldLeasesUpdate update;
  while (hold->Read(&update)) {
  }
  return hold->Finish().ok() ? 0 : 1;
}
