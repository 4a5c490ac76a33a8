import { ArrowDown, Search } from "lucide-react";
import { useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { containerLogs, errorMessage } from "../../api";
import { Banner } from "../../components/Banner";
import { Spinner } from "../../components/Spinner";
import { appendBounded, cleanLine, countMatches, filterEntries, highlight, shortTimestamp, splitTimestamp, type LogEntry } from "../../lib/logs";

const MAX_LINES = 5000;
const TAIL = 1000;

function Line({ entry, query, timestamps }: { entry: LogEntry; query: string; timestamps: boolean }) {
  return (
    <div className={`log-line log-${entry.stream}`}>
      {timestamps && entry.ts && <span className="log-ts" title={entry.ts}>{shortTimestamp(entry.ts)}</span>}
      <span className="log-text">
        {highlight(entry.text, query).map((s, i) => (s.match ? <mark key={i}>{s.text}</mark> : <span key={i}>{s.text}</span>))}
      </span>
    </div>
  );
}

export function LogsTab({ id, running }: { id: string; running: boolean }) {
  const [follow, setFollow] = useState(true);
  const [timestamps, setTimestamps] = useState(false);
  const [query, setQuery] = useState("");
  const [onlyMatches, setOnlyMatches] = useState(false);
  const [entries, setEntries] = useState<LogEntry[]>([]);
  const [state, setState] = useState<"loading" | "streaming" | "ended" | "error">("loading");
  const [error, setError] = useState<string | null>(null);
  const [stuck, setStuck] = useState(true);
  const scroller = useRef<HTMLDivElement>(null);
  const deferredQuery = useDeferredValue(query);

  // A stopped container's follow ends at once; re-open when it starts again.
  useEffect(() => {
    setEntries([]);
    setError(null);
    setState("loading");
    let seq = 0;
    let queue: LogEntry[] = [];
    let frame = 0;
    const flush = () => {
      frame = 0;
      const batch = queue;
      queue = [];
      setEntries((prev) => appendBounded(prev, batch, MAX_LINES));
    };
    const stream = containerLogs(id, { follow, timestamps, tail: TAIL }, (m) => {
      if (m.kind === "end") {
        setState("ended");
        return;
      }
      const { ts, text } = splitTimestamp(cleanLine(m.text));
      queue.push({ seq: seq++, stream: m.stream, ts, text });
      if (!frame) frame = requestAnimationFrame(flush);
    });
    stream.ready.then(
      () => setState((s) => (s === "loading" ? (follow ? "streaming" : s) : s)),
      (e) => {
        setError(errorMessage(e));
        setState("error");
      },
    );
    return () => {
      stream.cancel();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [id, follow, timestamps, running]);

  const shown = useMemo(() => filterEntries(entries, deferredQuery, onlyMatches), [entries, deferredQuery, onlyMatches]);
  const matches = useMemo(() => countMatches(entries, deferredQuery), [entries, deferredQuery]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stuck) el.scrollTop = el.scrollHeight;
  }, [shown, stuck]);

  return (
    <div className="logs">
      <div className="toolbar">
        <label className="search search-sm">
          <Search size={14} />
          <input type="search" placeholder="Search logs" value={query} onChange={(e) => setQuery(e.target.value)} data-testid="logs-search" />
        </label>
        {deferredQuery && <span className="muted toolbar-note">{matches} matching {matches === 1 ? "line" : "lines"}</span>}
        <label className="check">
          <input type="checkbox" checked={onlyMatches} onChange={(e) => setOnlyMatches(e.target.checked)} data-testid="logs-filter" />
          Only matches
        </label>
        <span className="toolbar-spacer" />
        <label className="switch">
          <input type="checkbox" checked={timestamps} onChange={(e) => setTimestamps(e.target.checked)} data-testid="logs-timestamps" />
          <span className="switch-track" />
          Timestamps
        </label>
        <label className="switch">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} data-testid="logs-follow" />
          <span className="switch-track" />
          Follow
        </label>
      </div>
      {error && <Banner tone="danger" title="Could not read the logs">{error}</Banner>}
      <div
        className="log-view"
        ref={scroller}
        data-testid="logs-view"
        data-state={state}
        onScroll={(e) => {
          const el = e.currentTarget;
          setStuck(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
        }}
      >
        {state === "loading" && entries.length === 0 && (
          <div className="log-placeholder">
            <Spinner size={14} /> Reading logs…
          </div>
        )}
        {state !== "loading" && entries.length === 0 && !error && <div className="log-placeholder">No output yet.</div>}
        {shown.map((e) => (
          <Line key={e.seq} entry={e} query={deferredQuery} timestamps={timestamps} />
        ))}
        {follow && state === "streaming" && running && <div className="log-live"><span className="status-dot status-dot-pulse" /> live</div>}
      </div>
      {!stuck && (
        <button type="button" className="jump-bottom" onClick={() => setStuck(true)}>
          <ArrowDown size={14} /> Latest
        </button>
      )}
    </div>
  );
}
