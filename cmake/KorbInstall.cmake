# `cmake --install` rules and the CMake package (find_package(korb CONFIG)) and
# pkg-config files; docs/operations.md, "Installing", says what goes where.
#
#   <prefix>/include/korb/{adapter,client,common,servants,skeletons}/*.h
#   <prefix>/include/korb/*.pb.h                  Korb's own IDL, generated
#   <prefix>/lib/libkorb*.a                       the libraries
#   <prefix>/bin/protoc-gen-korb, korb-naming, korbctl (when built)
#   <prefix>/share/korb/idl/korb/*.proto          importable by user IDL
#   <prefix>/lib/cmake/korb/                      korbConfig.cmake, KorbGenerate.cmake
#   <prefix>/lib/pkgconfig/korb.pc, korb-client.pc
if(NOT KORB_INSTALL)
  return()
endif()

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(KORB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/korb)

# Exported names: korb::client, korb::server, korb::sqlite_store, korb::korb
# (all three), korb::prometheus, korb::protoc-gen-korb.
set_target_properties(korb_client PROPERTIES EXPORT_NAME client)
set_target_properties(korb PROPERTIES EXPORT_NAME server)
set_target_properties(korb_sqlite_store PROPERTIES EXPORT_NAME sqlite_store)
set_target_properties(korb_all PROPERTIES EXPORT_NAME korb)
set_target_properties(korb_idl PROPERTIES EXPORT_NAME idl)
set_target_properties(korb_naming_wire PROPERTIES EXPORT_NAME naming_wire)
set(korb_install_targets
    korb_idl korb_naming_wire korb_client korb korb_sqlite_store korb_all protoc-gen-korb)
if(TARGET korb_prometheus)
  set_target_properties(korb_prometheus PROPERTIES EXPORT_NAME prometheus)
  list(APPEND korb_install_targets korb_prometheus)
  set(KORB_WITH_PROMETHEUS ON)
else()
  set(KORB_WITH_PROMETHEUS OFF)
endif()
install(TARGETS ${korb_install_targets}
        EXPORT korbTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Programs, not part of the CMake package.
foreach(program korb-naming korbctl)
  if(TARGET ${program})
    install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

foreach(dir IN LISTS KORB_HEADER_DIRS)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/korb/${dir}
          FILES_MATCHING PATTERN "*.h")
endforeach()
install(DIRECTORY ${PROJECT_BINARY_DIR}/idl/gen/korb/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/korb FILES_MATCHING PATTERN "*.pb.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/idl/korb/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/korb/idl/korb FILES_MATCHING PATTERN "*.proto")

install(EXPORT korbTargets NAMESPACE korb:: DESTINATION ${KORB_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/korbConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/korbConfig.cmake
                              INSTALL_DESTINATION ${KORB_CMAKE_DIR}
                              PATH_VARS CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/korbConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/korbConfig.cmake ${PROJECT_BINARY_DIR}/korbConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/KorbGenerate.cmake
        DESTINATION ${KORB_CMAKE_DIR})

# pkg-config: korb-client (client-only programs) and korb (everything).
# Relative to the .pc file, so an install with `--prefix` elsewhere works.
file(RELATIVE_PATH KORB_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
foreach(pc korb korb-client)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
