# GGUF reading and writing (src/io/gguf_*) against llama.cpp's gguf-py, the peer installed by the
# peers.llama_cpp_install fixture. gguf_probe exposes our reader and writer; check_gguf.py draws fresh random
# files (seed printed; --seed to replay). Without the peer these tests fail; they are never skipped.
# In its own folder: tests/CMakeLists.txt globs tests/gguf/*.cpp into dsmoe_tests, and this has its own main().
add_executable(gguf_probe ${CMAKE_CURRENT_SOURCE_DIR}/gguf/gguf_probe/gguf_probe.cpp)
target_include_directories(gguf_probe PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(gguf_probe PRIVATE dsmoe_lib dsmoe_warnings nlohmann_json::nlohmann_json)
foreach(part IN ITEMS read write hostile)
  add_test(NAME gguf.peer_${part}
           COMMAND ${DSMOE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/gguf/check_gguf.py
                   --probe $<TARGET_FILE:gguf_probe> --peer ${DSMOE_LLAMA_CPP_PEER} --part ${part})
  set_tests_properties(gguf.peer_${part} PROPERTIES FIXTURES_REQUIRED llama_cpp_peer TIMEOUT 300)
endforeach()
