// Image retention planned as data: which tags a service drops, what a deleted service leaves (nothing it built),
// and how much dangling build cache goes to meet the budget. Plus the build log reader that finds stage images.
import { describe, expect, test } from "bun:test";
import { planCachePrune, planRemoval, planRetention, type RetainedDeployment } from "../../../src/core/deploy/retention-plan.ts";
import { StageTracker } from "../../../src/runtime/build-stages.ts";
import type { DeploymentStatus } from "../../../src/store/deployments.ts";

const REPO = "staxa/acme-web";
/** Deployment n of the service, built (its image is its own tag) unless `image` says otherwise. */
const dep = (n: number, status: DeploymentStatus, image: string | null = `${REPO}:d${n}`): RetainedDeployment => ({
  id: `dep_d${n}`,
  status,
  image,
  tag: `${REPO}:d${n}`,
});
/** The local tag of deployment n (`id` = its image id), and of its build's stage 1. */
const tag = (n: number, id = `sha256:i${n}`) => ({ ref: `${REPO}:d${n}`, id, created: 1000 + n });
const stage = (n: number) => ({ ref: `${REPO}:d${n}-stage1`, id: `sha256:s${n}`, created: 1000 + n });

describe("planRetention", () => {
  const rows: ReadonlyArray<{
    name: string;
    deployments: RetainedDeployment[];
    live: string | null;
    observed: ReturnType<typeof tag>[];
    keep: number;
    remove: string[];
  }> = [
    {
      name: "keeps the last N successful, drops older ones with their stage tags",
      deployments: [
        dep(6, "succeeded"),
        dep(5, "succeeded"),
        dep(4, "succeeded"),
        dep(3, "succeeded"),
        dep(2, "succeeded"),
        dep(1, "succeeded"),
      ],
      live: "sha256:i6",
      observed: [tag(1), stage(1), tag(2), tag(3), tag(4), tag(5), tag(6), stage(6)],
      keep: 3,
      remove: [`${REPO}:d1`, `${REPO}:d1-stage1`, `${REPO}:d2`, `${REPO}:d3`],
    },
    {
      name: "failed deployments do not count toward N and their images go",
      deployments: [dep(4, "failed"), dep(3, "succeeded"), dep(2, "failed"), dep(1, "succeeded")],
      live: "sha256:i3",
      observed: [tag(1), tag(2), tag(3), tag(4)],
      keep: 2,
      remove: [`${REPO}:d2`, `${REPO}:d4`],
    },
    {
      name: "a rollback keeps the image it rolled back to, however old",
      deployments: [
        dep(5, "succeeded", `${REPO}:d1`),
        dep(4, "succeeded"),
        dep(3, "succeeded"),
        dep(2, "succeeded"),
        dep(1, "succeeded"),
      ],
      live: "sha256:i1",
      observed: [tag(1), tag(2), tag(3), tag(4)],
      keep: 2,
      remove: [`${REPO}:d2`, `${REPO}:d3`],
    },
    {
      name: "the live image stays even beyond N (its deployment scrolled out)",
      deployments: [dep(3, "succeeded"), dep(2, "succeeded"), dep(1, "succeeded")],
      live: "sha256:i1",
      observed: [tag(1), tag(2), tag(3)],
      keep: 1,
      remove: [`${REPO}:d2`],
    },
    {
      name: "an active deployment keeps its own tag (mid-build) and the image it reuses",
      deployments: [dep(4, "building"), dep(3, "queued", `${REPO}:d1`), dep(2, "succeeded"), dep(1, "succeeded")],
      live: "sha256:i2",
      observed: [tag(1), tag(2), tag(4)],
      keep: 1,
      remove: [],
    },
    {
      name: "tags of deployments it does not know are left alone (another tenant's repository of the same name)",
      deployments: [dep(2, "succeeded"), dep(1, "succeeded")],
      live: "sha256:i2",
      observed: [tag(1), tag(2), { ref: `${REPO}:zz9`, id: "sha256:other", created: 1 }],
      keep: 1,
      remove: [`${REPO}:d1`],
    },
    {
      name: "pulled images are never ours to remove",
      deployments: [dep(2, "succeeded", "nginx:1"), dep(1, "succeeded", "nginx:1")],
      live: "sha256:n",
      observed: [],
      keep: 1,
      remove: [],
    },
  ];
  for (const r of rows)
    test(r.name, () =>
      expect(planRetention({ liveImage: r.live, deployments: r.deployments }, r.observed, r.keep)).toEqual(r.remove),
    );

  test("an identical build shared by two deployments: both tags are ours, both go when unkept", () => {
    const deployments = [dep(3, "succeeded"), dep(2, "succeeded"), dep(1, "succeeded")];
    expect(
      planRetention({ liveImage: "sha256:i3", deployments }, [tag(1, "sha256:same"), tag(2, "sha256:same"), tag(3)], 1),
    ).toEqual([`${REPO}:d1`, `${REPO}:d2`]);
  });
});

