// Bundle the front end into the Python package's static folder (no CDN at run time).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, "..", "src", "dlpaper2code", "web", "static", "build");

await build({
  entryPoints: [path.join(here, "src", "app.js")],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "iife",
  target: ["chrome100", "firefox100", "safari15"],
  outdir,
  legalComments: "linked",
  logLevel: "info",
});
