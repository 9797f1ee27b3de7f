// `bay wait`'s progress: on a TTY one spinner line redrawn in place (status, latest event,
// elapsed time); otherwise one plain line each time the status or the latest event changes.
import { elapsed } from "./format.ts";

export interface ProgressState {
  status: string;
  event?: { kind: string; detail: string };
}

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** "CREATE_IN_PROGRESS  stack_requested: stack bay-1a2b requested  (1m05s)" */
export function progressText(s: ProgressState, ms: number): string {
  const ev = s.event ? `  ${s.event.kind}${s.event.detail ? `: ${s.event.detail.replace(/\s+/g, " ")}` : ""}` : "";
  return `${s.status}${ev}  (${elapsed(ms)})`;
}

export class Progress {
  private state?: ProgressState;
  private last = "";
  private frame = 0;
  private timer?: NodeJS.Timeout;
  private readonly start: number;

  constructor(
    private readonly stream: ProgressStream,
    private readonly name: string,
    private readonly now: () => number = Date.now,
  ) {
    this.start = now();
    if (stream.isTTY) {
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    }
  }

  update(s: ProgressState): void {
    this.state = s;
    if (this.stream.isTTY) return this.draw();
    const key = JSON.stringify(s);
    if (key === this.last) return;
    this.last = key;
    this.stream.write(`${this.name}: ${progressText(s, this.now() - this.start)}\n`);
  }

  /** Stops the spinner and clears its line (a TTY); the caller prints the outcome. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.stream.isTTY) this.stream.write("\r\x1b[2K");
  }

  private draw(): void {
    const text = this.state ? progressText(this.state, this.now() - this.start) : `waiting  (${elapsed(this.now() - this.start)})`;
    let line = `${FRAMES[this.frame++ % FRAMES.length]} ${this.name}: ${text}`;
    const width = (this.stream.columns ?? 80) - 1;
    if (line.length > width) line = line.slice(0, width - 1) + "…";
    this.stream.write(`\r\x1b[2K${line}`);
  }
}
