// Minimal SVG plots written by hand, so that a report command can draw without a plotting library: line plots
// (linear or log axes, reference lines) and heat maps (one or more panels sharing a colour scale).
#pragma once

#include <string>
#include <vector>

namespace dsmoe::cli {

struct PlotSeries {
  std::string name;  // legend text
  std::vector<double> x;
  std::vector<double> y;
  bool markers = false;  // a dot at every point, besides the line
  bool dashed = false;
};

// A horizontal (or vertical) line across the plot at `value`, labelled.
struct PlotReferenceLine {
  double value = 0;
  std::string label;
};

struct LinePlot {
  std::string title;
  std::string subtitle;  // smaller lines under the title, split at '\n' (what exactly is plotted)
  std::string x_label;
  std::string y_label;
  bool log_x = false;
  bool log_y = false;
  std::vector<PlotSeries> series;
  std::vector<PlotReferenceLine> horizontal_lines;
  std::vector<PlotReferenceLine> vertical_lines;
};

// One heat map: values[row * columns + column]; row 0 is drawn at the top.
struct HeatMapPanel {
  std::string title;
  int rows = 0;
  int columns = 0;
  std::vector<double> values;
  int first_row_label = 0;     // the label of row 0 (offsets start at -8, say)
  int first_column_label = 0;  // the label of column 0
};

struct HeatMap {
  std::string title;
  std::string subtitle;
  std::string x_label;  // under each panel
  std::string y_label;
  std::string value_label;  // beside the colour bar
  std::vector<HeatMapPanel> panels;  // drawn left to right, one colour scale for all
};

// Throws Error when the file cannot be written or a log axis meets a value <= 0.
void write_line_plot(const std::string& path, const LinePlot& plot);
void write_heat_map(const std::string& path, const HeatMap& map);

}  // namespace dsmoe::cli
