// Public API: graphs, the Scope builder and automatic differentiation.
#pragma once
#include "braid/graph/device_name.h"
#include "braid/graph/gradients.h"
#include "braid/graph/graph.h"
#include "braid/graph/scope.h"
