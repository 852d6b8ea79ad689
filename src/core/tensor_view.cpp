#include "core/tensor_view.h"

#include "core/errors.h"

namespace dsmoe {

std::string TensorView::shape_text() const { return shape_string(shape.data(), shape.size()); }

}  // namespace dsmoe
