import { RotateCw, Save, Undo2 } from "lucide-react";
import { useEffect, useState } from "react";
import { engineRestart, errorMessage, settingsGet, settingsSet, type Settings, type SettingsResult } from "../../api";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { PageHeader } from "../../components/PageHeader";
import { Spinner } from "../../components/Spinner";
import { usePending } from "../../hooks/usePending";
import { formatMib } from "../../lib/format";
import { exposesToNetwork, settingsEqual, validateSettings } from "../../lib/settings";
import { useEngine } from "../../state/engine";
import { useToasts } from "../../state/toasts";
import { ListInput } from "./ListInput";
import { SettingRow } from "./SettingRow";
import { SharesEditor } from "./SharesEditor";

const HOST_CPUS = typeof navigator !== "undefined" && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 8;

export function SettingsView() {
  const [saved, setSaved] = useState<Settings | null>(null);
  const [form, setForm] = useState<Settings | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [result, setResult] = useState<SettingsResult | null>(null);
  const { run, isPending } = usePending();
  const { push } = useToasts();
  const { status } = useEngine();

  useEffect(() => {
    settingsGet()
      .then((s) => {
        setSaved(s);
        setForm(s);
      })
      .catch((e) => setLoadError(errorMessage(e)));
  }, []);

  if (loadError) return <div className="page"><PageHeader title="Settings" /><Banner tone="danger" title="Could not read the settings">{loadError}</Banner></div>;
  if (!form || !saved) return <div className="page"><PageHeader title="Settings" /><div className="log-placeholder"><Spinner size={14} /> Loading…</div></div>;

  const errors = validateSettings(form, Math.max(HOST_CPUS, saved.cpus));
  const dirty = !settingsEqual(form, saved);
  const patch = (p: Partial<Settings>) => {
    setForm({ ...form, ...p });
    setResult(null);
  };
  const memMax = Math.max(32768, saved.memoryMib);

  const save = () =>
    run("save", async () => {
      setSaveError(null);
      try {
        const r = await settingsSet(form);
        setSaved(form);
        setResult(r);
        push({ tone: "success", title: "Settings saved" });
      } catch (e) {
        setSaveError(errorMessage(e));
      }
    });

  return (
    <div className="page page-narrow" data-testid="view-settings">
      <PageHeader
        title="Settings"
        subtitle="Resources of the Linux VM, shared folders and networking."
        actions={
          <>
            <Button variant="ghost" icon={<Undo2 size={15} />} disabled={!dirty} onClick={() => (setForm(saved), setResult(null), setSaveError(null))}>
              Revert
            </Button>
            <Button variant="primary" icon={<Save size={15} />} disabled={!dirty || Object.keys(errors).length > 0} pending={isPending("save")} onClick={() => void save()} testId="settings-save">
              Save
            </Button>
          </>
        }
      />
      {saveError && <Banner tone="danger" title="The settings were not saved" testId="settings-error">{saveError}</Banner>}
      {result && (result.needsRestart || result.notes.length > 0) && (
        <Banner
          tone={result.needsRestart ? "warning" : "info"}
          title={result.needsRestart ? "Restart needed" : "Saved"}
          testId="settings-result"
          action={
            result.needsRestart && (
              <Button variant="primary" size="sm" icon={<RotateCw size={14} />} pending={isPending("restart")} disabled={!status?.daemonRunning} onClick={() => void run("restart", engineRestart, { errorTitle: "Could not restart the engine" }).then((ok) => ok && setResult(null))} testId="settings-restart">
                Restart now
              </Button>
            )
          }
        >
          {result.needsRestart && <p>Some changes take effect when the VM restarts. Your containers, images and volumes are kept.</p>}
          {result.notes.length > 0 && (
            <ul className="notes">
              {result.notes.map((n, i) => (
                <li key={i}>{n}</li>
              ))}
            </ul>
          )}
        </Banner>
      )}

      <section className="card settings-section">
        <h2>Resources</h2>
        <SettingRow label="CPUs" hint={<>Cores the VM may use. This computer has {HOST_CPUS}.</>} error={errors.cpus}>
          <input type="range" min={1} max={Math.max(HOST_CPUS, saved.cpus)} step={1} value={form.cpus} onChange={(e) => patch({ cpus: Number(e.target.value) })} aria-label="CPUs" />
          <span className="setting-value">{form.cpus}</span>
        </SettingRow>
        <SettingRow label="Memory" hint="Memory the VM may use; the engine and your containers share it." error={errors.memoryMib}>
          <input type="range" min={512} max={memMax} step={512} value={form.memoryMib} onChange={(e) => patch({ memoryMib: Number(e.target.value) })} aria-label="Memory" />
          <span className="setting-value">{formatMib(form.memoryMib)}</span>
        </SettingRow>
        <SettingRow label="Disk size" hint="The data disk for images, containers and volumes. It can grow, not shrink." error={errors.diskSizeGib}>
          <input type="number" min={8} step={1} value={form.diskSizeGib} onChange={(e) => patch({ diskSizeGib: Number(e.target.value) })} aria-label="Disk size in GiB" className="input-num" />
          <span className="setting-value">GiB</span>
        </SettingRow>
      </section>

      <section className="card settings-section">
        <h2>Shared folders</h2>
        <p className="setting-hint">
          Folders of this computer that containers can mount. Each is mounted in the VM at the same path, so <code>-v /your/path:/data</code> just works.
        </p>
        <SharesEditor shares={form.shares} onChange={(shares) => patch({ shares })} />
        {errors.shares && <div className="field-error">{errors.shares}</div>}
      </section>

      <section className="card settings-section">
        <h2>Registries</h2>
        <SettingRow label="Insecure registries" hint={<>Reached over plain HTTP or without checking their certificate, separated by commas. A registry on this computer is <code>host.berth.internal:PORT</code>.</>} error={errors.insecureRegistries}>
          <ListInput value={form.insecureRegistries} onChange={(insecureRegistries) => patch({ insecureRegistries })} placeholder="host.berth.internal:5000" label="Insecure registries" testId="settings-insecure" />
        </SettingRow>
        <SettingRow label="Registry mirrors" hint="Tried before Docker Hub for its images, separated by commas." error={errors.registryMirrors}>
          <ListInput value={form.registryMirrors} onChange={(registryMirrors) => patch({ registryMirrors })} placeholder="https://mirror.example.com" label="Registry mirrors" testId="settings-mirrors" />
        </SettingRow>
      </section>

      <section className="card settings-section">
        <h2>Network and startup</h2>
        <SettingRow label="Default bind address" hint={<>Where published ports listen when a command does not say (<code>-p 8080:80</code>).</>} error={errors.bindAddress}
          after={!errors.bindAddress && exposesToNetwork(form.bindAddress) && <Banner tone="warning">Published ports become reachable from other machines on your network.</Banner>}
        >
          <select value={["127.0.0.1", "0.0.0.0"].includes(form.bindAddress) ? form.bindAddress : "custom"} onChange={(e) => patch({ bindAddress: e.target.value === "custom" ? "" : e.target.value })} aria-label="Default bind address" data-testid="settings-bind">
            <option value="127.0.0.1">127.0.0.1 — this computer only</option>
            <option value="0.0.0.0">0.0.0.0 — every network</option>
            <option value="custom">Another address…</option>
          </select>
          {!["127.0.0.1", "0.0.0.0"].includes(form.bindAddress) && (
            <input className="mono input-addr" placeholder="192.168.1.10" value={form.bindAddress} onChange={(e) => patch({ bindAddress: e.target.value })} />
          )}
        </SettingRow>
        <SettingRow label="Start at login" hint="Start Berth and its engine when you log in.">
          <label className="switch">
            <input type="checkbox" checked={form.startAtLogin} onChange={(e) => patch({ startAtLogin: e.target.checked })} data-testid="settings-login" />
            <span className="switch-track" />
            {form.startAtLogin ? "On" : "Off"}
          </label>
        </SettingRow>
      </section>
    </div>
  );
}
