#include "svg_plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "dsmoe/error.h"

namespace dsmoe::cli {
namespace {

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A subtitle may hold several lines separated by '\n'.
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Pixel coordinates: two decimals are far below what a screen shows.
std::string px(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", v);
  return text;
}

std::string tick_text(double v) {
  if (v == 0) return "0";
  char text[32];
  const double a = std::fabs(v);
  std::snprintf(text, sizeof text, a >= 1e5 || a < 1e-3 ? "%.0e" : "%g", v);
  return text;
}

void text(std::ostream& out, double x, double y, const std::string& s, const char* anchor, int size,
          const char* extra = "") {
  out << "<text x=\"" << px(x) << "\" y=\"" << px(y) << "\" text-anchor=\"" << anchor << "\" font-size=\"" << size
      << "\"" << extra << ">" << escape(s) << "</text>\n";
}

void line(std::ostream& out, double x1, double y1, double x2, double y2, const char* style) {
  out << "<line x1=\"" << px(x1) << "\" y1=\"" << px(y1) << "\" x2=\"" << px(x2) << "\" y2=\"" << px(y2) << "\" "
      << style << "/>\n";
}

// A value range mapped onto pixels, in log10 when `log`.
struct Axis {
  double lo = 0, hi = 1;  // data units (log axes: positive)
  bool log = false;
  double from = 0, to = 1;  // pixels for lo and hi

