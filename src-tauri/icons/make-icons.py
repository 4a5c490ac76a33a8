#!/usr/bin/env python3
"""Draws Berth's app icon with the standard library only (no PIL, nothing downloaded):
a rounded blue square with a white hull over two waves. Writes the PNG sizes Tauri
embeds and an .ico (PNG-in-ICO) for Windows bundles.

Run from anywhere: python3 src-tauri/icons/make-icons.py
"""

import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def coverage(inside, x, y, samples=4):
    """Fraction of the pixel (x, y) inside the shape, by supersampling."""
    hit = 0
    for i in range(samples):
        for j in range(samples):
            if inside(x + (i + 0.5) / samples, y + (j + 0.5) / samples):
                hit += 1
    return hit / (samples * samples)


def draw(size):
    s = float(size)
    r = 0.22 * s  # corner radius

    def in_square(px, py):
        m = 0.04 * s
        x0, y0, x1, y1 = m, m, s - m, s - m
        cx = min(max(px, x0 + r), x1 - r)
        cy = min(max(py, y0 + r), y1 - r)
        return (px - cx) ** 2 + (py - cy) ** 2 <= r * r and x0 <= px <= x1 and y0 <= py <= y1

    def in_hull(px, py):
        # A trapezoid: wide deck, narrower keel.
        top, bottom = 0.40 * s, 0.58 * s
        if not top <= py <= bottom:
            return False
        t = (py - top) / (bottom - top)
        half = (0.32 - 0.10 * t) * s
        return abs(px - 0.5 * s) <= half

    def in_cabin(px, py):
        return 0.40 * s <= px <= 0.62 * s and 0.27 * s <= py <= 0.40 * s

    def in_wave(px, py, base):
        y = base + 0.025 * s * math.sin(px / s * 2 * math.pi * 2.5)
        return y <= py <= y + 0.045 * s and 0.16 * s <= px <= 0.84 * s

    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            a = coverage(in_square, x, y)
            # Vertical gradient, deep to bright blue.
            t = y / max(size - 1, 1)
            bg = (int(20 + 20 * t), int(90 + 60 * t), int(200 + 40 * t))
            w = max(
                coverage(in_hull, x, y),
                coverage(in_cabin, x, y),
                coverage(lambda px, py: in_wave(px, py, 0.66 * s), x, y),
                coverage(lambda px, py: in_wave(px, py, 0.76 * s), x, y),
            )
            rgb = [int(c * (1 - w) + 255 * w) for c in bg]
            row += bytes(rgb + [int(255 * a)])
        rows.append(bytes(row))
    return png(size, b"".join(rows))


def png(size, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def ico(images):
    """An ICO whose entries are PNGs (supported since Windows Vista)."""
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    body = b""
    for size, data in images:
        dim = 0 if size >= 256 else size
        out += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
        body += data
    return out + body


def main():
    outputs = {"32x32.png": 32, "128x128.png": 128, "128x128@2x.png": 256, "icon.png": 512}
    made = {}
    for name, size in outputs.items():
        data = made.get(size) or draw(size)
        made[size] = data
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
    with open(os.path.join(HERE, "icon.ico"), "wb") as f:
        f.write(ico([(32, made[32]), (256, made[256])]))


if __name__ == "__main__":
    main()
