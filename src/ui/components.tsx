/** Small building blocks every page uses: loading state, messages in words, busy buttons, a confirm dialog. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from './api';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now, whenever one of `deps` changes (the caller lists what `load` reads), and on reload(); keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (!live) return;
        setError(messageOf(failure));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, loading, reload: useCallback(() => setTick((n) => n + 1), []) };
}

export function messageOf(failure: unknown): string {
  if (failure instanceof ApiFailure) return failure.message;
  return failure instanceof Error ? failure.message : String(failure);
}

/** A message in words: errors are announced at once (role=alert), the rest politely. */
export function Notice({ kind, children }: { kind: 'error' | 'ok' | 'info'; children: ComponentChildren }) {
  return (
    <p class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  );
}

export function LoadState<T>({ loaded, what }: { loaded: Loaded<T>; what: string }) {
  if (loaded.error) return <Notice kind="error">Could not load {what}: {loaded.error}</Notice>;
  if (loaded.loading && loaded.data === null) return <Notice kind="info">Loading {what}…</Notice>;
  return null;
}

/** A button that runs an async action, says it is busy meanwhile, and reports failure in words. */
export function ActionButton(props: {
  label: string;
  busyLabel: string;
  run: () => Promise<void>;
  onError: (message: string) => void;
  kind?: 'primary' | 'danger' | 'plain';
  disabled?: boolean;
  ariaLabel?: string;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class={`btn btn-${props.kind ?? 'plain'}`}
      disabled={busy || props.disabled}
      aria-busy={busy}
      aria-label={busy ? undefined : props.ariaLabel}
      onClick={async () => {
        setBusy(true);
        try {
          await props.run();
        } catch (failure) {
          props.onError(messageOf(failure));
        } finally {
          setBusy(false);
        }
      }}
    >
      {busy ? props.busyLabel : props.label}
    </button>
  );
}

/** A modal <dialog>: focus moves into it, Escape closes it, focus returns afterwards (the browser does this). */
export function Modal({ title, open, onClose, children }: { title: string; open: boolean; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-label={title} onClose={onClose} onCancel={onClose}>
      <h2>{title}</h2>
      {open ? children : null}
    </dialog>
  );
}

/** Asks before a destructive action; the action's progress and failure show inside the dialog. */
export function ConfirmDialog(props: { title: string; body: string; confirmLabel: string; busyLabel: string; open: boolean; onClose: () => void; onConfirm: () => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal title={props.title} open={props.open} onClose={() => (setError(null), props.onClose())}>
      <p>{props.body}</p>
      {error ? <Notice kind="error">{error}</Notice> : null}
      <div class="row">
        <ActionButton
          kind="danger"
          label={props.confirmLabel}
          busyLabel={props.busyLabel}
          onError={setError}
          run={async () => {
            await props.onConfirm();
            setError(null);
            props.onClose();
          }}
        />
        <button type="button" class="btn btn-plain" onClick={() => (setError(null), props.onClose())}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}

/** A labelled percentage bar (role=meter, so screen readers read the value). */
export function Meter({ label, percent, detail }: { label: string; percent: number; detail: string }) {
  const level = percent >= 90 ? 'high' : percent >= 70 ? 'mid' : 'low';
  return (
    <div class="meter">
      <div class="meter-head">
        <span>{label}</span>
        <span>{Math.round(percent)}% used</span>
      </div>
      <div class="meter-track" role="meter" aria-label={`${label} quota used`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(percent)}>
        <div class={`meter-fill meter-${level}`} style={{ width: `${percent}%` }} />
      </div>
      <div class="meter-detail">{detail}</div>
    </div>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <button
      type="button"
      class="btn btn-plain"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setState('copied');
        } catch {
          setState('failed');
        }
      }}
    >
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select the text and copy it' : label}
    </button>
  );
}
