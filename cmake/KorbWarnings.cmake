# Warnings are errors for project code; sanitizers are one cache variable away.

if(KORB_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(KORB_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(KORB_SANITIZE STREQUAL "fuzzer")
  # libFuzzer (clang only): coverage instrumentation for all code, ASan and
  # UBSan; the fuzz targets link libFuzzer's main (tests/fuzz).
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "KORB_SANITIZE=fuzzer needs clang (CMAKE_CXX_COMPILER=clang++)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(NOT KORB_SANITIZE STREQUAL "")
  message(FATAL_ERROR
          "KORB_SANITIZE must be '', 'address', 'thread' or 'fuzzer', not '${KORB_SANITIZE}'")
endif()

# Applies the project's warning flags to `target` (not to generated protobuf code,
# which is compiled in separate targets).
function(korb_project_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
endfunction()
