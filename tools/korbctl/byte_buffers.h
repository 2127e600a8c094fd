// korbctl's conversions between serialized messages and gRPC byte buffers.
//
// Thread-safe (pure functions).
//
// Usage:
//   grpc::ByteBuffer request = ToByteBuffer(message.SerializeAsString());
//   message.ParseFromString(ToBytes(reply));
#ifndef KORB_TOOLS_KORBCTL_BYTE_BUFFERS_H_
#define KORB_TOOLS_KORBCTL_BYTE_BUFFERS_H_

#include <grpcpp/support/byte_buffer.h>

#include <string>
#include <vector>

namespace korb::ctl {

inline grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// "" if the buffer cannot be read (the caller's parse then fails).
inline std::string ToBytes(grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return bytes;
}

}  // namespace korb::ctl

#endif  // KORB_TOOLS_KORBCTL_BYTE_BUFFERS_H_
