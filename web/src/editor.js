// The drag-and-drop graph editor: palette -> canvas, connect by dragging, a parameter form
// with the vocabulary's ranges, shapes on edges, errors on the node at fault, and the code
// regenerated through /api/generate on every change (latency measured edit -> code on screen).
import { cytoscape, STYLE, nodeLabel, readableFit, runLayout, shapeText } from "./graphview.js";
import { highlight } from "./highlight.js";

const NAME_RE = /^[^\s"'<>`]+$/;
const STARTERS = { shape: [28, 28, 1], filters: 32, units: 10, function: "relu", input_dim: 10000, output_dim: 64,
                   num_heads: 2, key_dim: 8, groups: 1, scale: 1.0, d_model: 64, d_ff: 128 };
const KIND_HINT = { int_pair: "n or rows,cols", int_quad: "n or top,bottom,left,right", padding: "valid, same, n or rows,cols",
                    padding1d: "valid, same or n", shape: "e.g. 28,28,1" };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function parseValue(kind, text) {
  const t = String(text).trim();
  if (t === "") return undefined;
  if (kind === "int") return /^-?\d+$/.test(t) ? parseInt(t, 10) : t;
  if (kind === "float") return isNaN(Number(t)) ? t : Number(t);
  if (["int_pair", "int_quad", "shape", "padding", "padding1d"].includes(kind)) {
    if (/^(valid|same)$/i.test(t)) return t.toLowerCase();
    const parts = t.split(/[\s,x\u00d7*]+/).filter(Boolean);
    if (parts.length && parts.every((p) => /^-?\d+$/.test(p))) {
      const nums = parts.map((p) => parseInt(p, 10));
      return kind === "shape" || nums.length > 1 ? nums : nums[0];
    }
    return t;
  }
  return t;
}

function showValue(v) {
  if (v === undefined || v === null) return "";
  return Array.isArray(v) ? v.join(",") : String(v);
}

function clientCheck(spec, value) {
  if (value === undefined) return spec.required ? "required" : "";
  const nums = Array.isArray(value) ? value : [value];
  if (["int", "int_pair", "int_quad", "shape"].includes(spec.kind) || spec.kind === "float") {
    for (const x of nums) {
      if (typeof x !== "number") return spec.kind === "float" ? "a number" : "whole numbers";
      if (spec.min !== undefined && x < spec.min) return `must be >= ${spec.min}`;
      if (spec.max !== undefined && x > spec.max) return `must be <= ${spec.max}`;
    }
  }
  return "";
}

export async function initEditor() {
  const boot = JSON.parse(document.getElementById("editor-boot").textContent);
  const vocab = await (await fetch("/api/vocabulary")).json();
  const state = { paper: boot.paper, base: boot.version, extra: {}, seq: 0, edgeSeq: 0, selected: null,
                  lastResult: null, activeTab: "pytorch", connect: false, loading: false, docJson: null,
                  expanded: new Set() };
  const latencies = [];
  const cy = cytoscape({ container: document.getElementById("cy"), style: STYLE, 
                         minZoom: 0.1, maxZoom: 1.6 });
  const eh = cy.edgehandles({
    canConnect: (s, t) => !!s.data("layer") && !!t.data("layer") && !s.same(t) &&
                          !t.edgesWith(s).filter((e) => e.source().same(s)).length && t.data("kind") !== "Input",
    edgeParams: () => ({ data: { idx: ++state.edgeSeq, label: "" } }),
    hoverDelay: 50, snap: true, snapThreshold: 25,
  });
  const $ = (id) => document.getElementById(id);
  const statusText = $("status-text");

  // ---------------------------------------------------------------- model
  function specOf(type) {
    if (vocab.layers[type]) return { ...vocab.layers[type], block: false };
    if (vocab.blocks[type]) return { ...vocab.blocks[type], block: true };
    return null;
  }
  // layer nodes carry data.layer; group summaries (collapsed blocks) and edgehandles' helpers do not
  function layerNodes() { return cy.nodes("[?layer]"); }
  // Nodes are sized by their labels, measured when they are first drawn: a visible()/hit-test asked
  // before that (a viewport change, a layout, a fit) caches "zero size" and the node would not take a
  // click or a drag. After new or re-shown nodes are drawn, the cached answers are dropped.
  let sizesPending = false;
  cy.on("render", () => {
    if (!sizesPending) return;
    sizesPending = false;
    cy.elements().dirtyStyleCache();
    const r = cy.renderer();       // and the renderer's list of the elements a pointer can hit
    if (r && typeof r.invalidateCachedZSortedEles === "function") r.invalidateCachedZSortedEles();
  });
  function nodeByName(name) { return layerNodes().filter((n) => n.data("name") === name)[0]; }
  function uniqueName(type) {
    const base = type.toLowerCase().replace(/[^a-z0-9]+/g, "_");
    let k = 1;
    while (nodeByName(`${base}_${k}`)) k++;
    return `${base}_${k}`;
  }
  function refreshLabel(n) {
    n.data("label", nodeLabel(n.data("name"), n.data("kind"), n.data("params"), n.data("error")));
  }
  function addNode(type, pos, name, params, meta, dangling) {
    const spec = specOf(type);
    const p = params ? { ...params } : {};
    if (!params && spec) {
      for (const [k, s] of Object.entries(spec.params)) if (s.required && STARTERS[k] !== undefined) p[k] = STARTERS[k];
    }
    const id = `n${++state.seq}`;
    const node = cy.add({ group: "nodes", data: { id, layer: true, name: name || uniqueName(type), kind: type, params: p,
      meta: meta || {}, seq: state.seq, block: !!(spec && spec.block), dangling: dangling || [], label: "" },
      position: pos || { x: 0, y: 0 } });
    refreshLabel(node);
    sizesPending = true;
    return node;
  }
  function addEdge(src, dst, idx) {
    return cy.add({ group: "edges", data: { id: `e${++state.edgeSeq}`, source: src.id(), target: dst.id(),
      idx: idx ?? state.edgeSeq, label: "" } });
  }

  function toDoc() {
    const nodes = layerNodes().sort((a, b) => a.data("seq") - b.data("seq"));
    const layers = nodes.map((n) => {
      const ins = n.incomers("edge").filter((e) => !e.hasClass("eh-preview") && !e.hasClass("eh-ghost") && !e.hasClass("proxy") &&
                                                   !e.hasClass("block-proxy") && !!e.source().data("layer"))
        .sort((a, b) => a.data("idx") - b.data("idx")).map((e) => e.source().data("name"));
      // a layer inside a collapsed group sits where its group's node is
      const pos = n.hasClass("grp-hidden") ? groupNodeOf(n).position() : n.position();
      const layer = { layer_type: n.data("kind"), layer_name: n.data("name"), layer_params: { ...n.data("params") },
        from_layers: ins.concat(n.data("dangling") || []),
        meta: { ...n.data("meta"), position: { x: Math.round(pos.x), y: Math.round(pos.y) } } };
      return layer;
    });
    const doc = { ...state.extra, layers };
    if (Array.isArray(doc.outputs)) {
      const names = new Set(layers.map((l) => l.layer_name));
      doc.outputs = doc.outputs.filter((o) => names.has(o));
      if (!doc.outputs.length) delete doc.outputs;
    }
    return doc;
  }

  // layout: "auto" (lay out when positions are missing), "always" or "never"; fit: fit the view;
  // record: false when an undo/redo restores a snapshot (the history is not touched)
  function loadDoc(doc, { layout = "auto", fit = true, record = true } = {}) {
    if (Array.isArray(doc)) doc = { layers: doc };
    if (!doc || typeof doc !== "object" || !Array.isArray(doc.layers)) throw new Error('a graph is a JSON object with a "layers" list');
    state.loading = true;
    cy.elements().remove();
    groups.clear();
    state.selected = null;     // ids keep counting: a re-added element never reuses a removed one's id (cytoscape caches by id)
    const { layers, ...extra } = doc;
    state.extra = extra;
    const byName = new Map();
    let positioned = true;
    for (const l of layers) {
      if (!l || typeof l !== "object") throw new Error("every layer must be an object");
      const meta = { ...(l.meta || {}) };
      const pos = meta.position; delete meta.position;
      if (!pos || typeof pos.x !== "number") positioned = false;
      const n = addNode(String(l.layer_type || "?"), pos && typeof pos.x === "number" ? { x: pos.x, y: pos.y } : null,
        String(l.layer_name || uniqueName("layer")), l.layer_params || {}, meta, []);
      byName.set(n.data("name"), n);
    }
    for (const l of layers) {
      const dst = byName.get(String(l.layer_name));
      const dangling = [];
      for (const src of l.from_layers || []) {
        if (byName.has(src)) addEdge(byName.get(src), dst); else dangling.push(src);
      }
      dst.data("dangling", dangling);
    }
    buildGroups();
    sizesPending = true;
    state.loading = false;
    if (layout === "always" || (layout === "auto" && !positioned)) runLayout(cy, fit); else if (fit) readableFit(cy);
    renderProps();
    changed("load", null, { record });
  }

  // ------------------------------------------------------------- groups
  // Layers of one named block (meta.block, or a shared name prefix "conv2_1/...") show as one node
  // with a count while collapsed; a click on it expands the group, "Collapse group" folds it again.
  const groups = new Map();          // key -> { key, id, members: [node ids] }
  let proxySeq = 0;
  function groupKeyOf(n) {
    const meta = n.data("meta") || {};
    if (typeof meta.block === "string" && meta.block) return meta.block;
    const name = n.data("name"), k = name.lastIndexOf("/");
    return k > 0 ? name.slice(0, k) : null;
  }
  function groupNodeOf(n) { const g = groups.get(n.data("group")); return g ? cy.getElementById(g.id) : n; }
  function groupMembers(g) { return cy.collection(g.members.map((id) => cy.getElementById(id)).filter((x) => x.length)); }
  function buildGroups() {
    cy.nodes(".group-summary").remove();
    groups.clear();
    const by = new Map();
    layerNodes().forEach((n) => {
      n.removeData("group");
      const k = groupKeyOf(n);
      if (k) { if (!by.has(k)) by.set(k, []); by.get(k).push(n); }
    });
    for (const [key, members] of by) {
      if (members.length < 2) continue;
      const id = `grp${groups.size + 1}`;
      groups.set(key, { key, id, members: members.map((m) => m.id()) });
      members.forEach((m) => m.data("group", key));
      const x = members.reduce((a, m) => a + m.position("x"), 0) / members.length;
      const y = members.reduce((a, m) => a + m.position("y"), 0) / members.length;
      cy.add({ group: "nodes", data: { id, summary: true, name: key, count: members.length,
        label: `${key}\n${members.length} layers \u25b8` }, classes: "group-summary", selectable: false, position: { x, y } });
    }
    applyCollapse();
    updateGroupButton();
  }
  function applyCollapse() {
    sizesPending = true;
    const shapes = (state.lastResult && state.lastResult.shapes) || {};
    cy.batch(() => {
      cy.edges(".proxy").remove();
      for (const g of groups.values()) {
        const members = groupMembers(g), summary = cy.getElementById(g.id);
        if (!members.length) { summary.remove(); groups.delete(g.key); continue; }
        const collapsed = !state.expanded.has(g.key);
        members.toggleClass("grp-hidden", collapsed);
        summary.toggleClass("grp-hidden", !collapsed);
        summary.toggleClass("error", members.some((m) => !!m.data("error")));
      }
      const seen = new Set();
      cy.edges().forEach((e) => {
        const s = e.source(), t = e.target();
        if (!s.data("layer") || !t.data("layer")) return;
        if (!s.hasClass("grp-hidden") && !t.hasClass("grp-hidden")) return;
        const rs = s.hasClass("grp-hidden") ? groupNodeOf(s) : s, rt = t.hasClass("grp-hidden") ? groupNodeOf(t) : t;
        if (rs.same(rt) || seen.has(`${rs.id()}>${rt.id()}`)) return;
        seen.add(`${rs.id()}>${rt.id()}`);
        cy.add({ group: "edges", data: { id: `p${++proxySeq}`, source: rs.id(), target: rt.id(), srcName: s.data("name"),
          label: shapeText(shapes[s.data("name")]) }, classes: "proxy", selectable: false });
      });
    });
  }
  function setGroupExpanded(key, on) {
    const g = groups.get(key);
    if (!g) return;
    const at = cy.getElementById(g.id).position();
    if (on) {
      state.expanded.add(key);
      groupMembers(g).forEach((m, k) => { m.position({ x: at.x, y: at.y + k * 60 }); });
    } else state.expanded.delete(key);
    applyCollapse();
    runLayout(cy, false);
    const focus = on ? groupMembers(g) : cy.getElementById(g.id);
    cy.center(focus);
    updateGroupButton();
  }
  // ------------------------------------------------------- block uses
  // A block use (a layer whose type is a library block) is one node; "Show its layers" puts the
  // block's own layers, read-only and with their shapes, in its place; a click on one folds it back.
  const openBlocks = new Set();
  let innerSeq = 0;
  function applyBlocks() {
    const res = state.lastResult;
    const inside = (res && res.ok && res.block_layers) || {};
    const shapes = (res && res.shapes) || {};
    const was = new Map(cy.nodes(".block-inner").map((x) => [x.data("name"), { ...x.position() }]));   // kept across results
    cy.batch(() => {
      cy.elements(".block-inner, .block-proxy").remove();
      const opened = [], byFull = new Map();
      layerNodes().filter("[?block]").forEach((n) => {
        const use = openBlocks.has(n.data("name")) ? inside[n.data("name")] : null;
        n.toggleClass("block-open", !!use);
        if (!use) return;
        if (n.selected()) n.unselect();
        opened.push([n, use]);
        const base = n.position();
        use.layers.forEach((l, k) => {
          const id = `bi${++innerSeq}`;
          cy.add({ group: "nodes", data: { id, inner: true, use: n.data("name"), name: l.layer_name,
            label: `${l.layer_name.slice(n.data("name").length + 1)}\n${l.layer_type}` }, classes: "block-inner",
            selectable: false, position: was.get(l.layer_name) || { x: base.x, y: base.y + k * 70 } });
          byFull.set(l.layer_name, { id, shape: l.shape });
        });
      });
      const canvasNode = (name) => {
        if (byFull.has(name)) return cy.getElementById(byFull.get(name).id);
        return nodeByName(name) || nodeByName(name.split("/")[0]) || null;
      };
      for (const [n, use] of opened) {
        for (const l of use.layers) {
          const target = byFull.get(l.layer_name).id;
          for (const src of l.from_layers) {
            const from = canvasNode(src);
            if (!from) continue;
            const shape = byFull.has(src) ? byFull.get(src).shape : shapes[src];
            cy.add({ group: "edges", data: { id: `bx${++innerSeq}`, source: from.id(), target, label: shapeText(shape) },
              classes: "block-inner", selectable: false });
          }
        }
        const out = byFull.get(use.output);
        if (!out) continue;
        n.outgoers("edge").forEach((e) => {
          if (!e.target().data("layer")) return;
          cy.add({ group: "edges", data: { id: `bx${++innerSeq}`, source: out.id, target: e.target().id(), label: shapeText(out.shape) },
            classes: "block-proxy", selectable: false });
        });
      }
    });
    sizesPending = true;
  }
  function setBlockOpen(name, on) {
    if (on) openBlocks.add(name); else openBlocks.delete(name);
    applyBlocks();
    runLayout(cy, false);
    const inner = cy.nodes(".block-inner").filter((x) => x.data("use") === name);
    const n = nodeByName(name);
    if (on && inner.length) cy.center(inner); else if (n) cy.center(n);
  }
  cy.on("tap", "node.block-inner", (ev) => setBlockOpen(ev.target.data("use"), false));

  function updateGroupButton() {
    const b = $("btn-groups");
    if (!b) return;
    b.hidden = !groups.size;
    const anyCollapsed = [...groups.keys()].some((k) => !state.expanded.has(k));
    b.textContent = anyCollapsed ? "Expand groups" : "Collapse groups";
  }

  // ------------------------------------------------------- regeneration
  // Each edit snapshots the document (for undo and for the request); edits made while a request is
  // in flight are coalesced into one more request. Only the active tab's target is generated; another
  // tab's code is fetched when the tab is opened.
  let editSeq = 0, measuredUpTo = 0, inflight = false, pending = false, scheduled = false;
  const editTimes = new Map();
  const timings = [];       // per request: round trip, server time, applying the result (ms)
  function changed(why, key = null, { record = true } = {}) {
    if (state.loading) return;
    if (groups.size && why !== "param" && why !== "rename" && why !== "move") applyCollapse();
    const snap = JSON.stringify(toDoc());
    if (record) recordHistory(snap, key);
    if (why === "move") return;            // positions only: code and shapes are unchanged
    editSeq += 1;
    editTimes.set(editSeq, performance.now());
    state.docJson = snap;
    if (!scheduled) { scheduled = true; queueMicrotask(() => { scheduled = false; regenerate(); }); }
  }
  function measure(upTo, data) {
    const now = performance.now();
    for (let k = measuredUpTo + 1; k <= upTo; k++) {
      if (editTimes.has(k)) { latencies.push(now - editTimes.get(k)); editTimes.delete(k); }
    }
    measuredUpTo = Math.max(measuredUpTo, upTo);
    if (latencies.length) {
      const last = latencies[latencies.length - 1];
      $("latency").textContent = `edit \u2192 code ${last.toFixed(0)} ms` + (data && data.ms !== undefined ? ` (server ${data.ms} ms)` : "");
    }
    document.body.dataset.generation = String(upTo);
  }
  function showEmpty() {
    state.lastResult = { ok: false, empty: true, issues: [], shapes: {}, outputs: [], code: {}, forDoc: state.docJson };
    cy.batch(() => cy.edges().forEach((e) => { if (e.data("label")) e.data("label", ""); }));
    statusText.textContent = "empty: drag layers from the palette";
    statusText.className = "";
    $("issues-panel").replaceChildren();
    state.issuesKey = "";
    renderCode();
  }
  async function postGenerate(docJson, targets) {
    const resp = await fetch("/api/generate", { method: "POST", headers: { "content-type": "application/json" },
      body: `{"graph":${docJson},"targets":${JSON.stringify(targets)}}` });
    const data = await resp.json();
    if (!resp.ok) throw Object.assign(new Error(data.detail || `HTTP ${resp.status}`), { http: true });
    return data;
  }
  async function regenerate() {
    if (inflight) { pending = true; return; }
    const upTo = editSeq, docJson = state.docJson, tab = state.activeTab;
    if (!layerNodes().length) { showEmpty(); measure(upTo); return; }
    inflight = true;
    let data = null;
    try {
      const t0 = performance.now();
      data = await postGenerate(docJson, [tab]);
      const t1 = performance.now();
      data.forDoc = docJson;
      applyResult(data);
      timings.push({ request: t1 - t0, server: data.ms, apply: performance.now() - t1 });
      if (timings.length > 500) timings.shift();
    } catch (err) {
      statusText.textContent = err.http ? err.message : `the server did not answer: ${err.message || err}`;
      statusText.className = "bad";
    }
    measure(upTo, data);
    inflight = false;
    if (pending) { pending = false; regenerate(); }
  }
  async function fetchTab(tab) {
    const res = state.lastResult;
    if (!res || !res.ok || res.code[tab] || !res.forDoc) return;
    const docJson = res.forDoc;
    try {
      const data = await postGenerate(docJson, [tab]);
      if (state.lastResult && state.lastResult.forDoc === docJson && data.code[tab]) {
        state.lastResult.code[tab] = data.code[tab];
        if (state.activeTab === tab) renderCode();
      }
    } catch (err) { statusText.textContent = String(err.message || err); statusText.className = "bad"; }
  }

  function applyResult(data) {
    state.lastResult = data;
    const byNode = new Map();
    for (const i of data.issues || []) if (i.node && !byNode.has(i.node)) byNode.set(i.node, i.message);
    const shapes = data.shapes || {};
    cy.batch(() => {                      // only what changed is touched (labels re-render on data changes)
      layerNodes().forEach((n) => {
        const err = byNode.get(n.data("name")) || null;
        if (err !== (n.data("error") || null) || n.hasClass("error") !== !!err) {
          n.data("error", err); refreshLabel(n); n.toggleClass("error", !!err);
        }
      });
      cy.edges().forEach((e) => {
        if (e.hasClass("eh-preview") || e.hasClass("eh-ghost-edge") || e.hasClass("block-inner") || e.hasClass("block-proxy")) return;
        const label = shapeText(shapes[e.data("srcName") || e.source().data("name")]);
        if (label !== e.data("label")) e.data("label", label);
      });
      for (const g of groups.values()) {
        cy.getElementById(g.id).toggleClass("error", groupMembers(g).some((m) => !!m.data("error")));
      }
    });
    const panel = $("issues-panel");
    if (data.ok) {
      statusText.textContent = `valid: ${data.layers} layers, outputs ${(data.outputs || []).join(", ")}`;
      statusText.className = "ok";
    } else {
      statusText.textContent = `${data.issues.length} problem(s): fix the highlighted layer(s)`;
      statusText.className = "bad";
    }
    const issuesKey = JSON.stringify(data.issues || []);
    if (issuesKey !== state.issuesKey) {
      state.issuesKey = issuesKey;
      panel.replaceChildren();
      if (!data.ok) {
        const ul = el("ul", { class: "issues-list" });
        for (const i of data.issues) {
          const li = el("li", { class: "issue", "data-node": i.node || "" }, el("b", { text: i.node || "graph" }),
            `: ${i.message} [${i.kind}]`);
          li.addEventListener("click", () => {
            const n = i.node && nodeByName(i.node);
            if (!n) return;
            if (n.hasClass("grp-hidden")) setGroupExpanded(n.data("group"), true);
            cy.elements().unselect(); n.select();
          });
          ul.append(li);
        }
        panel.append(ul);
      }
    }
    if (openBlocks.size || cy.nodes(".block-inner").length) applyBlocks();
    renderCode();
  }

  // The code panel keeps its file boxes while the file names stay the same and rewrites (and
  // re-highlights) only a file whose text changed.
  let rendered = { key: null, files: [] };
  function renderCode() {
    const box = $("code-files");
    const data = state.lastResult;
    const message = (cls, text, st) => {
      rendered = { key: null, files: [] };
      box.replaceChildren(el("p", { class: cls, text }));
      box.dataset.state = st;
    };
    if (!data) { rendered = { key: null, files: [] }; box.replaceChildren(); return; }
    if (data.empty) return message("hint", "Drag layers from the palette to start: the code appears here.", "empty");
    if (!data.ok) return message("hint", "No code while the graph has problems.", "invalid");
    const c = data.code[state.activeTab];
    if (!c) { message("hint", "generating\u2026", "loading"); fetchTab(state.activeTab); return; }
    if (!c.ok) return message("error-message", c.error || "not emitted", "ok");
    box.dataset.state = "ok";
    const entries = Object.entries(c.files);
    const key = state.activeTab + "\n" + entries.map(([f]) => f).join("\n");
    if (rendered.key === key) {
      entries.forEach(([, text], k) => {
        const f = rendered.files[k];
        if (f.text === text) return;
        f.text = text; f.code.textContent = text; highlight(f.code);
      });
      return;
    }
    const files = [];
    box.replaceChildren();
    for (const [fname, text] of entries) {
      const code = el("code", { class: fname.endsWith(".prototxt") ? "language-protobuf" : "language-python" });
      code.textContent = text;
      highlight(code);
      const f = { text, code };
      const copy = el("button", { type: "button", class: "button small", text: "copy",
        onclick: () => navigator.clipboard && navigator.clipboard.writeText(f.text).then(() => { copy.textContent = "copied"; }) });
      const dl = el("button", { type: "button", class: "button small", text: "download", onclick: () => download(fname, f.text, "text/plain") });
      box.append(el("div", { class: "code-file", "data-file": fname }, el("div", { class: "code-head" }, el("code", { text: fname }), dl, copy),
        el("pre", {}, code)));
      files.push(f);
    }
    rendered = { key, files };
  }

  // ---------------------------------------------------------------- undo
  // Snapshots of toDoc(); typing in one field (a parameter, the name) is one step until the field
  // loses focus or another edit comes between.
  const hist = { stack: [], index: -1, key: null };
  function recordHistory(snap, key) {
    if (hist.index >= 0 && hist.stack[hist.index] === snap) { hist.key = key; return; }
    if (key && hist.key === key && hist.index > 0) hist.stack[hist.index] = snap;
    else {
      hist.stack.splice(hist.index + 1);
      hist.stack.push(snap);
      if (hist.stack.length > 300) hist.stack.shift();
      hist.index = hist.stack.length - 1;
    }
    hist.key = key;
    updateUndoButtons();
  }
  function endTyping() { hist.key = null; }
  function restore(index) {
    const selName = state.selected && cy.getElementById(state.selected).length ? cy.getElementById(state.selected).data("name") : null;
    const pan = { ...cy.pan() }, zoom = cy.zoom();
    hist.index = index; hist.key = null;
    loadDoc(JSON.parse(hist.stack[index]), { layout: "never", fit: false, record: false });
    cy.viewport({ zoom, pan });
    const n = selName && nodeByName(selName);
    if (n && !n.hasClass("grp-hidden")) selectNode(n);
    updateUndoButtons();
  }
  function undo() { if (hist.index > 0) restore(hist.index - 1); }
  function redo() { if (hist.index < hist.stack.length - 1) restore(hist.index + 1); }
  function updateUndoButtons() {
    if ($("btn-undo")) $("btn-undo").disabled = hist.index <= 0;
    if ($("btn-redo")) $("btn-redo").disabled = hist.index >= hist.stack.length - 1;
  }

  function download(name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = el("a", { href: url, download: name });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // ----------------------------------------------------------- the form
  let fieldToken = 0;
  function renderProps() {
    const box = $("props");
    box.replaceChildren(el("h3", { text: "Layer" }));
    const n = state.selected && cy.getElementById(state.selected);
    if (!n || !n.length) { box.append(el("p", { class: "hint", text: "Select a layer to edit its parameters." })); return; }
    const type = n.data("kind");
    const spec = specOf(type);
    const nameInput = el("input", { id: "prop-name", value: n.data("name"), maxlength: 200 });
    const nameMsg = el("span", { class: "field-error", id: "prop-name-error" });
    const nameKey = `rename:${n.id()}:${++fieldToken}`;
    // applied as typed when valid; an invalid name is shown next to the field and not applied
    const applyName = () => {
      const v = nameInput.value;
      const other = nodeByName(v);
      let problem = "";
      if (!v.trim()) problem = "a layer needs a name";
      else if (!NAME_RE.test(v)) problem = "no spaces, quotes, < > or `";
      else if (other && !other.same(n)) problem = "another layer has this name";
      nameMsg.textContent = problem;
      nameInput.classList.toggle("invalid", !!problem);
      if (problem || v === n.data("name")) return;
      const old = n.data("name");
      n.data("name", v);
      if (Array.isArray(state.extra.outputs)) state.extra.outputs = state.extra.outputs.map((o) => (o === old ? v : o));
      refreshLabel(n); changed("rename", nameKey);
    };
    nameInput.addEventListener("input", applyName);
    nameInput.addEventListener("change", () => { applyName(); endTyping(); });
    box.append(el("label", { class: "field" }, el("span", { text: "name" }), nameInput, nameMsg));
    if (n.data("block")) {
      const res = state.lastResult, use = res && res.ok && res.block_layers && res.block_layers[n.data("name")];
      box.append(el("button", { type: "button", class: "button small", id: "prop-expand-block", disabled: !use,
        text: use ? `Show its ${use.layers.length} layers` : "Show its layers (once the graph validates)",
        onclick: () => { const k = n.data("name"); cy.elements().unselect(); state.selected = null; renderProps(); setBlockOpen(k, true); } }));
    }
    if (n.data("group") && groups.has(n.data("group"))) {
      box.append(el("button", { type: "button", class: "button small", id: "prop-collapse", text: `Collapse group ${n.data("group")}`,
        onclick: () => { const k = n.data("group"); cy.elements().unselect(); state.selected = null; renderProps(); setGroupExpanded(k, false); } }));
    }
    box.append(el("p", { class: "type-line" }, el("b", { text: type }), spec ? ` \u2014 ${spec.description || ""}` : " \u2014 not in the vocabulary"));
    const params = n.data("params");
    const known = new Set();
    if (spec) {
      for (const [pname, ps] of Object.entries(spec.params)) {
        known.add(pname);
        for (const a of ps.aliases || []) known.add(a);
        const aliasKey = (ps.aliases || []).find((a) => a in params);
        const raw = pname in params ? params[pname] : aliasKey ? params[aliasKey] : undefined;
        box.append(paramField(n, pname, ps, raw, aliasKey));
      }
    }
    const extras = Object.keys(params).filter((k) => !known.has(k));
    for (const k of extras) {
      box.append(el("div", { class: "field extra" }, el("span", { text: `${k} = ${JSON.stringify(params[k])}` }),
        el("button", { type: "button", class: "button small", text: "remove",
          onclick: () => { const p = { ...n.data("params") }; delete p[k]; n.data("params", p); refreshLabel(n); renderProps(); changed("param"); } })));
    }
    box.append(el("button", { type: "button", class: "button danger", id: "prop-delete", text: "Delete layer",
      onclick: () => { n.remove(); state.selected = null; renderProps(); changed("delete"); } }));
  }

  function paramField(n, pname, ps, raw, aliasKey) {
    const range = [ps.min !== undefined ? `\u2265 ${ps.min}` : "", ps.max !== undefined ? `\u2264 ${ps.max}` : ""].filter(Boolean).join(", ");
    const hint = [ps.kind, range, KIND_HINT[ps.kind] || "", ps.required ? "required" : ps.default !== undefined && ps.default !== null ? `default ${showValue(ps.default)}` : ""]
      .filter(Boolean).join("; ");
    const msg = el("span", { class: "field-error" });
    const typingKey = `param:${n.id()}:${pname}:${++fieldToken}`;
    let input;
    const set = (value, typing = false) => {
      const p = { ...n.data("params") };
      if (aliasKey) delete p[aliasKey];
      if (value === undefined) delete p[pname]; else p[pname] = value;
      n.data("params", p);
      msg.textContent = clientCheck(ps, value);
      input.classList.toggle("invalid", !!msg.textContent);
      refreshLabel(n);
      changed("param", typing ? typingKey : null);
    };
    if (ps.choices) {
      input = el("select", { "data-param": pname });
      input.append(el("option", { value: "", text: ps.required ? "(choose)" : `(default: ${showValue(ps.default)})` }));
      for (const c of ps.choices) {
        const o = el("option", { value: String(c), text: String(c) });
        if (raw !== undefined && String(raw).toLowerCase() === String(c).toLowerCase()) o.selected = true;
        input.append(o);
      }
      input.addEventListener("change", () => set(input.value === "" ? undefined : input.value));
    } else if (ps.kind === "bool") {
      input = el("select", { "data-param": pname });
      for (const [v, t] of [["", `(default: ${ps.default})`], ["true", "true"], ["false", "false"]]) {
        const o = el("option", { value: v, text: t });
        if (raw !== undefined && String(raw) === v) o.selected = true;
        input.append(o);
      }
      input.addEventListener("change", () => set(input.value === "" ? undefined : input.value === "true"));
    } else if (ps.kind === "int" || ps.kind === "float") {
      input = el("input", { type: "number", "data-param": pname, step: ps.kind === "int" ? 1 : "any",
        min: ps.min, max: ps.max, value: showValue(raw), placeholder: showValue(ps.default) });
      input.addEventListener("input", () => set(parseValue(ps.kind, input.value), true));
      input.addEventListener("change", endTyping);
    } else {
      input = el("input", { type: "text", "data-param": pname, value: showValue(raw), placeholder: showValue(ps.default) });
      input.addEventListener("input", () => set(parseValue(ps.kind, input.value), true));
      input.addEventListener("change", endTyping);
    }
    msg.textContent = raw === undefined ? "" : clientCheck(ps, raw);
    if (msg.textContent) input.classList.add("invalid");
    return el("label", { class: "field" }, el("span", { class: "pname", text: pname }), input,
      el("small", { class: "hint", text: hint }), msg);
  }

  // -------------------------------------------------------------- palette
  function buildPalette() {
    const mk = (type, spec, isBlock) => {
      const item = el("div", { class: "palette-item" + (isBlock ? " block" : ""), draggable: "true", "data-type": type,
        title: spec.description || type, text: type });
      item.addEventListener("dragstart", (ev) => { ev.dataTransfer.setData("text/plain", type); ev.dataTransfer.effectAllowed = "copy"; });
      item.addEventListener("dblclick", () => {
        const ext = cy.extent();
        const last = layerNodes().sort((a, b) => b.data("seq") - a.data("seq"))[0];
        const pos = last ? { x: last.position().x, y: last.position().y + 80 } : { x: (ext.x1 + ext.x2) / 2, y: ext.y1 + 60 };
        selectNode(addNode(type, pos)); changed("add");
      });
      return item;
    };
    for (const [t, s] of Object.entries(vocab.layers)) $("palette-layers").append(mk(t, s, false));
    for (const [t, s] of Object.entries(vocab.blocks)) $("palette-blocks").append(mk(t, s, true));
    $("palette-filter").addEventListener("input", (ev) => {
      const q = ev.target.value.toLowerCase();
      document.querySelectorAll(".palette-item").forEach((i) => { i.hidden = q && !i.dataset.type.toLowerCase().includes(q); });
    });
    const box = $("cy");
    box.addEventListener("dragover", (ev) => { ev.preventDefault(); ev.dataTransfer.dropEffect = "copy"; });
    box.addEventListener("drop", (ev) => {
      ev.preventDefault();
      const type = ev.dataTransfer.getData("text/plain");
      if (!specOf(type)) return;
      const rect = box.getBoundingClientRect();
      const pan = cy.pan(), zoom = cy.zoom();
      const pos = { x: (ev.clientX - rect.left - pan.x) / zoom, y: (ev.clientY - rect.top - pan.y) / zoom };
      selectNode(addNode(type, pos)); changed("add");
    });
  }

  function selectNode(n) { cy.elements().unselect(); n.select(); state.selected = n.id(); renderProps(); }

  // -------------------------------------------------------------- events
  cy.on("select", "node[?layer]", (ev) => { state.selected = ev.target.id(); renderProps(); });
  cy.on("tap", "node.group-summary", (ev) => setGroupExpanded(ev.target.data("name"), true));
  cy.on("dragfree", "node[?layer]", () => changed("move"));
  cy.on("unselect", "node", () => { setTimeout(() => { if (!cy.$("node:selected").length) { state.selected = null; renderProps(); } }, 0); });
  cy.on("ehcomplete", (ev, src, dst, edge) => { edge.data("idx", ++state.edgeSeq); changed("connect"); });
  function toggleConnect(on) {
    state.connect = on;
    if (on) eh.enableDrawMode(); else eh.disableDrawMode();
    $("btn-connect").setAttribute("aria-pressed", String(on));
    $("btn-connect").classList.toggle("active", on);
  }
  function deleteSelection() {
    const sel = cy.$(":selected");
    if (!sel.length) return;
    sel.remove(); state.selected = null; renderProps(); changed("delete");
  }
  $("btn-connect").addEventListener("click", () => toggleConnect(!state.connect));
  $("btn-delete").addEventListener("click", deleteSelection);
  $("btn-layout").addEventListener("click", () => { runLayout(cy); changed("move"); });
  $("btn-fit").addEventListener("click", () => readableFit(cy));
  if ($("btn-undo")) $("btn-undo").addEventListener("click", undo);
  if ($("btn-redo")) $("btn-redo").addEventListener("click", redo);
  if ($("btn-groups")) $("btn-groups").addEventListener("click", () => {
    const expand = [...groups.keys()].some((k) => !state.expanded.has(k));
    for (const k of groups.keys()) if (expand) state.expanded.add(k); else state.expanded.delete(k);
    applyCollapse(); runLayout(cy); updateGroupButton();
  });
  $("btn-export").addEventListener("click", () => {
    const doc = toDoc();
    download(`${doc.name || state.paper || "graph"}.json`, JSON.stringify(doc, null, 1) + "\n", "application/json");
  });
  function importText(text) {
    let doc;
    try { doc = JSON.parse(text); } catch (err) { throw new Error(`not valid JSON: ${err.message}`); }
    loadDoc(doc, { layout: "auto" });
  }
  $("import-file").addEventListener("change", async (ev) => {
    const f = ev.target.files[0];
    if (!f) return;
    try { importText(await f.text()); } catch (err) { statusText.textContent = `import failed: ${err.message}`; statusText.className = "bad"; }
    ev.target.value = "";
  });
  const dialog = $("json-dialog");
  $("btn-import-text").addEventListener("click", () => { $("json-error").textContent = ""; dialog.showModal(); });
  $("json-load").addEventListener("click", (ev) => {
    try { importText($("json-text").value); } catch (err) { ev.preventDefault(); $("json-error").textContent = err.message; }
  });
  document.addEventListener("keydown", (ev) => {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (["input", "textarea", "select"].includes(tag) || ev.target.isContentEditable || dialog.open) return;   // the browser's own undo there
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey) {
      const k = ev.key.toLowerCase();
      if (k === "z" && !ev.shiftKey) { undo(); ev.preventDefault(); }
      else if ((k === "z" && ev.shiftKey) || k === "y") { redo(); ev.preventDefault(); }
      return;
    }
    if (ev.key === "Delete" || ev.key === "Backspace") { deleteSelection(); ev.preventDefault(); }
    if (ev.key === "c" || ev.key === "C") toggleConnect(!state.connect);
  });
  document.querySelectorAll("#editor-tabs .tab").forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll("#editor-tabs .tab").forEach((x) => x.classList.toggle("active", x === b));
    state.activeTab = b.dataset.tab; renderCode();     // fetches the tab's code when it is not there yet
  }));

  // ---------------------------------------------------------------- save
  const saveBox = $("save-result");
  function showSave(kind, ...children) {
    saveBox.hidden = false; saveBox.className = `save-result ${kind}`; saveBox.replaceChildren(...children);
  }
  if ($("author")) $("author").value = localStorage.getItem("dlp2c-author") || "";
  async function save() {
    const author = $("author").value.trim();
    localStorage.setItem("dlp2c-author", author);
    const body = { graph: toDoc(), base_version: state.base, author, message: $("save-message").value };
    const resp = await fetch(`/api/papers/${encodeURIComponent(state.paper)}/versions`, { method: "POST",
      headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const data = await resp.json();
    if (resp.ok && data.unchanged) showSave("info", el("span", { id: "save-unchanged", text: data.detail }));
    else if (resp.status === 201) {
      state.base = data.number;
      $("base-version").textContent = String(state.base);
      showSave("ok", `Saved as version ${data.number}${data.valid ? "" : " (it does not validate yet)"}. `,
        el("a", { href: data.url, id: "saved-link", text: "View it" }));
      history.replaceState(null, "", `?version=${data.number}`);
    } else if (resp.status === 409) {
      const c = data.conflict || {};
      const latest = c.latest;
      const children = [el("p", { class: "conflict-message", text: data.detail })];
      if (latest && c.merge) {
        children.push(el("button", { type: "button", class: "button primary", id: "btn-merge", text: `Merge my changes into version ${latest.number}`,
          onclick: () => {
            loadDoc(c.merge.graph, { layout: "never" });
            state.base = latest.number; $("base-version").textContent = String(state.base);
            const items = (c.merge.conflicts || []).map((x) => el("li", { text: `${x.layer}: changed on both sides, your version kept` }));
            showSave("info", el("p", { text: `Merged onto version ${latest.number}: review, then Save.` }), items.length ? el("ul", {}, ...items) : "");
          } }));
        children.push(el("button", { type: "button", class: "button", id: "btn-take-theirs", text: `Discard mine, load version ${latest.number}`,
          onclick: () => { loadDoc(latest.graph, { layout: "never" }); state.base = latest.number; $("base-version").textContent = String(state.base); saveBox.hidden = true; } }));
      }
      showSave("conflict", ...children);
    } else {
      showSave("bad", `Not saved: ${data.detail || resp.status}`);
    }
  }
  if ($("btn-save")) $("btn-save").addEventListener("click", () => save().catch((err) => showSave("bad", `Not saved: ${err}`)));
  if ($("base-version")) $("base-version").textContent = String(state.base);

  buildPalette();
  window.editor = { cy, toDoc, loadDoc, latencies, timings, state, eh, toggleConnect, undo, redo, hist, groups,
                    setGroupExpanded, setBlockOpen, get result() { return state.lastResult; } };
  if (boot.graph) loadDoc(boot.graph, { layout: "auto" });
  else { statusText.textContent = "empty: drag layers from the palette"; statusText.className = ""; changed("init"); }
  updateGroupButton();
  if (boot.message && $("save-message")) $("save-message").value = boot.message;
  if (boot.candidate) {
    showSave("info", el("span", { id: "candidate-note", text: `Candidate graph ${boot.candidate} of the extraction: ` +
      (boot.version ? `saving it makes a new version on top of version ${boot.version}.` : "saving it makes the paper's first version.") }));
  }
}
