/**
 * Prometheus metrics in the text exposition format, kept by hand (a few counters and one
 * histogram need no library): requests by route and status, latency by route, units by
 * collection, plus gauges the caller adds at scrape time (records per collection, memory).
 */

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Label values come from a small set (routes, collection names): escape each once, not per request. */
const escaped = new Map<string, string>();
function label(v: string): string {
  let e = escaped.get(v);
  if (e === undefined) {
    e = escapeLabel(v);
    if (escaped.size < 10_000) escaped.set(v, e);
  }
  return e;
}

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private readonly units = new Map<string, { read: number; write: number }>();
  private bodyBytes = 0;

  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `route="${label(route)}",method="${method}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let h = this.latency.get(route);
    if (!h) {
      h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.latency.set(route, h);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.counts[i]++;
    h.sum += seconds;
    h.count++;
  }

  addUnits(collection: string, read: number, write: number): void {
    let u = this.units.get(collection);
    if (!u) {
      u = { read: 0, write: 0 };
      this.units.set(collection, u);
    }
    u.read += read;
    u.write += write;
  }

  addBodyBytes(n: number): void {
    this.bodyBytes += n;
  }

  /** Request body bytes the server has read so far (tests use it to prove a body was never read). */
  get requestBodyBytesRead(): number {
    return this.bodyBytes;
  }

  /** The exposition text; `gauges` are name -> [labels, value][] computed by the caller at scrape time. */
  render(gauges: Record<string, { help: string; samples: [Record<string, string>, number][] }> = {}): string {
    const out: string[] = [];
    out.push(
      "# HELP quiver_http_requests_total HTTP requests by route, method and status.",
      "# TYPE quiver_http_requests_total counter",
    );
    for (const [k, v] of this.requests) out.push(`quiver_http_requests_total{${k}} ${v}`);
    out.push(
      "# HELP quiver_http_request_duration_seconds Request latency by route.",
      "# TYPE quiver_http_request_duration_seconds histogram",
    );
    for (const [route, h] of this.latency) {
      const r = `route="${label(route)}"`;
      BUCKETS.forEach((b, i) => {
        out.push(`quiver_http_request_duration_seconds_bucket{${r},le="${b}"} ${h.counts[i]}`);
      });
      out.push(`quiver_http_request_duration_seconds_bucket{${r},le="+Inf"} ${h.count}`);
      out.push(
        `quiver_http_request_duration_seconds_sum{${r}} ${h.sum}`,
        `quiver_http_request_duration_seconds_count{${r}} ${h.count}`,
      );
    }
    out.push(
      "# HELP quiver_read_units_total Read units charged, by collection.",
      "# TYPE quiver_read_units_total counter",
    );
    for (const [c, u] of this.units) out.push(`quiver_read_units_total{collection="${label(c)}"} ${u.read}`);
    out.push(
      "# HELP quiver_write_units_total Write units charged, by collection.",
      "# TYPE quiver_write_units_total counter",
    );
    for (const [c, u] of this.units) out.push(`quiver_write_units_total{collection="${label(c)}"} ${u.write}`);
    out.push(
      "# HELP quiver_request_body_bytes_total Request body bytes read.",
      "# TYPE quiver_request_body_bytes_total counter",
      `quiver_request_body_bytes_total ${this.bodyBytes}`,
    );
    for (const [name, g] of Object.entries(gauges)) {
      out.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`);
      for (const [labels, v] of g.samples) {
        const l = Object.entries(labels)
          .map(([k, x]) => `${k}="${label(x)}"`)
          .join(",");
        out.push(l ? `${name}{${l}} ${v}` : `${name} ${v}`);
      }
    }
    return `${out.join("\n")}\n`;
  }
}