  double t(double v) const { return log ? std::log10(v) : v; }
  double map(double v) const { return from + (t(v) - t(lo)) / (t(hi) - t(lo)) * (to - from); }
};

// Widens [lo, hi] to tick boundaries and returns the ticks: decades (with 2 and 5 when few) on log axes,
// 1-2-5 steps giving five to nine ticks on linear ones.
std::vector<double> nice_ticks(Axis& a) {
  std::vector<double> ticks;
  if (a.log) {
    const double first = std::floor(std::log10(a.lo) + 1e-9), last = std::ceil(std::log10(a.hi) - 1e-9);
    a.lo = std::pow(10.0, first);
    a.hi = std::pow(10.0, std::max(last, first + 1));
    const bool few = std::log10(a.hi) - first <= 2;
    for (double e = first; e <= std::log10(a.hi) + 1e-9; ++e) {
      const double decade = std::pow(10.0, e);
      ticks.push_back(decade);
      if (few && decade * 10 <= a.hi * (1 + 1e-9)) {
        ticks.push_back(2 * decade);
        ticks.push_back(5 * decade);
      }
    }
    std::sort(ticks.begin(), ticks.end());
    return ticks;
  }
  if (a.hi - a.lo < 1e-12) {
    a.lo -= 1;
    a.hi += 1;
  }
  const double raw = (a.hi - a.lo) / 8;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  a.lo = std::floor(a.lo / step + 1e-9) * step;
  a.hi = std::ceil(a.hi / step - 1e-9) * step;
  for (double v = a.lo; v <= a.hi + step * 1e-6; v += step) ticks.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return ticks;
}

const std::array<const char*, 6> kSeriesColours = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

void write_file(const std::string& path, const std::string& svg) {
  std::ofstream file(path, std::ios::binary);
  if (!file) fail(path, ": cannot be written");
  file << svg;
  if (!file.flush()) fail(path, ": write failed");
}

std::string header(int width, int height) {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
      << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << " " << height
      << "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  return out.str();
}

void range_of(const std::vector<double>& values, bool log, const std::string& what, double& lo, double& hi) {
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    if (log && v <= 0) fail("plot: ", what, " has the value ", v, " on a log axis");
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
}

// A perceptually even dark-blue -> green -> yellow ramp (close to matplotlib's viridis), t in [0, 1].
std::string colour_at(double t) {
  static const double stops[][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  const double s = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(int(s), 3);
  const double f = s - i;
  char text[16];
  const auto channel = [&](int c) { return int(std::lround(stops[i][c] + f * (stops[i + 1][c] - stops[i][c]))); };
  std::snprintf(text, sizeof text, "#%02x%02x%02x", channel(0), channel(1), channel(2));
  return text;
}

}  // namespace

void write_line_plot(const std::string& path, const LinePlot& plot) {
  const std::vector<std::string> subtitle = lines(plot.subtitle);
  const int width = 820, height = 500 + 14 * int(subtitle.size());
  // The plot area; the legend sits right of it, the title and subtitle lines above.
  const double left = 80, right = 600, top = 56 + 14 * double(subtitle.size()), bottom = top + 360;
  double x_lo = std::numeric_limits<double>::max(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const auto& s : plot.series) {
    range_of(s.x, plot.log_x, s.name + " x", x_lo, x_hi);
    range_of(s.y, plot.log_y, s.name + " y", y_lo, y_hi);
  }
  for (const auto& h : plot.horizontal_lines) range_of({h.value}, plot.log_y, h.label, y_lo, y_hi);
  for (const auto& v : plot.vertical_lines) range_of({v.value}, plot.log_x, v.label, x_lo, x_hi);
  if (x_lo > x_hi || y_lo > y_hi) fail("plot ", path, ": no finite data");
  Axis x{x_lo, x_hi, plot.log_x, left, right}, y{y_lo, y_hi, plot.log_y, bottom, top};
  const std::vector<double> x_ticks = nice_ticks(x), y_ticks = nice_ticks(y);

  std::ostringstream out;
  out << header(width, height);
  text(out, (left + right) / 2, 28, plot.title, "middle", 16, " font-weight=\"bold\"");
  for (size_t i = 0; i < subtitle.size(); ++i) text(out, (left + right) / 2, 46 + 14 * double(i), subtitle[i], "middle", 11);
  for (double t : x_ticks) {
    const double p = x.map(t);
    line(out, p, top, p, bottom, "stroke=\"#e6e6e6\"");
    line(out, p, bottom, p, bottom + 5, "stroke=\"black\"");
    text(out, p, bottom + 19, tick_text(t), "middle", 11);
  }
  for (double t : y_ticks) {
    const double p = y.map(t);
    line(out, left, p, right, p, "stroke=\"#e6e6e6\"");
    line(out, left - 5, p, left, p, "stroke=\"black\"");
    text(out, left - 8, p + 4, tick_text(t), "end", 11);
  }
  out << "<rect x=\"" << px(left) << "\" y=\"" << px(top) << "\" width=\"" << px(right - left) << "\" height=\""
      << px(bottom - top) << "\" fill=\"none\" stroke=\"black\"/>\n";
  text(out, (left + right) / 2, bottom + 42, plot.x_label, "middle", 13);
  text(out, 0, 0, plot.y_label, "middle", 13,
       (" transform=\"translate(20," + px((top + bottom) / 2) + ") rotate(-90)\"").c_str());
  for (const auto& h : plot.horizontal_lines) {
    const double p = y.map(h.value);
    line(out, left, p, right, p, "stroke=\"#555555\" stroke-dasharray=\"6,4\"");
    text(out, right - 4, p - 5, h.label, "end", 11, " fill=\"#333333\"");
  }
  for (const auto& v : plot.vertical_lines) {
    const double p = x.map(v.value);
    line(out, p, top, p, bottom, "stroke=\"#555555\" stroke-dasharray=\"6,4\"");
    text(out, p + 4, top + 14, v.label, "start", 11, " fill=\"#333333\"");
  }
  for (size_t i = 0; i < plot.series.size(); ++i) {
    const PlotSeries& s = plot.series[i];
    const char* colour = kSeriesColours[i % kSeriesColours.size()];
    out << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.8\""
        << (s.dashed ? " stroke-dasharray=\"5,3\"" : "") << " points=\"";
    for (size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
      if (std::isfinite(s.x[k]) && std::isfinite(s.y[k])) out << px(x.map(s.x[k])) << "," << px(y.map(s.y[k])) << " ";
    }
    out << "\"/>\n";
    if (s.markers) {
      for (size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
        out << "<circle cx=\"" << px(x.map(s.x[k])) << "\" cy=\"" << px(y.map(s.y[k])) << "\" r=\"2.5\" fill=\""
            << colour << "\"/>\n";
      }
    }
    const double ly = top + 10 + 20 * double(i);
    line(out, right + 15, ly, right + 40, ly,
         (std::string("stroke=\"") + colour + "\" stroke-width=\"2\"" + (s.dashed ? " stroke-dasharray=\"5,3\"" : ""))
             .c_str());
    text(out, right + 46, ly + 4, s.name, "start", 11);
  }
  out << "</svg>\n";
  write_file(path, out.str());
}

void write_heat_map(const std::string& path, const HeatMap& map) {
  if (map.panels.empty()) fail("plot ", path, ": no panels");
  double lo = std::numeric_limits<double>::max(), hi = -lo;
  for (const auto& panel : map.panels) {
    if (panel.rows <= 0 || panel.columns <= 0 || panel.values.size() != size_t(panel.rows) * size_t(panel.columns))
      fail("plot ", path, ": panel '", panel.title, "' has ", panel.values.size(), " values for ", panel.rows, "x",
           panel.columns);
    range_of(panel.values, false, panel.title, lo, hi);
  }
  if (hi - lo < 1e-12) hi = lo + 1;  // a constant map still gets a usable scale
  const double cell = 18, gap = 70, left = 70, top = 80;
  const int max_rows = std::max_element(map.panels.begin(), map.panels.end(), [](const auto& a, const auto& b) {
                         return a.rows < b.rows;
                       })->rows;
  double x = left;
  std::vector<double> panel_x;
  for (const auto& panel : map.panels) {
    panel_x.push_back(x);
    x += panel.columns * cell + gap;
  }
  const double bar_x = x - gap + 40, bar_height = max_rows * cell;
  const int width = int(bar_x + 110), height = int(top + bar_height + 70);

  std::ostringstream out;
  out << header(width, height);
  text(out, width / 2.0, 26, map.title, "middle", 15, " font-weight=\"bold\"");
  if (!map.subtitle.empty()) text(out, width / 2.0, 45, map.subtitle, "middle", 11);
  for (size_t p = 0; p < map.panels.size(); ++p) {
    const HeatMapPanel& panel = map.panels[p];
    const double x0 = panel_x[p];
    text(out, x0 + panel.columns * cell / 2, top - 10, panel.title, "middle", 12);
    for (int r = 0; r < panel.rows; ++r) {
      for (int c = 0; c < panel.columns; ++c) {
        const double v = panel.values[size_t(r) * size_t(panel.columns) + size_t(c)];
        out << "<rect x=\"" << px(x0 + c * cell) << "\" y=\"" << px(top + r * cell) << "\" width=\"" << px(cell)
            << "\" height=\"" << px(cell) << "\" fill=\"" << colour_at((v - lo) / (hi - lo)) << "\"/>\n";
      }
    }
    // Label about eight rows and columns: every 1st, 2nd, 4th, ... label that is a multiple of the step.
    const auto label_step = [](int n) {
      int step = 1;
      while (n / step > 9) step *= 2;
      return step;
    };
    const int column_step = label_step(panel.columns), row_step = label_step(panel.rows);
    for (int c = 0; c < panel.columns; ++c) {
      const int label = panel.first_column_label + c;
      if (label % column_step != 0) continue;
      text(out, x0 + (c + 0.5) * cell, top + panel.rows * cell + 15, std::to_string(label), "middle", 10);
    }
    for (int r = 0; r < panel.rows; ++r) {
      const int label = panel.first_row_label + r;
      if (label % row_step != 0) continue;
      text(out, x0 - 5, top + (r + 0.5) * cell + 4, std::to_string(label), "end", 10);
    }
    text(out, x0 + panel.columns * cell / 2, top + panel.rows * cell + 35, map.x_label, "middle", 12);
  }
  text(out, 0, 0, map.y_label, "middle", 12,
       (" transform=\"translate(18," + px(top + bar_height / 2) + ") rotate(-90)\"").c_str());
  // The colour bar: 64 bands from hi (top) to lo, five ticks.
  const int bands = 64;
  for (int b = 0; b < bands; ++b) {
    const double t = 1.0 - (b + 0.5) / bands;
    out << "<rect x=\"" << px(bar_x) << "\" y=\"" << px(top + bar_height * b / bands) << "\" width=\"16\" height=\""
        << px(bar_height / bands + 0.5) << "\" fill=\"" << colour_at(t) << "\"/>\n";
  }
  out << "<rect x=\"" << px(bar_x) << "\" y=\"" << px(top) << "\" width=\"16\" height=\"" << px(bar_height)
      << "\" fill=\"none\" stroke=\"black\"/>\n";
  for (int k = 0; k <= 4; ++k) {
    const double v = lo + (hi - lo) * k / 4, yy = top + bar_height * (1.0 - k / 4.0);
    line(out, bar_x + 16, yy, bar_x + 20, yy, "stroke=\"black\"");
    char label[32];
    std::snprintf(label, sizeof label, "%.3g", v);
    text(out, bar_x + 23, yy + 4, label, "start", 10);
  }
  text(out, 0, 0, map.value_label, "middle", 11,
       (" transform=\"translate(" + px(bar_x + 85) + "," + px(top + bar_height / 2) + ") rotate(90)\"").c_str());
  out << "</svg>\n";
  write_file(path, out.str());
}

}  // namespace dsmoe::cli
