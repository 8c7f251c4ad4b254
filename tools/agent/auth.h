// Authorization for the agent's RPCs: bearer tokens with roles, on top of
// whatever the transport authenticated (loopback, or mutual TLS whose client
// certificate gRPC verified during the handshake).
//
// A token file has one "TOKEN ROLE" pair per line; ROLE is "admin" (every
// RPC) or "read" (GetInfo and WatchEvents). Blank lines and lines starting
// with '#' are ignored. Clients send "authorization: Bearer TOKEN".
//
//   XEHIL_ASSIGN_OR_RETURN(Authorizer auth,
//                          Authorizer::FromTokenFile("/etc/xehil/tokens"));
//   absl::StatusOr<Caller> caller = auth.Check(*context, Access::kAdmin);
//   if (!caller.ok()) return ToGrpcStatus(caller.status());
//   // UNAUTHENTICATED: no or unknown token; PERMISSION_DENIED: read token.
//
// Without a token file (Authorizer::AllowAll) every caller that reached the
// server is an admin: the server then listens on loopback only, or requires
// verified client certificates. Tokens are compared in constant time and
// never logged. Thread-safe (immutable after construction).
#ifndef XEHIL_TOOLS_AGENT_AUTH_H_
#define XEHIL_TOOLS_AGENT_AUTH_H_

#include <grpcpp/server_context.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace xehil::agent {

enum class Role { kRead, kAdmin };
// What an RPC needs.
enum class Access { kRead, kAdmin };

// "read" / "admin".
const char* RoleName(Role role);

struct Caller {
  Role role = Role::kRead;
  // For logs: the peer address, the client certificate's common name (with
  // mTLS) and which token line matched ("token#2"), never the token.
  std::string identity;
};

class Authorizer {
 public:
  static Authorizer AllowAll() { return Authorizer(); }
  // NOT_FOUND / PERMISSION_DENIED when unreadable; INVALID_ARGUMENT naming
  // file:line for a malformed line, an unknown role or a duplicate token;
  // INVALID_ARGUMENT when it holds no token at all.
  static absl::StatusOr<Authorizer> FromTokenFile(const std::string& path);
  static absl::StatusOr<Authorizer> FromTokenText(absl::string_view text,
                                                  absl::string_view source);

  bool uses_tokens() const { return uses_tokens_; }

  // The role of an "authorization" metadata value (nullopt: none sent).
  // UNAUTHENTICATED when a token is required and missing or unknown.
  absl::StatusOr<Role> RoleFor(std::optional<absl::string_view> authorization,
                               int* token_line = nullptr) const;

  // RoleFor on the call's metadata, then the access check
  // (PERMISSION_DENIED when a read token asks for admin).
  absl::StatusOr<Caller> Check(const grpc::ServerContextBase& context,
                               Access needed) const;

 private:
  struct Token {
    std::string secret;
    Role role;
    int line;
  };
  Authorizer() = default;

  bool uses_tokens_ = false;
  std::vector<Token> tokens_;
};

}  // namespace xehil::agent

#endif  // XEHIL_TOOLS_AGENT_AUTH_H_
