import { styleText } from "node:util";

/** Where a command writes, and what the terminal can show. Tests pass their own to capture output. */
export interface Io {
  out(text: string): void;
  /** Bytes to stdout as they are (a raw body), not text. */
  outBytes(bytes: Uint8Array): void;
  err(text: string): void;
  /** Colour on stdout/stderr: only on a terminal, never with NO_COLOR or TERM=dumb (FORCE_COLOR forces it). */
  color: boolean;
  /** stderr is a terminal: progress bars are drawn only then. */
  errIsTTY: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
}

export function colorWanted(env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return isTTY && env.TERM !== "dumb";
}

export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    outBytes: (bytes) => process.stdout.write(bytes),
    err: (text) => process.stderr.write(text),
    color: colorWanted(process.env, Boolean(process.stdout.isTTY)),
    errIsTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** An Io that keeps what was written: for tests and for callers that want the text. */
export function bufferIo(
  options: Partial<Pick<Io, "color" | "errIsTTY" | "env" | "cwd">> = {},
): Io & { stdout(): string; stdoutBytes(): Buffer; stderr(): string } {
  const out: Buffer[] = [];
  const err: string[] = [];
  return {
    out: (text) => void out.push(Buffer.from(text)),
    outBytes: (bytes) => void out.push(Buffer.from(bytes)),
    err: (text) => void err.push(text),
    color: options.color ?? false,
    errIsTTY: options.errIsTTY ?? false,
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    stdout: () => Buffer.concat(out).toString(),
    stdoutBytes: () => Buffer.concat(out),
    stderr: () => err.join(""),
  };
}

export type Style = Parameters<typeof styleText>[0];

/** `text` in `style` when the Io shows colour, else as is. */
export function paint(io: Pick<Io, "color">, style: Style, text: string): string {
  return io.color ? styleText(style, text, { validateStream: false }) : text;
}
