// Where the console's main-thread time goes: reads a Chromium trace (playwright's browser.startTracing,
// categories below) and, for each long top-level task of a renderer main thread, lists what ran inside
// it (script, GC, parsing, layout, WebGL calls) with its wall time and its CPU time. Wall time far above
// CPU time means the thread was descheduled (a loaded machine), not that it worked.

export const TRACE_CATEGORIES = [
  "toplevel",
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "v8",
  "v8.execute",
  "blink.user_timing",
];

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  tdur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: { functionName?: string; url?: string; type?: string } };
}

export interface TaskAttribution {
  /** Wall-clock and thread (CPU) milliseconds of the top-level task. */
  wallMs: number;
  cpuMs: number;
  /** The longest events nested in it, outermost first when equal. */
  inside: { name: string; wallMs: number; cpuMs: number; detail: string }[];
}

const TOP_LEVEL = new Set(["ThreadControllerImpl::RunTask", "RunTask"]);

/** The top-level tasks over `minMs` on renderer main threads, longest first, with what they contained. */
export function attributeLongTasks(trace: { traceEvents: TraceEvent[] }, minMs = 50): TaskAttribution[] {
  const events = trace.traceEvents;
  const mainThreads = new Set(
    events
      .filter((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === "CrRendererMain")
      .map((e) => `${e.pid}:${e.tid}`),
  );
  const complete = events.filter((e) => e.ph === "X" && e.dur !== undefined && mainThreads.has(`${e.pid}:${e.tid}`));
  const topLevel = complete.filter((e) => TOP_LEVEL.has(e.name));
  // RunTask nests inside ThreadControllerImpl::RunTask, often with the same extent: a task is the
  // outermost of them, and of two with the same extent, the ThreadControllerImpl one.
  const within = (e: TraceEvent, o: TraceEvent) => {
    if (o === e || o.pid !== e.pid || o.tid !== e.tid || o.ts > e.ts || o.ts + o.dur! < e.ts + e.dur!) return false;
    const sameExtent = o.ts === e.ts && o.dur === e.dur;
    return !sameExtent || (o.name === "ThreadControllerImpl::RunTask" && e.name !== o.name);
  };
  const tasks = topLevel.filter((e) => e.dur! >= minMs * 1000 && !topLevel.some((o) => within(e, o)));
  const out: TaskAttribution[] = [];
  for (const task of tasks) {
    const end = task.ts + task.dur!;
    const inside = complete
      .filter(
        (e) =>
          e !== task &&
          e.pid === task.pid &&
          e.tid === task.tid &&
          e.ts >= task.ts &&
          e.ts + e.dur! <= end &&
          !TOP_LEVEL.has(e.name) &&
          e.dur! >= Math.min(10_000, task.dur! / 10),
      )
      .sort((a, b) => b.dur! - a.dur! || a.ts - b.ts)
      .slice(0, 10)
      .map((e) => ({
        name: e.name,
        wallMs: e.dur! / 1000,
        cpuMs: (e.tdur ?? 0) / 1000,
        detail: [e.args?.data?.functionName, e.args?.data?.url, e.args?.data?.type].filter(Boolean).join(" "),
      }));
    out.push({ wallMs: task.dur! / 1000, cpuMs: (task.tdur ?? 0) / 1000, inside });
  }
  return out.sort((a, b) => b.wallMs - a.wallMs);
}

/** The attribution as indented lines, for the bench's output. */
export function formatAttribution(tasks: TaskAttribution[], limit = 8): string {
  const lines: string[] = [];
  for (const t of tasks.slice(0, limit)) {
    lines.push(`  task ${t.wallMs.toFixed(0)} ms wall, ${t.cpuMs.toFixed(0)} ms CPU`);
    for (const e of t.inside)
      lines.push(`    ${e.name} ${e.wallMs.toFixed(0)} ms wall, ${e.cpuMs.toFixed(0)} ms CPU ${e.detail}`);
  }
  if (tasks.length > limit) lines.push(`  … and ${tasks.length - limit} more`);
  return lines.join("\n");
}
