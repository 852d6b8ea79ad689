# llama.cpp's own libraries driven by tests/peers/llama_driver.{c,py} (built with cc into the peer folder on first
# use). check_llama_driver.py proves the driver against NumPy on GGUF files it writes with llama.cpp's gguf-py, so
# later comparisons of dsmoe against llama.cpp rest on a checked driver. A missing peer fails these tests.
foreach(part IN ITEMS tokenize llama deepseek errors)
  add_test(NAME peers.llama_driver.${part}
           COMMAND ${DSMOE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check_llama_driver.py
                   --peer ${DSMOE_LLAMA_CPP_PEER} --part ${part})
  set_tests_properties(peers.llama_driver.${part} PROPERTIES FIXTURES_REQUIRED llama_cpp_peer TIMEOUT 300)
endforeach()

# dsmoe quantize against llama-quantize itself (llama_model_quantize): same tensors, types and bytes for every
# file type, on the shipped model and a random 9-layer MoE. A comparison of numbers, run in the Release build only:
# the code it drives runs under the sanitizers in formats.quantize_roundtrip and quant.* (keeps CI under 30 min).
if(NOT DSMOE_SANITIZE)
  add_test(NAME peers.quantize_vs_llama_cpp
           COMMAND ${DSMOE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check_quantize.py
                   --dsmoe $<TARGET_FILE:dsmoe> --peer ${DSMOE_LLAMA_CPP_PEER})
  set_tests_properties(peers.quantize_vs_llama_cpp PROPERTIES FIXTURES_REQUIRED llama_cpp_peer TIMEOUT 600)
endif()
