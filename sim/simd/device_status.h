// The device half of a xehil.sim.DeviceStatus (proto/simd.proto), shared by
// the socket daemon (Server::Status) and the vxe control-device daemon.
//
//   sim::DeviceStatus status;
//   FillDeviceStatus(*device, &status);   // description, regions, counters
//   AddOpenFile(*device, id, pid, "prog", /*watches=*/1, &status);
#ifndef XEHIL_SIM_SIMD_DEVICE_STATUS_H_
#define XEHIL_SIM_SIMD_DEVICE_STATUS_H_

#include <cstdint>
#include <string>

#include "proto/simd.pb.h"
#include "sim/device.h"

namespace xehil::simd {

// Description, profile, memory regions and the device's counters.
void FillDeviceStatus(const sim::Device& device, sim::DeviceStatus* status);

// Appends file `id` with its VMs (none if the device does not know it).
void AddOpenFile(const sim::Device& device, sim::FileId id, uint32_t pid,
                 const std::string& program, uint32_t watches,
                 sim::DeviceStatus* status);

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_DEVICE_STATUS_H_
