// Bundles src/editor.js into one ES module and copies Mermaid's own browser build, both into the package's
// static assets (they ship in the wheel: the studio works on a server with no internet). The versions
// are pinned in package.json and package-lock.json; a test checks the bundle names them.
import { build } from "esbuild";
import { copyFileSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";

const out = new URL("../../engine/service/web/static/vendor/", import.meta.url);
mkdirSync(out, { recursive: true });
const pkg = JSON.parse(readFileSync(new URL("package.json", import.meta.url)));
const pinned = Object.entries(pkg.devDependencies).filter(([name]) => name !== "esbuild");
const banner = `// complaintflow studio editor, built by web/studio/build.mjs from: ${pinned.map(([n, v]) => `${n}@${v}`).join(" ")} (MIT licences)`;
await build({
  entryPoints: [new URL("src/editor.js", import.meta.url).pathname],
  bundle: true,
  format: "esm",
  minify: process.env.CF_NO_MINIFY ? false : true,
  legalComments: "eof",
  banner: { js: banner },
  outfile: new URL("editor.js", out).pathname,
});
copyFileSync(new URL("node_modules/mermaid/dist/mermaid.min.js", import.meta.url), new URL("mermaid.min.js", out));
writeFileSync(new URL("VERSIONS.txt", out), pinned.map(([n, v]) => `${n} ${v} MIT`).join("\n") + "\n");
console.log("built", out.pathname);
