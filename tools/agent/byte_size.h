// ByteSize: a byte count as an Abseil flag type, written the way people
// write sizes: "1073741824", "512K", "64M", "64MiB", "2G", "1T" (binary
// units; B/iB suffixes optional).
//
//   ABSL_FLAG(xehil::agent::ByteSize, sysmem_floor,
//             xehil::agent::ByteSize{1ull << 30}, "...");
//   uint64_t floor = absl::GetFlag(FLAGS_sysmem_floor).bytes;
#ifndef XEHIL_TOOLS_AGENT_BYTE_SIZE_H_
#define XEHIL_TOOLS_AGENT_BYTE_SIZE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace xehil::agent {

struct ByteSize {
  uint64_t bytes = 0;
};

// nullopt for anything else (negative, fractional, overflowing, unknown unit).
std::optional<uint64_t> ParseByteSize(absl::string_view text);

// "64M" when exact in a unit, else the plain number.
std::string FormatByteSize(uint64_t bytes);

// Abseil flag hooks (found by ADL).
bool AbslParseFlag(absl::string_view text, ByteSize* out, std::string* error);
std::string AbslUnparseFlag(ByteSize size);

}  // namespace xehil::agent

#endif  // XEHIL_TOOLS_AGENT_BYTE_SIZE_H_
