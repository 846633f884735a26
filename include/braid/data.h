// Public API: reading datasets (IDX / Fashion-MNIST).
#pragma once
#include "braid/data/idx.h"
