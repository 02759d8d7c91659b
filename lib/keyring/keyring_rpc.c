/* SPDX-License-Identifier: BSD-3-Clause */
#include "nvtcp/auth.h"
