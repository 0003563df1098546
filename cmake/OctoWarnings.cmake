# Strict warnings for the project's own code (see docs/STYLE.md). Generated code (protobuf-c)
# is compiled without them by octo_relax_warnings().
set(OCTO_WARNINGS
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Wstrict-prototypes
  -Wmissing-prototypes -Wold-style-definition -Wmissing-declarations -Wredundant-decls
  -Wcast-qual -Wwrite-strings -Wformat=2 -Wundef -Wvla -Wdouble-promotion
  -Wimplicit-fallthrough -Wnull-dereference)
if(CMAKE_C_COMPILER_ID MATCHES "Clang")
  list(APPEND OCTO_WARNINGS -Wcomma -Wassign-enum)
endif()
if(OCTO_WERROR)
  list(APPEND OCTO_WARNINGS -Werror)
endif()

function(octo_warnings TARGET)
  target_compile_options(${TARGET} PRIVATE ${OCTO_WARNINGS})
endfunction()

function(octo_relax_warnings)
  set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "-w")
endfunction()

# octo_module(NAME SOURCES... [DEPS ...]): one static library per module.
function(octo_module NAME)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PUBLIC_LIBS" ${ARGN})
  add_library(octo_${NAME} STATIC ${M_SOURCES})
  target_include_directories(octo_${NAME} PUBLIC ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/include)
  target_link_libraries(octo_${NAME} PUBLIC ${M_DEPS} ${M_PUBLIC_LIBS})
  target_compile_definitions(octo_${NAME} PRIVATE OCTO_MODULE="${NAME}")
  octo_warnings(octo_${NAME})
endfunction()
