// Placeholder admin page: shows the broker's health until the real admin UI lands.
const target = document.getElementById("health");

async function showHealth(): Promise<void> {
  if (!target) return;
  try {
    const response = await fetch("/actuator/health", { headers: { Accept: "application/json" } });
    const body = (await response.json()) as { status?: string };
    target.textContent = body.status ?? "unknown";
  } catch {
    target.textContent = "unreachable";
  }
}

void showHealth();
