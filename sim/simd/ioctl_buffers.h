// Where the simulator's ioctl decoder (sim/ioctl_decode.h) follows a user
// pointer inside an ioctl argument, and how many bytes it may touch there.
// The daemon points exactly these fields at memory of its own (a shipped
// wire Buffer of at least that size) or at nothing, so a client can never
// make it dereference an address from another process:
//  - DEVICE_QUERY `data`: `size` bytes (out);
//  - EXEC_QUEUE_CREATE `instances`: width * num_placements engines (in);
//  - VM_BIND `vector_of_binds` when num_binds > 1: num_binds ops (in);
//  - VERSION `name`, `date`, `desc`: their `*_len` bytes (out).
// Every other pointer-sized field of the supported ioctls is either checked
// to be zero (extensions) or never dereferenced (syncs, userptr addresses).
//
//   for (const PointerField& field : PointerFields(request, arg.data(),
//                                                  arg.size())) { ... }
#ifndef XEHIL_SIM_SIMD_IOCTL_BUFFERS_H_
#define XEHIL_SIM_SIMD_IOCTL_BUFFERS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace xehil::simd {

struct PointerField {
  uint32_t offset = 0;  // of the u64 pointer in the argument
  uint64_t bytes = 0;   // the decoder may read or write this many
  // >= 0: the offset of a u64 length that caps what the decoder copies
  // (VERSION strings: min(length, strlen) bytes). A shorter buffer is then
  // still usable by lowering that length to the buffer's size; clients cap
  // these buffers (the strings are short) and the reported length is
  // overwritten with the full one anyway.
  int32_t length_offset = -1;
  // The decoder writes the memory (query data, version strings) rather than
  // reading it.
  bool out = false;
};

// The pointer fields of `request` given its argument bytes (`size` must be
// _IOC_SIZE(request); anything else gives no fields). Empty for requests
// without pointers and for unknown requests.
std::vector<PointerField> PointerFields(uint64_t request, const uint8_t* arg,
                                        size_t size);

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_IOCTL_BUFFERS_H_
