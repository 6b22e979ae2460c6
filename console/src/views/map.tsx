/**
 * The embedding map: up to 100,000 records of a named vector (larger collections sampled by id, the
 * sample size shown) projected to 2-D, PCA drawn at once and UMAP when the worker finishes (progress
 * shown), drawn with WebGL by regl-scatterplot. Coloured by a payload field; hover shows the record
 * (an image record's thumbnail with it);
 * a click asks the engine for the record's nearest neighbours and highlights them; a filter keeps the
 * points it matches; the playground's last hits can be highlighted.
 *
 * Performance marks `quiver-map-{pca,umap}-received` (the worker's answer arrived) and
 * `quiver-map-{pca,umap}-drawn` time the two projections and their draws (bench/console.ts).
 */
import createScatterplot from "regl-scatterplot";
import { useEffect, useRef, useState } from "preact/hooks";
import type { CollectionApi } from "quiverdb/client";
import { parseJsonField, type Session } from "../api";
import { count } from "../format";
import { colourBy, PALETTE, type Colouring } from "../map/colours";
import type { ProjectionMessage } from "../map/projection.worker";
import { MAP_LIMIT, readSample, type MapSample } from "../map/sample";
import { PayloadJson, Thumbnail } from "../thumbnail";
import { CollectionPicker, ErrorBox, useAction } from "../ui";
import type { LastHits } from "./query";

const NEIGHBOURS = 10;
type Scatterplot = ReturnType<typeof createScatterplot>;

interface Props {
  session: Session;
  names: string[];
  collection: string;
  lastHits: LastHits | null;
}

interface Neighbour {
  id: string;
  score: number;
  /** Index in the sample, or -1 when the record is not in it. */
  index: number;
}

