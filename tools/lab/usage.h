// xehil-lab's help texts and which flags each command takes (main.cc
// rejects a flag given to a command that ignores it).
#ifndef XEHIL_TOOLS_LAB_USAGE_H_
#define XEHIL_TOOLS_LAB_USAGE_H_

#include <string>
#include <vector>

namespace xehil::lab {

// The overview (`xehil-lab --help`).
std::string MainUsage();
// One command's text (`xehil-lab status --help`); the overview for an
// unknown command.
std::string CommandUsage(const std::string& command);
// Flags (underscored names) that `command` reads, beyond the common ones.
std::vector<std::string> CommandFlags(const std::string& command);
// Flags every command reads: inventory, hosts, parallel, attempts, deadline.
std::vector<std::string> CommonFlags();
// Every flag of xehil-lab.
std::vector<std::string> AllFlags();

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_USAGE_H_
