# octo_test(NAME SOURCES... LIBS ... [LABELS ...]): a test executable run by ctest with a
# timeout. Every test links the test support library (tests/support/).
function(octo_test NAME)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  add_executable(${NAME} ${T_SOURCES})
  target_link_libraries(${NAME} PRIVATE octo_testsupport ${T_LIBS})
  octo_warnings(${NAME})
  add_test(NAME ${NAME} COMMAND ${NAME})
  set_tests_properties(${NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}"
    ENVIRONMENT "OCTO_TEST_TMP=${CMAKE_BINARY_DIR}/test-tmp;OCTO_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()

# octo_module_tests(MODULE): one test binary test_<MODULE>_<name> per test_<name>.c in the
# calling directory, linked against octo_<MODULE> (nothing when the module is not built).
function(octo_module_tests MODULE)
  if(NOT TARGET octo_${MODULE})
    return()
  endif()
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test_*.c)
  foreach(src ${srcs})
    get_filename_component(name ${src} NAME_WE)
    string(REGEX REPLACE "^test_" "" short ${name})
    octo_test(test_${MODULE}_${short} SOURCES ${src} LIBS octo_${MODULE})
  endforeach()
endfunction()
