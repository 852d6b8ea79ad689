#include "loaders/rope_config.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "model/config.h"
#include "dsmoe/rope/rope_frequencies.h"

namespace dsmoe {
namespace {

class ScalingReader {
 public:
  ScalingReader(const nlohmann::json& json, std::string where) : json_(json), where_(std::move(where)) {}

  bool has(const char* key) {
    seen_.insert(key);
    return json_.contains(key) && !json_[key].is_null();
  }
  double number(const char* key) {
    if (!json_[key].is_number()) bad(key, "must be a number");
    const double v = json_[key].get<double>();
    if (!std::isfinite(v)) bad(key, "must be finite");
    return v;
  }
  double positive(const char* key, double limit = 1e9) {
    const double v = number(key);
    if (!(v > 0.0 && v < limit)) bad(key, cat("must be in (0, ", limit, ")"));
    return v;
  }
  std::vector<double> factors(const char* key) {
    const auto& a = json_[key];
    if (!a.is_array() || a.size() > 65536) bad(key, "must be an array of at most 65536 numbers");
    std::vector<double> out;
    for (const auto& v : a) {
      if (!v.is_number() || !(v.get<double>() > 0.0) || !std::isfinite(v.get<double>())) {
        bad(key, "must hold positive numbers");
      }
      out.push_back(v.get<double>());
    }
    return out;
  }
  [[noreturn]] void bad(const char* key, const std::string& why) {
    fail(where_, ": ", key, " = ", json_[key].dump(), " ", why);
  }
  std::vector<std::string> unseen() const {
    std::vector<std::string> out;
    for (const auto& item : json_.items()) {
      if (!seen_.count(item.key())) out.push_back(item.key());
    }
    return out;
  }

