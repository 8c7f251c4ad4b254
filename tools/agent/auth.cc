#include "tools/agent/auth.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace xehil::agent {
namespace {

// Equal in a time that depends only on the secret's length, not on where
// the strings first differ.
bool ConstantTimeEquals(absl::string_view given, absl::string_view secret) {
  unsigned char diff = given.size() == secret.size() ? 0 : 1;
  for (size_t i = 0; i < secret.size(); ++i) {
    const unsigned char g =
        i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= g ^ static_cast<unsigned char>(secret[i]);
  }
  return diff == 0;
}

}  // namespace

const char* RoleName(Role role) {
  return role == Role::kAdmin ? "admin" : "read";
}

absl::StatusOr<Authorizer> Authorizer::FromTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read token file ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return FromTokenText(text.str(), path);
}

absl::StatusOr<Authorizer> Authorizer::FromTokenText(absl::string_view text,
                                                     absl::string_view source) {
  Authorizer auth;
  auth.uses_tokens_ = true;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto where = [&] { return absl::StrCat(source, ":", line_number, ": "); };
    if (fields.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "expected \"TOKEN ROLE\""));
    }
    Role role;
    if (fields[1] == "admin") {
      role = Role::kAdmin;
    } else if (fields[1] == "read") {
      role = Role::kRead;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "unknown role '", fields[1], "' (admin or read)"));
    }
    for (const Token& t : auth.tokens_) {
      if (t.secret == fields[0]) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(), "the same token as line ", t.line));
      }
    }
    auth.tokens_.push_back({std::string(fields[0]), role, line_number});
  }
  if (auth.tokens_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no tokens (lines \"TOKEN ROLE\")"));
  }
  return auth;
}

absl::StatusOr<Role> Authorizer::RoleFor(
    std::optional<absl::string_view> authorization, int* token_line) const {
  if (!uses_tokens_) return Role::kAdmin;
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(
        "this agent needs \"authorization: Bearer <token>\" metadata");
  }
  absl::string_view value = *authorization;
  if (!absl::ConsumePrefix(&value, "Bearer ")) {
    return absl::UnauthenticatedError(
        "the authorization metadata is not \"Bearer <token>\"");
  }
  value = absl::StripAsciiWhitespace(value);
  const Token* match = nullptr;
  for (const Token& t : tokens_) {  // no early exit: constant time
    if (ConstantTimeEquals(value, t.secret) && match == nullptr) match = &t;
  }
  if (match == nullptr) return absl::UnauthenticatedError("unknown token");
  if (token_line != nullptr) *token_line = match->line;
  return match->role;
}

absl::StatusOr<Caller> Authorizer::Check(const grpc::ServerContextBase& context,
                                         Access needed) const {
  std::optional<absl::string_view> authorization;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it != metadata.end()) {
    authorization = absl::string_view(it->second.data(), it->second.size());
  }
  int line = 0;
  absl::StatusOr<Role> role = RoleFor(authorization, &line);
  if (!role.ok()) return role.status();
  if (needed == Access::kAdmin && *role != Role::kAdmin) {
    return absl::PermissionDeniedError(
        "this call needs an admin token; the token given has the read role");
  }
  Caller caller;
  caller.role = *role;
  caller.identity = context.peer();
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr) {
    for (const grpc::string_ref& cn :
         auth->FindPropertyValues("x509_common_name")) {
      absl::StrAppend(&caller.identity,
                      " cn=", absl::string_view(cn.data(), cn.size()));
    }
  }
  if (line > 0) absl::StrAppend(&caller.identity, " token#", line);
  absl::StrAppend(&caller.identity, " (", RoleName(caller.role), ")");
  return caller;
}

}  // namespace xehil::agent
