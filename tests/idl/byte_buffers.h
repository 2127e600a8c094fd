// Test helpers: protobuf messages to and from grpc::ByteBuffer, built from
// plain serialized bytes so that tests do not depend on the runtime's own
// codec.
//
// Thread-safety: stateless functions; thread-safe.
//
// Usage:
//   grpc::ByteBuffer request = korb::testing::ToByteBuffer(message);
//   korbidl::deep::nest::FooReply reply;
//   ASSERT_TRUE(korb::testing::FromByteBuffer(buffer, &reply));
#ifndef KORB_TESTS_IDL_BYTE_BUFFERS_H_
#define KORB_TESTS_IDL_BYTE_BUFFERS_H_

#include <google/protobuf/message_lite.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <string>
#include <vector>

namespace korb::testing {

inline grpc::ByteBuffer BytesToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

inline std::string ByteBufferToBytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

inline grpc::ByteBuffer ToByteBuffer(const google::protobuf::MessageLite& message) {
  return BytesToByteBuffer(message.SerializeAsString());
}

inline bool FromByteBuffer(const grpc::ByteBuffer& buffer, google::protobuf::MessageLite* message) {
  return message->ParseFromString(ByteBufferToBytes(buffer));
}

}  // namespace korb::testing

#endif  // KORB_TESTS_IDL_BYTE_BUFFERS_H_
