// How protoc-gen-korb names things in C++: generated files and include guards,
// namespaces and message classes (exactly as protobuf's C++ generator names
// them, so generated code refers to protoc's classes), and the members and
// classes Korb adds (keyword-mangled operation names, XServant, XStub).
//
// Thread-safety: pure functions; thread-safe.
//
// Usage:
//   MethodCppName(method)          // rpc delete    -> "delete_"
//   MethodAsyncName(method)        // rpc delete    -> "deleteAsync"
//   QualifiedMessageName(message)  // a.b.Outer.Inner -> "::a::b::Outer_Inner"
#ifndef KORB_IDL_COMPILER_NAMES_H_
#define KORB_IDL_COMPILER_NAMES_H_

#include <google/protobuf/descriptor.h>

#include <string>
#include <string_view>

namespace korb::idl {

// True if `name` is a C++20 keyword or alternative token (or NULL), which
// cannot name a C++ member.
bool IsCppKeyword(std::string_view name);
// `name` with a trailing underscore if it is a C++ keyword, as protobuf does
// for fields: "delete" -> "delete_", "Create" -> "Create".
std::string ResolveKeyword(std::string_view name);

// "a/b/c" for "a/b/c.proto".
std::string FileStem(const google::protobuf::FileDescriptor* file);
// "a/b/c.pb.h", "a/b/c.korb.h", "a/b/c.korb.cc".
std::string PbHeaderName(const google::protobuf::FileDescriptor* file);
std::string KorbHeaderName(const google::protobuf::FileDescriptor* file);
std::string KorbSourceName(const google::protobuf::FileDescriptor* file);
// Include guard of the .korb.h: "KORB_GENERATED_A_B_C_KORB_H_".
std::string IncludeGuard(const google::protobuf::FileDescriptor* file);

// The C++ namespace protobuf uses for `file`'s package, without leading "::":
// "a::b::c" for package a.b.c, "" for no package. Like protobuf 3.21, package
// parts are not keyword-mangled.
std::string CppNamespace(const google::protobuf::FileDescriptor* file);
// The fully qualified C++ class protoc generates for `message`:
// "::a::b::Outer_Inner", "::a::class_", "::Top" (no package).
std::string QualifiedMessageName(const google::protobuf::Descriptor* message);

// Generated classes: "SServant" and "SStub" for service S.
std::string ServantClassName(const google::protobuf::ServiceDescriptor* service);
std::string StubClassName(const google::protobuf::ServiceDescriptor* service);
// Internal-linkage names of the method table in the .korb.cc.
std::string MethodArrayName(const google::protobuf::ServiceDescriptor* service);
std::string InterfaceInfoName(const google::protobuf::ServiceDescriptor* service);

// The C++ member for operation `method`: its name, keyword-mangled.
std::string MethodCppName(const google::protobuf::MethodDescriptor* method);
// The stub's asynchronous variants: the .proto name plus "Async" (never a
// keyword, so never mangled).
std::string MethodAsyncName(const google::protobuf::MethodDescriptor* method);
// The gRPC method path, "/a.b.S/M".
std::string GrpcPath(const google::protobuf::MethodDescriptor* method);

}  // namespace korb::idl

#endif  // KORB_IDL_COMPILER_NAMES_H_
