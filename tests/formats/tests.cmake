# dsmoe's GGUF writing (convert, quantize, make-model) against HF folders, llama.cpp's gguf-py (an independently
# written GGUF of the same models; GGUFReader on ours) and llama.cpp itself (tests/peers/llama_driver.py for logits
# and greedy tokens; libllama's llama_model_quantize for per-tensor types and bytes). Included by
# tests/CMakeLists.txt. Each run draws a fresh seed (printed; `--seed S` replays it). A missing peer fails these
# tests (the llama_cpp_peer fixture fails first); they are never skipped.
# llama_cpp_quantized only compares numbers with llama.cpp (the same dsmoe code runs under the sanitizers in the
# other cases), so the sanitizer build leaves it out to keep CI under 30 minutes.
set(DSMOE_FORMAT_CASES hf_vs_gguf gguf_py_writer llama_cpp quantize_roundtrip quant_plan_8_experts make_model errors)
if(NOT DSMOE_SANITIZE)
  list(APPEND DSMOE_FORMAT_CASES llama_cpp_quantized)
endif()
foreach(case IN LISTS DSMOE_FORMAT_CASES)
  add_test(NAME formats.${case}
           COMMAND ${DSMOE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check_formats.py
                   --dsmoe $<TARGET_FILE:dsmoe> --peer ${DSMOE_LLAMA_CPP_PEER} --case ${case})
  set_tests_properties(formats.${case} PROPERTIES FIXTURES_REQUIRED llama_cpp_peer TIMEOUT 240)
endforeach()
