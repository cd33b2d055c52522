# Installs the libraries, headers and a CMake package so that another project
# can find_package(etcdgrpc) and link etcdgrpc::client (and ::registry, ::resolver).
include(CMakePackageConfigHelpers)
install(EXPORT etcdgrpcTargets NAMESPACE etcdgrpc:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/etcdgrpc)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/etcdgrpcConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/etcdgrpcConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/etcdgrpc)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/etcdgrpcConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/etcdgrpcConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/etcdgrpcConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/etcdgrpc)
