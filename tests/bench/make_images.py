#!/usr/bin/env python3
"""Makes the benchmark's camera-sized JPEGs once: 6000x4000, quality 95, 8-12 MB each.

Each photo is a window of a shared 6400x4400 base picture (a fractal surface per
colour band, a colour gradient across it, sensor-like noise) at its own offset,
with its own caption, so every file is different (the ingest service
de-duplicates by content hash). Files already present are kept.

    make_images.py DIR COUNT
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

W, H = 6000, 4000
BW, BH = 6400, 4400


def vips(*args):
    subprocess.run(["vips", *map(str, args)], check=True, stdout=subprocess.DEVNULL)


def make_base(work: Path) -> Path:
    base = work / "base.v"
    if base.exists():
        return base
    f = lambda n: work / n
    vips("fractsurf", f("f1.v"), BW, BH, 2.5)
    vips("flip", f("f1.v"), f("fh.v"), "horizontal")
    vips("flip", f("f1.v"), f("fv.v"), "vertical")
    vips("bandjoin", f"{f('f1.v')} {f('fh.v')} {f('fv.v')}", f("fj.v"))
    vips("linear", f("fj.v"), f("fl.v"), 0.3, 110)
    vips("grey", f("g.v"), BW, BH)
    vips("linear", f("g.v"), f("gl.v"), "60 0 -60", "0 0 60")
    vips("gaussnoise", f("n.v"), BW, BH, "--sigma", 5, "--mean", 0)
    vips("add", f("fl.v"), f("gl.v"), f("a1.v"))
    vips("add", f("a1.v"), f("n.v"), f("a2.v"))
    vips("cast", f("a2.v"), f("base.tmp.v"), "uchar")
    for n in ("f1.v", "fh.v", "fv.v", "fj.v", "fl.v", "g.v", "gl.v", "n.v", "a1.v", "a2.v"):
        f(n).unlink()
    f("base.tmp.v").rename(base)
    return base


def make_one(base: Path, work: Path, out: Path, i: int) -> None:
    if out.exists():
        return
    t = lambda n: work / f"{i:04d}-{n}"
    try:
        vips("extract_area", base, t("c.v"), (i * 37) % (BW - W), (i * 53) % (BH - H), W, H)
        vips("text", t("t.v"), f"photodrop benchmark\nphoto {i:04d}\nclass 4b, spring", "--dpi", 700)
        vips("embed", t("t.v"), t("te.v"), 300 + (i * 97) % 3000, 200 + (i * 61) % 2500, W, H)
        vips("add", t("c.v"), t("te.v"), t("s.v"))
        vips("cast", t("s.v"), t("o.v"), "uchar")
        vips("jpegsave", t("o.v"), t("o.jpg"), "--Q", 95)
        t("o.jpg").rename(out)
    finally:
        for n in ("c.v", "t.v", "te.v", "s.v", "o.v", "o.jpg"):
            t(n).unlink(missing_ok=True)


def main() -> int:
    out_dir, count = Path(sys.argv[1]), int(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    missing = [i for i in range(count) if not (out_dir / f"photo{i:04d}.jpg").exists()]
    if not missing:
        return 0
    work = out_dir / ".work"
    work.mkdir(exist_ok=True)
    print(f"bench: making {len(missing)} test photos in {out_dir} (once; they are kept)", flush=True)
    base = make_base(work)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(lambda i: make_one(base, work, out_dir / f"photo{i:04d}.jpg", i), missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
