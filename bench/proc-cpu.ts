// CPU time of a server process as Linux accounts it, read from /proc, so a bench can report CPU per
// query for servers it runs as child processes. On a shared, loaded machine queries/s measure the
// scheduler's share as much as the engine; the CPU a process spent per answered query moves far less.
// Linux only: elsewhere the readings are NaN and the bench's CPU columns say so.
import { readdirSync, readFileSync } from "node:fs";

/** utime + stime of one process, every thread, in µs (/proc/<pid>/stat counts 10 ms clock ticks). */
function ownCpuUs(pid: number): number {
  // The command name (field 2) may hold spaces; fields are counted after its closing parenthesis.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Pids of the children of `pid`, from each of its threads' /proc/<pid>/task/<tid>/children. */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(" "))
        if (c.trim()) out.push(Number(c));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/**
 * CPU µs so far of process `pid` and every process below it (a server that forks workers counts them
 * too; one that ends between two readings drops out of the second, so read around runs it outlives).
 */
export function processTreeCpuUs(pid: number): number {
  try {
    let total = ownCpuUs(pid);
    for (const c of children(pid)) total += processTreeCpuUs(c);
    return total;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU µs so far of the main thread of process `pid` (its first field of /proc/<pid>/task/<pid>/schedstat
 * is the thread's time on a CPU, in ns): for Node, the thread that runs the event loop and so serves HTTP.
 */
export function mainThreadCpuUs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ")[0]) / 1000;
  } catch {
    return Number.NaN;
  }
}
