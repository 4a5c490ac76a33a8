import "@xterm/xterm/css/xterm.css";
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import { RotateCcw } from "lucide-react";
import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from "react";
import { errorMessage, terminalInput, terminalOpen, terminalResize } from "../api";
import { decodeBase64, utf8Stream } from "../lib/base64";
import { Banner } from "./Banner";
import { Button } from "./Button";
import { Spinner } from "./Spinner";

export interface TerminalHandle {
  /** Types `data` into the terminal as if the user had. */
  send(data: string): void;
  focus(): void;
}

interface Props {
  containerId: string;
  cmd?: string[] | null;
  /** Everything the user types (and `send`s). */
  onInput?: (data: string) => void;
  /** The TTY's output as text. */
  onText?: (text: string) => void;
  testId?: string;
}

type Phase = { kind: "connecting" } | { kind: "open" } | { kind: "exited"; code: number | null } | { kind: "error"; message: string };

const THEME = {
  background: "#0e1116",
  foreground: "#d8dee9",
  cursor: "#7aa2f7",
  selectionBackground: "#33467c",
  black: "#1d2129",
  brightBlack: "#5c6370",
  blue: "#61afef",
  brightBlue: "#7aa2f7",
  green: "#98c379",
  brightGreen: "#a9dc76",
  red: "#e06c75",
  brightRed: "#ff7b85",
  yellow: "#e5c07b",
  brightYellow: "#ffd580",
  cyan: "#56b6c2",
  magenta: "#c678dd",
  white: "#d8dee9",
  brightWhite: "#ffffff",
};

/** A real TTY in a container: xterm.js over `terminal_open` / `terminal_input` / `terminal_resize`. */
export const TerminalView = forwardRef<TerminalHandle, Props>(function TerminalView(
  { containerId, cmd = null, onInput, onText, testId = "terminal-view" },
  ref,
) {
  const host = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const idRef = useRef<number | null>(null);
  const queued = useRef("");
  const callbacks = useRef({ onInput, onText });
  callbacks.current = { onInput, onText };
  const [phase, setPhase] = useState<Phase>({ kind: "connecting" });
  const [attempt, setAttempt] = useState(0);
  const cmdKey = JSON.stringify(cmd);

  useImperativeHandle(ref, () => ({
    send(data: string) {
      callbacks.current.onInput?.(data);
      // Before the exec is open, keep the text for it rather than dropping it.
      if (idRef.current === null) queued.current += data;
      else void terminalInput(idRef.current, data).catch(() => undefined);
    },
    focus() {
      termRef.current?.focus();
    },
  }));

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    setPhase({ kind: "connecting" });
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, "SF Mono", "Cascadia Mono", "JetBrains Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      lineHeight: 1.2,
      scrollback: 5000,
      theme: THEME,
      allowProposedApi: false,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    try {
      fit.fit();
    } catch {
      // not laid out yet; the ResizeObserver fits it later
    }
    termRef.current = term;
    const decode = utf8Stream();

    const stream = terminalOpen(
      { containerId, cmd: cmdKey === "null" ? null : (JSON.parse(cmdKey) as string[]), cols: term.cols, rows: term.rows },
      (out) => {
        if (out.kind === "data") {
          const bytes = decodeBase64(out.data);
          term.write(bytes);
          callbacks.current.onText?.(decode(bytes));
        } else {
          idRef.current = null;
          term.write(`\r\n\x1b[2m[process exited${out.code === null ? "" : ` with code ${out.code}`}]\x1b[0m\r\n`);
          setPhase({ kind: "exited", code: out.code });
        }
      },
    );
    stream.ready.then(
      (id) => {
        idRef.current = id;
        setPhase({ kind: "open" });
        term.focus();
        if (queued.current) {
          void terminalInput(id, queued.current).catch(() => undefined);
          queued.current = "";
        }
        // The size may have changed while the exec was being set up.
        void terminalResize(id, term.cols, term.rows).catch(() => undefined);
      },
      (e) => setPhase({ kind: "error", message: errorMessage(e) }),
    );

    const input = term.onData((data) => {
      callbacks.current.onInput?.(data);
      if (idRef.current !== null) void terminalInput(idRef.current, data).catch(() => undefined);
    });

    let frame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const before = `${term.cols}x${term.rows}`;
        try {
          fit.fit();
        } catch {
          return;
        }
        if (idRef.current !== null && before !== `${term.cols}x${term.rows}`) {
          void terminalResize(idRef.current, term.cols, term.rows).catch(() => undefined);
        }
      });
    });
    observer.observe(el);

    return () => {
      cancelAnimationFrame(frame);
      observer.disconnect();
      input.dispose();
      stream.cancel();
      idRef.current = null;
      termRef.current = null;
      // xterm's viewport queues a setTimeout(0) when opened; disposing before it ran makes it
      // throw "reading 'dimensions'" (StrictMode mounts twice at once). Timers run in order.
      setTimeout(() => term.dispose(), 0);
    };
  }, [containerId, cmdKey, attempt]);

  return (
    <div className="terminal-wrap" data-testid={testId} data-state={phase.kind}>
      {phase.kind === "error" && (
        <Banner tone="danger" title="Could not open a terminal" action={<Button size="sm" onClick={() => setAttempt((a) => a + 1)}>Try again</Button>}>
          {phase.message}
        </Banner>
      )}
      <div className="terminal-frame">
        {phase.kind === "connecting" && (
          <div className="terminal-overlay">
            <Spinner /> Connecting…
          </div>
        )}
        <div className="terminal-host" ref={host} />
      </div>
      {phase.kind === "exited" && (
        <div className="terminal-footer">
          <span>The shell ended{phase.code === null ? "" : ` with code ${phase.code}`}.</span>
          <Button size="sm" icon={<RotateCcw size={14} />} onClick={() => setAttempt((a) => a + 1)}>
            New session
          </Button>
        </div>
      )}
    </div>
  );
});
