// xehil-agent: serves xehil.lab.Agent (proto/lab.proto) on a test machine.
// See agent_service.h for the service and server.h for the transport rules.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tools/agent/agent_backend.h"
#include "tools/agent/agent_service.h"
#include "tools/agent/auth.h"
#include "tools/agent/byte_size.h"
#include "tools/agent/server.h"
#include "tools/agent/structured_log.h"
#include "common/flags.h"

using xehil::agent::ByteSize;

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to serve on; port 0 lets the kernel choose. Addresses "
          "other than loopback need TLS and caller authentication.");
ABSL_FLAG(std::string, backend, "sim", "sim or xe");
ABSL_FLAG(std::string, device_profile, "dg2-16g",
          "simulated device (sim): dg2-16g, bmg-12g, lnl-igpu");
ABSL_FLAG(std::string, xe_path, "",
          "xe render node (xe and xe-vram pressure); empty: the first one");
ABSL_FLAG(std::string, tls_cert, "", "PEM server certificate");
ABSL_FLAG(std::string, tls_key, "", "PEM server private key");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA: require client certificates signed by it");
ABSL_FLAG(std::string, token_file, "",
          "bearer tokens, one \"TOKEN ROLE\" per line (admin or read)");
// A string, not absl::Duration: Abseil's flag storage for Duration uses a
// fence that GCC's TSan refuses to compile.
ABSL_FLAG(std::string, max_ttl, "10m", "longest lease TTL (e.g. 90s, 10m)");
ABSL_FLAG(int, max_leases, 16, "most leases held at once");
ABSL_FLAG(ByteSize, max_sim_bytes, ByteSize{0},
          "cap on sim pressure held at once (0: none)");
ABSL_FLAG(ByteSize, max_sysmem_bytes, ByteSize{uint64_t{4} << 30},
          "cap on locked system memory held at once");
ABSL_FLAG(ByteSize, max_xe_vram_bytes, ByteSize{0},
          "cap on VRAM pressure held at once (0: none)");
ABSL_FLAG(ByteSize, sysmem_floor, ByteSize{uint64_t{2} << 30},
          "MemAvailable that sysmem pressure never takes");

