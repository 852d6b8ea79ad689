# src/loaders against its peers (included by tests/CMakeLists.txt).

# GGUF vocabularies made from the four real tokenizers (npm, fixture tokenizer_npm) must tokenize the corpus as
# the originals do: the GgufVocabNpm gtests, which are skipped when DSMOE_NPM_PREFIX is not set.
add_test(NAME loaders.gguf_vocab_npm
         COMMAND $<TARGET_FILE:dsmoe_tests> --gtest_filter=GgufVocabNpm.*)
set_tests_properties(loaders.gguf_vocab_npm PROPERTIES FIXTURES_REQUIRED tokenizer_npm TIMEOUT 600
                     ENVIRONMENT DSMOE_NPM_PREFIX=${DSMOE_NPM_PREFIX})

# llama.cpp as the oracle: vocab_probe exposes gguf_vocabulary_from_hf and the GGUF-derived tokenizer;
# check_gguf_vocab.py writes the vocabulary into a GGUF with llama.cpp's gguf-py and compares llama.cpp's ids
# (tests/peers/llama_driver.py) with ours on the corpus, for the shipped tokenizer and the four npm ones.
add_executable(vocab_probe ${CMAKE_CURRENT_LIST_DIR}/vocab_probe/vocab_probe.cpp)
target_include_directories(vocab_probe PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(vocab_probe PRIVATE dsmoe_lib dsmoe_warnings nlohmann_json::nlohmann_json)
set(DSMOE_GGUF_VOCAB_CHECK ${DSMOE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check_gguf_vocab.py
    --probe $<TARGET_FILE:vocab_probe> --peer ${DSMOE_LLAMA_CPP_PEER})
add_test(NAME loaders.gguf_vocab_llama_cpp.shipped
         COMMAND ${DSMOE_GGUF_VOCAB_CHECK} --tokenizer-json ${PROJECT_SOURCE_DIR}/models/dsmoe-kjv-9m/tokenizer.json
                 --config ${PROJECT_SOURCE_DIR}/models/dsmoe-kjv-9m/tokenizer_config.json)
set_tests_properties(loaders.gguf_vocab_llama_cpp.shipped PROPERTIES FIXTURES_REQUIRED llama_cpp_peer TIMEOUT 300)
foreach(name IN ITEMS deepseek_v3 llama3 qwen3 llama2)
  add_test(NAME loaders.gguf_vocab_llama_cpp.${name}
           COMMAND ${DSMOE_GGUF_VOCAB_CHECK} --npm-prefix ${DSMOE_NPM_PREFIX} --name ${name})
  set_tests_properties(loaders.gguf_vocab_llama_cpp.${name} PROPERTIES
                       FIXTURES_REQUIRED "llama_cpp_peer;tokenizer_npm" TIMEOUT 600)
endforeach()
