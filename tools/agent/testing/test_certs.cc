#include "tools/agent/testing/test_certs.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/testing/child_process.h"

namespace xehil::agent::testing {
namespace {

absl::Status Openssl(const std::vector<std::string>& args) {
  process_testing::CommandResult result =
      process_testing::RunCommand("openssl", args);
  if (result.exit_code != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("openssl ", absl::StrJoin(args, " "), " exited ",
                     result.exit_code, ": ", result.output));
  }
  return absl::OkStatus();
}

// A self-signed CA.
absl::Status MakeCa(const std::string& base, const std::string& name) {
  return Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                  base + ".key", "-out", base + ".pem", "-days", "2", "-subj",
                  "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
}

// A leaf certificate signed by the CA at `ca`, with extensions `ext`.
absl::Status MakeLeaf(const std::string& base, const std::string& ca,
                      const std::string& cn, const std::string& ext) {
  absl::Status s =
      Openssl({"req", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
               base + ".key", "-out", base + ".csr", "-subj", "/CN=" + cn});
  if (!s.ok()) return s;
  std::ofstream(base + ".ext") << ext << "\n";
  return Openssl({"x509", "-req", "-in", base + ".csr", "-CA", ca + ".pem",
                  "-CAkey", ca + ".key", "-set_serial", "2", "-days", "2",
                  "-out", base + ".pem", "-extfile", base + ".ext"});
}

}  // namespace

absl::StatusOr<TestPki> MakeTestPki(const std::string& dir) {
  const std::string ca = dir + "/ca";
  const std::string other_ca = dir + "/other_ca";
  TestPki pki;
  absl::Status s = MakeCa(ca, "xehil test CA");
  if (s.ok()) s = MakeCa(other_ca, "someone else's CA");
  if (s.ok()) {
    s = MakeLeaf(dir + "/server", ca, "localhost",
                 "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                 "extendedKeyUsage=serverAuth");
  }
  if (s.ok()) {
    s = MakeLeaf(dir + "/client", ca, "lab-controller",
                 "extendedKeyUsage=clientAuth");
  }
  if (s.ok()) {
    s = MakeLeaf(dir + "/other_client", other_ca, "intruder",
                 "extendedKeyUsage=clientAuth");
  }
  if (!s.ok()) return s;
  pki.ca_pem = ca + ".pem";
  pki.server_pem = dir + "/server.pem";
  pki.server_key = dir + "/server.key";
  pki.client_pem = dir + "/client.pem";
  pki.client_key = dir + "/client.key";
  pki.other_client_pem = dir + "/other_client.pem";
  pki.other_client_key = dir + "/other_client.key";
  return pki;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace xehil::agent::testing
