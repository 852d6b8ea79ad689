// dsmoe inspect rope: what a model's RoPE does with positions. Per rotary pair, the frequency in use, its
// wavelength and whether it turns fully inside the training context (so that angles past training repeat ones
// the model saw) or not (the dimensions extrapolation breaks); the long-term decay of the score with distance
// (RoFormer 3.4.3); and 2-D axial RoPE's translation invariance against sinusoidal absolute encoding.
// The --rope-* flags apply, so one can see what e.g. `--rope-scaling yarn --rope-scale 16` changes.
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <numbers>
#include <random>
#include <string_view>

#include "commands.h"
#include "dsmoe/error.h"
#include "dsmoe/model_metadata.h"
#include "dsmoe/rope/position_baselines.h"
#include "dsmoe/rope/rope_apply.h"
#include "dsmoe/rope/rope_axes.h"
#include "dsmoe/rope/rope_frequencies.h"
#include "dsmoe/rope/rope_table.h"
#include "rope_options.h"
#include "svg_plot.h"
#include "flag_checks.h"

namespace dsmoe::cli {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr int kMaxOffset = 8;  // the 2-D score is shown for row and column offsets -8..8

struct InspectRopeArgs {
  std::string model_dir;
  std::string config_path;
  int64_t ctx = 0;  // not given: max_position_embeddings
  std::string plot_dir;
  std::string grid = "32x32";
  uint64_t seed = 0;
  RopeOptions rope;
  CLI::App* app = nullptr;
};

[[gnu::format(printf, 1, 2)]] std::string fmt(const char* format, ...) {
  char text[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
  return text;
}

// What the report needs of the model: its RoPE (after the flags) and the contexts it is judged against.
struct RopeSetup {
  int64_t max_position_embeddings = 0;
  int64_t head_dim = 0;
  std::string description;  // Model::describe_rope's text at ctx
  RopeParams params;
  RopeFrequencies used;         // the plan at --ctx, as the model would run
  std::vector<float> original;  // the unscaled ladder theta^(-2j/d) the model was trained with
  int64_t train = 0;            // L: max_position_embeddings, or L0 when a scaling is configured
  int64_t ctx = 0;
  bool scaled = false;
};

RopeSetup load_setup(const InspectRopeArgs& args) {
  if (args.model_dir.empty() == args.config_path.empty()) {
    fail("inspect rope: give exactly one of -m DIR or --config FILE");
  }
  const bool ctx_given = args.app->count("--ctx") > 0;
  const auto check_ctx = [](int64_t ctx) {
    if (ctx < 2 || ctx >= (int64_t(1) << 31)) fail("inspect rope: --ctx must be in [2, 2^31), found ", ctx);
  };
  if (ctx_given) check_ctx(args.ctx);
  RopeSetup s;
  const ModelRope model = read_model_rope(args.config_path.empty() ? args.model_dir : args.config_path,
                                          args.rope.overrides(), ctx_given ? args.ctx : 0);
  s.max_position_embeddings = model.max_position_embeddings;
  s.head_dim = model.head_dim;
  s.description = model.description;
  s.ctx = ctx_given ? args.ctx : s.max_position_embeddings;
  check_ctx(s.ctx);
  s.params = model.params;
  s.used = rope_frequencies(s.params, s.ctx);
  s.original = default_inv_freq(s.params.theta, s.params.rotary_dim);
  s.scaled = s.params.scaling.type != RopeScalingType::kNone;
  s.train = s.scaled ? s.used.original_context : s.max_position_embeddings;
  if (s.train < 2) fail("inspect rope: the training context must be at least 2 positions, found ", s.train);
  return s;
}

// One rotary pair. Turns count the largest angle a window reaches: positions 0..L-1 give relative distances up
// to L-1, so a pair has turned fully in training iff (L-1) * inv_freq >= 2 pi, i.e. wavelength <= L-1.
struct PairRow {
  double inv_used = 0, inv_orig = 0;
  double wavelength_used = 0, wavelength_orig = 0;
  double turns_train = 0;  // with the trained (original) frequency, in L
  double turns_ctx = 0;    // with the frequency in use, in ctx
  double reach = 0;        // largest angle at ctx / largest angle in training
  bool full_turn = false;
  bool unseen = false;  // never turns and reaches past the trained angles within ctx
};

std::vector<PairRow> pair_rows(const RopeSetup& s) {
  std::vector<PairRow> rows;
  const double last_train = double(s.train - 1), last_ctx = double(s.ctx - 1);
  for (size_t j = 0; j < s.original.size(); ++j) {
    PairRow r;
    r.inv_used = double(s.used.inv_freq[j]);
    r.inv_orig = double(s.original[j]);
    r.wavelength_used = kTwoPi / r.inv_used;
    r.wavelength_orig = kTwoPi / r.inv_orig;
    r.turns_train = last_train / r.wavelength_orig;
    r.turns_ctx = last_ctx / r.wavelength_used;
    r.reach = (last_ctx * r.inv_used) / (last_train * r.inv_orig);
    r.full_turn = r.turns_train >= 1.0;
    // One training step of slack: an angle within one position's increment of the largest trained angle is no
    // newer than the angles between trained positions (YaRN at ctx = s L0 reaches (s L0 - 1) / s = L0 - 1/s).
    r.unseen = !r.full_turn && r.reach > double(s.train) / last_train;
    rows.push_back(r);
  }
  return rows;
}

// YaRN's correction dimension: the (fractional) pair index that makes `turns` turns in L0.
double correction_dim(const RopeSetup& s, double turns) {
  return double(s.params.rotary_dim) * std::log(double(s.train) / (kTwoPi * turns)) / (2.0 * std::log(s.params.theta));
}

std::string index_range(const std::vector<int64_t>& js) {
  if (js.empty()) return "none";
  return js.size() == 1 ? fmt("j = %ld", long(js[0])) : fmt("j = %ld..%ld", long(js.front()), long(js.back()));
}

void print_pairs(const RopeSetup& s, const std::vector<PairRow>& rows) {
  std::cout << "\nPer rotary pair (wavelength = 2*pi/inv_freq tokens; turns in a window of N positions = (N-1) / "
               "wavelength; turns_in_L uses the trained frequency";
  if (s.scaled) std::cout << " (orig_*), inv_freq/wavelength/turns_in_ctx the scaled one in use";
  std::cout << ")\n";
  std::cout << fmt("%4s %14s %12s", "j", "inv_freq", "wavelength");
  if (s.scaled) std::cout << fmt(" %14s %12s %9s", "orig_inv_freq", "orig_wavelen", "ratio");
  std::cout << fmt(" %11s %12s %9s  %-11s %s\n", "turns_in_L", "turns_in_ctx", "reach", "verdict", "angles_at_ctx");
  for (size_t j = 0; j < rows.size(); ++j) {
    const PairRow& r = rows[j];
    std::cout << fmt("%4zu %14.7e %12.7g", j, r.inv_used, r.wavelength_used);
    if (s.scaled) std::cout << fmt(" %14.7e %12.7g %9.5f", r.inv_orig, r.wavelength_orig, r.inv_used / r.inv_orig);
    std::cout << fmt(" %11.6g %12.6g %9s  %-11s %s\n", r.turns_train, r.turns_ctx,
                     r.full_turn ? "-" : fmt("%.4f", r.reach).c_str(), r.full_turn ? "full-turn" : "never-turns",
                     r.full_turn ? "all-seen" : (r.unseen ? "UNSEEN" : "within-trained"));
  }
}

void print_summary(const RopeSetup& s, const std::vector<PairRow>& rows) {
  std::vector<int64_t> turning, never, unseen;
  for (size_t j = 0; j < rows.size(); ++j) {
    (rows[j].full_turn ? turning : never).push_back(int64_t(j));
    if (rows[j].unseen) unseen.push_back(int64_t(j));
  }
  const RopeScaling& sc = s.params.scaling;
  const bool yarn = sc.type == RopeScalingType::kYarn;
  const double beta_fast = yarn ? sc.beta_fast : 32.0, beta_slow = yarn ? sc.beta_slow : 1.0;
  const double low = correction_dim(s, beta_fast), high = correction_dim(s, beta_slow);
  std::cout << "\nSummary\n";
  std::cout << "  training context L = " << s.train
            << (s.scaled ? " (the scaling's L0: original_max_position_embeddings, else max_position_embeddings)" : "")
            << ", positions 0.." << s.train - 1 << "; --ctx " << s.ctx << "\n";
  std::cout << "  pairs with a full turn in L:  " << turning.size() << " of " << rows.size() << " ("
            << index_range(turning) << "): angles past L repeat angles seen in training, they extrapolate\n";
  std::cout << "  pairs that never turn in L:   " << never.size() << " of " << rows.size() << " (" << index_range(never)
            << "): wavelength > L-1 = " << s.train - 1 << " tokens\n";
  std::cout << "  never-turning pairs reaching angles unseen in training within ctx " << s.ctx << ": " << unseen.size()
            << " (" << index_range(unseen) << ")" << (s.ctx <= s.train ? "; ctx <= L, nothing to extrapolate" : "")
            << "\n";
  std::cout << "  critical pair: "
            << (never.empty() ? std::string("none (every pair turns)") : fmt("j = %ld", long(never[0])))
            << ", the first that never turns in L; "
            << fmt("continuous critical index corr(1) = %.3f (the pair with wavelength exactly L)", high) << "\n";
  std::cout
      << fmt("  YaRN correction dims at L = %ld, theta %g, d %ld: corr(beta_fast %g) = %.3f -> low %g, corr(beta_slow "
             "%g) = %.3f -> high %g",
             long(s.train), s.params.theta, long(s.params.rotary_dim), beta_fast, low, std::max(std::floor(low), 0.0),
             beta_slow, high, std::min(std::ceil(high), double(s.params.rotary_dim) - 1))
      << " (YaRN keeps pairs below low, divides pairs above high by s, ramps between)\n";
  const double f = double(s.used.attention_factor), m = double(s.used.softmax_scale);
  std::cout << fmt("  attention factor on cos/sin: %.6g; softmax scale multiplier: %.6g; the logits scale by f^2 * m = "
                   "%.6g",
                   f, m, f * f * m)
            << "\n";
}

// Log-spaced integer distances in [1, last], about `count` of them, without repeats.
std::vector<int64_t> log_distances(int64_t last, int count) {
  std::vector<int64_t> out;
  for (int k = 0; k < count; ++k) {
    const double t = count == 1 ? 1.0 : double(k) / double(count - 1);
    const int64_t r = std::llround(std::exp(t * std::log(double(last))));
    if (out.empty() || r > out.back()) out.push_back(r);
  }
  return out;
}

// q·k for all-ones q (at position r) and k (at position 0) over the whole head, rotated by cos/sin of the
// given frequencies times the attention factor, divided by its value at r = 0.
struct AllOnesScore {
  int64_t head_dim, rotary_dim;
  std::vector<float> inv_freq;
  float factor;
  RopePairing pairing;

  double raw(int64_t r) const {
    const int64_t half = rotary_dim / 2;
    const size_t n = static_cast<size_t>(head_dim);
    std::vector<float> cos(static_cast<size_t>(half)), sin(static_cast<size_t>(half)), q(n, 1.0f), k(n, 1.0f);
    rope_cos_sin(inv_freq.data(), half, r, factor, cos.data(), sin.data());
    rope_apply(q.data(), 1, head_dim, cos.data(), sin.data(), rotary_dim, pairing);
    rope_cos_sin(inv_freq.data(), half, 0, factor, cos.data(), sin.data());
    rope_apply(k.data(), 1, head_dim, cos.data(), sin.data(), rotary_dim, pairing);
    double dot = 0;
    for (int64_t i = 0; i < head_dim; ++i) dot += double(q[size_t(i)]) * double(k[size_t(i)]);
    return dot;
  }
  double normalised(int64_t r) const { return raw(r) / raw(0); }
};

// RoFormer (3.4.3) bounds |score| by max|h_{j+1} - h_j| * sum_j |S_j| with S_j = sum_{k<j} e^{i r theta_k};
// its Figure 2 plots the mean over j of |S_j|. Divided by its value at r = 0, (d/2 + 1) / 2.
double roformer_bound(const std::vector<float>& inv_freq, int64_t r) {
  std::complex<double> partial = 0;
  double sum = 0;
  for (float inv : inv_freq) {
    partial += std::polar(1.0, double(r) * double(inv));
    sum += std::abs(partial);
  }
  const double n = double(inv_freq.size());
  return (sum / n) / ((n + 1) / 2);
}

void decay(const RopeSetup& s, const std::string& plot_dir) {
  const AllOnesScore used{s.head_dim, s.params.rotary_dim, s.used.inv_freq, s.used.attention_factor,
                          s.params.pairing};
  const AllOnesScore original{s.head_dim, s.params.rotary_dim, s.original, 1.0f, s.params.pairing};
  const std::string quantity =
      fmt("score(r) = q_r.k_0 / q_0.k_0 for all-ones q, k (head_dim %ld, rotary %ld) rotated at positions r and 0",
          long(s.head_dim), long(s.params.rotary_dim));
  std::cout << "\nLong-term decay (RoFormer 3.4.3), relative distance r = 0.." << s.ctx - 1 << ", log-spaced\n";
  std::cout << "  all_ones: " << quantity << "\n";
  std::cout
      << "  bound:    mean over j = 1..d/2 of |sum_{k<j} e^{i r theta_k}|, divided by its value (d/2+1)/2 at r = 0\n";
  if (s.scaled) std::cout << "  unscaled: all_ones with the trained frequencies, for comparison\n";
  std::cout << fmt("%10s %10s %10s", "r", "all_ones", "bound") << (s.scaled ? fmt(" %10s", "unscaled") : "") << "\n";
  std::vector<int64_t> table = {0};
  for (int64_t r : log_distances(s.ctx - 1, 1 + int(std::ceil(2 * std::log2(double(s.ctx - 1)))))) table.push_back(r);
  for (int64_t r : table) {
    std::cout << fmt("%10ld %10.5f %10.5f", long(r), used.normalised(r), roformer_bound(s.used.inv_freq, r))
              << (s.scaled ? fmt(" %10.5f", original.normalised(r)) : "") << "\n";
  }
  if (plot_dir.empty()) return;
  LinePlot plot;
  plot.title = "RoPE long-term decay (RoFormer 3.4.3)";
  plot.subtitle =
      quantity + "\nbound: mean over j of |sum_{k<j} e^(i r theta_k)|, divided by (d/2+1)/2, its value at r = 0";
  plot.x_label = "relative distance r (tokens, log scale)";
  plot.y_label = "normalised score";
  plot.log_x = true;
  PlotSeries ones{"all-ones q.k", {}, {}}, bound{"RoFormer bound", {}, {}}, unscaled{"all-ones, unscaled", {}, {}};
  unscaled.dashed = true;
  for (int64_t r : log_distances(s.ctx - 1, 400)) {
    ones.x.push_back(double(r));
    ones.y.push_back(used.normalised(r));
    bound.x.push_back(double(r));
    bound.y.push_back(roformer_bound(s.used.inv_freq, r));
    if (s.scaled) {
      unscaled.x.push_back(double(r));
      unscaled.y.push_back(original.normalised(r));
    }
  }
  plot.series = {ones, bound};
  if (s.scaled) plot.series.push_back(unscaled);
  if (s.train - 1 < s.ctx - 1)
    plot.vertical_lines.push_back({double(s.train - 1), fmt("L-1 = %ld", long(s.train - 1))});
  plot.horizontal_lines.push_back({0.0, ""});
  write_line_plot((std::filesystem::path(plot_dir) / "decay.svg").string(), plot);
}

void frequency_plot(const RopeSetup& s, const std::vector<PairRow>& rows, const std::string& plot_dir) {
  LinePlot plot;
  plot.title = "RoPE wavelength per rotary pair";
  plot.subtitle =
      fmt("wavelength = 2 pi / inv_freq; theta %g, rotary dim %ld, scaling %s\na pair turns fully in "
          "training iff its trained wavelength <= L-1",
          s.params.theta, long(s.params.rotary_dim), to_string(s.params.scaling.type));
  plot.x_label = "rotary pair j";
  plot.y_label = "wavelength (tokens, log scale)";
  plot.log_y = true;
  PlotSeries used{s.scaled ? "in use (scaled)" : "wavelength", {}, {}}, orig{"trained (unscaled)", {}, {}};
  used.markers = true;
  orig.dashed = true;
  for (size_t j = 0; j < rows.size(); ++j) {
    used.x.push_back(double(j));
    used.y.push_back(rows[j].wavelength_used);
    orig.x.push_back(double(j));
    orig.y.push_back(rows[j].wavelength_orig);
  }
  plot.series = {used};
  if (s.scaled) plot.series.push_back(orig);
  plot.horizontal_lines = {{double(s.train - 1), fmt("training context L-1 = %ld", long(s.train - 1))}};
  if (s.ctx != s.train) plot.horizontal_lines.push_back({double(s.ctx - 1), fmt("--ctx - 1 = %ld", long(s.ctx - 1))});
  write_line_plot((std::filesystem::path(plot_dir) / "frequencies.svg").string(), plot);
}

// ---- 2-D: axial RoPE against sinusoidal absolute encoding over a grid of patches ----

struct Grid {
  int64_t rows = 0, columns = 0;
};

Grid parse_grid(const std::string& text) {
  // RxC with 1 to 5 digits each (no std::regex: GCC 12's <regex> trips -Wmaybe-uninitialized at -O1).
  const size_t x = text.find('x');
  const auto digits = [](std::string_view part) {
    return !part.empty() && part.size() <= 5 &&
           std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (x == std::string::npos || !digits(std::string_view(text).substr(0, x)) ||
      !digits(std::string_view(text).substr(x + 1))) {
    fail("inspect rope: --grid '", text, "' is not RxC, e.g. 32x32");
  }
  Grid g{std::stoll(text.substr(0, x)), std::stoll(text.substr(x + 1))};
  const int64_t least = 2 * kMaxOffset + 1;
  if (g.rows < least || g.columns < least || g.rows > 4096 || g.columns > 4096) {
    fail("inspect rope: --grid ", text, ": rows and columns must be in [", least, ", 4096] (offsets -", kMaxOffset,
         "..", kMaxOffset, " around two anchors must stay on the grid)");
  }
  return g;
}

// Row-major [17 x 17] of a score over (row offset, column offset) in -8..8.
using OffsetMap = std::vector<double>;

struct Content {
  std::vector<float> query, key;  // [d]
};

// All-ones, or N(0, 1) from the seed by Box-Muller over mt19937_64 (the same numbers with any standard library,
// which std::normal_distribution does not promise).
Content make_content(int64_t d, const InspectRopeArgs& args, bool random) {
  Content c{std::vector<float>(size_t(d), 1.0f), std::vector<float>(size_t(d), 1.0f)};
  if (!random) return c;
  std::mt19937_64 generator(args.seed);
  const auto uniform = [&] { return (double(generator() >> 11) + 0.5) * 0x1.0p-53; };
  for (auto* v : {&c.query, &c.key}) {
    for (float& x : *v) x = float(std::sqrt(-2.0 * std::log(uniform())) * std::cos(kTwoPi * uniform()));
  }
  return c;
}

OffsetMap rope_2d_scores(const RopeAxisLayout& layout, const Content& content, int64_t anchor_row, int64_t anchor_col) {
  const int64_t pairs = layout.n_pairs(), d = 2 * pairs;
  std::vector<float> cos(static_cast<size_t>(pairs)), sin(static_cast<size_t>(pairs)), q, k(content.key);
  const int64_t anchor[2] = {anchor_row, anchor_col};
  rope_cos_sin_axes(layout, anchor, cos.data(), sin.data());
  rope_apply(k.data(), 1, d, cos.data(), sin.data(), d, RopePairing::kRotateHalf);
  OffsetMap out;
  for (int64_t dr = -kMaxOffset; dr <= kMaxOffset; ++dr) {
    for (int64_t dc = -kMaxOffset; dc <= kMaxOffset; ++dc) {
      const int64_t at[2] = {anchor_row + dr, anchor_col + dc};
      rope_cos_sin_axes(layout, at, cos.data(), sin.data());
      q = content.query;
      rope_apply(q.data(), 1, d, cos.data(), sin.data(), d, RopePairing::kRotateHalf);
      double dot = 0;
      for (int64_t i = 0; i < d; ++i) dot += double(q[size_t(i)]) * double(k[size_t(i)]);
      out.push_back(dot);
    }
  }
  return out;
}

// (PE(p) + x).(PE(p') + y) with p, p' flattened patch indices (row * columns + column); with_content false
// leaves only PE(p).PE(p').
OffsetMap sinusoidal_scores(const Grid& g, const Content& content, int64_t anchor_row, int64_t anchor_col,
                            bool with_content, double base) {
  const int64_t d = int64_t(content.query.size());
  std::vector<float> pe_q(static_cast<size_t>(d)), pe_k(static_cast<size_t>(d));
  sinusoidal_encoding(anchor_row * g.columns + anchor_col, d, pe_k.data(), base);
  OffsetMap out;
  for (int64_t dr = -kMaxOffset; dr <= kMaxOffset; ++dr) {
    for (int64_t dc = -kMaxOffset; dc <= kMaxOffset; ++dc) {
      sinusoidal_encoding((anchor_row + dr) * g.columns + anchor_col + dc, d, pe_q.data(), base);
      double dot = 0;
      for (size_t i = 0; i < size_t(d); ++i) {
        const double a = double(pe_q[i]) + (with_content ? double(content.query[i]) : 0.0);
        const double b = double(pe_k[i]) + (with_content ? double(content.key[i]) : 0.0);
        dot += a * b;
      }
      out.push_back(dot);
    }
  }
  return out;
}

double max_difference(const OffsetMap& a, const OffsetMap& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// A compact view: offsets 0, +-1, +-2, +-4, +-8.
void print_offset_map(const std::string& title, const OffsetMap& map) {
  static const int shown[] = {-8, -4, -2, -1, 0, 1, 2, 4, 8};
  std::cout << "  " << title << "  (rows: row offset, columns: column offset)\n  " << fmt("%6s", "dr\\dc");
  for (int dc : shown) std::cout << fmt(" %8d", dc);
  std::cout << "\n";
  for (int dr : shown) {
    std::cout << "  " << fmt("%6d", dr);
    for (int dc : shown) {
      std::cout << fmt(" %8.3f", map[size_t((dr + kMaxOffset) * (2 * kMaxOffset + 1) + dc + kMaxOffset)]);
    }
    std::cout << "\n";
  }
}

void heat_map(const std::string& path, const std::string& title, const std::string& subtitle,
              const std::vector<std::pair<std::string, OffsetMap>>& panels) {
  HeatMap map;
  map.title = title;
  map.subtitle = subtitle;
  map.x_label = "column offset";
  map.y_label = "row offset";
  map.value_label = "q.k";
  for (const auto& [name, values] : panels) {
    map.panels.push_back({name, 2 * kMaxOffset + 1, 2 * kMaxOffset + 1, values, -kMaxOffset, -kMaxOffset});
  }
  write_heat_map(path, map);
}

void two_d(const RopeSetup& s, const InspectRopeArgs& args) {
  const Grid g = parse_grid(args.grid);
  const bool random = args.app->count("--seed") > 0;
  const int64_t pairs = s.params.rotary_dim / 2, row_pairs = (pairs + 1) / 2;
  if (pairs < 2) fail("inspect rope: 2-D RoPE needs at least 2 rotary pairs, the model has ", pairs);
  const RopeAxisLayout layout = axial_layout({row_pairs, pairs - row_pairs}, s.params.theta, true);
  const Content content = make_content(2 * pairs, args, random);
  const int64_t a_row = kMaxOffset, a_col = kMaxOffset;
  const int64_t b_row = g.rows - 1 - kMaxOffset, b_col = g.columns - 1 - kMaxOffset;
  const std::string a_name = fmt("anchor (%ld, %ld)", long(a_row), long(a_col));
  const std::string b_name = fmt("anchor (%ld, %ld)", long(b_row), long(b_col));
  const std::string what = random ? fmt("q, k ~ N(0, 1) from --seed %llu", static_cast<unsigned long long>(args.seed))
                                  : std::string("all-ones q, k");
  const OffsetMap rope_a = rope_2d_scores(layout, content, a_row, a_col);
  const OffsetMap rope_b = rope_2d_scores(layout, content, b_row, b_col);
  const OffsetMap sin_a = sinusoidal_scores(g, content, a_row, a_col, true, s.params.theta);
  const OffsetMap sin_b = sinusoidal_scores(g, content, b_row, b_col, true, s.params.theta);
  const double rope_diff = max_difference(rope_a, rope_b), sin_diff = max_difference(sin_a, sin_b);
  const double pe_only_diff = max_difference(sinusoidal_scores(g, content, a_row, a_col, false, s.params.theta),
                                             sinusoidal_scores(g, content, b_row, b_col, false, s.params.theta));

  std::cout << "\n2-D position encodings on a " << g.rows << "x" << g.columns << " patch grid, " << what << " of dim "
            << 2 * pairs << "; query at anchor + (dr, dc), key at the anchor\n";
  std::cout << "  axial RoPE: " << row_pairs << " pairs follow the row, " << pairs - row_pairs
            << " the column, each axis its own ladder theta^(-2k/" << 2 * row_pairs << "), theta " << s.params.theta
            << " (unscaled), rotate-half; score = (R(anchor + offset) q).(R(anchor) k)\n";
  print_offset_map("axial RoPE q.k at " + a_name, rope_a);
  std::cout << fmt(
      "  rope_2d max |score(%s) - score(%s)| over dr, dc in -8..8 = %.3e  (translation invariant: "
      "only float32 rounding)\n",
      a_name.c_str(), b_name.c_str(), rope_diff);
  std::cout << "  sinusoidal absolute (Vaswani 3.5, base " << s.params.theta << "), position = row * " << g.columns
            << " + column; score = (PE(p) + q).(PE(p') + k)\n";
  print_offset_map("sinusoidal (PE + q).(PE + k) at " + a_name, sin_a);
  print_offset_map("sinusoidal (PE + q).(PE + k) at " + b_name, sin_b);
  std::cout << fmt(
      "  sinusoidal max |score(%s) - score(%s)| over dr, dc in -8..8 = %.3e  (depends on the absolute "
      "position: the content-position cross terms q.PE(p') + PE(p).k)\n",
      a_name.c_str(), b_name.c_str(), sin_diff);
  std::cout << fmt(
      "  sinusoidal_pe_only max |PE.PE difference| = %.3e  (PE(p).PE(p') = sum_i cos((p - p') w_i) is "
      "itself relative; the absolute dependence enters through the content terms)\n",
      pe_only_diff);
  if (args.plot_dir.empty()) return;
  const std::filesystem::path dir(args.plot_dir);
  heat_map((dir / "score_2d_rope.svg").string(), "2-D axial RoPE: q.k by (row, column) offset",
           fmt("%s, dim %ld (%ld row + %ld column pairs), theta %g; max difference between anchors %.1e", what.c_str(),
               long(2 * pairs), long(row_pairs), long(pairs - row_pairs), s.params.theta, rope_diff),
           {{a_name, rope_a}, {b_name, rope_b}});
  heat_map((dir / "score_2d_sinusoidal.svg").string(), "Sinusoidal absolute encoding: (PE(p)+q).(PE(p')+k)",
           fmt("%s, dim %ld, p = row*%ld + column on a %ldx%ld grid; max difference between anchors %.3g", what.c_str(),
               long(2 * pairs), long(g.columns), long(g.rows), long(g.columns), sin_diff),
           {{a_name, sin_a}, {b_name, sin_b}});
}

int run_inspect_rope(const InspectRopeArgs& args) {
  const RopeSetup s = load_setup(args);
  parse_grid(args.grid);  // a bad --grid fails before any output
  if (!args.plot_dir.empty()) std::filesystem::create_directories(args.plot_dir);
  std::cout << s.description << "\n";
  const std::vector<PairRow> rows = pair_rows(s);
  print_pairs(s, rows);
  print_summary(s, rows);
  if (!args.plot_dir.empty()) frequency_plot(s, rows, args.plot_dir);
  decay(s, args.plot_dir);
  two_d(s, args);
  if (!args.plot_dir.empty()) {
    std::cout << "\nplots: frequencies.svg, decay.svg, score_2d_rope.svg, score_2d_sinusoidal.svg in " << args.plot_dir
              << "\n";
  }
  return 0;
}

}  // namespace

Handler add_inspect_rope_command(CLI::App& inspect) {
  CLI::App* sub = inspect.add_subcommand("rope",
                                         "RoPE per rotary pair: frequencies, wavelengths, which pairs "
                                         "extrapolate; score decay with distance; 2-D RoPE vs sinusoidal");
  auto args = std::make_shared<InspectRopeArgs>();
  args->app = sub;
  sub->add_option("-m,--model", args->model_dir,
                  "model folder (only its config.json is read) or .gguf (only its metadata)");
  sub->add_option("--config", args->config_path, "a config.json alone");
  sub->add_option("--ctx", args->ctx, "the context to judge extrapolation at (default: max_position_embeddings)")
      ->check(token_count());
  sub->add_option("--plot", args->plot_dir, "write frequencies.svg, decay.svg, score_2d_*.svg into this folder");
  sub->add_option("--grid", args->grid, "2-D patch grid RxC for the 2-D comparison (default 32x32)");
  sub->add_option("--seed", args->seed, "2-D comparison with random N(0,1) q, k from this seed (default all-ones)")
      ->check(integer_in(0, kNoLimit));
  add_rope_options(*sub, args->rope);
  // `dsmoe inspect -m DIR rope` names the model before the subcommand: take inspect's own -m/--config then.
  const CLI::App* parent = &inspect;
  return [args, parent] {
    if (args->model_dir.empty() && args->config_path.empty()) {
      if (parent->count("--model") > 0) args->model_dir = parent->get_option("--model")->as<std::string>();
      if (parent->count("--config") > 0) args->config_path = parent->get_option("--config")->as<std::string>();
    }
    return run_inspect_rope(*args);
  };
}

}  // namespace dsmoe::cli
