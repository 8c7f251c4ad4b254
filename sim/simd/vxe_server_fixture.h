// A fake vxe kernel for VxeServer tests: one end of a SOCK_SEQPACKET socket
// pair has the control device's framing (one message per read and write),
// so a test plays the vxe driver's part byte for byte.
//
//   TEST_F(VxeServerTest, Something) {
//     Start();
//     ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 7).result, 0);
//     uint32_t vm = CreateVm(7, kRestartable);
//   }
#ifndef XEHIL_SIM_SIMD_VXE_SERVER_FIXTURE_H_
#define XEHIL_SIM_SIMD_VXE_SERVER_FIXTURE_H_

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/base/unique_fd.h"
#include "core/uapi/xe_uapi.h"
#include "gtest/gtest.h"
#include "sim/sim_test_util.h"
#include "sim/simd/script.h"
#include "sim/simd/vxe_server.h"
#include "vxe/driver/vxe_ctl.h"

namespace xehil::simd::testing {

template <typename T>
std::vector<uint8_t> Bytes(const T& value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  return std::vector<uint8_t>(p, p + sizeof(T));
}

template <typename T>
T As(const vxe_ctl_reply& reply) {
  T value;
  EXPECT_EQ(reply.arg_size, sizeof(T));
  std::memcpy(&value, reply.arg, sizeof(T));
  return value;
}

class VxeServerTest : public ::testing::Test {
 protected:
  ~VxeServerTest() override { Stop(); }

  void Start(const std::string& script = "", VxeServerOptions options = {}) {
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    kernel_ = UniqueFd(pair[0]);
    stop_ = UniqueFd(eventfd(0, EFD_CLOEXEC));
    options.profile = sim::testing::TinyProfile();
    if (!script.empty()) {
      absl::StatusOr<sim::SimdScript> parsed = ParseScriptText(script, "test");
      ASSERT_TRUE(parsed.ok()) << parsed.status();
      options.script = *parsed;
    }
    absl::StatusOr<std::unique_ptr<VxeServer>> server =
        VxeServer::Create(UniqueFd(pair[1]), std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    thread_ = std::thread([this] { ended_ = server_->Serve(stop_.get()); });
  }

  void Stop() {
    if (!thread_.joinable()) return;
    uint64_t one = 1;
    ASSERT_EQ(write(stop_.get(), &one, sizeof(one)), 8);
    thread_.join();
  }

  void Send(const vxe_ctl_event& event) {
    ASSERT_EQ(write(kernel_.get(), &event, sizeof(event)),
              static_cast<ssize_t>(sizeof(event)));
  }

  // Sends an event and reads messages until its reply; posts on the way are
  // kept in posts_.
  vxe_ctl_reply Call(uint32_t type, uint64_t file, uint32_t request = 0,
                     const std::vector<uint8_t>& arg = {}) {
    vxe_ctl_event event{};
    event.type = type;
    event.seq = next_seq_++;
    event.file_id = file;
    event.pid = static_cast<uint32_t>(getpid());
    event.request = request;
    std::strncpy(event.comm, "vxe_fake", sizeof(event.comm) - 1);
    event.arg_size = static_cast<uint32_t>(arg.size());
    if (!arg.empty()) std::memcpy(event.arg, arg.data(), arg.size());
    Send(event);
    for (;;) {
      uint8_t buffer[512];
      ssize_t n = read(kernel_.get(), buffer, sizeof(buffer));
      if (n <= 0) {
        ADD_FAILURE() << "control channel ended: " << n;
        return {};
      }
      uint32_t kind;
      std::memcpy(&kind, buffer, sizeof(kind));
      if (kind == VXE_CTL_CMD_POST && n == sizeof(vxe_ctl_post)) {
        vxe_ctl_post post;
        std::memcpy(&post, buffer, sizeof(post));
        posts_.push_back(post);
        continue;
      }
      vxe_ctl_reply reply{};
      EXPECT_EQ(kind, uint32_t{VXE_CTL_CMD_REPLY});
      EXPECT_EQ(n, static_cast<ssize_t>(sizeof(reply)));
      std::memcpy(&reply, buffer, sizeof(reply));
      EXPECT_EQ(reply.seq, event.seq);
      EXPECT_EQ(reply.arg_size, event.arg_size);
      return reply;
    }
  }

  // Reads one more message, which must be a post.
  vxe_ctl_post NextPost() {
    if (!posts_.empty()) {
      vxe_ctl_post post = posts_.front();
      posts_.erase(posts_.begin());
      return post;
    }
    vxe_ctl_post post{};
    EXPECT_EQ(read(kernel_.get(), &post, sizeof(post)),
              static_cast<ssize_t>(sizeof(post)));
    EXPECT_EQ(post.type, uint32_t{VXE_CTL_CMD_POST});
    return post;
  }

  uint32_t CreateVm(uint64_t file, uint32_t flags) {
    drm_xe_vm_create create{};
    create.flags = flags;
    vxe_ctl_reply reply =
        Call(VXE_CTL_EVENT_IOCTL, file, DRM_IOCTL_XE_VM_CREATE, Bytes(create));
    EXPECT_EQ(reply.result, 0);
    return As<drm_xe_vm_create>(reply).vm_id;
  }

  UniqueFd kernel_;
  UniqueFd stop_;
  std::unique_ptr<VxeServer> server_;
  std::thread thread_;
  absl::Status ended_;
  uint64_t next_seq_ = 1;
  std::vector<vxe_ctl_post> posts_;
};

}  // namespace xehil::simd::testing

#endif  // XEHIL_SIM_SIMD_VXE_SERVER_FIXTURE_H_
