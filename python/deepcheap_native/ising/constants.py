"""Exact constants of the square-lattice Ising model (J = 1, k_B = 1), one definition each."""

from __future__ import annotations

import math

__all__ = ["BINDER_CROSSING", "CRITICAL_TEMPERATURE"]

#: Onsager's critical temperature of the square-lattice Ising model (J = 1, k_B = 1): 2 / ln(1 + sqrt 2).
CRITICAL_TEMPERATURE: float = 2.0 / math.log1p(math.sqrt(2.0))

#: U* = 0.6107, the value at which the Binder cumulants U₄(L, T) of successive sizes cross at T_c on the
#: periodic square lattice (Kamieniarz & Blöte 1993: 0.61069).
BINDER_CROSSING: float = 0.6107
