"""Approximate distinct counting that is cheap per event and a few dozen bytes of state."""

from __future__ import annotations

import math
from zlib import crc32


class LinearCounter:
    """Linear counting (Whang et al., 1990) over an `bits`-bit bitmap.

    Each value sets one bit chosen by its CRC-32 (Fibonacci-mixed, as CRC's
    low bits follow the input too closely for ids like C1, C2, …); the number of distinct
    values is estimated from the share of bits still zero,
    ``-bits · ln(zeros / bits)``. With 256 bits it is within a few percent
    up to a few hundred values and saturates near 1,400, which is plenty to
    tell 8 customers an hour from 300. It costs about a microsecond per
    value (river's HyperLogLog, ``sketch.NUnique``, hashes with BLAKE2 and
    costs ten times more, on the hottest path of the worker).

    Examples
    --------
    >>> counter = LinearCounter()
    >>> for i in range(100):
    ...     _ = counter.add(f"C{i}")
    >>> counter.add("C5"), round(counter.estimate())
    (False, 99)

    """

    def __init__(self, bits: int = 256) -> None:
        if bits < 8 or bits & (bits - 1):
            raise ValueError(f"bits must be a power of two, at least 8; got {bits}")
        self.bits = bits
        self._shift = 32 - (bits.bit_length() - 1)
        self.bitmap = 0

    def add(self, value: str) -> bool:
        """Count `value`; True if the bitmap changed (the estimate may have moved)."""
        return self.add_bit(self.bit(value))

    def bit(self, value: str) -> int:
        """The bit that `value` sets (the same in every counter of this size: hash once, count in several)."""
        return 1 << (((crc32(value.encode()) * 0x9E3779B1) & 0xFFFFFFFF) >> self._shift)

    def add_bit(self, bit: int) -> bool:
        if self.bitmap & bit:
            return False
        self.bitmap |= bit
        return True

    def estimate(self) -> float:
        zeros = self.bits - self.bitmap.bit_count()
        if zeros == 0:
            return self.bits * math.log(self.bits)
        return -self.bits * math.log(zeros / self.bits)

    def clear(self) -> None:
        self.bitmap = 0