namespace {

constexpr char kUsage[] =
    "usage: xehil-agent [flags]\n"
    "\n"
    "Serves xehil.lab.Agent: device info, memory-pressure leases (sim,\n"
    "sysmem, xe-vram), scenario runs and watch events. Prints\n"
    "\"listening on HOST:PORT\" first on stdout; logs every lease as a JSON\n"
    "line on stderr; SIGTERM/SIGINT release every lease and exit 0.\n"
    "\n"
    "  --listen=HOST:PORT       default 127.0.0.1:50051 (port 0: any)\n"
    "  --backend=sim|xe         default sim\n"
    "  --device-profile=NAME    sim device: dg2-16g, bmg-12g, lnl-igpu\n"
    "  --xe-path=PATH           xe render node (default: the first)\n"
    "  --tls-cert=PEM --tls-key=PEM\n"
    "                           serve TLS (required off loopback)\n"
    "  --tls-client-ca=PEM      require client certificates from this CA\n"
    "  --token-file=PATH        \"TOKEN ROLE\" lines; role admin or read\n"
    "  --max-ttl=10m            longest lease TTL\n"
    "  --max-leases=16          most leases at once\n"
    "  --max-sim-bytes=0        caps on bytes held per provider (0: none)\n"
    "  --max-sysmem-bytes=4G\n"
    "  --max-xe-vram-bytes=0\n"
    "  --sysmem-floor=2G        MemAvailable never taken by sysmem pressure\n";

// Blocks SIGINT and SIGTERM in this thread, before any other exists, so that
// every thread inherits the mask and only sigwait() below receives them.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

void Fail(const std::string& message) {
  std::fprintf(stderr, "xehil-agent: %s\n", message.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const sigset_t signals = BlockShutdownSignals();
  std::vector<std::string> args = xehil::ParseFlagsOrExit(argc, argv, kUsage);
  if (!args.empty()) {
    xehil::UsageError(absl::StrCat("unexpected argument '", args[0], "'"),
                      kUsage);
  }
  namespace agent = xehil::agent;

  agent::ServerOptions server_options;
  server_options.listen = absl::GetFlag(FLAGS_listen);
  server_options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  server_options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  server_options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  const std::string token_file = absl::GetFlag(FLAGS_token_file);
  server_options.token_auth = !token_file.empty();
  if (absl::Status s = agent::CheckTransportPolicy(server_options); !s.ok()) {
    xehil::UsageError(s.message(), kUsage);
  }
  absl::Duration max_ttl;
  if (!absl::ParseDuration(absl::GetFlag(FLAGS_max_ttl), &max_ttl) ||
      max_ttl <= absl::ZeroDuration() || absl::GetFlag(FLAGS_max_leases) <= 0) {
    xehil::UsageError(
        "--max-ttl (a duration such as 10m) and --max-leases must be above "
        "zero",
        kUsage);
  }

  agent::Authorizer auth = agent::Authorizer::AllowAll();
  if (!token_file.empty()) {
    absl::StatusOr<agent::Authorizer> tokens =
        agent::Authorizer::FromTokenFile(token_file);
    if (!tokens.ok()) {
      Fail(std::string(tokens.status().message()));
      return 1;
    }
    auth = *std::move(tokens);
  }

  agent::BackendOptions backend_options;
  backend_options.backend = absl::GetFlag(FLAGS_backend);
  backend_options.device_profile = absl::GetFlag(FLAGS_device_profile);
  backend_options.xe_path = absl::GetFlag(FLAGS_xe_path);
  backend_options.sysmem.floor_bytes = absl::GetFlag(FLAGS_sysmem_floor).bytes;
  backend_options.sysmem.max_bytes =
      absl::GetFlag(FLAGS_max_sysmem_bytes).bytes;
  absl::StatusOr<std::unique_ptr<agent::AgentBackend>> backend =
      agent::AgentBackend::Create(backend_options);
  if (!backend.ok()) {
    xehil::UsageError(backend.status().message(), kUsage);
  }

  agent::AgentServiceOptions service_options;
  service_options.limits.max_ttl = max_ttl;
  service_options.limits.max_leases =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_leases));
  service_options.limits.max_bytes = {
      {"sim", absl::GetFlag(FLAGS_max_sim_bytes).bytes},
      {"sysmem", absl::GetFlag(FLAGS_max_sysmem_bytes).bytes},
      {"xe-vram", absl::GetFlag(FLAGS_max_xe_vram_bytes).bytes},
  };
  agent::AgentService service(*std::move(backend), std::move(auth),
                              service_options);
  absl::StatusOr<agent::RunningServer> server =
      agent::StartAgentServer(service, server_options);
  if (!server.ok()) {
    Fail(std::string(server.status().message()));
    return 1;
  }
  std::printf("listening on %s\n", server->address.c_str());
  std::fflush(stdout);
  agent::WriteLogLine(agent::JsonLine("agent")
                          .Add("event", "started")
                          .Add("address", server->address)
                          .Add("backend", service.backend().name())
                          .Add("device", service.backend().device_description())
                          .Add("tls", !server_options.tls_cert_file.empty())
                          .Add("tokens", server_options.token_auth)
                          .Build());

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  agent::WriteLogLine(
      agent::JsonLine("agent")
          .Add("event", "stopping")
          .Add("signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM")
          .Build());
  // Leases first: whatever happens next, the memory is back.
  service.BeginShutdown();
  // Calls still in flight get half a second to answer; then idle client
  // connections, which would otherwise hold Shutdown, are cut.
  server->server->Shutdown(std::chrono::system_clock::now() +
                           std::chrono::milliseconds(500));
  service.WaitStreamsDone();
  agent::WriteLogLine(agent::JsonLine("agent").Add("event", "stopped").Build());
  return 0;
}
