# korb_generate(<target> PROTOS <file.proto>... [PROTO_ROOT <dir>] [IMPORT_DIRS <dir>...]
#               [OPTIONS <k=v>...] [GRPC] [RUNTIME <target>])
#
# Compiles .proto files into a static library <target> holding the protobuf
# messages and Korb's skeletons and stubs (<name>.korb.h). With GRPC, plain gRPC
# code (<name>.grpc.pb.h) is generated as well, e.g. to compare against raw gRPC.
# Include generated headers by their path relative to PROTO_ROOT (default: the
# current source directory), e.g. "bank/bank.korb.h" for PROTO_ROOT/bank/bank.proto.
# Korb's own IDL (korb/options.proto, korb/ref.proto) is always importable.
# OPTIONS are passed to protoc-gen-korb, e.g. OPTIONS generate=stubs.
# RUNTIME is the Korb library <target> links (default korb::korb, everything):
# generated code itself needs only korb::client, so a client-only program's
# IDL library takes RUNTIME korb::client and the server adds korb::server.
#
# Works in a project that never called find_package(Protobuf) or
# find_package(gRPC) itself, both with find_package(korb) and with
# add_subdirectory(korb): protoc and the plugins are resolved to absolute paths
# here, because imported targets are visible only in the directory that
# imported them.
if(NOT DEFINED KORB_IDL_DIR)
  set(KORB_IDL_DIR ${CMAKE_CURRENT_LIST_DIR}/../idl)
endif()
set(KORB_IDL_DIR ${KORB_IDL_DIR} CACHE INTERNAL "Korb's IDL import root")
if(NOT KORB_PROTOC)
  if(TARGET protobuf::protoc)
    get_target_property(_korb_protoc protobuf::protoc IMPORTED_LOCATION_NOCONFIG)
    if(NOT _korb_protoc)
      get_target_property(_korb_protoc protobuf::protoc IMPORTED_LOCATION)
    endif()
  endif()
  if(NOT _korb_protoc AND Protobuf_PROTOC_EXECUTABLE)
    set(_korb_protoc ${Protobuf_PROTOC_EXECUTABLE})
  endif()
  if(NOT _korb_protoc)
    find_program(_korb_protoc protoc REQUIRED)
  endif()
  set(KORB_PROTOC ${_korb_protoc} CACHE INTERNAL "protoc, for korb_generate")
endif()
if(NOT KORB_GRPC_CPP_PLUGIN)
  if(TARGET gRPC::grpc_cpp_plugin)
    get_target_property(_korb_grpc_plugin gRPC::grpc_cpp_plugin LOCATION)
  else()
    find_program(_korb_grpc_plugin grpc_cpp_plugin)
  endif()
  set(KORB_GRPC_CPP_PLUGIN ${_korb_grpc_plugin} CACHE INTERNAL "grpc_cpp_plugin, for korb_generate GRPC")
endif()
# protoc-gen-korb: the in-tree target, or korb::protoc-gen-korb when installed.
if(NOT DEFINED KORB_PLUGIN_TARGET)
  set(KORB_PLUGIN_TARGET protoc-gen-korb)
endif()
set(KORB_PLUGIN_TARGET ${KORB_PLUGIN_TARGET} CACHE INTERNAL "protoc-gen-korb's target")

function(korb_generate target)
  cmake_parse_arguments(KG "GRPC" "PROTO_ROOT;RUNTIME" "PROTOS;IMPORT_DIRS;OPTIONS" ${ARGN})
  if(NOT KG_PROTOS)
    message(FATAL_ERROR "korb_generate(${target}): PROTOS is required")
  endif()
  if(NOT KG_PROTO_ROOT)
    set(KG_PROTO_ROOT ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  get_filename_component(KG_PROTO_ROOT ${KG_PROTO_ROOT} ABSOLUTE)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/${target}_gen)
  file(MAKE_DIRECTORY ${out_dir})

  set(import_args -I${KG_PROTO_ROOT} -I${KORB_IDL_DIR})
  foreach(dir IN LISTS KG_IMPORT_DIRS)
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND import_args -I${dir})
  endforeach()

  set(korb_out ${out_dir})
  if(KG_OPTIONS)
    list(JOIN KG_OPTIONS "," korb_opts)
    set(korb_out "${korb_opts}:${out_dir}")
  endif()

  set(srcs)
  foreach(proto IN LISTS KG_PROTOS)
    get_filename_component(abs ${proto} ABSOLUTE)
    file(RELATIVE_PATH rel ${KG_PROTO_ROOT} ${abs})
    string(REGEX REPLACE "\\.proto$" "" stem ${rel})
    set(outs ${out_dir}/${stem}.pb.cc ${out_dir}/${stem}.pb.h
             ${out_dir}/${stem}.korb.cc ${out_dir}/${stem}.korb.h)
    set(grpc_args)
    if(KG_GRPC)
      list(APPEND outs ${out_dir}/${stem}.grpc.pb.cc ${out_dir}/${stem}.grpc.pb.h)
      set(grpc_args --grpc_out=${out_dir} --plugin=protoc-gen-grpc=${KORB_GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND ${KORB_PROTOC}
      ARGS ${import_args} --cpp_out=${out_dir} --korb_out=${korb_out}
           --plugin=protoc-gen-korb=$<TARGET_FILE:${KORB_PLUGIN_TARGET}> ${grpc_args} ${abs}
      DEPENDS ${abs} ${KORB_PLUGIN_TARGET} ${KORB_PROTOC}
      COMMENT "korb_generate: ${rel}"
      VERBATIM)
    list(APPEND srcs ${outs})
  endforeach()

  add_library(${target} STATIC ${srcs})
  target_include_directories(${target} PUBLIC ${out_dir})
  if(NOT KG_RUNTIME)
    set(KG_RUNTIME korb::korb)
  endif()
  target_link_libraries(${target} PUBLIC ${KG_RUNTIME})
  if(KG_GRPC)
    target_link_libraries(${target} PUBLIC gRPC::grpc++)
  endif()
endfunction()
