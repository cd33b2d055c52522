# Installs the libraries, headers, LICENSE, a CMake package (find_package(etcdgrpc):
# etcdgrpc::client, ::registry, ::resolver, ::concurrency) and a pkg-config file (etcdgrpc.pc),
# and exports the same targets from the build tree.
include(CMakePackageConfigHelpers)

set(etcdgrpc_installed etcdgrpc_client etcdgrpc_registry etcdgrpc_resolver etcdgrpc_concurrency)
# --- metrics over HTTP (etcdgrpc::metrics_http, on cpp-httplib) ---
list(APPEND etcdgrpc_installed etcdgrpc_metrics_http)
if(NOT BUILD_SHARED_LIBS)
  # A static library's private dependencies are part of its link interface;
  # a shared one carries them inside.
  list(APPEND etcdgrpc_installed etcdgrpc_common etcdgrpc_proto)
endif()
# The grpc.health.v1 stubs of the registry and the resolver: static and inside
# them, or in a shared build a shared library of its own (one copy per process).
list(APPEND etcdgrpc_installed etcdgrpc_health_proto)
install(TARGETS ${etcdgrpc_installed} EXPORT etcdgrpcTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT etcdgrpcTargets NAMESPACE etcdgrpc:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/etcdgrpc)
export(EXPORT etcdgrpcTargets NAMESPACE etcdgrpc::
       FILE ${PROJECT_BINARY_DIR}/etcdgrpcTargets.cmake)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/etcdgrpcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/etcdgrpcConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/etcdgrpc)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/etcdgrpcConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/etcdgrpcConfig.cmake
              ${PROJECT_BINARY_DIR}/etcdgrpcConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/etcdgrpc)

# pkg-config: one package for the four libraries.
set(etcdgrpc_pc_libs
    "-letcdgrpc_concurrency -letcdgrpc_resolver -letcdgrpc_registry -letcdgrpc_client")
# --- metrics over HTTP ---
set(etcdgrpc_pc_libs "-letcdgrpc_metrics_http ${etcdgrpc_pc_libs}")
if(NOT BUILD_SHARED_LIBS)
  set(etcdgrpc_pc_libs "${etcdgrpc_pc_libs} -letcdgrpc_common -letcdgrpc_proto")
endif()
set(etcdgrpc_pc_libs "${etcdgrpc_pc_libs} -letcdgrpc_health_proto")
file(RELATIVE_PATH ETCDGRPC_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${CMAKE_CURRENT_LIST_DIR}/etcdgrpc.pc.in ${PROJECT_BINARY_DIR}/etcdgrpc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/etcdgrpc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/etcdgrpc)
