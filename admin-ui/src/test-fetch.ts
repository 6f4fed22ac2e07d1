import { vi } from "vitest";

/** A fake broker for component tests: routes "METHOD path" to a status and JSON body, and records calls. */
export function fakeBroker(routes: Record<string, (body: unknown, url: string) => [number, unknown?]>) {
  const calls: { method: string; url: string; body: unknown; headers: Record<string, string> }[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? "GET";
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, url, body, headers: (init?.headers ?? {}) as Record<string, string> });
    const path = url.split("?")[0];
    const handler = routes[`${method} ${path}`];
    const [status, json] = handler ? handler(body, url) : [404, { title: "Not found", status: 404, detail: "No such route." }];
    const problem = status >= 400;
    return new Response(status === 204 ? null : JSON.stringify(json ?? {}), {
      status,
      headers: { "Content-Type": problem ? "application/problem+json" : "application/json" },
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}
