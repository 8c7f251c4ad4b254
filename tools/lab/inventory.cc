#include "tools/lab/inventory.h"

#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/base/errno_status.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "tools/lab/files.h"

namespace xehil::lab {
namespace {

using google::protobuf::TextFormat;

// Parser messages as "source:LINE:COL: message" (1-based).
class Collector : public google::protobuf::io::ErrorCollector {
 public:
  explicit Collector(absl::string_view source) : source_(source) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors_.push_back(line < 0 ? absl::StrCat(source_, ": ", message)
                               : absl::StrCat(source_, ":", line + 1, ":",
                                              column + 1, ": ", message));
  }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::string source_;
  std::vector<std::string> errors_;
};

// Validation with positions from the parser's location tree.
class Checker {
 public:
  Checker(absl::string_view source, std::string base_dir,
          const TextFormat::ParseInfoTree& tree)
      : source_(source), base_dir_(std::move(base_dir)), tree_(tree) {}

  absl::Status Check(Inventory& inventory) {
    const auto* hosts_field = Inventory::descriptor()->FindFieldByName("hosts");
    std::map<std::string, int> first_line;
    for (int i = 0; i < inventory.hosts_size(); ++i) {
      Host& host = *inventory.mutable_hosts(i);
      const TextFormat::ParseInfoTree* at =
          tree_.GetTreeForNested(hosts_field, i);
      const std::string where = Where(tree_, hosts_field, i);
      if (host.name().empty()) {
        return Error(where, absl::StrCat("hosts[", i, "] has no name"));
      }
      const std::string name_at = Where(at, "name");
      if (!IsValidName(host.name())) {
        return Error(name_at, absl::StrCat("host name '", host.name(),
                                           "': use letters, digits and -_.:"));
      }
      const int line = Line(at, "name");
      auto [it, added] = first_line.emplace(host.name(), line);
      if (!added) {
        return Error(name_at,
                     absl::StrCat("duplicate host name '", host.name(),
                                  "' (first at line ", it->second, ")"));
      }
      XEHIL_RETURN_IF_ERROR(CheckAddress(host, Where(at, "address"), where));
      for (int l = 0; l < host.labels_size(); ++l) {
        XEHIL_RETURN_IF_ERROR(
            CheckLabel(host.labels(l), Where(at, "labels", l), host.name()));
      }
      if (host.has_credentials()) {
        XEHIL_RETURN_IF_ERROR(CheckCredentials(
            *host.mutable_credentials(), Where(at, "credentials"),
            absl::StrCat("host '", host.name(), "' credentials")));
      }
    }
    if (inventory.has_default_credentials()) {
      XEHIL_RETURN_IF_ERROR(CheckCredentials(
          *inventory.mutable_default_credentials(),
          Where(&tree_, "default_credentials"), "default_credentials"));
    }
    return absl::OkStatus();
  }

 private:
  static const google::protobuf::FieldDescriptor* Field(
      const google::protobuf::Descriptor* d, absl::string_view name) {
    return d->FindFieldByName(std::string(name));
  }

  std::string Where(const TextFormat::ParseInfoTree& tree,
                    const google::protobuf::FieldDescriptor* field,
                    int index) const {
    const google::protobuf::TextFormat::ParseLocation loc =
        tree.GetLocation(field, index);
    if (loc.line < 0) return std::string(source_);
    return absl::StrCat(source_, ":", loc.line + 1, ":", loc.column + 1);
  }
  // Field `name` of the message `tree` describes: a Host or the Inventory
  // (their field names differ, so the name alone finds the field).
  std::string Where(const TextFormat::ParseInfoTree* tree,
                    absl::string_view name, int index = -1) const {
    const google::protobuf::FieldDescriptor* field = Lookup(name);
    if (tree == nullptr || field == nullptr) return std::string(source_);
    return Where(*tree, field, index);
  }
  int Line(const TextFormat::ParseInfoTree* tree,
           absl::string_view name) const {
    if (tree == nullptr) return 0;
    return tree->GetLocation(Lookup(name), -1).line + 1;
  }
  static const google::protobuf::FieldDescriptor* Lookup(
      absl::string_view name) {
    for (const google::protobuf::Descriptor* d :
         {Host::descriptor(), Inventory::descriptor()}) {
      if (const auto* f = Field(d, name)) return f;
    }
    return nullptr;
  }

  absl::Status Error(const std::string& where, absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
  }

