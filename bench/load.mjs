#!/usr/bin/env node
// Sustained load: a `folio serve` of its own (temporary store, the bundled
// model) and N clients sending a mix of /api/generate, /api/chat (streamed),
// /api/tags and /api/show for a fixed time after a warm-up. Reports latency
// percentiles per kind, the status codes seen, and the server's RSS after
// the warm-up, during the run and after it. Exits 1 on any failure other
// than 503 (queue full) or when RSS grew more than 5% over the run.
//
//   node bench/load.mjs [--clients 16] [--seconds 60] [--warmup 15]
//        [--parallel 2] [--queue 8] [--predict 16] [--folio build/folio]
//        [--model data/models/stories260K.gguf]
//
// A small FOLIO_MAX_QUEUE (--queue) makes the 503 path part of the run; a
// client that gets a 503 waits 100 ms before its next request.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const root = resolve(new URL("..", import.meta.url).pathname);
const clients = Number(opt("clients", 16));
const seconds = Number(opt("seconds", 60));
const warmup = Number(opt("warmup", 15));
const parallel = Number(opt("parallel", 2));
const queue = Number(opt("queue", 8));
const predict = Number(opt("predict", 16));
const folio = resolve(opt("folio", join(root, "build/folio")));
const modelPath = resolve(opt("model", join(root, "data/models/stories260K.gguf")));

const freePort = () =>
  new Promise((ok) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

const rssKiB = (pid) => {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) : 0;
};
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

const store = mkdtempSync(join(tmpdir(), "folio-load-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(folio, ["serve"], {
  env: {
    ...process.env,
    FOLIO_MODELS: join(store, "models"),
    FOLIO_HOST: `127.0.0.1:${port}`,
    FOLIO_NUM_PARALLEL: String(parallel),
    FOLIO_MAX_QUEUE: String(queue),
  },
  stdio: ["ignore", "ignore", "ignore"],
});
const cleanup = () => {
  try {
    server.kill("SIGTERM");
  } catch {}
  rmSync(store, { recursive: true, force: true });
};
process.on("exit", cleanup);

for (let i = 0; ; ++i) {
  try {
    if ((await fetch(`${base}/api/version`)).ok) break;
  } catch {}
  if (i > 100) throw new Error("folio serve did not start");
  await sleep(100);
}

// The model: its blob uploaded, then created with a chat template.
const bytes = readFileSync(modelPath);
const digest = "sha256:" + createHash("sha256").update(bytes).digest("hex");
let r = await fetch(`${base}/api/blobs/${digest}`, { method: "POST", body: bytes });
if (r.status !== 201 && r.status !== 200) throw new Error(`blob upload: ${r.status}`);
r = await fetch(`${base}/api/create`, {
  method: "POST",
  body: JSON.stringify({
    model: "load",
    files: { "model.gguf": digest },
    template: "{{ range .Messages }}{{ .Role }}: {{ .Content }}\n{{ end }}assistant:",
    stream: false,
  }),
});
if (r.status !== 200) throw new Error(`create: ${r.status} ${await r.text()}`);

const prompts = ["Once upon a time", "The little dog", "One day, Lily went", "Tom and his friend"];
const kinds = [
  ["generate", 0.4],
  ["chat", 0.3],
  ["tags", 0.15],
  ["show", 0.15],
];
const pick = () => {
  let x = Math.random();
  for (const [k, w] of kinds) if ((x -= w) < 0) return k;
  return kinds[0][0];
};

