// Reading a whole small file (scenarios, scripts, inventories, keys) with
// errors that name the file and keep the errno.
//
//   XEHIL_ASSIGN_OR_RETURN(std::string text,
//                          ReadFileToString(path, "scenario"));
//   // NOT_FOUND "cannot open scenario /x/a.textproto: -ENOENT (...)"
#ifndef XEHIL_CORE_BASE_READ_FILE_H_
#define XEHIL_CORE_BASE_READ_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace xehil {

// The file's bytes; `what` names it in errors. A file longer than
// `max_bytes` is INVALID_ARGUMENT rather than read without bound (a text
// format mistaken for something huge, e.g. a device node).
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             absl::string_view what,
                                             size_t max_bytes = 64u << 20);

}  // namespace xehil

#endif  // XEHIL_CORE_BASE_READ_FILE_H_
