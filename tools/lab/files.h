// Small file helpers shared by the inventory, the connections and the
// report flags: whole files in, whole files out, errors that name the file.
//
//   XEHIL_ASSIGN_OR_RETURN(std::string pem, ReadFileToString(path, "TLS CA"));
//   // NOT_FOUND "cannot open TLS CA /x/ca.pem: ENOENT (No such file...)"
#ifndef XEHIL_TOOLS_LAB_FILES_H_
#define XEHIL_TOOLS_LAB_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/base/read_file.h"  // ReadFileToString, used with these

namespace xehil::lab {

// The first line of a token file, surrounding space trimmed;
// INVALID_ARGUMENT when that is empty.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// Writes `text` to `path` (truncating); errors name the path.
absl::Status WriteStringToFile(const std::string& path, absl::string_view text);

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_FILES_H_
