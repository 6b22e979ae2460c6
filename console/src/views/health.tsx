/**
 * Health and cost: units used per key and per collection (/v1/usage: all of them for an admin key,
 * the key's own otherwise); for an admin key also the kernel, WAL and checkpoint from stats() and
 * request counts and latencies per route from /metrics (Prometheus text, summarised here), and the
 * recovery report of the database's open (/v1/recovery: replay, torn bytes cut, warnings, damage).
 */
import { useEffect, useState } from "preact/hooks";
import type { DatabaseStats } from "quiverdb/client";
import { can, type Session } from "../api";
import { bytes } from "../format";
import { ErrorBox, Json, useAction } from "../ui";

interface RouteLatency {
  route: string;
  requests: number;
  /** Answers with a 4xx or 5xx status. */
  errors: number;
  meanMs: number;
}

/**
 * Requests, errors and mean latency per route from the server's metrics text: the latency histogram
 * is by route, the request counter by route, method and status. Route labels hold braces
 * (`{name}`), so a label set is matched as quoted values, not up to the first `}`.
 */
export function routeLatencies(metrics: string): RouteLatency[] {
  const routes = new Map<string, RouteLatency>();
  const entry = (route: string) => {
    const e = routes.get(route) ?? { route, requests: 0, errors: 0, meanMs: 0 };
    routes.set(route, e);
    return e;
  };
  const sums = new Map<string, number>();
  for (const line of metrics.split("\n")) {
    const h = /^quiver_http_request_duration_seconds_(sum|count)\{route="([^"]*)"\} (\S+)$/.exec(line);
    if (h && h[1] === "sum") sums.set(h[2], Number(h[3]));
    else if (h) entry(h[2]).requests = Number(h[3]);
    const c = /^quiver_http_requests_total\{route="([^"]*)",method="[^"]*",status="(\d+)"\} (\S+)$/.exec(line);
    if (c && Number(c[2]) >= 400) entry(c[1]).errors += Number(c[3]);
  }
  for (const e of routes.values()) e.meanMs = e.requests ? ((sums.get(e.route) ?? 0) / e.requests) * 1000 : 0;
  return [...routes.values()].sort((a, b) => b.requests - a.requests);
}

interface Recovery {
  segmentsLoaded: number;
  graphsRestored: number;
  walFilesReplayed: number;
  operationsReplayed: number;
  tornBytesTruncated: number;
  staleFilesRemoved: string[];
  warnings: string[];
  damage: { kind: string; file: string; message: string }[];
}

export function Health({ session }: { session: Session }) {
  const [usage, setUsage] = useState<unknown>(null);
  const [stats, setStats] = useState<DatabaseStats | null>(null);
  const [latencies, setLatencies] = useState<RouteLatency[]>([]);
  const [recovery, setRecovery] = useState<Recovery | null>(null);
  const [run, running] = useAction();
  useEffect(() => {
    run(async () => {
      setUsage(await session.client.request("GET", "/v1/usage"));
      if (can(session, "admin")) {
        setStats(await session.client.stats());
        setLatencies(routeLatencies(await session.client.metrics()));
        setRecovery((await session.client.request<{ recovery: Recovery | null }>("GET", "/v1/recovery")).recovery);
      }
    });
  }, []);
  return (
    <section class="health">
      <h2>Health and cost</h2>
      <ErrorBox error={running.error} />
      {stats && (
        <dl class="plan" data-role="stats">
          <dt>kernel</dt>
          <dd data-stat="kernels">{stats.kernels}</dd>
          <dt>write-ahead log</dt>
          <dd>{bytes(stats.walBytes)}</dd>
          <dt>sequence</dt>
          <dd>
            {stats.seq} (last checkpoint at {stats.lastCheckpointSeq})
          </dd>
        </dl>
      )}
      {recovery && (
        <>
          <h3>Recovery at open</h3>
          <p data-role="recovery">
            {recovery.segmentsLoaded} segments loaded, {recovery.graphsRestored} graphs restored,{" "}
            {recovery.operationsReplayed} operations replayed from {recovery.walFilesReplayed} WAL files,{" "}
            {bytes(recovery.tornBytesTruncated)} of torn log tail cut, {recovery.staleFilesRemoved.length} stale files
            removed.
          </p>
          {recovery.warnings.length + recovery.damage.length === 0 ? (
            <p class="muted">No warnings, no damage.</p>
          ) : (
            <ul class="warnings">
              {recovery.warnings.map((w) => (
                <li>{w}</li>
              ))}
              {recovery.damage.map((d) => (
                <li class="error">
                  damage in {d.kind} {d.file}: {d.message}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {latencies.length > 0 && (
        <>
          <h3>Requests since the server started</h3>
          <table data-role="latencies">
            <thead>
              <tr>
                <th>route</th>
                <th>requests</th>
                <th>errors</th>
                <th>mean latency</th>
              </tr>
            </thead>
            <tbody>
              {latencies.map((l) => (
                <tr>
                  <td>{l.route}</td>
                  <td class="num">{l.requests}</td>
                  <td class="num">{l.errors}</td>
                  <td class="num">{l.meanMs.toFixed(2)} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h3>Usage (units this month)</h3>
      <Json value={usage} />
    </section>
  );
}
