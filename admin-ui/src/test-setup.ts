import { afterEach } from "vitest";
import { cleanup } from "@testing-library/react";

// Testing Library cleans up by itself only when the test runner exposes globals; vitest does not by default.
afterEach(() => cleanup());