 private:
  const nlohmann::json& json_;
  std::string where_;
  std::set<std::string> seen_;
};

}  // namespace

RopeScaling parse_rope_scaling(const nlohmann::json& json, const std::string& source, const std::string& key,
                               const std::string& model_type, std::vector<std::string>& unknown_keys) {
  const std::string where = cat(source, ": invalid '", key, "'");
  if (!json.is_object()) fail(where, ": must be null or an object, found ", json.dump());
  ScalingReader r(json, where);
  RopeScaling s;
  // DeepSeek-V2/V3 files carry the DeepSeek flavour of YaRN's magnitude; every other file transformers'.
  if (model_type.starts_with("deepseek_v")) s.yarn_flavor = YarnFlavor::kDeepseekV2;
  const char* type_key = r.has("rope_type") ? "rope_type" : "type";
  if (!r.has(type_key) || !json[type_key].is_string()) fail(where, ": needs a string 'rope_type' (or 'type')");
  r.has("type");
  r.has("rope_theta");  // v5 rope_parameters: read by the caller
  const std::string type = json[type_key].get<std::string>();
  const auto parsed = parse_rope_scaling_type(type);
  if (!parsed) {
    fail(where, ": ", type_key, " = '", type, "' is not supported (supported: default, linear, dynamic, yarn, llama3, ",
         "longrope)");
  }
  s.type = *parsed;
  if (r.has("factor")) {
    s.factor = r.number("factor");
    if (!(s.factor >= 1.0 && s.factor < 1e6)) r.bad("factor", "must be in [1, 1e6) (a factor below 1 shrinks the context)");
  } else if (s.type == RopeScalingType::kLongRope || s.type == RopeScalingType::kNone) {
    s.factor_given = false;
  } else {
    fail(where, ": type '", type, "' needs a numeric 'factor'");
  }
  if (r.has("original_max_position_embeddings")) {
    const double v = r.positive("original_max_position_embeddings", double(int64_t(1) << 31));
    if (v != std::floor(v)) r.bad("original_max_position_embeddings", "must be an integer");
    s.original_max_position_embeddings = int64_t(v);
  }
  if (r.has("beta_fast")) s.beta_fast = r.positive("beta_fast");
  if (r.has("beta_slow")) s.beta_slow = r.positive("beta_slow");
  if (r.has("mscale")) s.mscale = r.number("mscale");
  if (r.has("mscale_all_dim")) s.mscale_all_dim = r.number("mscale_all_dim");
  if (r.has("attention_factor")) s.attention_factor = r.positive("attention_factor");
  if (r.has("truncate")) {
    if (!json["truncate"].is_boolean()) r.bad("truncate", "must be true or false");
    s.truncate = json["truncate"].get<bool>();
  }
  if (r.has("low_freq_factor")) s.low_freq_factor = r.positive("low_freq_factor");
  if (r.has("high_freq_factor")) s.high_freq_factor = r.positive("high_freq_factor");
  if (r.has("short_factor")) s.short_factor = r.factors("short_factor");
  if (r.has("long_factor")) s.long_factor = r.factors("long_factor");
  if (s.type == RopeScalingType::kLlama3 && !(s.high_freq_factor > s.low_freq_factor)) {
    fail(where, ": llama3 needs high_freq_factor > low_freq_factor, found ", s.high_freq_factor, " and ",
         s.low_freq_factor);
  }
  if (s.type == RopeScalingType::kLongRope && (s.short_factor.empty() || s.long_factor.empty())) {
    fail(where, ": longrope needs 'short_factor' and 'long_factor'");
  }
  for (const std::string& k : r.unseen()) unknown_keys.push_back(cat(key, ".", k));
  return s;
}

void apply_rope_overrides(ModelConfig& c, const RopeOverrides& o) {
  RopeScaling& s = c.rope_scaling;
  if (o.scaling) {
    const auto type = parse_rope_scaling_type(*o.scaling);
    if (!type) {
      fail("--rope-scaling: '", *o.scaling, "' is not one of none, linear, dynamic, yarn, llama3, longrope");
    }
    if (*type == RopeScalingType::kLongRope && (s.type != RopeScalingType::kLongRope)) {
      fail("--rope-scaling longrope: needs per-pair short/long factors, which only a config.json can give");
    }
    s.type = *type;
  }
  if (o.scale) {
    if (!(*o.scale >= 1.0 && *o.scale < 1e6)) fail("--rope-scale: must be in [1, 1e6), found ", *o.scale);
    s.factor = *o.scale;
    s.factor_given = true;
  }
  if (o.freq_base) {
    if (!(*o.freq_base > 1.0 && *o.freq_base < 1e30)) fail("--rope-freq-base: must be in (1, 1e30), found ", *o.freq_base);
    c.rope_theta = *o.freq_base;
  }
  if (o.original_context) {
    if (!(*o.original_context > 0 && *o.original_context < (int64_t(1) << 31))) {
      fail("--yarn-orig-ctx: must be in [1, 2^31), found ", *o.original_context);
    }
    s.original_max_position_embeddings = *o.original_context;
  }
  if (o.beta_fast) {
    if (!(*o.beta_fast > 0.0 && *o.beta_fast < 1e6)) fail("--yarn-beta-fast: must be in (0, 1e6), found ", *o.beta_fast);
    s.beta_fast = *o.beta_fast;
  }
  if (o.beta_slow) {
    if (!(*o.beta_slow > 0.0 && *o.beta_slow < 1e6)) fail("--yarn-beta-slow: must be in (0, 1e6), found ", *o.beta_slow);
    s.beta_slow = *o.beta_slow;
  }
  if (o.attn_factor) {
    if (!(*o.attn_factor > 0.0 && *o.attn_factor < 100.0)) {
      fail("--yarn-attn-factor: must be in (0, 100), found ", *o.attn_factor);
    }
    s.attention_factor = *o.attn_factor;
  }
  if (o.dynamic_policy) {
    if (*o.dynamic_policy == "grow") c.rope_dynamic_policy = RopeDynamicPolicy::kGrowWithCache;
    else if (*o.dynamic_policy == "fixed") c.rope_dynamic_policy = RopeDynamicPolicy::kFixedAtContext;
    else fail("--rope-dynamic: '", *o.dynamic_policy, "' is not one of grow, fixed");
  }
  if (s.type != RopeScalingType::kNone && s.type != RopeScalingType::kLongRope && s.factor < 1.0) {
    fail("--rope-scaling ", to_string(s.type), ": needs --rope-scale F with F >= 1 (found ", s.factor, ")");
  }
}

std::string describe_rope(const ModelConfig& c, int64_t context) {
  const RopeParams p = c.rope_params();
  const RopeFrequencies at_train = rope_frequencies(p, c.max_position_embeddings);
  const RopeFrequencies at_context = rope_frequencies(p, context);
  std::ostringstream out;
  out << "rope: " << to_string(p.pairing) << " pairing, rotary dim " << p.rotary_dim << " of head dim " << c.head_dim
      << ", base " << p.theta << ", scaling " << to_string(p.scaling.type);
  if (p.scaling.type != RopeScalingType::kNone) out << " x" << at_context.factor;
  out << "\nrope: original context " << at_context.original_context << ", model context "
      << c.max_position_embeddings << ", this run's context " << context << " ("
      << double(context) / double(at_context.original_context) << "x the original)";
  out << "\nrope: attention factor " << at_context.attention_factor << " (on cos/sin), softmax scale x"
      << at_context.softmax_scale;
  switch (p.scaling.type) {
    case RopeScalingType::kDynamic:
      out << "\nrope: dynamic NTK base " << at_train.base << " up to " << c.max_position_embeddings << " tokens, "
          << at_context.base << " at " << context << " ("
          << (p.dynamic_policy == RopeDynamicPolicy::kGrowWithCache ? "grows with the cache, as HF"
                                                                    : "fixed at the context")
          << ")";
      break;
    case RopeScalingType::kYarn:
      out << "\nrope: yarn beta_fast " << p.scaling.beta_fast << ", beta_slow " << p.scaling.beta_slow
          << (p.scaling.truncate ? ", truncated" : ", not truncated") << ", "
          << (p.scaling.yarn_flavor == YarnFlavor::kDeepseekV2 ? "DeepSeek-V2" : "transformers") << " magnitude";
      break;
    case RopeScalingType::kLlama3:
      out << "\nrope: llama3 low_freq_factor " << p.scaling.low_freq_factor << ", high_freq_factor "
          << p.scaling.high_freq_factor;
      break;
    case RopeScalingType::kLongRope:
      out << "\nrope: longrope " << (at_context.long_factors ? "long" : "short") << " factors at this context";
      break;
    default:
      break;
  }
  return out.str();
}

}  // namespace dsmoe
