/**
 * A process of the fault harness, started from a command line (an etcd member, a shard writer, a
 * follower; later a `quiver serve --cluster` node): kill -9, SIGSTOP / SIGCONT, restart on the same
 * command line, its stdout read as lines. Every process started is registered, so `stopAllProcesses`
 * in a test's `after` ends them even when the test failed midway.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface Command {
  command: string;
  args: string[];
  /** Run inside this network namespace (`ip netns exec`, which execs: the pid is the command's own). */
  netns?: string;
  env?: Record<string, string>;
}

const live = new Set<NodeProcess>();

export class NodeProcess {
  private child: ChildProcess | null = null;
  /** Resolves on "close": the process has exited and its stdout is read to the end. */
  private exit: Promise<void> = Promise.resolve();
  private ended = true;
  private stderrTail = "";
  private partial = "";
  private listeners: (() => void)[] = [];
  /** Every stdout line of every run, in order (a restart appends to them). */
  readonly lines: string[] = [];

  constructor(
    readonly name: string,
    private readonly command: Command,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts (or starts again, after it exited or was killed) the command. */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const { command, args, netns, env } = this.command;
    const [file, argv] = netns ? ["ip", ["netns", "exec", netns, command, ...args]] : [command, args];
    const child = spawn(file, argv, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
    this.child = child;
    this.partial = "";
    live.add(this);
    this.ended = false;
    this.exit = new Promise((resolve) => child.once("close", () => resolve()));
    child.stdout?.on("data", (chunk) => {
      const text = this.partial + String(chunk);
      const parts = text.split("\n");
      this.partial = parts.pop() ?? "";
      this.lines.push(...parts);
      for (const notify of this.listeners) notify();
    });
    child.stderr?.on("data", (chunk) => {
      this.stderrTail = (this.stderrTail + String(chunk)).slice(-4000);
    });
    child.once("close", () => {
      this.ended = true;
      for (const notify of this.listeners) notify();
    });
    child.stdin?.on("error", () => {});
  }

  /** Writes a line to its standard input. */
  send(line: string): void {
    this.child?.stdin?.write(`${line}\n`);
  }

  /** Resolves with the first line from index `from` on matching `pattern`; rejects on exit or timeout. */
  waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const match = this.lines
          .slice(from)
          .find((line) => pattern.test(line))
          ?.match(pattern);
        if (match) done(() => resolve(match));
        else if (this.ended) done(() => reject(new Error(`${this.name} exited before ${pattern}: ${this.stderrTail}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`${this.name}: no ${pattern} in ${timeoutMs} ms: ${this.stderrTail}`))),
        timeoutMs,
      );
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        settle();
      };
      this.listeners.push(check);
      check();
    });
  }

  /** The last few thousand characters it wrote to stderr (for failure messages). */
  get stderr(): string {
    return this.stderrTail;
  }

  /** kill -9, resolving once the process is gone (a paused process dies too). */
  async kill9(): Promise<void> {
    const child = this.child;
    if (child && this.running) {
      child.kill("SIGKILL");
      await this.exit;
    }
    live.delete(this);
  }

  /** SIGSTOP: the process stays alive but runs nothing (no lease renewal, no I/O) until resumed. */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  /** SIGCONT. */
  resume(): void {
    this.child?.kill("SIGCONT");
  }

  /** kill -9 (when running), then the same command line again. */
  async restart(): Promise<void> {
    await this.kill9();
    this.start();
  }

  /** Resolves when the process exits by itself within `timeoutMs`, else kills it and rejects. */
  async exited(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), timeoutMs);
    });
    const outcome = await Promise.race([this.exit, late]);
    clearTimeout(timer);
    if (outcome === "late") {
      await this.kill9();
      throw new Error(`${this.name} did not exit in ${timeoutMs} ms`);
    }
    live.delete(this);
  }
}

/** kill -9 of every process the harness started and that still runs. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill9()));
}
