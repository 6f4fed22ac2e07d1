import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { ApiError, type Problem } from "../api";
import { expiryState, relative, stateLabel, dateTime } from "../format";

/** A failed call in plain words: the problem's title, detail, each invalid field, and the request id. */
export function ProblemView({ error }: { error: unknown }) {
  if (!error) return null;
  const problem: Problem =
    error instanceof ApiError ? error.problem : { title: "Something went wrong", detail: String((error as Error)?.message ?? error) };
  const errors = problem.errors ? Object.entries(problem.errors) : [];
  return (
    <div className="problem" role="alert">
      <strong>{problem.title ?? "Request failed"}</strong>
      {problem.detail && <p>{problem.detail}</p>}
      {errors.length > 0 && (
        <ul>
          {errors.map(([field, message]) => (
            <li key={field}>
              <code>{field}</code>: {message}
            </li>
          ))}
        </ul>
      )}
      {problem.request_id && <p className="muted">Request id: {problem.request_id}</p>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** Copies a value to the clipboard; says so for screen readers too. */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };
  return (
    <button type="button" className="secondary" onClick={copy} aria-label={label}>
      {copied ? "Copied" : "Copy"}
      <span className="sr-only" aria-live="polite">
        {copied ? " copied to the clipboard" : ""}
      </span>
    </button>
  );
}

export function ExpiryBadge({ expiresAt }: { expiresAt: string }) {
  const state = expiryState(expiresAt);
  return (
    <span className={`badge ${state}`} title={dateTime(expiresAt)}>
      {stateLabel(state)} · {relative(expiresAt)}
    </span>
  );
}

/** Loads data for a page and reloads it on demand; keeps the last error for ProblemView. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  // The caller's deps decide when to load again, as with useEffect.
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const value = await load();
      if (mine === generation.current) {
        setData(value);
        setError(null);
      }
    } catch (e) {
      if (mine === generation.current) setError(e);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload, setData };
}

/** Runs one action at a time for a form or button, keeping its error. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}
