# src/quant against llama.cpp as a peer (tests/peers/llama_cpp_peer.py): quant_probe exposes quantize_row,
# dequantize_row, quantize_activation_row, vec_dot_row and matmul_wt as raw files; check_quant.py draws fresh
# random rows (seed printed; --seed to replay) and compares with gguf-py and llama.cpp's libraries (ctypes).
# Included by tests/CMakeLists.txt. A missing peer fails these tests (the fixture fails first), never skips.
add_executable(quant_probe ${CMAKE_CURRENT_SOURCE_DIR}/quant/quant_probe/quant_probe.cpp)
target_include_directories(quant_probe PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(quant_probe PRIVATE dsmoe_lib dsmoe_warnings)
foreach(part IN ITEMS dequantize_gguf_py quantize_gguf_py quantize_ggml activation_ggml vec_dot_ggml matmul_ggml)
  add_test(NAME quant.peer_${part}
           COMMAND ${DSMOE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/quant/check_quant.py
                   --probe $<TARGET_FILE:quant_probe> --peer ${DSMOE_LLAMA_CPP_PEER} --part ${part})
  set_tests_properties(quant.peer_${part} PROPERTIES FIXTURES_REQUIRED llama_cpp_peer TIMEOUT 300)
endforeach()
