// The drag-and-drop graph editor: palette -> canvas, connect by dragging, a parameter form
// with the vocabulary's ranges, shapes on edges, errors on the node at fault, and the code
// regenerated through /api/generate on every change (latency measured edit -> code on screen).
import { cytoscape, STYLE, nodeLabel, runLayout, shapeText } from "./graphview.js";
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
                  lastResult: null, activeTab: "pytorch", connect: false, loading: false };
  const latencies = [];
  const cy = cytoscape({ container: document.getElementById("cy"), style: STYLE, 
                         minZoom: 0.1, maxZoom: 1.6 });
  const eh = cy.edgehandles({
    canConnect: (s, t) => !s.same(t) && !t.edgesWith(s).filter((e) => e.source().same(s)).length &&
                          t.data("kind") !== "Input",
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
  function nodeByName(name) { return cy.nodes().filter((n) => n.data("name") === name)[0]; }
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
    const node = cy.add({ group: "nodes", data: { id, name: name || uniqueName(type), kind: type, params: p,
      meta: meta || {}, seq: state.seq, block: !!(spec && spec.block), dangling: dangling || [], label: "" },
      position: pos || { x: 0, y: 0 } });
    refreshLabel(node);
    return node;
  }
  function addEdge(src, dst, idx) {
    return cy.add({ group: "edges", data: { id: `e${++state.edgeSeq}`, source: src.id(), target: dst.id(),
      idx: idx ?? state.edgeSeq, label: "" } });
  }

  function toDoc() {
    const nodes = cy.nodes().filter((n) => !n.hasClass("eh-ghost") && !n.hasClass("eh-handle"))
      .sort((a, b) => a.data("seq") - b.data("seq"));
    const layers = nodes.map((n) => {
      const ins = n.incomers("edge").filter((e) => !e.hasClass("eh-preview") && !e.hasClass("eh-ghost"))
        .sort((a, b) => a.data("idx") - b.data("idx")).map((e) => e.source().data("name"));
      const pos = n.position();
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

  function loadDoc(doc, { layout = "auto" } = {}) {
    if (Array.isArray(doc)) doc = { layers: doc };
    if (!doc || typeof doc !== "object" || !Array.isArray(doc.layers)) throw new Error('a graph is a JSON object with a "layers" list');
    state.loading = true;
    cy.elements().remove();
    state.seq = 0; state.edgeSeq = 0; state.selected = null;
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
    state.loading = false;
    if (layout === "always" || (layout === "auto" && !positioned)) runLayout(cy); else cy.fit(undefined, 30);
    renderProps();
    changed("load");
  }

  // ------------------------------------------------------- regeneration
  let editSeq = 0, measuredUpTo = 0, inflight = false, pending = false;
  const editTimes = new Map();
  function changed(why) {
    if (state.loading) return;
    editSeq += 1;
    editTimes.set(editSeq, performance.now());
    regenerate();
  }
  async function regenerate() {
    if (inflight) { pending = true; return; }
    inflight = true;
    const upTo = editSeq;
    let data = null, problem = "";
    try {
      const resp = await fetch("/api/generate", { method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ graph: toDoc() }) });
      data = await resp.json();
      if (!resp.ok) problem = data.detail || `HTTP ${resp.status}`;
    } catch (err) {
      problem = `the server did not answer: ${err}`;
    }
    if (problem) {
      statusText.textContent = problem;
      statusText.className = "bad";
    } else {
      applyResult(data);
    }
    const now = performance.now();
    for (let k = measuredUpTo + 1; k <= upTo; k++) {
      if (editTimes.has(k)) { latencies.push(now - editTimes.get(k)); editTimes.delete(k); }
    }
    measuredUpTo = upTo;
    if (latencies.length) {
      const last = latencies[latencies.length - 1];
      $("latency").textContent = `edit \u2192 code ${last.toFixed(0)} ms` + (data && data.ms !== undefined ? ` (server ${data.ms} ms)` : "");
    }
    document.body.dataset.generation = String(upTo);
    inflight = false;
    if (pending) { pending = false; regenerate(); }
  }

  function applyResult(data) {
    state.lastResult = data;
    const byNode = new Map();
    for (const i of data.issues || []) if (i.node && !byNode.has(i.node)) byNode.set(i.node, i.message);
    cy.batch(() => {
      cy.nodes().forEach((n) => {
        const err = byNode.get(n.data("name")) || null;
        if (err !== n.data("error")) { n.data("error", err); refreshLabel(n); }
        n.toggleClass("error", !!err);
      });
      cy.edges().forEach((e) => e.data("label", shapeText((data.shapes || {})[e.source().data("name")])));
    });
    const panel = $("issues-panel");
    panel.replaceChildren();
    if (data.ok) {
      statusText.textContent = `valid: ${data.layers} layers, outputs ${(data.outputs || []).join(", ")}`;
      statusText.className = "ok";
    } else {
      statusText.textContent = `${data.issues.length} problem(s): fix the highlighted layer(s)`;
      statusText.className = "bad";
      const ul = el("ul", { class: "issues-list" });
      for (const i of data.issues) {
        const li = el("li", { class: "issue", "data-node": i.node || "" }, el("b", { text: i.node || "graph" }),
          `: ${i.message} [${i.kind}]`);
        li.addEventListener("click", () => { const n = i.node && nodeByName(i.node); if (n) { cy.elements().unselect(); n.select(); } });
        ul.append(li);
      }
      panel.append(ul);
    }
    renderCode();
  }

  function renderCode() {
    const box = $("code-files");
    const data = state.lastResult;
    box.replaceChildren();
    if (!data) return;
    if (!data.ok) { box.append(el("p", { class: "hint", text: "No code while the graph has problems." })); box.dataset.state = "invalid"; return; }
    const c = data.code[state.activeTab];
    box.dataset.state = "ok";
    if (!c || !c.ok) { box.append(el("p", { class: "error-message", text: c ? c.error : "not emitted" })); return; }
    for (const [fname, text] of Object.entries(c.files)) {
      const code = el("code", { class: fname.endsWith(".prototxt") ? "language-protobuf" : "language-python" });
      code.textContent = text;
      highlight(code);
      const copy = el("button", { type: "button", class: "button small", text: "copy",
        onclick: () => navigator.clipboard && navigator.clipboard.writeText(text).then(() => { copy.textContent = "copied"; }) });
      const dl = el("button", { type: "button", class: "button small", text: "download", onclick: () => download(fname, text, "text/plain") });
      box.append(el("div", { class: "code-file", "data-file": fname }, el("div", { class: "code-head" }, el("code", { text: fname }), dl, copy),
        el("pre", {}, code)));
    }
  }

  function download(name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = el("a", { href: url, download: name });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // ----------------------------------------------------------- the form
  function renderProps() {
    const box = $("props");
    box.replaceChildren(el("h3", { text: "Layer" }));
    const n = state.selected && cy.getElementById(state.selected);
    if (!n || !n.length) { box.append(el("p", { class: "hint", text: "Select a layer to edit its parameters." })); return; }
    const type = n.data("kind");
    const spec = specOf(type);
    const nameInput = el("input", { id: "prop-name", value: n.data("name"), maxlength: 200 });
    const nameMsg = el("span", { class: "field-error" });
    nameInput.addEventListener("change", () => {
      const v = nameInput.value.trim();
      const other = nodeByName(v);
      if (!NAME_RE.test(v)) { nameMsg.textContent = "no spaces, quotes, < > or `"; return; }
      if (other && !other.same(n)) { nameMsg.textContent = "another layer has this name"; return; }
      nameMsg.textContent = "";
      const old = n.data("name");
      n.data("name", v);
      if (Array.isArray(state.extra.outputs)) state.extra.outputs = state.extra.outputs.map((o) => (o === old ? v : o));
      refreshLabel(n); changed("rename");
    });
    box.append(el("label", { class: "field" }, el("span", { text: "name" }), nameInput, nameMsg));
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
    let input;
    const set = (value) => {
      const p = { ...n.data("params") };
      if (aliasKey) delete p[aliasKey];
      if (value === undefined) delete p[pname]; else p[pname] = value;
      n.data("params", p);
      msg.textContent = clientCheck(ps, value);
      input.classList.toggle("invalid", !!msg.textContent);
      refreshLabel(n);
      changed("param");
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
      input.addEventListener("input", () => set(parseValue(ps.kind, input.value)));
    } else {
      input = el("input", { type: "text", "data-param": pname, value: showValue(raw), placeholder: showValue(ps.default) });
      input.addEventListener("input", () => set(parseValue(ps.kind, input.value)));
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
        const last = cy.nodes().sort((a, b) => b.data("seq") - a.data("seq"))[0];
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
  cy.on("select", "node", (ev) => { state.selected = ev.target.id(); renderProps(); });
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
  $("btn-layout").addEventListener("click", () => runLayout(cy));
  $("btn-fit").addEventListener("click", () => cy.fit(undefined, 30));
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
    if (["input", "textarea", "select"].includes(tag) || dialog.open) return;
    if (ev.key === "Delete" || ev.key === "Backspace") { deleteSelection(); ev.preventDefault(); }
    if (ev.key === "c" || ev.key === "C") toggleConnect(!state.connect);
  });
  document.querySelectorAll("#editor-tabs .tab").forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll("#editor-tabs .tab").forEach((x) => x.classList.toggle("active", x === b));
    state.activeTab = b.dataset.tab; renderCode();
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
  window.editor = { cy, toDoc, loadDoc, latencies, state, eh, toggleConnect, get result() { return state.lastResult; } };
  if (boot.graph) loadDoc(boot.graph, { layout: "auto" });
  else { statusText.textContent = "empty: drag layers from the palette"; changed("init"); }
  if (boot.message && $("save-message")) $("save-message").value = boot.message;
  if (boot.candidate) {
    showSave("info", el("span", { id: "candidate-note", text: `Candidate graph ${boot.candidate} of the extraction: ` +
      (boot.version ? `saving it makes a new version on top of version ${boot.version}.` : "saving it makes the paper's first version.") }));
  }
}
