# Generates version_info.cpp at build time so the git commit in results is the
# commit the binary was really built from (not the one at configure time).
set(CXSIM_VERSION_CPP ${CMAKE_BINARY_DIR}/generated/version_info.cpp)
add_custom_target(cxsim_version_info
  COMMAND ${CMAKE_COMMAND}
          -DSOURCE_DIR=${CMAKE_SOURCE_DIR}
          -DOUTPUT=${CXSIM_VERSION_CPP}
          -DVERSION=${PROJECT_VERSION}
          -DBUILD_TYPE=$<IF:$<CONFIG:>,${CMAKE_BUILD_TYPE},$<CONFIG>>
          -P ${CMAKE_SOURCE_DIR}/cmake/write_version.cmake
  BYPRODUCTS ${CXSIM_VERSION_CPP}
  COMMENT "Recording cxsim version and git commit"
  VERBATIM)
