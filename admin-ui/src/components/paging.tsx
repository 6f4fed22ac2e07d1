import { useEffect, useState } from "react";
import { api, listPath, type App, type Page } from "../api";
import { useLoad } from "./common";

/** Rows per page of every table: a page the broker answers in one LIST and this many reads. */
export const PAGE_SIZE = 50;

/**
 * One page of a v1 list at a time, paged by the broker (`next_cursor`), never the whole list.
 * Next follows `next_cursor`; Previous goes back through the cursors seen on the way, since the
 * API only pages forward. Changing a filter starts again at the first page.
 */
export function usePagedList<P extends Page<unknown>>(path: string, filters: Record<string, string> = {}, limit = PAGE_SIZE) {
  const key = `${path}?${JSON.stringify(filters)}&${limit}`;
  // The cursor of each page visited, the first page's being undefined; kept per path and filters.
  const [walk, setWalk] = useState<{ key: string; cursors: (string | undefined)[] }>({ key, cursors: [undefined] });
  const cursors = walk.key === key ? walk.cursors : [undefined];
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => api.get<P>(listPath(path, filters, limit, cursor)), [key, cursor]);
  const nextCursor = page.data?.next_cursor;
  return {
    page: page.data,
    error: page.error,
    loading: page.loading,
    reload: page.reload,
    number: cursors.length,
    next: nextCursor ? () => setWalk({ key, cursors: [...cursors, nextCursor] }) : undefined,
    previous: cursors.length > 1 ? () => setWalk({ key, cursors: cursors.slice(0, -1) }) : undefined,
  };
}

export type PagedList = ReturnType<typeof usePagedList>;

/** Previous / Next under a table, with the page number for screen readers and the eye. */
export function Pager({ list, what }: { list: Pick<PagedList, "number" | "next" | "previous" | "loading">; what: string }) {
  if (!list.next && !list.previous) return null;
  return (
    <nav className="pager" aria-label={`Pages of ${what}`}>
      <button type="button" className="secondary" onClick={list.previous} disabled={!list.previous || list.loading}>
        Previous
      </button>
      <span aria-live="polite">Page {list.number}</span>
      <button type="button" className="secondary" onClick={list.next} disabled={!list.next || list.loading}>
        Next
      </button>
    </nav>
  );
}

/** A value that follows `value` once it has stopped changing for `ms`: typing does not ask the broker per key. */
export function useDebounced<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/**
 * The names of the apps a page shows, read one app each (`GET /v1/apps/{id}`), never the app list:
 * a page names at most as many apps as it has rows. Ids not named yet map to nothing.
 */
export function useAppNames(ids: string[]): Record<string, string> {
  const [names, setNames] = useState<Record<string, string>>({});
  const wanted = [...new Set(ids)].sort().join(" ");
  useEffect(() => {
    let current = true;
    const missing = wanted ? wanted.split(" ").filter((id) => !(id in names)) : [];
    missing.forEach((id) =>
      api
        .get<App>(`/v1/apps/${encodeURIComponent(id)}`)
        .then((app) => current && setNames((known) => ({ ...known, [id]: app.name })))
        .catch(() => undefined), // a deleted app keeps its id on screen
    );
    return () => {
      current = false;
    };
  }, [wanted]);
  return names;
}

/**
 * Chooses an app from the broker's pages of apps: the first page at once, more on request, so an
 * organisation with thousands of apps never loads them all. `anyLabel` adds an empty choice.
 */
export function AppPicker({ id, value, onChange, anyLabel, required }: { id: string; value: string; onChange: (appId: string) => void; anyLabel?: string; required?: boolean }) {
  const [apps, setApps] = useState<App[]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const page = useLoad(() => api.get<Page<App>>(listPath("/v1/apps", {}, 100, cursor)), [cursor]);
  useEffect(() => {
    if (!page.data) return;
    setApps((known) => [...known, ...page.data!.items.filter((a) => !known.some((k) => k.id === a.id))]);
    setNext(page.data.next_cursor);
  }, [page.data]);
  // Without an "any" choice the first app is chosen, so a form can be sent as it stands.
  useEffect(() => {
    if (!anyLabel && !value && apps[0]) onChange(apps[0].id);
  }, [apps, anyLabel, value]);
  return (
    <span className="app-picker">
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} required={required}>
        {anyLabel !== undefined && <option value="">{anyLabel}</option>}
        {anyLabel === undefined && apps.length === 0 && <option value="">{page.loading ? "Loading apps…" : "No app registered"}</option>}
        {apps.map((a) => (
          <option key={a.id} value={a.id}>
            {a.name}
          </option>
        ))}
      </select>
      {next && (
        <button type="button" className="secondary" onClick={() => setCursor(next)} disabled={page.loading}>
          More apps
        </button>
      )}
      {page.error ? <span className="muted small"> Apps could not be loaded.</span> : null}
    </span>
  );
}
