#include "sim/simd/vxe_ioctl.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "sim/simd/caller_memory.h"
#include "sim/simd/ioctl_buffers.h"

namespace xehil::simd {

IoctlReply ServeVxeIoctl(DrmFile& file, pid_t pid, uint64_t request,
                         std::vector<uint8_t> arg) {
  IoctlRequest wire;
  wire.request = request;
  std::vector<uint64_t> out_addresses;  // one per kBufferOut buffer, in order
  for (const PointerField& field :
       PointerFields(request, arg.data(), arg.size())) {
    uint64_t address;
    std::memcpy(&address, arg.data() + field.offset, sizeof(address));
    if (address == 0 || field.bytes == 0 || field.bytes > kMaxCallerBuffer) {
      continue;
    }
    Buffer buffer;
    buffer.field_offset = field.offset;
    buffer.flags = field.out ? kBufferOut : kBufferIn;
    buffer.bytes.resize(field.bytes);
    if (!field.out && ReadCallerMemory(pid, address, buffer.bytes.data(),
                                       buffer.bytes.size()) != 0) {
      continue;
    }
    if (field.out) out_addresses.push_back(address);
    wire.buffers.push_back(std::move(buffer));
  }
  wire.arg = std::move(arg);

  IoctlReply reply = file.Ioctl(std::move(wire));
  if (reply.result == 0 && reply.out.size() == out_addresses.size()) {
    for (size_t i = 0; i < out_addresses.size(); ++i) {
      if (WriteCallerMemory(pid, out_addresses[i], reply.out[i].data(),
                            reply.out[i].size()) != 0) {
        reply.result = -EFAULT;
      }
    }
  }
  return reply;
}

}  // namespace xehil::simd
