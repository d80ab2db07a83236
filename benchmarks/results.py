"""What a benchmark hands back: a titled table, a few sentences, bar charts to draw, and the
targets it checked. ``report.py`` turns these into ``docs/benchmarks.md`` and its images; a
benchmark run on its own prints the same markdown."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Chart:
    """A bar chart: one bar per label (or one group of bars per label when ``series`` has more
    than one entry), saved as ``docs/images/<name>.png``."""

    name: str
    title: str
    ylabel: str
    labels: list[str]
    series: dict[str, list[float]]
    log: bool = False


@dataclass
class Target:
    """A goal from issue 10 and whether this run met it."""

    text: str
    measured: str
    met: bool


@dataclass
class Section:
    title: str
    intro: str
    headers: list[str]
    rows: list[list[str]]
    charts: list[Chart] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def markdown(self, image_dir: str | None = None) -> str:
        lines = [f"## {self.title}", "", self.intro, ""]
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("|" + "---|" * len(self.headers))
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.targets:
            lines += ["", "| target | this run | met |", "|---|---|---|"]
            lines += [
                f"| {t.text} | {t.measured} | {'yes' if t.met else '**no**'} |"
                for t in self.targets
            ]
        if image_dir is not None:
            lines += [""] + [f"![{c.title}]({image_dir}/{c.name}.png)" for c in self.charts]
        return "\n".join(lines) + "\n"


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x"
