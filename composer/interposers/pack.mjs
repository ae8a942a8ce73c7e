// Packs a freshly built interposer component for embedding in outputs:
//
//   node composer/interposers/pack.mjs IN.wasm OUT.wasm [IN.wasm OUT.wasm ...]
//
// 1. Each core module inside the component is optimized for size by Binaryen's
//    `wasm-opt -Oz` (the npm package `binaryen`, pinned in package-lock.json).
//    On top of LLVM's `opt-level = "s"` this removes what LLVM keeps: mainly
//    the formatting code behind panic messages that the trapping panic
//    handler never prints, reachable only through the function table.
// 2. Every custom section is dropped, at every level: the component's
//    `component-name` section (up to 10 KB: debug names of its instances and
//    functions), `producers`, and the core modules' names.
//
// Everything else is copied byte for byte, so the component's imports,
// exports and types are exactly what `wasm-component-ld` made. Same input and
// same Binaryen version give the same output: `just interposers` writes
// composer/interposers/KIND.wasm with it, and the test `interposers_are_fresh`
// runs it again on a fresh build and compares the bytes.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const WASM_OPT = fileURLToPath(new URL("../../node_modules/binaryen/bin/wasm-opt", import.meta.url));

// The features rustc enables by default for wasm32-wasip2 (`rustc --print cfg
// --target wasm32-wasip2`): wasm-opt may use these and no others.
const FEATURES = [
  "--enable-bulk-memory",
  "--enable-multivalue",
  "--enable-mutable-globals",
  "--enable-nontrapping-float-to-int",
  "--enable-reference-types",
  "--enable-sign-ext",
];

// No `--low-memory-unused`, `--traps-never-happen` or `--ignore-implicit-traps`:
// an interposer's traps (a failed check, an exhausted heap) must stay traps.
const OPT = ["-Oz", ...FEATURES, "--strip-debug", "--strip-producers"];

function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

function leb(value) {
  const out = [];
  do {
    const low = value & 0x7f;
    value = Math.floor(value / 128);
    out.push(value ? low | 0x80 : low);
  } while (value);
  return Uint8Array.from(out);
}

// wasm-opt runs, one per core module, at most one per core at a time.
let running = 0;
const waiting = [];

async function optimize(module, tmp, n) {
  if (running >= availableParallelism()) await new Promise((go) => waiting.push(go));
  running++;
  try {
    const input = join(tmp, `in-${n}.wasm`);
    const output = join(tmp, `out-${n}.wasm`);
    writeFileSync(input, module);
    const status = await new Promise((done, fail) => {
      const run = spawn(process.execPath, [WASM_OPT, ...OPT, input, "-o", output], {
        stdio: ["ignore", "inherit", "inherit"],
      });
      run.on("error", fail);
      run.on("close", done);
    });
    if (status !== 0) throw new Error(`wasm-opt failed (exit ${status}); is \`just setup-js\` done?`);
    return readFileSync(output);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

// The binary `bytes` (a component or a core module) without custom sections,
// its core modules (in a component, at any depth) optimized.
async function pack(bytes, tmp, counter) {
  const component = bytes[4] !== 0x01; // layer 1: a component; 0: a core module
  const parts = [bytes.subarray(0, 8)];
  let at = 8;
  while (at < bytes.length) {
    const start = at;
    const id = bytes[at];
    const [size, body] = readLeb(bytes, at + 1);
    at = body + size;
    if (id === 0) continue; // custom section
    let inner;
    if (component && id === 1) {
      const n = counter.n++;
      inner = optimize(bytes.subarray(body, at), tmp, n).then((m) => pack(m, tmp, counter));
    } else if (component && id === 4) inner = pack(bytes.subarray(body, at), tmp, counter);
    else {
      parts.push(bytes.subarray(start, at));
      continue;
    }
    parts.push(inner.then((b) => [Uint8Array.of(id), leb(b.length), b]));
  }
  const done = await Promise.all(parts);
  return Buffer.concat(done.flat());
}

const args = process.argv.slice(2);
if (args.length === 0 || args.length % 2 !== 0) {
  console.error("usage: node composer/interposers/pack.mjs IN.wasm OUT.wasm [IN.wasm OUT.wasm ...]");
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), "airlock-pack-"));
try {
  const counter = { n: 0 };
  const jobs = [];
  for (let i = 0; i < args.length; i += 2) {
    const out = args[i + 1];
    jobs.push(pack(readFileSync(args[i]), tmp, counter).then((b) => writeFileSync(out, b)));
  }
  await Promise.all(jobs);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
