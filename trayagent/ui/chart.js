// The tokens-per-hour chart: stacked bars (input, output, thinking) on a labelled token scale, the hour of
// each bar below, and the exact values of the hour under the pointer. Plain SVG drawn here; no library.
"use strict";

const CHART_SERIES = [
  { key: "input_tokens", name: "in", css: "in" },
  { key: "output_tokens", name: "out", css: "out" },
  { key: "thinking_tokens", name: "thinking", css: "thinking" },
];
const CHART_HEIGHT = 150;
const CHART_PAD = { left: 38, right: 4, top: 8, bottom: 20 };
const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

// 0, 1, 2, 5 × 10^n steps: at most `count` gridlines that end at or above `top`.
function niceTicks(top, count = 4) {
  if (top <= 0) return [0, 1];
  const rough = top / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= rough);
  const ticks = [];
  for (let value = 0; value < top + step; value += step) ticks.push(value);
  return ticks;
}

function compact(value) {
  if (value >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return String(value);
}

function hourLabel(iso) {
  const date = new Date(iso);
  return `${String(date.getHours()).padStart(2, "0")}:00`;
}

function hourRange(iso) {
  const start = new Date(iso);
  const end = new Date(start.getTime() + 3600 * 1000);
  const hhmm = (d) => `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  return `${hhmm(start)}–${hhmm(end)}`;
}

function describeHour(row) {
  const parts = CHART_SERIES.map((s) => `${row[s.key].toLocaleString("en-US")} ${s.name}`);
  const requests = `${row.requests} request${row.requests === 1 ? "" : "s"}`;
  return `${hourRange(row.key)}: ${parts.join(" · ")} · ${requests}`;
}

// `box` holds an <svg class="chart-plot"> and a <p class="chart-readout">; `rows` are /api/stats?by=hour rows.
function renderTokenChart(box, rows) {
  const svg = box.querySelector("svg");
  const readout = box.querySelector(".chart-readout");
  const width = Math.max(200, Math.round(svg.getBoundingClientRect().width) || 392);
  svg.setAttribute("viewBox", `0 0 ${width} ${CHART_HEIGHT}`);
  svg.setAttribute("height", CHART_HEIGHT);
  svg.replaceChildren();

  const totals = rows.map((row) => CHART_SERIES.reduce((sum, s) => sum + row[s.key], 0));
  const empty = Math.max(0, ...totals) === 0;
  const ticks = empty ? [0, 1] : niceTicks(Math.max(...totals));
  const top = ticks[ticks.length - 1];
  const plotW = width - CHART_PAD.left - CHART_PAD.right;
  const plotH = CHART_HEIGHT - CHART_PAD.top - CHART_PAD.bottom;
  const y = (value) => CHART_PAD.top + plotH - (value / top) * plotH;
  const slot = plotW / Math.max(1, rows.length);

  for (const tick of empty ? [0] : ticks) {
    svg.append(svgEl("line", { class: "grid", x1: CHART_PAD.left, x2: width - CHART_PAD.right, y1: y(tick), y2: y(tick) }));
    svg.append(svgEl("text", { class: "axis y", x: CHART_PAD.left - 4, y: y(tick) + 3.5 }, compact(tick)));
  }
  svg.append(svgEl("line", { class: "baseline", x1: CHART_PAD.left, x2: width - CHART_PAD.right, y1: y(0), y2: y(0) }));

  const summary = readout.dataset.summary || "";
  const show = (text, index) => {
    readout.textContent = text;
    for (const bar of svg.querySelectorAll(".hour")) bar.classList.toggle("hover", Number(bar.dataset.index) === index);
  };
  rows.forEach((row, i) => {
    const x = CHART_PAD.left + i * slot;
    const group = svgEl("g", { class: "hour", "data-index": i, "data-hour": row.key });
    let base = 0;
    for (const series of CHART_SERIES) {
      const value = row[series.key];
      if (value > 0) {
        const height = Math.max(1, y(base) - y(base + value));
        group.append(svgEl("rect", {
          class: `bar ${series.css}`, x: x + slot * 0.15, width: Math.max(1, slot * 0.7), y: y(base) - height, height,
        }));
      }
      base += value;
    }
    // The whole column answers the pointer, so an empty hour says "0" too.
    const hit = svgEl("rect", { class: "hit", x, y: CHART_PAD.top, width: slot, height: plotH });
    hit.append(svgEl("title", {}, describeHour(row)));
    group.append(hit);
    group.addEventListener("pointerenter", () => show(describeHour(row), i));
    group.addEventListener("pointerleave", () => show(summary, -1));
    svg.append(group);
    // An hour label every 6 hours (and never two crowding each other).
    if (new Date(row.key).getHours() % 6 === 0 && slot * 6 >= 30) {
      svg.append(svgEl("text", { class: "axis x", x: x + slot / 2, y: CHART_HEIGHT - 6 }, hourLabel(row.key)));
    }
  });
  if (empty) {
    svg.append(svgEl("text", { class: "axis empty", x: CHART_PAD.left + plotW / 2, y: CHART_PAD.top + plotH / 2 },
      "No tokens used in the last 24 hours"));
  }
  if (!readout.matches(":hover") && !svg.matches(":hover")) readout.textContent = summary;
}
