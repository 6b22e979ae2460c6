/**
 * Health and cost: units used per key and per collection (/v1/usage: all of them for an admin key,
 * the key's own otherwise); for an admin key also the kernel, WAL and checkpoint from stats() and
 * request counts and latencies per route from /metrics (Prometheus text, summarised here).
 */
import { useEffect, useState } from "preact/hooks";
import type { DatabaseStats } from "quiverdb/client";
import { can, type Session } from "../api";
import { bytes } from "../format";
import { ErrorBox, Json, useAction } from "../ui";

interface RouteLatency {
  route: string;
  requests: number;
  meanMs: number;
}

/** Requests and mean latency per route from the server's request-duration histogram. */
export function routeLatencies(metrics: string): RouteLatency[] {
  const sums = new Map<string, { sum: number; count: number }>();
  for (const line of metrics.split("\n")) {
    const m = /^quiver_http_request_duration_seconds_(sum|count)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!m) continue;
    const route = /route="([^"]*)"/.exec(m[2])?.[1] ?? "?";
    const method = /method="([^"]*)"/.exec(m[2])?.[1] ?? "";
    const key = `${method} ${route}`;
    const entry = sums.get(key) ?? { sum: 0, count: 0 };
    if (m[1] === "sum") entry.sum += Number(m[3]);
    else entry.count += Number(m[3]);
    sums.set(key, entry);
  }
  return [...sums.entries()]
    .map(([route, { sum, count }]) => ({ route, requests: count, meanMs: count ? (sum / count) * 1000 : 0 }))
    .sort((a, b) => b.requests - a.requests);
}

export function Health({ session }: { session: Session }) {
  const [usage, setUsage] = useState<unknown>(null);
  const [stats, setStats] = useState<DatabaseStats | null>(null);
  const [latencies, setLatencies] = useState<RouteLatency[]>([]);
  const [run, running] = useAction();
  useEffect(() => {
    run(async () => {
      setUsage(await session.client.request("GET", "/v1/usage"));
      if (can(session, "admin")) {
        setStats(await session.client.stats());
        setLatencies(routeLatencies(await session.client.metrics()));
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
      {latencies.length > 0 && (
        <>
          <h3>Requests since the server started</h3>
          <table data-role="latencies">
            <thead>
              <tr>
                <th>route</th>
                <th>requests</th>
                <th>mean latency</th>
              </tr>
            </thead>
            <tbody>
              {latencies.map((l) => (
                <tr>
                  <td>{l.route}</td>
                  <td class="num">{l.requests}</td>
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
