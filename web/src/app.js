// Entry point: each page picks what it needs.
import { cytoscape, STYLE, elementsFromDoc, runLayout } from "./graphview.js";
import { highlight } from "./highlight.js";
import { initEditor } from "./editor.js";

function initTabs(root) {
  const tabs = root.querySelectorAll(".tab");
  tabs.forEach((b) => b.addEventListener("click", () => {
    tabs.forEach((x) => x.classList.toggle("active", x === b));
    document.querySelectorAll(".tab-panel").forEach((p) => p.classList.toggle("active", p.dataset.panel === b.dataset.tab));
  }));
}

function initPaper() {
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const box = document.getElementById("graph-view");
  if (data.graph && box) {
    const issues = new Map((data.issues || []).filter((i) => i.node).map((i) => [i.node, i.message]));
    const cy = cytoscape({ container: box, style: STYLE, elements: elementsFromDoc(data.graph, data.shapes, issues),
      autoungrabify: true, boxSelectionEnabled: false, maxZoom: 1.3 });
    runLayout(cy);
    window.graphView = cy;
  }
  document.querySelectorAll("pre code").forEach((c) => highlight(c));
  const tabs = document.getElementById("code-tabs");
  if (tabs) initTabs(tabs);
  document.querySelectorAll(".code-file .copy").forEach((b) => b.addEventListener("click", () => {
    const text = b.closest(".code-file").querySelector("pre code").textContent;
    const done = () => { b.textContent = "copied"; setTimeout(() => { b.textContent = "copy"; }, 1500); };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, () => { b.textContent = "copy failed"; });
  }));
  const form = document.getElementById("rate-form");
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const value = Number((ev.submitter && ev.submitter.value) || 0);
      const slug = document.querySelector("article.paper").dataset.slug;
      const resp = await fetch(`/api/papers/${encodeURIComponent(slug)}/ratings`, { method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ value, author: localStorage.getItem("dlp2c-author") || "" }) });
      const out = await resp.json();
      const msg = document.getElementById("rating-message");
      if (!resp.ok) { msg.textContent = out.detail || `HTTP ${resp.status}`; return; }
      document.getElementById("rating-value").textContent = out.rating.toFixed(2);
      document.getElementById("rating-count").textContent = String(out.ratings);
      msg.textContent = `Thanks: you rated it ${value} of 5.`;
    });
  }
}

function initJob() {
  const box = document.getElementById("job");
  const id = box.dataset.job;
  const $ = (x) => document.getElementById(x);
  async function poll() {
    const resp = await fetch(`/api/jobs/${id}`);
    const j = await resp.json();
    $("job-progress").value = j.progress;
    $("job-percent").textContent = `${Math.round(j.progress * 100)}%`;
    $("job-status").textContent = j.status;
    $("job-stage").textContent = j.stage;
    $("job-message").textContent = j.message;
    if (j.url) {
      const a = document.createElement("a");
      a.href = j.url; a.textContent = "Open the paper"; a.id = "job-paper-link";
      $("job-link").replaceChildren(a);
    }
    if (j.status === "done" || j.status === "failed") return;
    setTimeout(poll, 400);
  }
  poll();
}

function initCatalog() {
  const form = document.getElementById("filters");
  form.querySelectorAll("select").forEach((s) => s.addEventListener("change", () => form.submit()));
}

// The bundle's stylesheet (the highlight.js theme) sits next to app.js: link it once.
function linkBundleCss() {
  const me = document.currentScript || document.querySelector('script[src$="/build/app.js"]');
  if (!me || document.getElementById("bundle-css")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet"; link.id = "bundle-css";
  link.href = new URL("app.css", me.src).href;
  document.head.append(link);
}
linkBundleCss();

document.addEventListener("DOMContentLoaded", () => {
  if (document.getElementById("editor")) initEditor().catch((err) => {
    const s = document.getElementById("status-text");
    if (s) { s.textContent = `the editor failed to start: ${err}`; s.className = "bad"; }
    console.error(err);
  });
  else if (document.getElementById("graph-data")) initPaper();
  else if (document.getElementById("job")) initJob();
  else if (document.getElementById("filters")) initCatalog();
});