  absl::Status CheckAddress(const Host& host, const std::string& where,
                            const std::string& host_where) {
    const std::string& address = host.address();
    if (address.empty()) {
      return Error(host_where,
                   absl::StrCat("host '", host.name(), "' has no address"));
    }
    absl::string_view name = address;
    absl::string_view port;
    if (!name.empty() && name.front() == '[') {
      const size_t close = name.find("]:");
      if (close == absl::string_view::npos) {
        return Error(where, absl::StrCat("address '", address,
                                         "': expected [IPv6]:PORT"));
      }
      port = name.substr(close + 2);
      name = name.substr(1, close - 1);
    } else {
      const size_t colon = name.rfind(':');
      if (colon == absl::string_view::npos || name.find(':') != colon) {
        return Error(
            where, absl::StrCat("address '", address, "': expected HOST:PORT"));
      }
      port = name.substr(colon + 1);
      name = name.substr(0, colon);
    }
    int number = 0;
    if (name.empty() || !absl::SimpleAtoi(port, &number) || number < 1 ||
        number > 65535) {
      return Error(where,
                   absl::StrCat("address '", address,
                                "': expected HOST:PORT with a port 1..65535"));
    }
    return absl::OkStatus();
  }

  absl::Status CheckLabel(const std::string& label, const std::string& where,
                          const std::string& host) {
    std::vector<absl::string_view> kv =
        absl::StrSplit(label, absl::MaxSplits('=', 1));
    if (!IsValidName(kv[0]) ||
        (kv.size() == 2 && !kv[1].empty() && !IsValidName(kv[1]))) {
      return Error(where, absl::StrCat("host '", host, "' label '", label,
                                       "': expected key or key=value, made "
                                       "of letters, digits and -_.:"));
    }
    return absl::OkStatus();
  }

  absl::Status ResolvePath(std::string* path, const std::string& where,
                           absl::string_view what) {
    if (path->empty()) return absl::OkStatus();
    if (path->front() != '/' && !base_dir_.empty()) {
      *path = base_dir_ == "/" ? absl::StrCat("/", *path)
                               : absl::StrCat(base_dir_, "/", *path);
    }
    // Read now, so that a typo is reported before any host is contacted.
    absl::StatusOr<std::string> text = what == "token file"
                                           ? ReadTokenFile(*path)
                                           : ReadFileToString(*path, what);
    if (!text.ok()) return Error(where, text.status().message());
    return absl::OkStatus();
  }

  absl::Status CheckCredentials(Credentials& c, const std::string& where,
                                absl::string_view what) {
    XEHIL_RETURN_IF_ERROR(
        ResolvePath(c.mutable_token_file(), where, "token file"));
    XEHIL_RETURN_IF_ERROR(ResolvePath(c.mutable_tls_ca(), where, "TLS CA"));
    XEHIL_RETURN_IF_ERROR(
        ResolvePath(c.mutable_tls_cert(), where, "TLS certificate"));
    XEHIL_RETURN_IF_ERROR(ResolvePath(c.mutable_tls_key(), where, "TLS key"));
    if (c.tls_cert().empty() != c.tls_key().empty()) {
      return Error(where, absl::StrCat(what,
                                       ": tls_cert and tls_key go "
                                       "together"));
    }
    if ((!c.tls_cert().empty() || !c.tls_server_name().empty()) &&
        c.tls_ca().empty()) {
      return Error(where,
                   absl::StrCat(what,
                                ": TLS settings need tls_ca (the CA "
                                "that signed the agents' certificates)"));
    }
    return absl::OkStatus();
  }

  const absl::string_view source_;
  const std::string base_dir_;
  const TextFormat::ParseInfoTree& tree_;
};

}  // namespace

bool IsValidName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '_' && c != '.' && c != ':') {
      return false;
    }
  }
  return true;
}

const Credentials& CredentialsFor(const Inventory& inventory,
                                  const Host& host) {
  return host.has_credentials() ? host.credentials()
                                : inventory.default_credentials();
}

absl::StatusOr<Inventory> ParseInventoryText(absl::string_view text,
                                             absl::string_view source,
                                             const std::string& base_dir) {
  Collector collector(source);
  TextFormat::ParseInfoTree tree;
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(&tree);
  Inventory inventory;
  if (!parser.ParseFromString(std::string(text), &inventory)) {
    if (collector.errors().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": not a text-format xehil.lab.Inventory"));
    }
    return absl::InvalidArgumentError(absl::StrJoin(collector.errors(), "\n"));
  }
  if (inventory.hosts_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no hosts { name: ... address: ... } in it"));
  }
  Checker checker(source, base_dir, tree);
  XEHIL_RETURN_IF_ERROR(checker.Check(inventory));
  return inventory;
}

absl::StatusOr<Inventory> LoadInventory(const std::string& path) {
  XEHIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, "inventory"));
  const size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  if (slash == 0) dir = "/";
  return ParseInventoryText(text, path, dir);
}

}  // namespace xehil::lab
