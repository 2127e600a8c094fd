# korb_generate(<target> PROTOS <file.proto>... [PROTO_ROOT <dir>] [IMPORT_DIRS <dir>...]
#               [OPTIONS <k=v>...] [GRPC])
#
# Compiles .proto files into a static library <target> holding the protobuf
# messages and Korb's skeletons and stubs (<name>.korb.h). With GRPC, plain gRPC
# code (<name>.grpc.pb.h) is generated as well, e.g. to compare against raw gRPC.
# Include generated headers by their path relative to PROTO_ROOT (default: the
# current source directory), e.g. "bank/bank.korb.h" for PROTO_ROOT/bank/bank.proto.
# Korb's own IDL (korb/options.proto, korb/ref.proto) is always importable.
# OPTIONS are passed to protoc-gen-korb, e.g. OPTIONS generate=stubs.
set(KORB_IDL_DIR ${CMAKE_CURRENT_LIST_DIR}/../idl CACHE INTERNAL "Korb's IDL import root")

function(korb_generate target)
  cmake_parse_arguments(KG "GRPC" "PROTO_ROOT" "PROTOS;IMPORT_DIRS;OPTIONS" ${ARGN})
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
      set(grpc_args --grpc_out=${out_dir} --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc
      ARGS ${import_args} --cpp_out=${out_dir} --korb_out=${korb_out}
           --plugin=protoc-gen-korb=$<TARGET_FILE:protoc-gen-korb> ${grpc_args} ${abs}
      DEPENDS ${abs} protoc-gen-korb protobuf::protoc
      COMMENT "korb_generate: ${rel}"
      VERBATIM)
    list(APPEND srcs ${outs})
  endforeach()

  add_library(${target} STATIC ${srcs})
  target_include_directories(${target} PUBLIC ${out_dir})
  target_link_libraries(${target} PUBLIC korb::korb)
  if(KG_GRPC)
    target_link_libraries(${target} PUBLIC gRPC::grpc++)
  endif()
endfunction()
