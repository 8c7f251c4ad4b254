// The lab inventory: which hosts run an xehil-agent, how to reach them and
// how they are labelled. A text-format xehil.lab.Inventory
// (proto/lab_controller.proto):
//
//   # lab.textproto
//   default_credentials { token_file: "tokens/admin" }
//   hosts { name: "dg2-a" address: "10.0.0.5:50051" labels: "gpu=xe" }
//   hosts { name: "sim-1" address: "127.0.0.1:50051" labels: "sim" }
//
//   absl::StatusOr<lab::Inventory> inventory = LoadInventory("lab.textproto");
//   // INVALID_ARGUMENT "lab.textproto:4:9: duplicate host name 'dg2-a' (first
//   // at line 3)"; NOT_FOUND when the file cannot be read.
//
// Rules checked on load, each error naming file:line:col:
//  - host names are unique, non-empty, made of letters, digits and "-_.:"
//    (so that selectors can name them);
//  - addresses are HOST:PORT or [IPv6]:PORT with a port in 1..65535;
//  - labels are "key" or "key=value", keys made of the same characters;
//  - credential paths (token_file, tls_*) are resolved against the
//    inventory file's directory unless absolute, and must be readable; a
//    token file must hold a token; tls_cert and tls_key come together and
//    need tls_ca.
// The returned Inventory has every path made absolute (or inventory-dir
// relative when the inventory path itself is relative).
#ifndef XEHIL_TOOLS_LAB_INVENTORY_H_
#define XEHIL_TOOLS_LAB_INVENTORY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/lab_controller.pb.h"

namespace xehil::lab {

// Reads, parses and validates the inventory at `path`.
absl::StatusOr<Inventory> LoadInventory(const std::string& path);

// Parses and validates `text`; `source` prefixes errors and `base_dir`
// resolves relative credential paths ("" = the current directory).
absl::StatusOr<Inventory> ParseInventoryText(absl::string_view text,
                                             absl::string_view source,
                                             const std::string& base_dir);

// The credentials in force for `host`: its own when it has any, else the
// inventory's defaults.
const Credentials& CredentialsFor(const Inventory& inventory, const Host& host);

// True for names and label keys selectors can use: [A-Za-z0-9_.:-]+.
bool IsValidName(absl::string_view name);

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_INVENTORY_H_
