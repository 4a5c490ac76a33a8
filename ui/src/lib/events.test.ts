import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Debouncer, refreshTopics } from "./events";

describe("refreshTopics", () => {
  const topics = (Type: string, Action: string) => [...refreshTopics({ Type, Action })].sort();
  it.each([
    ["container", "start", ["containers"]],
    ["container", "die", ["containers"]],
    ["container", "health_status: healthy", ["containers"]],
    ["container", "destroy", ["containers", "images", "volumes"]],
    ["container", "exec_start: sh", []],
    ["container", "exec_create: sh", []],
    ["image", "pull", ["images"]],
    ["image", "delete", ["images"]],
    ["volume", "create", ["volumes"]],
    ["volume", "mount", ["volumes"]],
    ["network", "connect", []],
    // The backend reconnected its stream: events may have been missed.
    ["daemon", "reload", ["containers", "images", "volumes"]],
  ])("%s %s -> %j", (type, action, expected) => expect(topics(type, action)).toEqual(expected));
});

describe("Debouncer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs once after a burst", () => {
    const fn = vi.fn();
    const d = new Debouncer(fn, 200, 1000);
    d.schedule();
    vi.advanceTimersByTime(100);
    d.schedule();
    vi.advanceTimersByTime(100);
    d.schedule();
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(200);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(d.pending).toBe(false);
  });

  it("still runs during an endless burst, at the cap", () => {
    const fn = vi.fn();
    const d = new Debouncer(fn, 200, 1000);
    for (let i = 0; i < 30; i += 1) {
      d.schedule();
      vi.advanceTimersByTime(100);
    }
    expect(fn.mock.calls.length).toBeGreaterThanOrEqual(2);
  });

  it("can be cancelled", () => {
    const fn = vi.fn();
    const d = new Debouncer(fn, 200);
    d.schedule();
    d.cancel();
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
  });
});
