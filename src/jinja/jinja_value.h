// The values a chat template computes with, modelled on the Python objects jinja2 hands around:
// None, bool, int, float, str, list/tuple, dict, callables, and jinja2's default Undefined (renders as "",
// is falsy, iterates as empty, and raises when used in arithmetic or looked into).
//
// Lists and dicts are shared and never mutated once built: HF renders in jinja2's
// ImmutableSandboxedEnvironment, where list.append and dict.update are refused. The one mutable object
// is namespace(), whose attributes `{% set ns.x = ... %}` assigns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "core/errors.h"

namespace dsmoe::jinja {

// A failure while rendering (jinja2's TypeError, UndefinedError, ...); the renderer adds the template
// position before it leaves as a dsmoe::Error.
class RenderError : public std::runtime_error {
 public:
  explicit RenderError(const std::string& message) : std::runtime_error(message) {}
};

template <typename... Parts>
[[noreturn]] void render_fail(const Parts&... parts) {
  throw RenderError(cat(parts...));
}

class Value;

// A Python sequence: the kinds differ in repr and in what jinja2 allows. Filters such as map and
// selectattr return generators in jinja2, which are always truthy and have no len().
enum class SequenceKind { kList, kTuple, kGenerator };

struct List {
  std::vector<Value> items;
  SequenceKind kind = SequenceKind::kList;
};

// A Python dict with string keys, in insertion order as Python keeps it (json.loads preserves the file's
// order, which tojson then reproduces).
class Dict {
 public:
  bool is_namespace = false;  // made by namespace(): the only object `set x.attr = ...` may assign to

  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value value);
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  size_t size() const;  // defined below Value: clang needs the complete pair type here, GCC does not

 private:
  std::vector<std::pair<std::string, Value>> entries_;
  std::unordered_map<std::string, size_t> index_;
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// A function a template can call: a global (range, namespace), a bound method ('a'.strip), a macro.
struct Callable {
  std::string name;
  std::function<Value(const CallArgs&)> call;
};

// jinja2.Undefined: `hint` is the message jinja2 raises when the value is used where that is an error,
// e.g. "'messages' is undefined" or "'dict object' has no attribute 'tool_calls'".
struct Undefined {
  std::string hint;
};

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kCallable };

  Value() : v_(Undefined{}) {}
  Value(Undefined u) : v_(std::move(u)) {}
  Value(std::nullptr_t) : v_(nullptr) {}
  Value(bool b) : v_(b) {}
  Value(int64_t i) : v_(i) {}
  Value(int i) : v_(int64_t{i}) {}
  Value(double f) : v_(f) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::shared_ptr<List> l) : v_(std::move(l)) {}
  Value(std::shared_ptr<Dict> d) : v_(std::move(d)) {}
  Value(std::shared_ptr<Callable> c) : v_(std::move(c)) {}

  static Value list(std::vector<Value> items, SequenceKind kind = SequenceKind::kList);
  static Value function(std::string name, std::function<Value(const CallArgs&)> call);

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  bool is_number() const { return is_bool() || is_int() || is_float(); }  // Python's numbers.Number
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_dict() const { return kind() == Kind::kDict; }
  bool is_callable() const { return kind() == Kind::kCallable; }

  const Undefined& undefined() const { return std::get<Undefined>(v_); }
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return is_bool() ? int64_t{as_bool()} : std::get<int64_t>(v_); }  // bool is an int
  double as_float() const { return is_float() ? std::get<double>(v_) : static_cast<double>(as_int()); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const List& as_list() const { return *std::get<std::shared_ptr<List>>(v_); }
  const Dict& as_dict() const { return *std::get<std::shared_ptr<Dict>>(v_); }
  // A namespace() is shared by every value that refers to it; `set ns.x` changes it for all of them.
  Dict& mutable_namespace() const { return *std::get<std::shared_ptr<Dict>>(v_); }
  const Callable& as_callable() const { return *std::get<std::shared_ptr<Callable>>(v_); }
  const void* identity() const;  // for `is sameas`: the shared object, or null for plain values

 private:
  std::variant<Undefined, std::nullptr_t, bool, int64_t, double, std::string, std::shared_ptr<List>,
               std::shared_ptr<Dict>, std::shared_ptr<Callable>>
      v_;
};

// Python's type(x).__name__, for error messages: 'str', 'int', 'list', 'dict', 'NoneType', ...
std::string type_name(const Value& v);

bool truthy(const Value& v);                                       // bool(x)
std::string to_str(const Value& v);                                // str(x); Undefined renders as ""
std::string repr(const Value& v);                                  // repr(x), as str() of a container shows its items
std::string python_float_repr(double f);                           // repr(1.0) == '1.0', repr(1e-05) == '1e-05'
bool equals(const Value& a, const Value& b);                       // a == b
int compare(const Value& a, const Value& b, std::string_view op);  // <0, 0, >0; TypeError when unordered
bool contains(const Value& container, const Value& item);          // item in container

// The items `for x in value` visits: list items, dict keys, string characters; Undefined is empty.
std::vector<Value> iterate(const Value& v);
// len(x): code points for strings; an error for numbers, None and generators.
int64_t length(const Value& v);

inline size_t Dict::size() const { return entries_.size(); }

}  // namespace dsmoe::jinja
