// Output helpers for xehil-lab: whole lines written under a lock (host
// threads and gRPC callbacks print at the same time), host-prefixed lines
// aligned on the longest name, and human-readable sizes.
//
//   LinePrinter out(std::cout, lab.name_width());
//   out.Host("dg2-a", "acquired lease-7f-1");   // "dg2-a  | acquired ..."
//   out.Line("2 hosts: 2 up");
#ifndef XEHIL_TOOLS_LAB_OUTPUT_H_
#define XEHIL_TOOLS_LAB_OUTPUT_H_

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace xehil::lab {

class LinePrinter {
 public:
  LinePrinter(std::ostream& out, size_t name_width)
      : out_(out), name_width_(name_width) {}

  // "NAME<pad> | text\n", flushed.
  void Host(absl::string_view host, absl::string_view text);
  // "text\n", flushed.
  void Line(absl::string_view text);

 private:
  absl::Mutex mu_;
  std::ostream& out_;  // written under mu_
  const size_t name_width_;
};

// 0, 512, 64K, 1.5M, 16G: binary units, one decimal unless exact.
std::string HumanBytes(uint64_t bytes);

// `text` cut to `width` characters, the cut marked with "...".
std::string Clip(absl::string_view text, size_t width);

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_OUTPUT_H_
