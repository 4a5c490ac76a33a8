import type { Proto, RunSpec } from "../api/types";

export interface PortRow {
  hostPort: string;
  containerPort: string;
  protocol: Proto;
}
export interface VolumeRow {
  source: string;
  target: string;
  readOnly: boolean;
}
export interface EnvRow {
  key: string;
  value: string;
}

export interface RunForm {
  image: string;
  name: string;
  cmd: string;
  ports: PortRow[];
  volumes: VolumeRow[];
  env: EnvRow[];
  autoRemove: boolean;
}

export function emptyRunForm(image = ""): RunForm {
  return { image, name: "", cmd: "", ports: [], volumes: [], env: [], autoRemove: false };
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ENV_KEY_RE = /^[^=\s]+$/;

/** Splits a command line like a POSIX shell would for words: quotes and backslashes. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === "\\" && quote === '"' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) word += line[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error("Unclosed quote in the command");
  if (inWord) words.push(word);
  return words;
}

function parsePort(text: string): number | null {
  if (!/^\d+$/.test(text.trim())) return null;
  const n = Number(text.trim());
  return n >= 1 && n <= 65535 ? n : null;
}

export type RunFormResult = { ok: true; spec: RunSpec } | { ok: false; errors: Record<string, string> };

/**
 * Checks the form and builds the `RunSpec`. Error keys: `image`, `name`, `cmd`, `ports.N`,
 * `volumes.N`, `env.N`. Fully empty rows are ignored.
 */
export function buildRunSpec(form: RunForm): RunFormResult {
  const errors: Record<string, string> = {};
  const image = form.image.trim();
  if (!image) errors.image = "Choose an image";
  else if (/\s/.test(image)) errors.image = "An image reference has no spaces";

  const name = form.name.trim();
  if (name && !NAME_RE.test(name)) errors.name = "Letters, digits, '_', '.' and '-', starting with a letter or digit";

  let cmd: string[] = [];
  try {
    cmd = splitCommand(form.cmd);
  } catch (e) {
    errors.cmd = (e as Error).message;
  }

  const ports: NonNullable<RunSpec["ports"]> = [];
  form.ports.forEach((row, i) => {
    if (!row.hostPort.trim() && !row.containerPort.trim()) return;
    const hostPort = parsePort(row.hostPort);
    const containerPort = parsePort(row.containerPort);
    if (hostPort === null || containerPort === null) errors[`ports.${i}`] = "Ports are numbers from 1 to 65535";
    else ports.push({ hostPort, containerPort, protocol: row.protocol });
  });
  const hostPorts = ports.map((p) => `${p.hostPort}/${p.protocol}`);
  hostPorts.forEach((p, i) => {
    if (hostPorts.indexOf(p) !== i) errors[`ports.${i}`] = `Host port ${p} is used twice`;
  });

  const volumes: NonNullable<RunSpec["volumes"]> = [];
  form.volumes.forEach((row, i) => {
    const source = row.source.trim();
    const target = row.target.trim();
    if (!source && !target) return;
    if (!source) errors[`volumes.${i}`] = "Give a host folder or a volume name";
    else if (!target.startsWith("/")) errors[`volumes.${i}`] = "The path in the container must be absolute";
    else volumes.push({ source, target, readOnly: row.readOnly });
  });

  const env: string[] = [];
  form.env.forEach((row, i) => {
    const key = row.key.trim();
    if (!key && !row.value) return;
    if (!ENV_KEY_RE.test(key)) errors[`env.${i}`] = "A variable name has no '=' or spaces";
    else env.push(`${key}=${row.value}`);
  });

  if (Object.keys(errors).length) return { ok: false, errors };
  const spec: RunSpec = { image };
  if (name) spec.name = name;
  if (cmd.length) spec.cmd = cmd;
  if (env.length) spec.env = env;
  if (ports.length) spec.ports = ports;
  if (volumes.length) spec.volumes = volumes;
  if (form.autoRemove) spec.autoRemove = true;
  return { ok: true, spec };
}
