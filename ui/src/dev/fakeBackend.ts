// DEV ONLY: an in-memory backend to work on the layout with `npm run dev` and `?fake`, without
// Tauri. main.tsx imports it only under import.meta.env.DEV, so it is never in a build.
// Flags: ?fake&phase=stopped|failed|booting  &onboarding (show the tutorial)  &empty (no containers)
import { setBackend, type Backend } from "../api/backend";
import type { ContainerSummary, DaemonEvent, EngineStatus, ImageSummary, Phase, Settings, Volume } from "../api/types";

type Ch = { onmessage: (m: unknown) => void };
const now = () => Date.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");
const b64 = (s: string) => btoa(unescape(encodeURIComponent(s)));

export function installFakeBackend(params: URLSearchParams) {
  const startPhase = (params.get("phase") as Phase | null) ?? "running";
  let onboarding = { completed: !params.has("onboarding"), skipped: false, step: Number(params.get("step") ?? 1) };
  const bootAt = now() - 3_725_000;
  const status: EngineStatus = {
    daemonRunning: startPhase !== "stopped",
    phase: startPhase,
    lastError: startPhase === "failed" ? "QEMU exited with status 1: could not open /dev/kvm: Permission denied" : null,
    backend: "qemu (tcg)",
    cpus: 2,
    memoryMib: 4096,
    shares: ["/home/dev"],
    dockerSocket: "/home/dev/.local/state/berth/run/docker.sock",
    versions: { app: "0.1.0", daemon: "0.1.0", agent: "0.1.0", kernel: "6.1.0-37-amd64" },
    uptimeMs: startPhase === "running" ? now() - bootAt : null,
    engine: "berth-engine 0.1.0 (API 1.50)",
    ports: [
      { proto: "tcp", hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, containerId: "c1" },
      { proto: "tcp", hostIp: "127.0.0.1", hostPort: 5432, containerPort: 5432, containerId: "c3" },
    ],
    portErrors: params.has("porterror")
      ? [{ proto: "tcp", hostIp: "127.0.0.1", hostPort: 3000, containerId: "c2", message: "Address already in use (os error 98)" }]
      : [],
    disk: startPhase === "running" ? { mounted: !params.has("nodisk"), totalBytes: 68719476736, freeBytes: 66102231040 } : null,
  };
  const events: DaemonEvent[] = [
    { unixMs: bootAt, kind: "phase", message: "booting: QEMU started (TCG)" },
    { unixMs: bootAt + 2100, kind: "phase", message: "waiting-for-agent: guest kernel up" },
    { unixMs: bootAt + 2600, kind: "phase", message: "engine-starting: agent 0.1.0 answered" },
    { unixMs: bootAt + 3100, kind: "phase", message: "running: engine ready" },
    { unixMs: bootAt + 60000, kind: "port-added", message: "tcp 127.0.0.1:8080 -> web-1:80" },
    { unixMs: bootAt + 90000, kind: "port-added", message: "tcp 127.0.0.1:5432 -> shop-db-1:5432" },
  ];
  const label = (p: string, s: string) => ({ "com.docker.compose.project": p, "com.docker.compose.service": s });
  const t = Math.floor(now() / 1000);
  let containers: ContainerSummary[] = params.has("empty")
    ? []
    : [
        { Id: "c1" + hex(62), Names: ["/web-1"], Image: "berth/hello", Created: t - 3600, State: "running", Status: "Up About an hour", Ports: [{ IP: "127.0.0.1", PrivatePort: 80, PublicPort: 8080, Type: "tcp" }], Labels: {} },
        { Id: "c2" + hex(62), Names: ["/shop-web-1"], Image: "nginx:1.27-alpine", Created: t - 7200, State: "running", Status: "Up 2 hours", Ports: [{ IP: "0.0.0.0", PrivatePort: 80, PublicPort: 3000, Type: "tcp" }, { IP: "::", PrivatePort: 80, PublicPort: 3000, Type: "tcp" }], Labels: label("shop", "web") },
        { Id: "c3" + hex(62), Names: ["/shop-db-1"], Image: "postgres:16-alpine", Created: t - 7200, State: "running", Status: "Up 2 hours (healthy)", Ports: [{ IP: "127.0.0.1", PrivatePort: 5432, PublicPort: 5432, Type: "tcp" }], Labels: label("shop", "db") },
        { Id: "c4" + hex(62), Names: ["/shop-worker-1"], Image: "shop/worker:dev", Created: t - 7100, State: "paused", Status: "Up 2 hours (Paused)", Ports: [], Labels: label("shop", "worker") },
        { Id: "c5" + hex(62), Names: ["/busy_turing"], Image: "alpine:3.20", Created: t - 86400, State: "exited", Status: "Exited (0) 1 day ago", Ports: [], Labels: {} },
        { Id: "c6" + hex(62), Names: ["/redis"], Image: "redis:7", Created: t - 600, State: "running", Status: "Up 10 minutes", Ports: [{ PrivatePort: 6379, Type: "tcp" }], Labels: {} },
      ];
  let images: ImageSummary[] = [
    { Id: "sha256:" + hex(64), RepoTags: ["berth/hello:latest"], Created: t - 30 * 86400, Size: 1_310_720 },
    { Id: "sha256:" + hex(64), RepoTags: ["nginx:1.27-alpine"], Created: t - 12 * 86400, Size: 47_900_000 },
    { Id: "sha256:" + hex(64), RepoTags: ["postgres:16-alpine"], Created: t - 20 * 86400, Size: 273_400_000 },
    { Id: "sha256:" + hex(64), RepoTags: ["alpine:3.20"], Created: t - 40 * 86400, Size: 7_800_000 },
    { Id: "sha256:" + hex(64), RepoTags: ["redis:7"], Created: t - 9 * 86400, Size: 117_000_000 },
    { Id: "sha256:" + hex(64), RepoTags: ["<none>:<none>"], Created: t - 3 * 86400, Size: 51_200_000 },
  ];
  let volumes: Volume[] = [
    { Name: "shop_pgdata", Driver: "local", Mountpoint: "/var/lib/berth/volumes/shop_pgdata/_data", CreatedAt: new Date(Date.now() - 7200e3).toISOString(), UsageData: { Size: 48_300_000, RefCount: 1 } },
    { Name: "redis-data", Driver: "local", Mountpoint: "/var/lib/berth/volumes/redis-data/_data", CreatedAt: new Date(Date.now() - 600e3).toISOString(), UsageData: { Size: 1_200_000, RefCount: 1 } },
    { Name: "scratch", Driver: "local", Mountpoint: "/var/lib/berth/volumes/scratch/_data", CreatedAt: new Date(Date.now() - 5 * 86400e3).toISOString(), UsageData: { Size: 0, RefCount: 0 } },
  ];
  let settings: Settings = { cpus: 2, memoryMib: 4096, diskSizeGib: 64, shares: ["/home/dev"], bindAddress: "127.0.0.1", insecureRegistries: [], registryMirrors: [], startAtLogin: false };
  const watchers = new Set<Ch>();
  const dockerWatchers = new Set<Ch>();
  let nextId = 1;
  let tutorialBody = "<html><body style='font:20px system-ui;padding:40px'><h1>👋 Hello from Berth</h1><p>This page comes from inside a container.</p></body></html>";

  const emitStatus = () => watchers.forEach((w) => w.onmessage({ kind: "status", status: { ...status } }));
  const emitEvent = (kind: string, message: string) => {
    const e = { unixMs: now(), kind, message };
    events.push(e);
    watchers.forEach((w) => w.onmessage({ kind: "event", event: e }));
  };
  const dockerEvent = (Type: string, Action: string, id = "") => dockerWatchers.forEach((w) => w.onmessage({ Type, Action, Actor: { ID: id }, time: t }));
  const setPhase = (p: Phase) => {
    status.phase = p;
    status.daemonRunning = p !== "stopped";
    status.uptimeMs = p === "running" ? 1000 : null;
    emitEvent("phase", p);
    emitStatus();
  };
  const boot = async () => {
    status.lastError = null;
    for (const p of ["booting", "waiting-for-agent", "engine-starting", "running"] as Phase[]) {
      setPhase(p);
      await sleep(900);
    }
  };
  const find = (id: string) => containers.find((c) => c.Id === id || c.Names[0] === `/${id}`);
  (window as unknown as { fakeCli: () => void }).fakeCli = () => emitEvent("docker-client", "Docker-Client/28.3.0 (linux)");

  const backend: Backend = {
    channel<T>(onMessage: (m: T) => void) {
      return { onmessage: onMessage } as Ch;
    },
    async listen() {
      return () => undefined;
    },
    async invoke<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
      await sleep(80);
      const ch = (k: string) => args[k] as Ch;
      const r = (v: unknown) => v as T;
      switch (cmd) {
        case "engine_status":
          return r({ ...status });
        case "engine_watch": {
          const c = ch("onEvent");
          watchers.add(c);
          setTimeout(() => {
            c.onmessage({ kind: "status", status: { ...status } });
            events.forEach((e) => c.onmessage({ kind: "event", event: e }));
          }, 10);
          return r(nextId++);
        }
        case "engine_start":
          void boot();
          return r(null);
        case "engine_stop":
          setPhase("stopping");
          await sleep(800);
          setPhase("stopped");
          return r(null);
        case "engine_restart":
          void (async () => {
            setPhase("stopping");
            await sleep(600);
            await boot();
          })();
          return r(null);
        case "containers_list":
          if (status.phase !== "running") throw "Cannot connect to the Berth engine: it is not running";
          return r(containers.map((c) => ({ ...c })));
        case "docker_events":
          dockerWatchers.add(ch("onEvent"));
          return r(nextId++);
        case "stream_cancel":
        case "terminal_close":
          return r(null);
        case "container_action": {
          const c = find(args.id as string);
          if (!c) throw `No such container: ${args.id}`;
          const a = args.action as string;
          await sleep(400);
          c.State = a === "stop" || a === "kill" ? "exited" : a === "pause" ? "paused" : "running";
          c.Status = c.State === "exited" ? "Exited (137) just now" : c.State === "paused" ? "Up (Paused)" : "Up Less than a second";
          dockerEvent("container", a, c.Id);
          return r(null);
        }
        case "container_remove": {
          const c = find(args.id as string);
          if (c && c.State === "running" && !args.force) throw "You cannot remove a running container. Stop the container before attempting removal or force remove";
          containers = containers.filter((x) => x !== c);
          dockerEvent("container", "destroy", c?.Id);
          return r(null);
        }
        case "container_run": {
          const spec = args.spec as { image: string; name?: string; ports?: { hostPort: number; containerPort: number }[] };
          await sleep(500);
          const id = hex(64);
          const oneShot = spec.name === "berth-tutorial-hello";
          containers = [
            { Id: id, Names: [`/${spec.name ?? "eager_hopper"}`], Image: spec.image, Created: Math.floor(now() / 1000), State: oneShot ? "exited" : "running", Status: oneShot ? "Exited (0) just now" : "Up Less than a second", Ports: (spec.ports ?? []).map((p) => ({ IP: "127.0.0.1", PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: "tcp" })), Labels: {} },
            ...containers,
          ];
          dockerEvent("container", "start", id);
          return r(id);
        }
        case "container_wait":
          await sleep(300);
          return r(0);
        case "container_logs": {
          const c = ch("onLine");
          const id = args.id as string;
          const ts = args.timestamps ? `${new Date().toISOString()} ` : "";
          setTimeout(() => {
            if (containers.find((x) => x.Id === id)?.Names[0] === "/berth-tutorial-hello") {
              c.onmessage({ kind: "line", stream: "stdout", text: `${ts}Hello from your first Berth container!\n` });
              c.onmessage({ kind: "line", stream: "stdout", text: `${ts}I am running on Linux 6.1.0-37-amd64.\n` });
            } else {
              for (let i = 0; i < 40; i += 1)
                c.onmessage({ kind: "line", stream: i % 13 === 5 ? "stderr" : "stdout", text: `${ts}[${i}] 172.17.0.1 - - "GET /${i % 4 ? "index.html" : "api/orders"} HTTP/1.1" ${i % 13 === 5 ? 500 : 200} ${1200 + i * 7}\n` });
            }
            if (!args.follow) c.onmessage({ kind: "end" });
          }, 50);
          return r(nextId++);
        }
        case "container_stats": {
          const c = ch("onSample");
          let rx = 1e6;
          const tick = () => {
            rx += Math.random() * 40000;
            c.onmessage({ cpuPercent: 2 + Math.random() * 8, memoryBytes: 42e6 + Math.random() * 4e6, memoryLimit: 4096 * 1048576, netRxBytes: rx, netTxBytes: rx / 3, blockReadBytes: 8e6, blockWriteBytes: 2e6 + rx / 10, pids: 7 });
          };
          for (let i = 0; i < 30; i += 1) tick();
          setInterval(tick, 1000);
          return r(nextId++);
        }
        case "container_inspect": {
          const c = find(args.id as string)!;
          return r({
            Id: c.Id, Name: c.Names[0], Created: new Date(c.Created * 1000).toISOString(),
            State: { Status: c.State, Running: c.State === "running", ExitCode: 0 },
            Config: { Image: c.Image, Cmd: ["httpd", "-f", "-v", "-p", "80", "-h", "/var/www"], Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "MODE=production"], Labels: c.Labels },
            HostConfig: { RestartPolicy: { Name: "no" } },
            Mounts: [{ Type: "bind", Source: "/home/dev/site", Destination: "/var/www", RW: false }, { Type: "volume", Name: "shop_pgdata", Destination: "/data", RW: true }],
            NetworkSettings: { Networks: { bridge: { IPAddress: "172.17.0.2", IPPrefixLen: 16, Gateway: "172.17.0.1", MacAddress: "02:42:ac:11:00:02" } } },
          });
        }
        case "terminal_open": {
          const c = ch("onOutput");
          setTimeout(() => c.onmessage({ kind: "data", data: b64("/ # ") }), 200);
          let line = "";
          (backend as unknown as { term: (d: string) => void }).term = (d: string) => {
            for (const chr of d) {
              if (chr === "\r") {
                const out = line.includes("$((6 * 7))") ? "Berth says 42\r\n" : line.trim() ? `${line}: ok\r\n` : "";
                c.onmessage({ kind: "data", data: b64(`\r\n${out}/ # `) });
                line = "";
              } else {
                line += chr;
                c.onmessage({ kind: "data", data: b64(chr) });
              }
            }
          };
          return r(nextId++);
        }
        case "terminal_input":
          (backend as unknown as { term?: (d: string) => void }).term?.(args.data as string);
          return r(null);
        case "terminal_resize":
          return r(null);
        case "images_list":
          return r(images);
        case "image_pull": {
          const c = ch("onProgress");
          const ref = args.reference as string;
          if (ref.includes("nope")) throw `pull access denied for ${ref}, repository does not exist or may require 'docker login'`;
          c.onmessage({ status: "Pulling from library/" + ref, id: "latest" });
          const layers = ["a1b2c3d4e5f6", "0f9e8d7c6b5a", "1234abcd5678"];
          layers.forEach((id) => c.onmessage({ status: "Pulling fs layer", id }));
          for (let i = 0; i <= 10; i += 1) {
            await sleep(250);
            layers.forEach((id, j) => c.onmessage({ status: "Downloading", id, progressDetail: { current: (i / 10) * (j + 1) * 3e6, total: (j + 1) * 3e6 } }));
          }
          layers.forEach((id) => c.onmessage({ status: "Pull complete", id }));
          c.onmessage({ status: `Status: Downloaded newer image for ${ref}` });
          images = [{ Id: "sha256:" + hex(64), RepoTags: [ref.includes(":") ? ref : `${ref}:latest`], Created: t, Size: 18e6 }, ...images];
          dockerEvent("image", "pull");
          return r(null);
        }
        case "image_remove":
          images = images.filter((i) => i.Id !== args.id);
          return r(null);
        case "images_prune": {
          const dangling = images.filter((i) => i.RepoTags?.[0] === "<none>:<none>");
          images = images.filter((i) => !dangling.includes(i));
          return r({ deleted: dangling.length, spaceReclaimed: dangling.reduce((s, i) => s + i.Size, 0) });
        }
        case "volumes_list":
          return r(volumes);
        case "volume_create": {
          const v: Volume = { Name: (args.name as string) || hex(32), Driver: "local", Mountpoint: "/var/lib/berth/volumes/x", CreatedAt: new Date().toISOString(), UsageData: { Size: 0, RefCount: 0 } };
          volumes = [...volumes, v];
          return r(v);
        }
        case "volume_remove":
          volumes = volumes.filter((v) => v.Name !== args.name);
          return r(null);
        case "settings_get":
          return r({ ...settings });
        case "settings_set": {
          const s = args.settings as Settings;
          if (s.memoryMib > 16384) throw "memoryMib: more than this computer has (15.5 GiB)";
          const needsRestart = s.cpus !== settings.cpus || s.memoryMib !== settings.memoryMib || s.shares.join() !== settings.shares.join();
          const notes = s.diskSizeGib !== settings.diskSizeGib ? ["The data disk grows to " + s.diskSizeGib + " GiB at the next start."] : [];
          settings = s;
          return r({ needsRestart, notes });
        }
        case "host_info":
          return r({ home: "/home/dev", dockerSocket: status.dockerSocket, dockerHost: `unix://${status.dockerSocket}`, contextInstalled: true, cliCommand: "docker --context berth run --rm berth/hello echo hi" });
        case "onboarding_get":
          return r({ ...onboarding });
        case "onboarding_set":
          onboarding = args.state as typeof onboarding;
          return r(null);
        case "tutorial_prepare":
          return r({ dir: "/home/dev/.local/share/berth/tutorial", file: "/home/dev/.local/share/berth/tutorial/index.html", port: 18080 });
        case "tutorial_edit":
          tutorialBody = args.text as string;
          return r(null);
        case "probe_url":
          return r({ status: 200, body: tutorialBody });
        case "open_url":
          window.open(args.url as string, "_blank");
          return r(null);
        default:
          throw `unimplemented: ${cmd}`;
      }
    },
  };
  setBackend(backend);
}