export function MapView({ session, names, collection, lastHits }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const plot = useRef<Scatterplot | null>(null);
  const worker = useRef<Worker | null>(null);
  const sample = useRef<MapSample | null>(null);
  const points = useRef<Float32Array | null>(null);
  const indexOf = useRef(new Map<string, number>());
  const coll = useRef<CollectionApi | null>(null);
  const [vectorNames, setVectorNames] = useState<string[]>([]);
  const [vectorName, setVectorName] = useState("");
  const [fields, setFields] = useState<string[]>([]);
  const [field, setField] = useState("");
  const [colouring, setColouring] = useState<Colouring | null>(null);
  // The colouring in force, for the worker's answers: a recolour while UMAP runs must survive its draw.
  const currentColouring = useRef<Colouring | null>(null);
  const [phase, setPhase] = useState("idle");
  const [progress, setProgress] = useState("");
  const [size, setSize] = useState<{ shown: number; total: number } | null>(null);
  const [hover, setHover] = useState<number | null>(null);
  const drawing = useRef<Promise<void>>(Promise.resolve());
  const [selected, setSelected] = useState<number | null>(null);
  const [neighbours, setNeighbours] = useState<Neighbour[]>([]);
  const [limit, setLimit] = useState(MAP_LIMIT);
  const [filterText, setFilterText] = useState("");
  const [filtered, setFiltered] = useState<number | null>(null);
  const [run, running] = useAction();
  const [act, acting] = useAction();

  useEffect(() => {
    if (!collection) return;
    session.client.collection(collection).then((c) => {
      coll.current = c;
      // Dense vectors only: the map projects them and the playground takes them as a list of numbers.
      const vs = Object.keys(c.schema.vectors).filter((n) => c.schema.vectors[n].kind !== "sparse");
      setVectorNames(vs);
      setVectorName(vs[0] ?? "");
    });
  }, [collection]);

  useEffect(
    () => () => {
      worker.current?.terminate();
      plot.current?.destroy();
    },
    [],
  );

  /**
   * Draws the current points, coloured by the current field, after any draw still running:
   * regl-scatterplot refuses a draw while one is in progress, and on a small collection UMAP's
   * answer arrives before PCA's draw has finished.
   */
  const draw = (mark: string, colours: Colouring): Promise<void> => {
    const s = sample.current!;
    const p = points.current!;
    const n = s.ids.length;
    const x = new Float32Array(n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = p[i * 2];
      y[i] = p[i * 2 + 1];
    }
    const done = drawing.current.then(async () => {
      await plot.current!.draw({ x, y, valueA: colours.categories }, { zDataType: "categorical" });
      performance.mark(mark);
    });
    drawing.current = done.catch(() => undefined);
    return done;
  };

  const ensurePlot = (): Scatterplot => {
    if (plot.current) return plot.current;
    const sp = createScatterplot({
      canvas: canvas.current!,
      width: "auto",
      height: "auto",
      pointSize: 3,
      pointColor: PALETTE,
      colorBy: "valueA",
      backgroundColor: "#10141b",
      pointColorActive: "#ffffff",
      lassoOnLongPress: false,
    } as never);
    sp.subscribe("pointOver", (i: number) => setHover(i));
    sp.subscribe("pointOut", () => setHover(null));
    sp.subscribe("select", ({ points: chosen }: { points: number[] }) => {
      if (chosen.length === 1) showNeighbours(chosen[0]);
    });
    sp.subscribe("deselect", () => {
      setSelected(null);
      setNeighbours([]);
    });
    plot.current = sp;
    return sp;
  };

  /** The engine's nearest neighbours of the sample's i-th record, highlighted with it. */
  const showNeighbours = (i: number) =>
    act(async () => {
      const s = sample.current!;
      setSelected(i);
      const vector = Array.from(s.vectors.subarray(i * s.dim, (i + 1) * s.dim));
      const r = await coll.current!.query({ vector: { [vectorName]: vector }, limit: NEIGHBOURS + 1 });
      const found = r.hits
        .filter((h) => h.id !== s.ids[i])
        .slice(0, NEIGHBOURS)
        .map((h) => ({ id: h.id, score: h.score, index: indexOf.current.get(h.id) ?? -1 }));
      setNeighbours(found);
      plot.current!.select([i, ...found.map((n) => n.index).filter((k) => k >= 0)], { preventEvent: true });
    });

  const open = () =>
    run(async () => {
      worker.current?.terminate();
      setSelected(null);
      setNeighbours([]);
      setFiltered(null);
      setPhase("reading");
      const s = await readSample(
        coll.current!,
        vectorName,
        (read, total) => setProgress(`reading records: ${count(read)} of ${count(total)}`),
        Math.min(MAP_LIMIT, Math.max(1, limit)),
      );
      sample.current = s;
      indexOf.current = new Map(s.ids.map((id, i) => [id, i]));
      setSize({ shown: s.ids.length, total: s.total });
      const keys = [...new Set(s.payloads.slice(0, 1000).flatMap((p) => Object.keys(p)))];
      setFields(keys);
      const colourField = keys.includes(field) ? field : (keys[0] ?? "");
      setField(colourField);
      const colours = colourBy(s.payloads, colourField);
      currentColouring.current = colours;
      setColouring(colours);
      ensurePlot();
      setPhase("pca");
      setProgress("projecting (PCA)…");
      const w = new Worker(new URL("../map/projection.worker.ts", import.meta.url), { type: "module" });
      worker.current = w;
      w.onmessage = (e: MessageEvent<ProjectionMessage>) => {
        const m = e.data;
        if (m.kind === "pca" || m.kind === "umap") {
          performance.mark(`quiver-map-${m.kind}-received`);
          points.current = m.points;
          draw(`quiver-map-${m.kind}-drawn`, currentColouring.current!).then(() => {
            setPhase(m.kind === "pca" ? "pca-drawn" : "umap-drawn");
            setProgress(m.kind === "pca" ? "PCA drawn; UMAP running in a worker…" : "UMAP drawn");
          });
          if (m.kind === "umap") w.terminate();
        } else if (m.kind === "progress") {
          setProgress(
            m.phase === "neighbours"
              ? `UMAP: finding neighbours of ${count(m.total)} points…`
              : `UMAP: epoch ${m.done} of ${m.total} (${Math.round((100 * m.done) / m.total)}%)`,
          );
        } else setProgress(`UMAP failed: ${m.message}`);
      };
      const copy = s.vectors.slice();
      w.postMessage({ vectors: copy, n: s.ids.length, dim: s.dim }, [copy.buffer]);
    });

  const recolour = (f: string) => {
    setField(f);
    if (!sample.current || !points.current) return;
    const colours = colourBy(sample.current.payloads, f);
    currentColouring.current = colours;
    setColouring(colours);
    draw("quiver-map-recoloured", colours);
  };

  const applyFilter = () =>
    act(async () => {
      const filter = parseJsonField(filterText, "filter") as Record<string, unknown> | undefined;
      if (filter === undefined) {
        plot.current?.unfilter();
        setFiltered(null);
        return;
      }
      const keep: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await coll.current!.scroll({ filter, limit: 10_000, cursor, withPayload: false });
        for (const r of page.records) {
          const i = indexOf.current.get(r.id);
          if (i !== undefined) keep.push(i);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      plot.current?.filter(keep);
      setFiltered(keep.length);
    });

  const highlightHits = () => {
    if (!lastHits) return;
    const idx = lastHits.ids.map((id) => indexOf.current.get(id) ?? -1).filter((i) => i >= 0);
    plot.current?.select(idx, { preventEvent: true });
    setSelected(null);
    setNeighbours([]);
  };

  const s = sample.current;
  return (
    <section class="map">
      <h2>Embedding map</h2>
      <div class="row">
        <CollectionPicker names={names} value={collection} view="map" />
        <label>
          Named vector{" "}
          <select
            name="mapVector"
            value={vectorName}
            onChange={(e) => setVectorName((e.currentTarget as HTMLSelectElement).value)}
          >
            {vectorNames.map((v) => (
              <option value={v}>{v}</option>
            ))}
          </select>
        </label>
        <label>
          At most{" "}
          <input
            name="mapLimit"
            type="number"
            min={1}
            max={MAP_LIMIT}
            value={limit}
            onInput={(e) => setLimit(Number((e.currentTarget as HTMLInputElement).value))}
          />{" "}
          points
        </label>
        <button type="button" data-action="open-map" disabled={running.busy || !vectorName} onClick={open}>
          Draw the map
        </button>
        <label>
          Colour by{" "}
          <select
            name="colourBy"
            value={field}
            onChange={(e) => recolour((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">(none)</option>
            {fields.map((f) => (
              <option value={f}>{f}</option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={running.error} />
      <p class="muted" data-phase={phase} data-role="map-status">
        {size &&
          (size.shown < size.total
            ? `Sample of ${count(size.shown)} of ${count(size.total)} records (chosen by id). `
            : `All ${count(size.shown)} records. `)}
        {progress}
      </p>
      <div class="map-body">
        <div class="canvas-wrap">
          <canvas ref={canvas} data-role="map-canvas" />
        </div>
        <aside class="map-side">
          {colouring && (
            <ul class="legend">
              {colouring.legend.map((l) => (
                <li>
                  <span class="swatch" style={{ background: l.colour }} />
                  {l.label}
                </li>
              ))}
            </ul>
          )}
          <form
            onSubmit={(e) => {
              e.preventDefault();
              applyFilter();
            }}
          >
            <label>
              Filter (JSON; empty shows all)
              <textarea
                name="mapFilter"
                rows={2}
                value={filterText}
                onInput={(e) => setFilterText((e.currentTarget as HTMLTextAreaElement).value)}
              />
            </label>
            <button type="submit" disabled={!s}>
              Filter the map
            </button>
            {filtered !== null && <span data-role="filtered"> {count(filtered)} points match</span>}
          </form>
          {lastHits && lastHits.collection === collection && (
            <button type="button" data-action="highlight-hits" disabled={!s} onClick={highlightHits}>
              Highlight the playground's {lastHits.ids.length} hits
            </button>
          )}
          <ErrorBox error={acting.error} />
          {hover !== null && s && (
            <div class="hover" data-role="hover">
              <code>{s.ids[hover]}</code>
              <Thumbnail payload={s.payloads[hover]} label={s.ids[hover]} />
              <PayloadJson payload={s.payloads[hover]} />
            </div>
          )}
          {selected !== null && s && (
            <div class="neighbours" data-selected={s.ids[selected]}>
              <h4>
                Nearest neighbours of <code>{s.ids[selected]}</code> (from the engine)
              </h4>
              <ol>
                {neighbours.map((nb) => (
                  <li data-neighbour={nb.id}>
                    <code>{nb.id}</code> {nb.score.toFixed(4)}
                    {nb.index < 0 && <span class="muted"> (not in the sample)</span>}
                  </li>
                ))}
              </ol>
            </div>
          )}
        </aside>
      </div>
    </section>
  );
}
