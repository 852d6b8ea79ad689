// Errors raised at the boundary of user input (files, configs, command lines).
// Every message names what was read, what was expected and what was found.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "dsmoe/error.h"  // Error, cat and fail: the public exception and its message builders

namespace dsmoe {

// The product of sizes, or an Error naming `what` when it does not fit in int64.
int64_t checked_product(std::initializer_list<int64_t> factors, const char* what);

// Shape printed as [2048, 102400].
std::string shape_string(const int64_t* dims, size_t n);

}  // namespace dsmoe
