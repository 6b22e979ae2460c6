// `npm run bench -- browser [--repeats N]`: the time to open a 20,000-vector database from OPFS in
// headless Chromium (Debian's, through playwright-core). One Worker writes the database once (closed
// with a checkpoint, so open restores the graph from its index file); then each repeat starts a fresh
// Worker that times open() and a first HNSW query. Medians over the repeats; the machine is shared.
import { bundle, serveFiles } from "../test/browser/bundle-server.js";
import { launchChromium } from "../test/support/chromium.js";
import { median } from "./median.js";

const COUNT = 20_000;
const DIM = 128;

interface OpenFigures {
  openMs: number;
  firstQueryMs: number;
  count: number;
  strategy: string;
}

export async function runBrowserBench(opts: { repeats?: number; json?: boolean }): Promise<void> {
  const repeats = opts.repeats ?? 7;
  const server = await serveFiles(await bundle({ worker: "../../bench/browser-worker.js" }), "/none.js");
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    const inWorker = <T>(req: object): Promise<T> =>
      page.evaluate(
        (r) =>
          new Promise<T>((resolve, reject) => {
            const w = new Worker("/worker.js", { type: "module" });
            w.onmessage = (e) => {
              w.terminate();
              if (e.data?.error) reject(new Error(e.data.error));
              else resolve(e.data as T);
            };
            w.onerror = (e) => reject(new Error(e.message));
            w.postMessage(r);
          }),
        req,
      );
    const name = `bench-${Date.now()}`;
    const written = await inWorker<{ ms: number }>({ op: "write", name, count: COUNT, dim: DIM });
    const runs: OpenFigures[] = [];
    for (let i = 0; i < repeats; i++) runs.push(await inWorker<OpenFigures>({ op: "open", name, dim: DIM }));
    if (runs.some((r) => r.count !== COUNT || r.strategy !== "hnsw"))
      throw new Error(`unexpected reopen: ${JSON.stringify(runs)}`);
    const result = {
      chromium: browser.version(),
      vectors: COUNT,
      dim: DIM,
      writeMs: Math.round(written.ms),
      openMsMedian: Math.round(median(runs.map((r) => r.openMs))),
      openMsAll: runs.map((r) => Math.round(r.openMs)),
      firstQueryMsMedian: Math.round(median(runs.map((r) => r.firstQueryMs)) * 10) / 10,
      repeats,
    };
    if (opts.json) console.log(JSON.stringify(result));
    else {
      console.log(
        `Chromium ${result.chromium}, OPFS in a dedicated Worker, ${COUNT} vectors x ${DIM} dims (cosine, HNSW)`,
      );
      console.log(`write + close (checkpoint): ${result.writeMs} ms`);
      console.log(
        `open: median ${result.openMsMedian} ms over ${repeats} fresh Workers (${result.openMsAll.join(", ")})`,
      );
      console.log(`first query after open: median ${result.firstQueryMsMedian} ms`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
}