describe("planRemoval", () => {
  test("a deleted service's every tag goes, rollbacks and stage tags included; others' stay", () => {
    const deployments = [dep(4, "succeeded", `${REPO}:d1`), dep(3, "failed"), dep(2, "succeeded"), dep(1, "succeeded")];
    const observed = [tag(1), stage(1), tag(2), tag(3), { ref: `${REPO}:zz9`, id: "sha256:other", created: 1 }];
    expect(planRemoval(deployments, observed)).toEqual([`${REPO}:d1`, `${REPO}:d1-stage1`, `${REPO}:d2`, `${REPO}:d3`]);
  });
});

describe("planCachePrune", () => {
  const MB = 1024 * 1024;
  const disk = (buildCacheMb: number, ...dangling: Array<[created: number, mb: number]>) => ({
    imagesBytes: 0,
    buildCacheBytes: buildCacheMb * MB,
    dangling: dangling.map(([created, mb], i) => ({ id: `d${i}`, created, bytes: mb * MB })),
  });
  const rows = [
    {
      name: "under budget: nothing",
      disk: disk(0, [100, 10], [200, 10]),
      budget: 50,
      want: { pruneBefore: null, buildKitKeepBytes: 30 * MB },
    },
    {
      name: "over budget: oldest first until under",
      disk: disk(0, [300, 10], [100, 30], [200, 20]),
      budget: 25,
      want: { pruneBefore: 201, buildKitKeepBytes: 15 * MB },
    },
    {
      name: "images within the grace stay even over budget",
      disk: disk(0, [100, 10], [950, 40]),
      budget: 5,
      want: { pruneBefore: 101, buildKitKeepBytes: 0 },
    },
    {
      name: "BuildKit over budget: its records pruned to what the dangling images leave",
      disk: disk(80, [100, 10]),
      budget: 50,
      want: { pruneBefore: 101, buildKitKeepBytes: 50 * MB },
    },
    {
      name: "budget 0: everything old enough",
      disk: disk(5, [100, 1], [200, 1]),
      budget: 0,
      want: { pruneBefore: 201, buildKitKeepBytes: 0 },
    },
  ];
  for (const r of rows) test(r.name, () => expect(planCachePrune(r.disk, r.budget * MB, 900)).toEqual(r.want));

  test("low disk: every dangling image past the grace, BuildKit emptied, whatever the budget", () => {
    expect(planCachePrune(disk(5, [100, 1], [950, 1]), 1000 * MB, 900, true)).toEqual({ pruneBefore: 900, buildKitKeepBytes: 0 });
  });
});

describe("StageTracker", () => {
  const log = (lines: string) => {
    const t = new StageTracker();
    for (const l of lines.trim().split("\n")) t.line(l);
    return t;
  };
  test("finds the image each earlier stage ended on, not the final one, not a bare FROM's base", () => {
    const t = log(`
Step 1/8 : FROM staxa-test/busybox:latest AS build
 ---> cb6187e82860
Step 2/8 : RUN echo hi > /x
 ---> Running in 856c22d705bf
Removing intermediate container 856c22d705bf
 ---> f3a528aad830
Step 3/8 : FROM staxa-test/busybox:latest AS bare
 ---> cb6187e82860
Step 4/8 : FROM staxa-test/busybox:latest AS mid
 ---> cb6187e82860
Step 5/8 : RUN echo mid > /y
 ---> Using cache
 ---> 0ea3a59854e3
Step 6/8 : FROM staxa-test/busybox:latest
 ---> cb6187e82860
Step 7/8 : COPY --from=build /x /x
 ---> b3267a3a8c85
Step 8/8 : CMD ["cat","/x"]
 ---> 7e6f41b0f46d
Successfully built 7e6f41b0f46d`);
    expect(t.stages("sha256:7e6f41b0f46d388f6133d0a461ca7e35da93f7b0a4b62a21f4d6eaa096bc77bd")).toEqual([
      "f3a528aad830",
      "0ea3a59854e3",
    ]);
  });
  test("a single-stage build has no stages to tag", () => {
    expect(log("Step 1/2 : FROM a\n ---> aaaaaaaaaaaa\nStep 2/2 : CMD x\n ---> bbbbbbbbbbbb").stages("bbbbbbbbbbbb")).toEqual([]);
  });
});
