import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import { ApiError } from "./api";
import { ProblemView } from "./components/common";
import { expiryState, relative } from "./format";

describe("ProblemView", () => {
  it("says what went wrong in plain words, field by field", () => {
    render(
      <ProblemView
        error={new ApiError(400, {
          title: "Invalid request",
          detail: "The request has invalid fields: expires_at.",
          errors: { expires_at: "must be in the future" },
          request_id: "req_123",
        })}
      />,
    );
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("Invalid request");
    expect(alert.textContent).toContain("The request has invalid fields: expires_at.");
    expect(alert.textContent).toContain("expires_at: must be in the future");
    expect(alert.textContent).toContain("req_123");
  });

  it("renders nothing without an error", () => {
    const { container } = render(<ProblemView error={null} />);
    expect(container.innerHTML).toBe("");
  });
});

describe("expiryState", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  it("is ok beyond 30 days, a warning within, expired after", () => {
    expect(expiryState("2026-03-01T00:00:00Z", now)).toBe("ok");
    expect(expiryState("2026-01-30T00:00:00Z", now)).toBe("warning");
    expect(expiryState("2025-12-31T23:59:59Z", now)).toBe("expired");
    expect(relative("2026-01-11T00:00:00Z", now)).toBe("in 10 days");
    expect(relative("2025-12-29T00:00:00Z", now)).toBe("3 days ago");
  });
});
