// Small inline SVG charts for the live view, drawn from plain numbers (no
// chart library): stacked bars, and lines that break where a value is missing.
const NS = "http://www.w3.org/2000/svg";
const W = 240;
const H = 48;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

function frame(label) {
  return svg("svg", { class: "spark", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", "aria-label": label });
}

/**
 * Stacked bars, one slot per value; `layers` are [className, values] drawn
 * bottom up, `tips[i]` titles slot i. A slot above zero keeps at least one
 * pixel, so a quiet minute still shows.
 */
export function bars(layers, tips, label) {
  const slots = layers[0]?.[1].length ?? 0;
  const totals = Array.from({ length: slots }, (_, i) => layers.reduce((n, [, v]) => n + (v[i] ?? 0), 0));
  const top = Math.max(1, ...totals);
  const width = W / Math.max(1, slots);
  const out = frame(label);
  for (let i = 0; i < slots; i++) {
    if (totals[i] === 0) continue;
    const slot = svg("g", {}, svg("title", {}, tips[i] ?? ""));
    let y = H;
    for (const [cls, values] of layers) {
      const v = values[i] ?? 0;
      if (v <= 0) continue;
      const height = Math.max(1, (H * v) / top);
      y -= height;
      slot.append(svg("rect", { class: cls, x: (i * width + 0.5).toFixed(2), y: y.toFixed(2), width: Math.max(0.5, width - 1).toFixed(2), height: height.toFixed(2) }));
    }
    out.append(slot);
  }
  return out;
}

/** Lines, one per [className, values]; a null value breaks its line, a lone value is a dot. */
export function lines(series, label) {
  const slots = series[0]?.[1].length ?? 0;
  const top = Math.max(1, ...series.flatMap(([, v]) => v.filter((x) => x !== null)));
  const step = W / Math.max(1, slots);
  const out = frame(label);
  for (const [cls, values] of series) {
    let run = [];
    const flush = () => {
      if (run.length === 1) out.append(svg("circle", { class: cls, cx: run[0][0], cy: run[0][1], r: 1.5 }));
      else if (run.length > 1) out.append(svg("polyline", { class: cls, points: run.map((p) => p.join(",")).join(" "), "vector-effect": "non-scaling-stroke" }));
      run = [];
    };
    values.forEach((v, i) => {
      if (v === null || v === undefined) return flush();
      run.push([(i * step + step / 2).toFixed(2), (H - 2 - ((H - 4) * v) / top).toFixed(2)]);
    });
    flush();
  }
  return out;
}
