# llama.cmake — finds llama.cpp for the llama backend (exec/backend_llama) and the tokenizer
# parity tests, without ever requiring it.
#
# Looked for, in order:
#   1. OCTO_LLAMA_DIR (cache path): a source tree with include/llama.h, ggml/include/ggml.h and
#      the built libraries in lib/, or a directory in the npm layout below;
#   2. third_party/llama as scripts/setup leaves it: src/ is the llama.cpp source cloned from
#      node-llama-cpp's git bundle, node_modules/@node-llama-cpp/linux-x64/bins/linux-x64 the
#      prebuilt CPU libraries;
#   3. pkg-config `llama` (a system or self-built install).
# Result: OCTO_LLAMA_FOUND, the imported target octo::llama, OCTO_LLAMA_BACKEND_DIR (where the
# libggml-cpu-* variants are loaded from at run time; empty when the library finds its own) and
# OCTO_LLAMA_MODELS_DIR (llama.cpp's models/ with ggml-vocab-*.gguf and their .inp/.out test
# vectors, or empty).
set(OCTO_LLAMA_DIR "" CACHE PATH "llama.cpp source or install prefix (default: third_party/llama)")
set(OCTO_LLAMA_FOUND OFF)
set(OCTO_LLAMA_BACKEND_DIR "")
set(OCTO_LLAMA_MODELS_DIR "")

set(_tp ${CMAKE_SOURCE_DIR}/third_party/llama)
if(OCTO_LLAMA_DIR AND EXISTS ${OCTO_LLAMA_DIR}/node_modules)
  set(_tp ${OCTO_LLAMA_DIR}) # another checkout of the npm layout
endif()
if(OCTO_LLAMA_DIR AND NOT EXISTS ${OCTO_LLAMA_DIR}/node_modules)
  set(_src ${OCTO_LLAMA_DIR})
  set(_lib ${OCTO_LLAMA_DIR}/lib)
  set(_npm OFF)
else()
  set(_src ${_tp}/src)
  set(_lib ${_tp}/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64)
  set(_npm ON)
endif()

# The headers and the prebuilt libraries must be one release (structs pass by value across the
# API): in the npm layout both packages carry the version the lockfile pins.
set(_versions_ok ON)
if(_npm AND EXISTS ${_tp}/node_modules/node-llama-cpp/package.json
   AND EXISTS ${_tp}/node_modules/@node-llama-cpp/linux-x64/package.json)
  file(READ ${_tp}/node_modules/node-llama-cpp/package.json _pj)
  string(JSON _v_src GET "${_pj}" version)
  file(READ ${_tp}/node_modules/@node-llama-cpp/linux-x64/package.json _pj)
  string(JSON _v_lib GET "${_pj}" version)
  if(NOT _v_src STREQUAL _v_lib)
    message(WARNING "llama.cpp: source ${_v_src} and libraries ${_v_lib} differ; not used")
    set(_versions_ok OFF)
  endif()
endif()

if(EXISTS ${_src}/models/ggml-vocab-llama-spm.gguf)
  set(OCTO_LLAMA_MODELS_DIR ${_src}/models)
endif()

# Looked up afresh at every configure (a lockfile bump renames the versioned libraries).
unset(OCTO_LLAMA_LIB CACHE)
unset(OCTO_GGML_LIB CACHE)
unset(OCTO_GGML_BASE_LIB CACHE)
file(GLOB _llama_named ${_lib}/libllama.v*.so) # node-llama-cpp's versioned names
file(GLOB _ggml_named ${_lib}/libggml.v*.so)
if(_llama_named AND _ggml_named)
  list(GET _llama_named 0 OCTO_LLAMA_LIB)
  list(GET _ggml_named 0 OCTO_GGML_LIB)
else()
  find_library(OCTO_LLAMA_LIB NAMES llama PATHS ${_lib} NO_DEFAULT_PATH)
  find_library(OCTO_GGML_LIB NAMES ggml PATHS ${_lib} NO_DEFAULT_PATH)
endif()
find_library(OCTO_GGML_BASE_LIB NAMES ggml-base PATHS ${_lib} NO_DEFAULT_PATH)
if(_versions_ok AND EXISTS ${_src}/include/llama.h AND EXISTS ${_src}/ggml/include/ggml.h
   AND OCTO_LLAMA_LIB AND OCTO_GGML_LIB AND OCTO_GGML_BASE_LIB)
  add_library(octo::llama INTERFACE IMPORTED)
  target_include_directories(octo::llama SYSTEM INTERFACE ${_src}/include ${_src}/ggml/include)
  target_link_libraries(octo::llama INTERFACE ${OCTO_LLAMA_LIB} ${OCTO_GGML_LIB} ${OCTO_GGML_BASE_LIB})
  # The libraries stay where setup put them: the binaries find them through their RUNPATH.
  target_link_options(octo::llama INTERFACE "LINKER:-rpath,${_lib}")
  set(OCTO_LLAMA_BACKEND_DIR ${_lib})
  set(OCTO_LLAMA_FOUND ON)
else()
  pkg_check_modules(LLAMA QUIET IMPORTED_TARGET llama)
  if(LLAMA_FOUND)
    add_library(octo::llama INTERFACE IMPORTED)
    target_link_libraries(octo::llama INTERFACE PkgConfig::LLAMA)
    set(OCTO_LLAMA_FOUND ON)
  endif()
endif()

if(OCTO_LLAMA_FOUND)
  message(STATUS "llama.cpp: found (backend dir '${OCTO_LLAMA_BACKEND_DIR}')")
else()
  message(STATUS "llama.cpp: not found — the llama backend is not built (run scripts/setup)")
endif()
if(OCTO_LLAMA_MODELS_DIR)
  message(STATUS "llama.cpp vocab test files: ${OCTO_LLAMA_MODELS_DIR}")
endif()
