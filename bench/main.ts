// Benchmark entry point: `node dist/bench/main.js [kernels] [--data DIR] [--json] [--repeats N]`.
// One case per sub-command; `kernels` is the default.

import { runKernelBench } from "./kernels.js";

interface BenchArgs {
  command: string;
  data?: string;
  json: boolean;
  repeats?: number;
}

function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { command: "kernels", json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") args.json = true;
    else if (a === "--data") args.data = argv[++i];
    else if (a === "--repeats") args.repeats = Number(argv[++i]);
    else if (!a.startsWith("-")) args.command = a;
    else throw new Error(`unknown option ${a}`);
  }
  if (args.repeats !== undefined && !(Number.isInteger(args.repeats) && args.repeats > 0)) {
    throw new Error("--repeats takes a positive integer");
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  switch (args.command) {
    case "kernels":
      await runKernelBench({ data: args.data, json: args.json, repeats: args.repeats });
      break;
    default:
      throw new Error(`unknown benchmark "${args.command}" (available: kernels)`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
