// Dates and expiry states as the security team reads them.

export type ExpiryState = "ok" | "warning" | "expired";

const DAY = 24 * 60 * 60 * 1000;

/** ok, warning (less than 30 days left, when the broker starts alerting) or expired. */
export function expiryState(expiresAt: string, now: Date = new Date()): ExpiryState {
  const left = new Date(expiresAt).getTime() - now.getTime();
  if (left <= 0) return "expired";
  if (left < 30 * DAY) return "warning";
  return "ok";
}

/** "in 12 days", "3 days ago", "in 5 hours". */
export function relative(iso: string, now: Date = new Date()): string {
  const ms = new Date(iso).getTime() - now.getTime();
  const abs = Math.abs(ms);
  const [value, unit] =
    abs >= 2 * DAY ? [Math.round(abs / DAY), "days"] : abs >= 2 * 3600_000 ? [Math.round(abs / 3600_000), "hours"] : [Math.max(1, Math.round(abs / 60_000)), "minutes"];
  return ms >= 0 ? `in ${value} ${unit}` : `${value} ${unit} ago`;
}

/** A date and time in the reader's locale, with the zone, so nobody guesses UTC vs local. */
export function dateTime(iso: string | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
}

export function stateLabel(state: ExpiryState): string {
  return state === "ok" ? "OK" : state === "warning" ? "Expires soon" : "Expired";
}
