import hljs from "highlight.js/lib/core";
// the theme: bundled by esbuild into build/app.css, which app.js links into the page
import "highlight.js/styles/github.css";
import python from "highlight.js/lib/languages/python";
import protobuf from "highlight.js/lib/languages/protobuf";

hljs.registerLanguage("python", python);
hljs.registerLanguage("protobuf", protobuf);

export function highlight(codeEl) {
  delete codeEl.dataset.highlighted;
  hljs.highlightElement(codeEl);
}
