// Dashboard logic of the Jobs and Usage tabs: the command textarea is an argv (one argument per line, never split
// on spaces), and the sparkline's points scale to the limit given.
import { describe, expect, test } from "bun:test";
import { argvOf } from "../../../web/src/pages/tenant/jobs.tsx";
import { sparkPoints } from "../../../web/src/pages/tenant/usage.tsx";

describe("argvOf", () => {
  test("one argument per line, spaces and quotes kept, blank lines dropped", () => {
    expect(argvOf("sh\n-c\necho 'a b'; exit 3\n\n")).toEqual(["sh", "-c", "echo 'a b'; exit 3"]);
    expect(argvOf("node\r\ncron.js\r\n")).toEqual(["node", "cron.js"]);
  });
});

describe("sparkPoints", () => {
  test("values scaled to the max given: 0 at the bottom, the max at the top, spread over the width", () => {
    expect(sparkPoints([0, 50, 100], 100, 30, 100)).toBe("0.0,30.0 50.0,15.0 100.0,0.0");
  });
  test("without a max the largest value is the top; a value above the max given raises it; none is empty", () => {
    expect(sparkPoints([1, 2], 10, 10)).toBe("0.0,5.0 10.0,0.0");
    expect(sparkPoints([200], 10, 10, 100)).toBe("0.0,0.0");
    expect(sparkPoints([], 10, 10)).toBe("");
  });
});
