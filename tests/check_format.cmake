# Fails when a C++ source of the project differs from what clang-format makes
# of it. Run by CTest with -P; SOURCE_DIR and CLANG_FORMAT are given.
set(dirs libp2p0mq actors tests examples tools benchmarks fuzz)
set(files)
foreach(dir IN LISTS dirs)
  file(GLOB_RECURSE found "${SOURCE_DIR}/${dir}/*.hpp" "${SOURCE_DIR}/${dir}/*.cpp")
  list(APPEND files ${found})
endforeach()
list(FILTER files EXCLUDE REGEX "/build[^/]*/")
execute_process(COMMAND "${CLANG_FORMAT}" --dry-run --Werror ${files}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "files not clang-formatted:\n${err}")
endif()
list(LENGTH files n)
message(STATUS "${n} files follow .clang-format")
