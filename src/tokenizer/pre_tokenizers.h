// tokenizer.json "pre_tokenizer": cuts normalized text into the words that the model encodes one by one.
// Supported types: Split, ByteLevel, Digits, Metaspace, Whitespace, WhitespaceSplit, Sequence.
//
// HF materializes every intermediate split as a string; we stream instead: each pre-tokenizer hands its pieces,
// as views, straight to the next stage (the next pre-tokenizer of a Sequence, finally the model), so splitting
// copies nothing. The order of the words and their text are HF's.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>
#include <type_traits>
#include <utility>

namespace dsmoe {

// A piece of normalized text; `text` is valid only during the call that receives it.
struct PreToken {
  std::string_view text;
  bool at_origin = false;  // starts at byte 0 of the input (Metaspace's prepend_scheme "first" asks this)
};

// A non-owning reference to a callable, cheap to pass down the pipeline (std::function may allocate).
template <typename Signature>
class FunctionRef;
template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT: implicit on purpose, like std::function
      : object_(const_cast<void*>(static_cast<const void*>(&f))), call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

using PreTokenSink = FunctionRef<void(PreToken)>;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Emits the non-empty pieces of `input`, in order (HF PreTokenizedString::split drops empty ones).
  virtual void pre_tokenize(PreToken input, PreTokenSink emit) const = 0;
};

// Null for a JSON null (the whole normalized text is one word); throws Error naming the part otherwise.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& spec);

// What happens to the pattern's matches when a text is split (HF SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

}  // namespace dsmoe
