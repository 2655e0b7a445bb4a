// Shared Cytoscape set-up: styles, dagre auto-layout, labels with shapes on edges.
import cytoscape from "cytoscape";
import dagre from "cytoscape-dagre";
import edgehandles from "cytoscape-edgehandles";

cytoscape.use(dagre);
cytoscape.use(edgehandles);

export { cytoscape };

export const STYLE = [
  { selector: "node", style: {
      "shape": "round-rectangle", "background-color": "#eef3fb", "border-color": "#4a6fa5", "border-width": 1.5,
      "label": "data(label)", "text-wrap": "wrap", "text-max-width": "220px", "text-valign": "center",
      "font-size": 11, "font-family": "DejaVu Sans, Liberation Sans, sans-serif", "color": "#1d2a3a",
      "width": "label", "height": "label", "padding": "9px" } },
  { selector: "node[kind = 'Input']", style: { "background-color": "#e6f5e6", "border-color": "#3c8d3c" } },
  { selector: "node[?block]", style: { "background-color": "#f6efff", "border-color": "#7a4fb5", "border-style": "double", "border-width": 3 } },
  { selector: "node.error", style: { "background-color": "#fdeaea", "border-color": "#c62828", "border-width": 3, "color": "#8e1111" } },
  { selector: "node:selected", style: { "border-color": "#f29900", "border-width": 3 } },
  { selector: "node.group-summary", style: { "shape": "round-rectangle", "background-color": "#fff8e6", "border-color": "#b07d12",
      "border-width": 2, "border-style": "double", "font-weight": "bold", "padding": "12px" } },
  { selector: "node.group-summary.error", style: { "background-color": "#fdeaea", "border-color": "#c62828", "color": "#8e1111" } },
  { selector: ".grp-hidden, node.block-open", style: { "display": "none" } },
  { selector: "node.block-inner", style: { "background-color": "#f6efff", "border-color": "#7a4fb5", "border-style": "dotted", "border-width": 2 } },
  { selector: "edge.block-inner, edge.block-proxy", style: { "line-style": "dotted", "line-color": "#7a4fb5", "target-arrow-color": "#7a4fb5" } },
  { selector: "edge.proxy", style: { "line-style": "dashed" } },
  { selector: "edge", style: {
      "curve-style": "bezier", "target-arrow-shape": "triangle", "width": 1.6, "line-color": "#6b7f99",
      "target-arrow-color": "#6b7f99", "label": "data(label)", "font-size": 10, "color": "#33475e",
      "text-background-color": "#ffffff", "text-background-opacity": 0.9, "text-background-padding": "2px",
      "text-rotation": "none" } },
  { selector: "edge:selected", style: { "line-color": "#f29900", "target-arrow-color": "#f29900", "width": 3 } },
  { selector: ".eh-handle", style: { "background-color": "#f29900", "width": 12, "height": 12, "shape": "ellipse", "label": "" } },
  { selector: ".eh-ghost-edge, edge.eh-preview", style: { "line-color": "#f29900", "target-arrow-color": "#f29900", "line-style": "dashed", "label": "" } },
  { selector: ".eh-ghost-node", style: { "opacity": 0 } },
  { selector: "node.eh-hover, node.eh-target", style: { "border-color": "#f29900", "border-width": 3 } },
];

export function shapeText(shape) {
  if (!Array.isArray(shape)) return "";
  return shape.join("\u00d7");
}

const SHORT = { filters: "f", kernel_size: "k", strides: "s", pool_size: "p", units: "u", rate: "r", padding: "pad",
                function: "", shape: "", output_dim: "dim", input_dim: "vocab" };

export function paramSummary(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params || {})) {
    if (!(k in SHORT)) continue;
    let text = Array.isArray(v) ? v.join("\u00d7") : String(v);
    if (text.length > 14) text = text.slice(0, 13) + "\u2026";
    parts.push(SHORT[k] ? `${SHORT[k]} ${text}` : text);
    if (parts.length >= 3) break;
  }
  return parts.join(", ");
}

export function nodeLabel(name, type, params, error) {
  let label = `${name}\n${type}`;
  const s = paramSummary(params);
  if (s) label += `\n${s}`;
  if (error) label += `\n\u26a0 ${error.length > 60 ? error.slice(0, 57) + "\u2026" : error}`;
  return label;
}

