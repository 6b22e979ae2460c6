// Preloaded (`node --import`) into a child process a bench times: at exit it writes the process's
// peak resident memory and CPU time (getrusage: every thread, workers included) as JSON to the file
// named by QUIVER_BENCH_USAGE_FILE, which a parent cannot read once the child is gone.
import { writeFileSync } from "node:fs";

const file = process.env.QUIVER_BENCH_USAGE_FILE;
if (file)
  process.on("exit", () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRssKB: u.maxRSS, cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6 }));
  });
