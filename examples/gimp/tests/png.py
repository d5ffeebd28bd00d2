"""Minimal PNG reading and writing with the standard library (8- or 16-bit grey, grey+alpha, RGB, RGBA; no
palette, no interlace): enough for the GIMP plug-in tests to compare pixels exactly. A 16-bit image's rows hold
its samples as ints (0..65535), an 8-bit one's as bytes."""
import struct
import zlib

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


class Image:
    def __init__(self, width, height, channels, rows, depth=8):
        self.width, self.height, self.channels, self.rows, self.depth = width, height, channels, rows, depth

    def rgba(self, x, y):
        row = self.rows[y]
        p = row[x * self.channels:(x + 1) * self.channels]
        opaque = (1 << self.depth) - 1
        if self.channels == 1:
            return (p[0], p[0], p[0], opaque)
        if self.channels == 2:
            return (p[0], p[0], p[0], p[1])
        if self.channels == 3:
            return (p[0], p[1], p[2], opaque)
        return tuple(p)

    def crop(self, x, y, w, h):
        c = self.channels
        return Image(w, h, c, [self.rows[r][x * c:(x + w) * c] for r in range(y, y + h)], self.depth)


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def read(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s is not a PNG" % path)
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, color, _, _, interlace = header
    if depth not in (8, 16) or color not in CHANNELS or interlace:
        raise ValueError("%s: only 8- or 16-bit non-interlaced grey/RGB(A) PNGs are supported" % path)
    c = CHANNELS[color] * (depth // 8)  # bytes per pixel, the filters' unit
    raw = zlib.decompress(idat)
    stride = width * c
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            a = line[i - c] if i >= c else 0
            b = previous[i]
            cc = previous[i - c] if i >= c else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif kind == 4:
                line[i] = (line[i] + _paeth(a, b, cc)) & 255
        rows.append(bytes(line) if depth == 8 else list(struct.unpack(">%dH" % (stride // 2), bytes(line))))
        previous = line
    return Image(width, height, CHANNELS[color], rows, depth)


def write_grey(path, width, height, value_at):
    """A grey PNG whose pixel (x, y) is value_at(x, y)."""
    _write(path, width, height, 0, [bytes(value_at(x, y) for x in range(width)) for y in range(height)])


def write(path, image):
    """An Image as a PNG of its own channels and depth."""
    kinds = {1: 0, 2: 4, 3: 2, 4: 6}
    _write(path, image.width, image.height, kinds[image.channels], image.rows, image.depth)


def _write(path, width, height, color, rows, depth=8):
    if depth == 16:
        rows = [struct.pack(">%dH" % len(row), *row) for row in rows]
    raw = b"".join(b"\x00" + bytes(row) for row in rows)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
