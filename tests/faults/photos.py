"""Test content: real JPEGs made with libvips, each file's bytes distinct; archives.

libvips makes a few noise images once per session (`vips gaussnoise`, one seed
each, so the pictures differ). Every photo handed to a test is one of them
with a JPEG comment segment naming it, so that no two files in a session have
the same SHA-256 (the ingest would file the second as a duplicate) while each
stays a valid JPEG that the ingest decodes.
"""
import io
import itertools
import subprocess
import zipfile
from pathlib import Path

# name: (width, height, quality). Grey noise compresses badly: sizes are
# about 10 KiB, 130 KiB, 450 KiB, 1 MiB, 2.1 MiB and 23 MiB.
KINDS = {
    "tiny": (160, 120, 85),  # a few KiB: for tests that upload hundreds
    "small": (600, 400, 90),
    "medium": (1000, 800, 90),
    "large": (1400, 1000, 95),
    "xlarge": (1800, 1400, 97),
    "huge": (4400, 4000, 100),  # slow to decode: what the race tests need
}


class Photos:
    def __init__(self, directory):
        self.directory = Path(directory)
        self._bases = {}
        self._serial = itertools.count(1)

    def _base(self, kind, variant):
        key = (kind, variant)
        if key not in self._bases:
            width, height, quality = KINDS[kind]
            out = self.directory / ("%s-%d.jpg" % (kind, variant))
            seed = 1 + variant * 17 + list(KINDS).index(kind)
            subprocess.run(["vips", "gaussnoise", "%s[Q=%d]" % (out, quality), str(width), str(height),
                            "--seed", str(seed)], check=True, capture_output=True, timeout=120)
            self._bases[key] = out.read_bytes()
        return self._bases[key]

    def photo(self, kind="small"):
        """A JPEG whose bytes no other photo of this session has."""
        serial = next(self._serial)
        base = self._base(kind, serial % 3 if kind != "huge" else 0)
        comment = b"photodrop fault test photo %d" % serial
        segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
        assert base[:2] == b"\xff\xd8", "libvips did not write a JPEG"
        return base[:2] + segment + base[2:]

    def of_size(self, size):
        """A whole photo of at least `size` bytes: the smallest kind that is large enough."""
        for kind in KINDS:
            data = self.photo(kind)
            if len(data) >= size:
                return data
        raise AssertionError("no photo kind reaches %d bytes" % size)


def zip_archive(payload):
    """A ZIP file holding `payload` (stored, so the archive is at least as large)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("photos/IMG_0001.jpg", payload)
        z.writestr("readme.txt", "not a photo\n")
    return out.getvalue()


def self_extracting_archive(payload):
    """What a self-extracting archive looks like: an 'MZ' executable stub followed by a ZIP."""
    stub = b"MZ" + b"\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 54 + b"This program cannot be run in DOS mode.\r\n"
    stub += b"\x00" * (512 - len(stub))
    return stub + zip_archive(payload)
