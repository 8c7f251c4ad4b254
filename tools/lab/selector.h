// Host selectors: which inventory hosts a command acts on (--hosts=...).
//
//   SELECTOR  := TERM { "," TERM }     a host matching any term (OR)
//   TERM      := ATOM { "+" ATOM }     a host matching every atom (AND)
//   ATOM      := "all"                 every host
//              | NAME                  the host called NAME, and the hosts
//                                      with a label whose key is NAME
//              | KEY=VALUE             the hosts with the label KEY=VALUE
// NAME and VALUE may use the shell-style wildcards * and ? ("sim-*",
// "gpu=*"). Spaces around terms and atoms are ignored.
//
//   all                  every host
//   dg2-a,dg2-b          two hosts by name
//   gpu=xe               hosts labelled gpu=xe
//   gpu=xe+rack=b,sim-1  (gpu=xe AND rack=b) OR sim-1
//   sim                  hosts labelled "sim" (or "sim=..."), or named sim
//
//   absl::StatusOr<std::vector<int>> hosts = SelectHosts(inventory, "gpu=xe");
//   // indices into inventory.hosts(), in inventory order.
//
// INVALID_ARGUMENT, naming the selector, for a syntax error, for a plain
// NAME that is neither a host nor a label key in the inventory (a typo), and
// when nothing matches.
#ifndef XEHIL_TOOLS_LAB_SELECTOR_H_
#define XEHIL_TOOLS_LAB_SELECTOR_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/lab_controller.pb.h"

namespace xehil::lab {

absl::StatusOr<std::vector<int>> SelectHosts(const Inventory& inventory,
                                             absl::string_view selector);

// The grammar above, for --help texts.
extern const char kSelectorHelp[];

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_SELECTOR_H_