// One request; returns its HTTP status, or 0 with a reason for a failure.
async function one(kind) {
  const prompt = prompts[Math.floor(Math.random() * prompts.length)];
  const options = { num_predict: predict, temperature: 0.8 };
  let res;
  if (kind === "generate") {
    res = await fetch(`${base}/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: "load", prompt, stream: false, options }),
    });
    const body = await res.json();
    if (res.status === 200 && !(body.done && typeof body.response === "string")) return [0, "generate: no final reply"];
    return [res.status, body.error];
  }
  if (kind === "chat") {
    res = await fetch(`${base}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "load", messages: [{ role: "user", content: prompt }], stream: true, options }),
    });
    const text = await res.text();
    if (res.status !== 200) return [res.status, text];
    const lines = text.trim().split("\n").map((l) => JSON.parse(l));
    const last = lines[lines.length - 1];
    if (last.error) return [0, `chat stream: ${last.error}`];
    if (!last.done) return [0, "chat stream: no final line"];
    return [200];
  }
  if (kind === "tags") {
    res = await fetch(`${base}/api/tags`);
    const body = await res.json();
    if (res.status === 200 && !body.models.some((m) => m.name === "load:latest")) return [0, "tags: model missing"];
    return [res.status];
  }
  res = await fetch(`${base}/api/show`, { method: "POST", body: JSON.stringify({ model: "load" }) });
  await res.text();
  return [res.status];
}

const stats = new Map(kinds.map(([k]) => [k, { lat: [], codes: new Map(), failures: [] }]));
let phase = "warmup";
let running = true;
async function client() {
  while (running) {
    const kind = pick();
    const t0 = performance.now();
    let code, why;
    try {
      [code, why] = await one(kind);
    } catch (e) {
      [code, why] = [0, String(e)];
    }
    const ms = performance.now() - t0;
    // A client told the queue is full waits a moment before its next
    // request, as a real one would (not a retry storm).
    if (code === 503) await sleep(100);
    if (phase !== "run") continue;
    const s = stats.get(kind);
    s.codes.set(code, (s.codes.get(code) || 0) + 1);
    if (code === 200) s.lat.push(ms);
    else if (code !== 503) s.failures.push(`${code} ${why || ""}`.trim());
  }
}

const pool = Array.from({ length: clients }, client);
await sleep(warmup * 1000);
const rssWarm = rssKiB(server.pid);
phase = "run";
const samples = [];
const sampler = setInterval(() => samples.push(rssKiB(server.pid)), 1000);
await sleep(seconds * 1000);
running = false;
await Promise.all(pool);
clearInterval(sampler);
const rssAfter = rssKiB(server.pid);

const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))] : NaN);
const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : "-");
console.log(
  `folio load: ${clients} clients, ${seconds} s after ${warmup} s warm-up, FOLIO_NUM_PARALLEL=${parallel} ` +
    `FOLIO_MAX_QUEUE=${queue}, num_predict ${predict}, model ${modelPath.split("/").pop()}\n`,
);
console.log("| kind | requests | 200 | 503 | failed | req/s | p50 ms | p90 ms | p99 ms | max ms |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
let failures = [];
for (const [kind, s] of stats) {
  const lat = s.lat.sort((a, b) => a - b);
  const n = [...s.codes.values()].reduce((a, b) => a + b, 0);
  failures = failures.concat(s.failures.map((x) => `${kind}: ${x}`));
  console.log(
    `| ${kind} | ${n} | ${s.codes.get(200) || 0} | ${s.codes.get(503) || 0} | ${s.failures.length} | ` +
      `${f(n / seconds)} | ${f(pct(lat, 50))} | ${f(pct(lat, 90))} | ${f(pct(lat, 99))} | ${f(lat[lat.length - 1])} |`,
  );
}
const growth = (rssAfter - rssWarm) / rssWarm;
const mib = (k) => (k / 1024).toFixed(1);
console.log(
  `\nRSS: ${mib(rssWarm)} MiB after warm-up, ${mib(Math.min(...samples))}..${mib(Math.max(...samples))} MiB ` +
    `during the run, ${mib(rssAfter)} MiB after it (${(growth * 100).toFixed(2)}%)`,
);
for (const x of failures.slice(0, 10)) console.log(`failure: ${x}`);
const ok = failures.length === 0 && growth <= 0.05;
console.log(ok ? "PASS" : "FAIL");
process.exit(ok ? 0 : 1);
