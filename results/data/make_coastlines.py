"""Make coastlines_110m.json from world-atlas's land-110m.json (Natural Earth 1:110m land, TopoJSON).

    cd $(mktemp -d) && npm pack world-atlas@2.0.2
    .venv/bin/python results/data/make_coastlines.py /tmp/.../world-atlas-2.0.2.tgz

The argument is the npm tarball or the land-*.json inside it; `--scale 50m` reads land-50m.json.
Run once; the output is committed (results/data/README.md). Standard library only.

TopoJSON keeps each shared boundary once, as an "arc" of quantized points stored as deltas from
the previous point; polygons are rings of arc indices (~i is arc i reversed). The rings are
stitched back together and cut where they are not coastline: where Natural Earth splits land
along the date line (segments lying on lon +-180 and, at 50m, Antarctica's edge along the South
Pole's latitude) and where a ring wraps across the date line, which becomes two lines ending at
+180 and -180. Points are rounded to 0.01 degree, repeated points dropped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "coastlines_{scale}.json"
DIGITS = 2


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Every arc as absolute (lon, lat) points: cumulative sums of the deltas, then the transform."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def rings(topology: dict, arcs: list) -> list[list[tuple[float, float]]]:
    """The outer and inner rings of the land polygons, each as one closed list of points."""
    out = []
    for geometry in topology["objects"]["land"]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for polygon in polygons:
            for ring in polygon:
                points: list[tuple[float, float]] = []
                for index in ring:
                    arc = arcs[index] if index >= 0 else arcs[~index][::-1]
                    points.extend(arc if not points else arc[1:])  # consecutive arcs share an end point
                out.append(points)
    return out


def _on_date_line(a, b) -> bool:
    return abs(abs(a[0]) - 180) < 1e-6 and abs(abs(b[0]) - 180) < 1e-6


def _on_pole(a, b) -> bool:
    return abs(a[1]) > 89.99 and abs(b[1]) > 89.99


def coast_lines(ring: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """A ring cut into coastline pieces, none crossing the date line (see the module docstring)."""
    lines, current = [], [ring[0]]
    for a, b in zip(ring, ring[1:]):
        if _on_date_line(a, b) or _on_pole(a, b):
            lines.append(current)
            current = [b]
            continue
        step = b[0] - a[0]
        if abs(step) > 180:  # wraps: end this piece on one side, start the next on the other
            edge = 180.0 if step < 0 else -180.0
            b_unwrapped = b[0] + (360 if step < 0 else -360)
            t = (edge - a[0]) / (b_unwrapped - a[0]) if b_unwrapped != a[0] else 0.0
            lat = a[1] + t * (b[1] - a[1])
            current.append((edge, lat))
            lines.append(current)
            current = [(-edge, lat), b]
            continue
        current.append(b)
    lines.append(current)
    return lines


def rounded(line: list[tuple[float, float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for lon, lat in line:
        point = [round(lon, DIGITS), round(lat, DIGITS)]
        if not out or point != out[-1]:
            out.append(point)
    return out


def _load(source: Path, scale: str) -> dict:
    name = f"land-{scale}.json"
    if source.suffix in (".tgz", ".gz"):
        with tarfile.open(source) as tar:
            return json.load(tar.extractfile(f"package/{name}"))
    return json.loads(source.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="world-atlas-2.0.2.tgz or its land-110m.json")
    parser.add_argument("--scale", default="110m", choices=("110m", "50m"))
    args = parser.parse_args()
    topology = _load(args.source, args.scale)
    lines = []
    for ring in rings(topology, decode_arcs(topology)):
        for line in coast_lines(ring):
            line = rounded(line)
            if len(line) >= 2:
                lines.append(line)
    out = Path(str(OUT).format(scale=args.scale))
    document = {
        "source": f"Natural Earth 1:{args.scale} land (version 4.1.0), from the npm package world-atlas 2.0.2",
        "licence": "Natural Earth: public domain; world-atlas packaging: ISC",
        "format": "lines: polylines of [lon, lat] in degrees, rounded to 0.01; none crosses the date line",
        "lines": lines,
    }
    out.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    points = sum(len(line) for line in lines)
    print(f"{out}: {len(lines)} lines, {points} points, {out.stat().st_size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