// Labels are drawn at FONT_PX model pixels; below READABLE_ZOOM they render under 8 screen pixels.
export const FONT_PX = 11;
export const READABLE_ZOOM = 0.75;

// Fit the visible graph into the canvas, but never below READABLE_ZOOM: a graph too big to fit
// legibly is shown from its top (centred when its width fits), and the rest is a drag away.
// What is on the canvas: not a member of a collapsed group (class grp-hidden), not an edgehandles
// helper (decided by classes: an element's computed style may not be up to date yet)
const HIDDEN = ["grp-hidden", "block-open", "eh-handle", "eh-ghost", "eh-ghost-node", "eh-ghost-edge", "eh-preview"];
function shown(e) {
  if (HIDDEN.some((c) => e.hasClass(c))) return false;
  return e.isNode() || (shown(e.source()) && shown(e.target()));
}

export function readableFit(cy, eles, padding = 30) {
  const vis = (eles || cy.elements()).filter(shown);
  if (!vis.length) return;
  cy.fit(vis, padding);
  if (cy.zoom() >= READABLE_ZOOM) return;
  const bb = vis.boundingBox();
  const z = Math.max(READABLE_ZOOM, cy.minZoom());
  cy.zoom(z);
  const W = cy.width();
  const x = bb.w * z + 2 * padding <= W ? (W - bb.w * z) / 2 - bb.x1 * z : padding - bb.x1 * z;
  cy.pan({ x, y: padding - bb.y1 * z });
}

// A long, narrow layout (a chain of 40 layers is a strip 40 ranks tall) folds into side-by-side
// columns of consecutive ranks, so that its shape comes near the canvas's and fitting it keeps
// the labels legible.
function foldColumns(cy, nodes) {
  if (nodes.length < 12) return;
  const bb = nodes.boundingBox();
  const W = cy.width(), H = cy.height();
  if (!W || !H || !bb.w || !bb.h) return;
  const ys = [...new Set(nodes.map((n) => Math.round(n.position("y"))))].sort((a, b) => a - b);
  let cols = Math.round(Math.sqrt((bb.h * W) / (bb.w * H)));
  cols = Math.min(cols, Math.ceil(ys.length / 3));
  if (cols < 2) return;
  const per = Math.ceil(ys.length / cols);
  const rank = new Map(ys.map((y, i) => [y, i]));
  const colW = bb.w + 90;
  cy.batch(() => nodes.forEach((n) => {
    const p = n.position();
    const r = rank.get(Math.round(p.y));
    const c = Math.floor(r / per);
    n.position({ x: p.x + c * colW, y: p.y - ys[c * per] + ys[0] });
  }));
}

export function runLayout(cy, fit = true) {
  const eles = cy.elements().filter(shown);
  const nodes = eles.nodes();
  if (!nodes.length) return;
  eles.layout({ name: "dagre", rankDir: "TB", nodeSep: 40, rankSep: 45, edgeSep: 10, fit: false, padding: 30, animate: false }).run();
  foldColumns(cy, nodes);
  if (fit) readableFit(cy, eles);
}

// Elements for a graph document: nodes keyed n<k>, edges in from_layers order.
export function elementsFromDoc(doc, shapes, issuesByNode) {
  const els = [];
  const ids = new Map();
  (doc.layers || []).forEach((l, k) => ids.set(l.layer_name, `n${k + 1}`));
  (doc.layers || []).forEach((l, k) => {
    const err = issuesByNode && issuesByNode.get(l.layer_name);
    els.push({ group: "nodes", data: { id: `n${k + 1}`, name: l.layer_name, kind: l.layer_type,
      label: nodeLabel(l.layer_name, l.layer_type, l.layer_params, err) }, classes: err ? "error" : "" });
  });
  (doc.layers || []).forEach((l, k) => {
    (l.from_layers || []).forEach((src, j) => {
      if (!ids.has(src)) return;
      els.push({ group: "edges", data: { id: `e${k + 1}_${j}`, source: ids.get(src), target: `n${k + 1}`,
        label: shapeText(shapes && shapes[src]) } });
    });
  });
  return els;
}
