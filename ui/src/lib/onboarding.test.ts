import { describe, expect, it } from "vitest";
import type { ContainerSummary } from "../api/types";
import {
  canGoNext, completeStep, findCliEvent, goTo, isCliEvent, openTour, pageHasToken, shouldAutoOpen,
  skipTour, finishTour, TerminalCheck, tutorialContainers, tutorialPage, greetingSeen, GREETING,
} from "./onboarding";

describe("onboarding state machine", () => {
  it("opens on first launch only", () => {
    expect(shouldAutoOpen({ completed: false, skipped: false, step: 1 })).toBe(true);
    expect(shouldAutoOpen({ completed: false, skipped: true, step: 3 })).toBe(false);
    expect(shouldAutoOpen({ completed: true, skipped: false, step: 7 })).toBe(false);
  });

  it("resumes at the saved step, and restarts a finished tour", () => {
    expect(openTour({ completed: false, skipped: true, step: 4 }).current).toBe(4);
    expect(openTour({ completed: true, skipped: false, step: 7 }).current).toBe(1);
    expect(openTour({ completed: false, skipped: false, step: 99 }).current).toBe(7);
  });

  it("saves after each step and needs the step done before Next", () => {
    let tour = openTour({ completed: false, skipped: false, step: 1 });
    expect(canGoNext(tour)).toBe(false);
    const r = completeStep(tour, 1);
    expect(r.persist).toEqual({ completed: false, skipped: false, step: 2 });
    tour = r.tour;
    expect(canGoNext(tour)).toBe(true);
    tour = goTo(tour, 2);
    expect(canGoNext(tour)).toBe(false);
  });

  it("does not move the saved step backwards when a step is redone", () => {
    const tour = openTour({ completed: false, skipped: false, step: 5 });
    expect(completeStep(goTo(tour, 2), 2).persist.step).toBe(5);
  });

  it("completes after step 7, skips keeping the place", () => {
    const tour = goTo(openTour({ completed: false, skipped: false, step: 7 }), 7);
    expect(completeStep(tour, 7).persist).toEqual({ completed: true, skipped: false, step: 7 });
    expect(skipTour(goTo(tour, 3)).persist).toEqual({ completed: false, skipped: true, step: 3 });
    expect(skipTour(tour).tour.open).toBe(false);
    expect(finishTour(tour).persist.completed).toBe(true);
  });
});

describe("step checks", () => {
  it("step 2 finds the greeting", () => {
    expect(greetingSeen(["x", `${GREETING}`])).toBe(true);
    expect(greetingSeen(["nothing"])).toBe(false);
  });

  it("step 4 writes a page carrying the token, escaped", () => {
    const page = tutorialPage("<b>Hi</b> & bye", "berth-abc");
    expect(page).toContain("&lt;b&gt;Hi&lt;/b&gt; &amp; bye");
    expect(pageHasToken(page, "berth-abc")).toBe(true);
    expect(pageHasToken("<html>old</html>", "berth-abc")).toBe(false);
  });

  it("step 5 needs real output of an entered command", () => {
    const t = new TerminalCheck();
    expect(t.feed("/ # ")).toBe(false);
    t.input("l");
    t.input("s\r");
    expect(t.feed("ls\r\n")).toBe(false); // the echo
    expect(t.feed("bin   dev   etc\r\n/ # ")).toBe(true);
  });

  it("step 5 ignores a command without output and a bare prompt", () => {
    const t = new TerminalCheck();
    t.input("cd /tmp\r");
    expect(t.feed("\r\n/tmp # ")).toBe(false);
    expect(t.feed("\u001b[6n")).toBe(false);
  });

  it("step 5 accepts the suggested command's answer", () => {
    const t = new TerminalCheck();
    t.input('echo "Berth says $((6 * 7))"\r');
    expect(t.feed('echo "Berth says $((6 * 7))"\r\n')).toBe(false);
    expect(t.feed("Berth says 42\r\n/ # ")).toBe(true);
  });

  it("step 6 wants a docker CLI request after the step began", () => {
    const since = 1000;
    expect(isCliEvent({ kind: "docker-client", message: "Docker-Client/28.3.0 (linux)", unixMs: 1500 }, since)).toBe(true);
    expect(isCliEvent({ kind: "docker-client", message: "Docker-Client/28.3.0 (linux)", unixMs: 900 }, since)).toBe(false);
    expect(isCliEvent({ kind: "docker-client", message: "berth-app/0.1", unixMs: 1500 }, since)).toBe(false);
    expect(isCliEvent({ kind: "phase", message: "Docker-Client/1", unixMs: 1500 }, since)).toBe(false);
    expect(findCliEvent([{ kind: "docker-client", message: "Docker-Client/1", unixMs: 2000 }], since)?.unixMs).toBe(2000);
  });

  it("step 7 finds the tutorial's containers only", () => {
    const mk = (name: string) => ({ Id: name, Names: [`/${name}`], Image: "", Created: 0, State: "running", Status: "", Ports: [] }) as ContainerSummary;
    expect(tutorialContainers([mk("berth-tutorial-web"), mk("mine"), mk("berth-tutorial-hello")]).map((c) => c.Id)).toEqual([
      "berth-tutorial-web",
      "berth-tutorial-hello",
    ]);
  });
});
