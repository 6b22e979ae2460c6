/**
 * The console bench's trace attribution: a long task of a renderer main thread is counted once (RunTask
 * nests inside ThreadControllerImpl::RunTask), with its wall and CPU time and what ran inside it; short
 * tasks and other threads' tasks are left out.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { attributeLongTasks, formatAttribution } from "../../bench/console-trace.js";

const MAIN = { pid: 1, tid: 10 };
const COMPOSITOR = { pid: 1, tid: 11 };
const task = (at: { pid: number; tid: number }, name: string, ts: number, durMs: number, cpuMs: number, data = {}) => ({
  ...at,
  name,
  ph: "X",
  ts,
  dur: durMs * 1000,
  tdur: cpuMs * 1000,
  args: { data },
});

const trace = {
  traceEvents: [
    { ...MAIN, name: "thread_name", ph: "M", ts: 0, args: { name: "CrRendererMain" } },
    { ...COMPOSITOR, name: "thread_name", ph: "M", ts: 0, args: { name: "Compositor" } },
    // A 300 ms task that is mostly waiting: 9 ms of CPU, a 280 ms frame callback inside.
    task(MAIN, "ThreadControllerImpl::RunTask", 1_000_000, 300, 9),
    task(MAIN, "RunTask", 1_000_000, 300, 9),
    task(MAIN, "FireAnimationFrame", 1_010_000, 280, 7),
    task(MAIN, "FunctionCall", 1_010_000, 280, 6, { functionName: "draw", url: "index.js" }),
    task(MAIN, "MinorGC", 1_200_000, 1, 1),
    // A GC task of 80 ms.
    task(MAIN, "ThreadControllerImpl::RunTask", 2_000_000, 80, 20),
    task(MAIN, "MajorGC", 2_000_000, 79, 20),
    // Under 50 ms: not a long task.
    task(MAIN, "ThreadControllerImpl::RunTask", 3_000_000, 40, 40),
    // Long, but not on the page's main thread.
    task(COMPOSITOR, "ThreadControllerImpl::RunTask", 4_000_000, 500, 500),
  ],
};

test("long main-thread tasks are found once each, longest first, with wall and CPU time", () => {
  const tasks = attributeLongTasks(trace);
  assert.deepEqual(
    tasks.map((t) => [t.wallMs, t.cpuMs]),
    [
      [300, 9],
      [80, 20],
    ],
  );
});

test("what ran inside a long task is listed, largest first, with its detail; tiny events are left out", () => {
  const [frame, gc] = attributeLongTasks(trace);
  assert.deepEqual(
    frame.inside.map((e) => [e.name, e.wallMs, e.cpuMs, e.detail]),
    [
      ["FireAnimationFrame", 280, 7, ""],
      ["FunctionCall", 280, 6, "draw index.js"],
    ],
  );
  assert.deepEqual(
    gc.inside.map((e) => e.name),
    ["MajorGC"],
  );
  assert.match(formatAttribution([frame, gc]), /task 300 ms wall, 9 ms CPU\n {4}FireAnimationFrame 280 ms wall/);
});
