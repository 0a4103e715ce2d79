"""A page compressed once with gzip, into which each answer puts its visitor's own CSRF token.

A cached page (forum/pagecache.py) is the same for every visitor except the token, so it is
kept cut into parts where the token goes. Compressing the whole page again for each answer would
cost more than everything else the answer does; instead each part is compressed once into raw
deflate blocks that end on a byte boundary (a full flush, from a fresh compressor, so no block
refers back to an earlier part), and an answer is: the gzip header, the parts' blocks with the
token between them as a stored (uncompressed) block, an empty final block, and the trailer.

The trailer holds the CRC-32 of the whole page. Computing it over 200 KB would again cost as
much as the rest of the answer, so it is combined from the parts' CRCs, kept with them, and the
token's: CRC(A + B) = Z(len B) * CRC(A) xor CRC(B), where Z(n) is the linear operator over GF(2)
for n zero bytes (zlib's crc32_combine). Each part keeps Z(its length) as a 32x32 bit matrix,
so an answer applies a few matrices to a 32-bit number.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from functools import cache

_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # gzip, deflate, no name, no mtime
_FINAL_BLOCK = b"\x03\x00"  # an empty fixed-Huffman block marked last
_POLY = 0xEDB88320


def _times(matrix: tuple[int, ...], vector: int) -> int:
    total = 0
    i = 0
    while vector:
        if vector & 1:
            total ^= matrix[i]
        vector >>= 1
        i += 1
    return total


def _compose(outer: tuple[int, ...], inner: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(_times(outer, column) for column in inner)


@cache
def _zero_bytes_power(k: int) -> tuple[int, ...]:
    """The operator of appending 2**k zero bytes to a CRC-32."""
    if k == 0:
        one_bit = (_POLY, *(1 << n for n in range(31)))
        op = one_bit
        for _ in range(3):  # 1 bit -> 2 -> 4 -> 8 bits
            op = _compose(op, op)
        return op
    half = _zero_bytes_power(k - 1)
    return _compose(half, half)


def zero_bytes_operator(length: int) -> tuple[int, ...]:
    """Z(length): the matrix that turns CRC(A) into the CRC of A followed by `length` zeros."""
    op = tuple(1 << n for n in range(32))  # identity
    k = 0
    while length:
        if length & 1:
            op = _compose(_zero_bytes_power(k), op)
        length >>= 1
        k += 1
    return op


@cache
def _token_operator(length: int) -> tuple[int, ...]:
    return zero_bytes_operator(length)


def _stored_block(data: bytes) -> bytes:
    """`data` as stored deflate blocks (not last), starting and ending on a byte boundary."""
    out = []
    for start in range(0, len(data), 0xFFFF):
        chunk = data[start : start + 0xFFFF]
        out.append(b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(out)


@dataclass(frozen=True)
class GzipParts:
    """The parts of a page compressed once, ready to be joined around any token."""

    blocks: tuple[bytes, ...]  # each part as raw deflate blocks ending on a byte boundary
    crcs: tuple[int, ...]
    lengths: tuple[int, ...]
    shifts: tuple[tuple[int, ...], ...]  # Z(len part) for each part

    @classmethod
    def compress(cls, parts: tuple[bytes, ...], level: int = 6) -> GzipParts:
        blocks = []
        for part in parts:
            compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
            blocks.append(compressor.compress(part) + compressor.flush(zlib.Z_FULL_FLUSH))
        return cls(
            tuple(blocks),
            tuple(zlib.crc32(part) for part in parts),
            tuple(len(part) for part in parts),
            tuple(zero_bytes_operator(len(part)) for part in parts),
        )

    def join(self, token: bytes) -> bytes:
        """The gzip file of the parts joined with `token` between each two."""
        token_crc = zlib.crc32(token)
        token_shift = _token_operator(len(token))
        token_block = _stored_block(token)
        out = [_HEADER, self.blocks[0]]
        crc = self.crcs[0]
        for block, part_crc, shift in zip(
            self.blocks[1:], self.crcs[1:], self.shifts[1:], strict=True
        ):
            crc = _times(token_shift, crc) ^ token_crc
            crc = _times(shift, crc) ^ part_crc
            out += (token_block, block)
        size = sum(self.lengths) + len(token) * (len(self.blocks) - 1)
        out += (_FINAL_BLOCK, struct.pack("<II", crc, size & 0xFFFFFFFF))
        return b"".join(out)

    def to_json(self) -> dict:
        return {"crcs": self.crcs, "lengths": self.lengths, "shifts": self.shifts}

    @classmethod
    def from_parts(cls, blocks: tuple[bytes, ...], data: dict) -> GzipParts:
        return cls(
            blocks,
            tuple(data["crcs"]),
            tuple(data["lengths"]),
            tuple(tuple(shift) for shift in data["shifts"]),
        )
