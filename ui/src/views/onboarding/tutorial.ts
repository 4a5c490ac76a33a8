// The real work behind the onboarding steps, on top of the typed API.
import {
  containerLogs,
  containerRemove,
  containerRun,
  containersList,
  probeUrl,
  tutorialPrepare,
  type ProbeResult,
  type RunSpec,
  type TutorialInfo,
} from "../../api";
import { cleanLine } from "../../lib/logs";
import { findByName, HELLO_CMD, HELLO_NAME, TUTORIAL_IMAGE, WEB_NAME } from "../../lib/onboarding";

export interface WebSite {
  info: TutorialInfo;
  containerId: string;
  url: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Removes a container of that name left by an earlier run of the tutorial. */
async function removeByName(name: string): Promise<void> {
  const old = findByName(await containersList(), name);
  if (old) await containerRemove(old.Id, true);
}

/** Step 2: runs berth/hello with a greeting; resolves to its id. */
export async function runHello(): Promise<string> {
  await removeByName(HELLO_NAME);
  return containerRun({ image: TUTORIAL_IMAGE, name: HELLO_NAME, cmd: HELLO_CMD });
}

/** Reads a container's whole log (no follow) until the stream's end marker. */
export function readLogs(id: string, timeoutMs = 15000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const stream = containerLogs(id, { follow: false, timestamps: false, tail: null }, (m) => {
      if (m.kind === "end") {
        clearTimeout(timer);
        stream.cancel();
        resolve(lines);
      } else lines.push(cleanLine(m.text));
    });
    const timer = setTimeout(() => {
      stream.cancel();
      resolve(lines);
    }, timeoutMs);
    stream.ready.catch((e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export function webSpec(info: TutorialInfo): RunSpec {
  return {
    image: TUTORIAL_IMAGE,
    name: WEB_NAME,
    ports: [{ hostPort: info.port, containerPort: 80, protocol: "tcp" }],
    volumes: [{ source: info.dir, target: "/var/www", readOnly: true }],
  };
}

export const siteUrl = (port: number) => `http://127.0.0.1:${port}/`;

/** Step 3: the web container serving the tutorial folder, freshly started. */
export async function startWebSite(): Promise<WebSite> {
  const info = await tutorialPrepare();
  await removeByName(WEB_NAME);
  const containerId = await containerRun(webSpec(info));
  return { info, containerId, url: siteUrl(info.port) };
}

/** Steps 4 and 5 after a resume: reuse the running web container, or start it again. */
export async function ensureWebSite(known: WebSite | null): Promise<WebSite> {
  const info = known?.info ?? (await tutorialPrepare());
  const existing = findByName(await containersList(), WEB_NAME);
  if (existing && existing.State === "running") {
    const port = existing.Ports.find((p) => p.PrivatePort === 80 && p.PublicPort)?.PublicPort ?? info.port;
    return { info: { ...info, port }, containerId: existing.Id, url: siteUrl(port) };
  }
  if (existing) await containerRemove(existing.Id, true);
  const containerId = await containerRun(webSpec(info));
  return { info, containerId, url: siteUrl(info.port) };
}

/**
 * Probes `url` until `ok(result)` (the port forward appears a moment after the container
 * starts), `tries` times `delayMs` apart. Resolves to the last answer; rejects with the last
 * error when nothing ever answered.
 */
export async function probeUntil(url: string, ok: (r: ProbeResult) => boolean, tries = 20, delayMs = 500): Promise<ProbeResult> {
  let last: ProbeResult | null = null;
  let lastError: unknown = null;
  for (let i = 0; i < tries; i += 1) {
    try {
      last = await probeUrl(url);
      if (ok(last)) return last;
    } catch (e) {
      lastError = e;
    }
    await sleep(delayMs);
  }
  if (last) return last;
  throw lastError ?? new Error(`No answer from ${url}`);
}
