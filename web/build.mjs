// Builds the page into dist/ (or the folder given as the first argument):
// one JavaScript and one CSS bundle under assets/, named by content hash so
// that they can be cached forever, and index.html that names them.
// The output depends only on the sources and the pinned esbuild, so a
// fresh build equals the committed one (make web-check).
import * as esbuild from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, process.argv[2] ?? 'dist');

await rm(out, { recursive: true, force: true });
await mkdir(path.join(out, 'assets'), { recursive: true });
const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  // The OpenID Connect client is loaded only where the page signs in with it.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  target: ['chrome111', 'edge111', 'firefox111', 'safari16.4'],
  outdir: path.join(out, 'assets'),
  entryNames: '[name]-[hash]',
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs);
const entry = outputs.find(([, o]) => o.entryPoint === 'src/main.js');
if (!entry || !entry[1].cssBundle) throw new Error('build: no JavaScript or CSS bundle for src/main.js');
const js = path.basename(entry[0]);
const css = path.basename(entry[1].cssBundle);
const html = (await readFile(path.join(here, 'src/index.html'), 'utf8'))
  .replace('%APP_JS%', `assets/${js}`)
  .replace('%APP_CSS%', `assets/${css}`);
await writeFile(path.join(out, 'index.html'), html);
for (const [file, o] of outputs) {
  if (!file.endsWith('.map')) console.log(`${path.relative(here, path.resolve(here, file))}  ${(o.bytes / 1024).toFixed(0)} KiB`);
}
