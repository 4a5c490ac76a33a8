// Types of the command contract in docs/app.md ("The desktop app"). Docker objects are the
// Docker Engine API's own JSON (PascalCase); only the fields the UI reads are typed here.

export type Phase =
  | "booting"
  | "waiting-for-agent"
  | "engine-starting"
  | "running"
  | "stopping"
  | "stopped"
  | "failed";

export type Proto = "tcp" | "udp";

export interface ForwardedPort {
  proto: Proto;
  hostIp: string;
  hostPort: number;
  containerPort: number;
  containerId: string;
}

export interface PortError {
  proto: Proto;
  hostIp: string;
  hostPort: number;
  containerId: string;
  message: string;
}

export interface EngineStatus {
  daemonRunning: boolean;
  phase: Phase;
  lastError: string | null;
  backend: string | null;
  cpus: number;
  memoryMib: number;
  shares: string[];
  dockerSocket: string;
  versions: { app: string; daemon: string | null; agent: string | null; kernel: string | null };
  uptimeMs: number | null;
  engine: string | null;
  ports: ForwardedPort[];
  portErrors: PortError[];
  /** The VM's data disk once the agent answers; `mounted: false`: everything lives in memory. */
  disk: { mounted: boolean; totalBytes: number; freeBytes: number } | null;
}

export type DaemonEventKind =
  | "phase"
  | "port-added"
  | "port-removed"
  | "port-error"
  | "docker-client"
  | "error";

export interface DaemonEvent {
  unixMs: number;
  kind: DaemonEventKind | string;
  message: string;
}

export type EngineWatch =
  | { kind: "status"; status: EngineStatus }
  | { kind: "event"; event: DaemonEvent };

// ---- Docker Engine API shapes (subset) ----

export interface DockerPort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export type ContainerState =
  | "created"
  | "running"
  | "paused"
  | "restarting"
  | "removing"
  | "exited"
  | "dead";

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID?: string;
  Command?: string;
  Created: number;
  State: ContainerState | string;
  Status: string;
  Ports: DockerPort[];
  Labels?: Record<string, string> | null;
}

export interface MountPoint {
  Type?: string;
  Name?: string;
  Source?: string;
  Destination?: string;
  Mode?: string;
  RW?: boolean;
}

export interface EndpointSettings {
  IPAddress?: string;
  Gateway?: string;
  MacAddress?: string;
  IPPrefixLen?: number;
  Aliases?: string[] | null;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Path?: string;
  Args?: string[];
  Image?: string;
  State?: {
    Status?: string;
    Running?: boolean;
    Paused?: boolean;
    ExitCode?: number;
    StartedAt?: string;
    FinishedAt?: string;
    Error?: string;
    Pid?: number;
  };
  Config?: {
    Image?: string;
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    Hostname?: string;
    Tty?: boolean;
  };
  HostConfig?: {
    RestartPolicy?: { Name?: string };
    PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
    AutoRemove?: boolean;
  };
  Mounts?: MountPoint[];
  NetworkSettings?: {
    Networks?: Record<string, EndpointSettings> | null;
    Ports?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
  };
}

export type ContainerAction = "start" | "stop" | "restart" | "pause" | "unpause" | "kill";

export interface RunPort {
  hostPort: number;
  containerPort: number;
  protocol?: Proto;
  hostIp?: string;
}

export interface RunVolume {
  source: string;
  target: string;
  readOnly?: boolean;
}

export interface RunSpec {
  image: string;
  name?: string;
  cmd?: string[];
  env?: string[];
  ports?: RunPort[];
  volumes?: RunVolume[];
  autoRemove?: boolean;
}

export type LogLine =
  | { kind: "line"; stream: "stdout" | "stderr"; text: string }
  | { kind: "end" };

export interface StatsSample {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimit: number;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  pids: number;
}

/** Docker `EventMessage`. */
export interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> | null };
  id?: string;
  status?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  scope?: string;
}

export type TerminalOutput =
  | { kind: "data"; data: string }
  | { kind: "exit"; code: number | null };

export interface ImageSummary {
  Id: string;
  ParentId?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: number;
  Size: number;
  SharedSize?: number;
  Labels?: Record<string, string> | null;
  Containers?: number;
}

export interface PullProgress {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number } | null;
  error?: string;
}

export interface PruneResult {
  deleted: number;
  spaceReclaimed: number;
}

export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Labels?: Record<string, string> | null;
  Scope?: string;
  UsageData?: { Size: number; RefCount: number } | null;
}

export interface Settings {
  cpus: number;
  memoryMib: number;
  diskSizeGib: number;
  shares: string[];
  bindAddress: string;
  /** `host[:port]` entries the engine reaches without TLS verification. */
  insecureRegistries: string[];
  /** `http[s]://host[:port]` mirrors tried before Docker Hub. */
  registryMirrors: string[];
  startAtLogin: boolean;
}

export interface SettingsResult {
  needsRestart: boolean;
  notes: string[];
}

export interface HostInfo {
  home: string;
  dockerSocket: string;
  dockerHost: string;
  contextInstalled: boolean;
  cliCommand: string;
}

export interface OnboardingState {
  completed: boolean;
  skipped: boolean;
  step: number;
}

export interface TutorialInfo {
  dir: string;
  file: string;
  port: number;
}

export interface ProbeResult {
  status: number;
  body: string;
}

export type ViewName = "dashboard" | "containers" | "images" | "volumes" | "settings";
