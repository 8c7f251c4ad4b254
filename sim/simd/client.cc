#include "sim/simd/client.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"

namespace xehil::simd {

std::string DefaultSocketPath() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] == '/') {
    return absl::StrCat(runtime, "/xehil-simd.sock");
  }
  return absl::StrCat("/tmp/xehil-simd-", ::getuid(), ".sock");
}

absl::StatusOr<Client> Client::ConnectRaw(const std::string& path) {
  absl::StatusOr<UniqueFd> fd = ConnectSeqpacket(path);
  if (!fd.ok()) return fd.status();
  return Client(*std::move(fd));
}

absl::StatusOr<Client> Client::Connect(const std::string& path, Role role,
                                       const std::string& program) {
  absl::StatusOr<Client> client = ConnectRaw(path);
  if (!client.ok()) return client.status();
  Hello hello{role, static_cast<uint32_t>(::getpid()), program};
  absl::StatusOr<Message> reply = client->RoundTrip(
      EncodeHello(client->next_seq(), hello), MessageType::kHelloReply);
  if (!reply.ok()) return reply.status();
  client->file_id_ = reply->hello_reply.file_id;
  client->description_ = reply->hello_reply.description;
  return client;
}

absl::Status Client::SendDatagram(const std::vector<uint8_t>& bytes,
                                  const std::vector<int>& fds) {
  return simd::SendDatagram(fd_.get(), bytes, fds);
}

absl::StatusOr<Message> Client::Receive(int timeout_ms) {
  Datagram& datagram = rx_;
  absl::Status received = ReceiveDatagram(fd_.get(), timeout_ms, &datagram);
  if (!received.ok()) return received;
  Message message;
  std::string why;
  if (datagram.truncated || !datagram.fds.empty() ||
      !Decode(datagram.bytes.data(), datagram.bytes.size(), &message, &why)) {
    return absl::DataLossError(
        absl::StrCat("malformed reply from xehil-simd: ",
                     why.empty() ? "unexpected size or descriptors" : why));
  }
  return message;
}

absl::StatusOr<Message> Client::RoundTrip(const std::vector<uint8_t>& bytes,
                                          MessageType type,
                                          const std::vector<int>& fds) {
  if (!EncodedSizeOk(bytes)) {
    return absl::InvalidArgumentError(
        "message larger than the protocol allows");
  }
  Header header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  XEHIL_RETURN_IF_ERROR(SendDatagram(bytes, fds));
  absl::StatusOr<Message> reply = Receive();
  if (!reply.ok()) return reply.status();
  const auto got = static_cast<MessageType>(reply->header.type);
  if (got == MessageType::kError) {
    return ErrnoToStatus(reply->error.error,
                         absl::StrCat("xehil-simd: ", reply->error.message));
  }
  if (got != type || reply->header.seq != header.seq) {
    return absl::DataLossError(
        absl::StrCat("xehil-simd answered message type ", reply->header.type,
                     " seq ", reply->header.seq, ", expected type ",
                     static_cast<int>(type), " seq ", header.seq));
  }
  return reply;
}

absl::StatusOr<sim::ControlReply> Client::Control(
    const sim::ControlRequest& request) {
  absl::StatusOr<Message> reply =
      RoundTrip(EncodeControl(next_seq(), MessageType::kControl,
                              request.SerializeAsString()),
                MessageType::kControlReply);
  if (!reply.ok()) return reply.status();
  sim::ControlReply control;
  if (!control.ParseFromArray(reply->payload.data(),
                              static_cast<int>(reply->payload.size()))) {
    return absl::DataLossError("control reply is not a ControlReply");
  }
  if (control.code() != 0) {
    return absl::Status(static_cast<absl::StatusCode>(control.code()),
                        control.message());
  }
  return control;
}

absl::StatusOr<IoctlReply> Client::Ioctl(const IoctlRequest& request) {
  absl::StatusOr<Message> reply =
      RoundTrip(EncodeIoctl(next_seq(), request), MessageType::kIoctlReply);
  if (!reply.ok()) return reply.status();
  return std::move(reply->ioctl_reply);
}

absl::StatusOr<Result> Client::RegisterPipe(int write_end) {
  absl::StatusOr<Message> reply = RoundTrip(EncodeRegisterPipe(next_seq()),
                                            MessageType::kResult, {write_end});
  if (!reply.ok()) return reply.status();
  return reply->result;
}

absl::StatusOr<Result> Client::PipeIoctl(const simd::PipeIoctl& request) {
  absl::StatusOr<Message> reply =
      RoundTrip(EncodePipeIoctl(next_seq(), request), MessageType::kResult);
  if (!reply.ok()) return reply.status();
  return reply->result;
}

absl::Status Client::ReleasePipe(uint64_t pipe_id) {
  return SendDatagram(EncodeReleasePipe(next_seq(), pipe_id));
}

}  // namespace xehil::simd
