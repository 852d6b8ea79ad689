// rope_probe: exposes src/rope to tests/rope/check_rope.py, the NumPy oracle. It reads one JSON request on stdin,
//   {"ops": [{"op": "frequencies", ...}, ...]}
// and prints {"results": [...]}, one result per op, in order. Floats go out as doubles (a float32 widens exactly)
// and nlohmann-json prints doubles with round-trip precision, so the oracle sees the library's exact bits.
// A dsmoe::Error raised by an op becomes {"error": "..."} for that op, so the oracle can check that bad
// parameters are refused. It lives outside tests/rope/*.cpp because that glob is the gtest binary.
#include <cstdio>
#include <exception>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.h"
#include "dsmoe/rope/position_baselines.h"
#include "dsmoe/rope/rope.h"
#include "dsmoe/rope/rope_apply.h"
#include "dsmoe/rope/rope_axes.h"
#include "dsmoe/rope/rope_frequencies.h"
#include "dsmoe/rope/rope_table.h"

namespace dsmoe {
namespace {

using nlohmann::json;

RopePairing pairing_of(const std::string& name) {
  if (name == "rotate_half") return RopePairing::kRotateHalf;
  if (name == "interleaved") return RopePairing::kInterleaved;
  fail("rope_probe: pairing must be rotate_half or interleaved, found ", name);
}

std::optional<double> optional_number(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<double>();
}

RopeScaling scaling_of(const json& j) {
  RopeScaling s;
  const auto type = parse_rope_scaling_type(j.value("type", std::string("none")));
  if (!type) fail("rope_probe: unknown scaling type ", j.value("type", std::string()));
  s.type = *type;
  s.factor = j.value("factor", 1.0);
  s.original_max_position_embeddings = j.value("original_max_position_embeddings", int64_t(0));
  s.beta_fast = j.value("beta_fast", 32.0);
  s.beta_slow = j.value("beta_slow", 1.0);
  s.mscale = optional_number(j, "mscale");
  s.mscale_all_dim = optional_number(j, "mscale_all_dim");
  s.attention_factor = optional_number(j, "attention_factor");
  s.truncate = j.value("truncate", true);
  s.yarn_flavor = j.value("flavor", std::string("transformers")) == "deepseek_v2" ? YarnFlavor::kDeepseekV2
                                                                                  : YarnFlavor::kTransformers;
  s.low_freq_factor = j.value("low_freq_factor", 1.0);
  s.high_freq_factor = j.value("high_freq_factor", 4.0);
  s.short_factor = j.value("short_factor", std::vector<double>{});
  s.long_factor = j.value("long_factor", std::vector<double>{});
  s.factor_given = j.value("factor_given", true);
  return s;
}

RopeParams params_of(const json& j) {
  RopeParams p;
  p.rotary_dim = j.at("rotary_dim").get<int64_t>();
  p.theta = j.at("theta").get<double>();
  p.pairing = pairing_of(j.value("pairing", std::string("rotate_half")));
  p.max_position_embeddings = j.value("max_position_embeddings", int64_t(2048));
  if (j.contains("scaling")) p.scaling = scaling_of(j["scaling"]);
  return p;
}

json widen(const float* v, int64_t n) { return json(std::vector<double>(v, v + n)); }

json frequencies(const json& req) {
  const RopeFrequencies f = rope_frequencies(params_of(req.at("params")), req.at("seq_len").get<int64_t>());
  return {{"inv_freq", widen(f.inv_freq.data(), int64_t(f.inv_freq.size()))},
          {"attention_factor", double(f.attention_factor)},
          {"softmax_scale", double(f.softmax_scale)},
          {"base", f.base},
          {"factor", f.factor},
          {"original_context", f.original_context},
          {"long_factors", f.long_factors}};
}

// cos/sin at arbitrary positions through rope_cos_sin, and at [first, first + count) through RopeTable.
json cos_sin(const json& req) {
  const RopeFrequencies f = rope_frequencies(params_of(req.at("params")), req.at("seq_len").get<int64_t>());
  const int64_t half = int64_t(f.inv_freq.size());
  std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
  json cos_rows = json::array(), sin_rows = json::array();
  for (const int64_t p : req.at("positions").get<std::vector<int64_t>>()) {
    rope_cos_sin(f.inv_freq.data(), half, p, f.attention_factor, c.data(), s.data());
    cos_rows.push_back(widen(c.data(), half));
    sin_rows.push_back(widen(s.data(), half));
  }
  json out = {{"inv_freq", widen(f.inv_freq.data(), half)},
              {"attention_factor", double(f.attention_factor)},
              {"cos", cos_rows},
              {"sin", sin_rows}};
  if (req.contains("first")) {
    RopeTable table;
    table.compute(f, req["first"].get<int64_t>(), req.at("count").get<int64_t>());
    json tc = json::array(), ts = json::array();
    for (int64_t p = table.first(); p < table.first() + table.count(); ++p) {
      tc.push_back(widen(table.cos(p), half));
      ts.push_back(widen(table.sin(p), half));
    }
    out["table_cos"] = tc;
    out["table_sin"] = ts;
  }
  return out;
}

json apply(const json& req) {
  std::vector<float> x;
  for (const double v : req.at("x").get<std::vector<double>>()) x.push_back(float(v));
  std::vector<float> c, s;
  for (const double v : req.at("cos").get<std::vector<double>>()) c.push_back(float(v));
  for (const double v : req.at("sin").get<std::vector<double>>()) s.push_back(float(v));
  const int64_t n_heads = req.at("n_heads").get<int64_t>();
  const int64_t head_dim = req.at("head_dim").get<int64_t>();
  const int64_t rotary_dim = req.at("rotary_dim").get<int64_t>();
  if (int64_t(x.size()) != n_heads * head_dim || int64_t(c.size()) != rotary_dim / 2 || c.size() != s.size() ||
      rotary_dim > head_dim) {
    fail("rope_probe apply: x needs n_heads * head_dim values and cos/sin rotary_dim / 2");
  }
  rope_apply(x.data(), n_heads, head_dim, c.data(), s.data(), rotary_dim, pairing_of(req.at("pairing")));
  return {{"x", widen(x.data(), int64_t(x.size()))}};
}

RopeAxisLayout layout_of(const json& req) {
  const std::string kind = req.at("kind");
  const double theta = req.at("theta").get<double>();
  if (kind == "axial") {
    return axial_layout(req.at("pairs_per_axis").get<std::vector<int64_t>>(), theta, req.at("restart").get<bool>());
  }
  if (kind == "mrope") {
    return mrope_layout(req.at("section").get<std::vector<int64_t>>(), theta, req.at("interleaved").get<bool>());
  }
  if (kind == "vision") return qwen2vl_vision_layout(req.at("head_dim").get<int64_t>(), theta);
  if (kind == "pixtral") return pixtral_layout(req.at("head_dim").get<int64_t>(), theta);
  fail("rope_probe: unknown layout kind ", kind);
}

json layout(const json& req) {
  const RopeAxisLayout l = layout_of(req);
  const int64_t n = l.n_pairs();
  std::vector<float> c(static_cast<size_t>(n)), s(static_cast<size_t>(n));
  json cos_rows = json::array(), sin_rows = json::array();
  for (const auto& point : req.at("points")) {
    const std::vector<int64_t> positions = point.get<std::vector<int64_t>>();
    if (int64_t(positions.size()) != l.n_axes) fail("rope_probe layout: a point needs one position per axis");
    rope_cos_sin_axes(l, positions.data(), c.data(), s.data());
    cos_rows.push_back(widen(c.data(), n));
    sin_rows.push_back(widen(s.data(), n));
  }
  return {{"n_axes", l.n_axes},
          {"axis_of_pair", l.axis_of_pair},
          {"freq_of_pair", l.freq_of_pair},
          {"inv_freq", widen(l.inv_freq.data(), int64_t(l.inv_freq.size()))},
          {"cos", cos_rows},
          {"sin", sin_rows}};
}

json alibi(const json& req) {
  json out = {{"slopes", alibi_slopes(req.at("n_heads").get<int64_t>())}};
  json bias = json::array();
  for (const auto& q : req.value("bias", json::array())) {
    bias.push_back(alibi_bias(q.at(0).get<double>(), q.at(1).get<int64_t>(), q.at(2).get<int64_t>()));
  }
  out["bias"] = bias;
  return out;
}

json sinusoidal(const json& req) {
  const int64_t d = req.at("d_model").get<int64_t>();
  std::vector<float> out(size_t(d > 0 ? d : 0));
  sinusoidal_encoding(req.at("position").get<int64_t>(), d, out.data(), req.value("base", 10000.0));
  return {{"values", widen(out.data(), d)}};
}

json run(const json& req) {
  const std::string op = req.at("op");
  if (op == "frequencies") return frequencies(req);
  if (op == "cos_sin") return cos_sin(req);
  if (op == "apply") return apply(req);
  if (op == "perm") return {{"perm", rotate_half_from_interleaved(req.at("rotary_dim").get<int64_t>())}};
  if (op == "layout") return layout(req);
  if (op == "alibi") return alibi(req);
  if (op == "sinusoidal") return sinusoidal(req);
  fail("rope_probe: unknown op ", op);
}

}  // namespace
}  // namespace dsmoe

int main() {
  try {
    const nlohmann::json request = nlohmann::json::parse(std::cin);
    nlohmann::json results = nlohmann::json::array();
    for (const auto& op : request.at("ops")) {
      try {
        results.push_back(dsmoe::run(op));
      } catch (const dsmoe::Error& e) {
        results.push_back({{"error", e.what()}});
      }
    }
    std::cout << nlohmann::json{{"results", results}}.dump() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rope_probe: %s\n", e.what());
    return 2;
  }
}
