// The build policy's Dockerfile scanner: what the daemon would fetch on the host's network, or resolve to another
// provider's image, is refused with the line; ordinary Dockerfiles pass untouched.
import { describe, expect, test } from "bun:test";
import { assertDockerfileAllowed, dockerfileViolations } from "../../../src/build/dockerfile-policy.ts";
import { scanDockerfile } from "../../../src/build/dockerfile-scan.ts";
import { BuildPlanError } from "../../../src/build/types.ts";

const ID = "e72debc9b880228c84102125001f7c7d8f8182dd1913e94becf342bd66938f36";

// [name, Dockerfile, line of the (first) violation, a word the message must hold]
const REFUSED: Array<[string, string, number, string]> = [
  ["ADD http URL", "FROM alpine\nADD http://127.0.0.1:2019/config/ /caddy.json\n", 2, "RUN curl"],
  [
    "ADD metadata URL",
    "FROM alpine\nADD http://169.254.169.254/latest/meta-data/iam/security-credentials/role /c\n",
    2,
    "169.254.169.254",
  ],
  ["ADD https URL, lower-case instruction", "FROM alpine\nadd https://example.com/x.tgz /x\n", 2, "host's network"],
  ["ADD upper-case scheme", "FROM alpine\nADD HTTP://127.0.0.1/ /x\n", 2, "RUN curl"],
  ["ADD git URL", "FROM alpine\nADD git://example.com/repo.git /src\n", 2, "RUN curl"],
  ["ADD git@ URL", "FROM alpine\nADD git@github.com:org/repo.git /src\n", 2, "RUN curl"],
  [
    "ADD https .git URL with --keep-git-dir",
    "FROM alpine\nADD --keep-git-dir=true https://github.com/o/r.git /src\n",
    2,
    "RUN curl",
  ],
  ["ADD --checksum with URL", "FROM alpine\nADD --checksum=sha256:abc http://10.0.0.1/f /f\n", 2, "RUN curl"],
  ["ADD JSON form", 'FROM alpine\nADD ["http://127.0.0.1:8080/metrics", "/m"]\n', 2, "RUN curl"],
  ["ADD URL as a later source", "FROM alpine\nADD a.txt http://127.0.0.1/ /dst/\n", 2, "RUN curl"],
  ["ADD quoted URL", 'FROM alpine\nADD "http://127.0.0.1/" /x\n', 2, "RUN curl"],
  ["ADD URL split by a continuation", "FROM alpine\nRUN true\nADD \\\n  http://127.0.0.1/ \\\n  /x\n", 3, "RUN curl"],
  [
    "continuation with a comment and an empty line",
    "FROM alpine\nRUN echo \\\n# note\n\n  ok\nADD http://127.0.0.1/ /x\n",
    6,
    "RUN curl",
  ],
  ["escape=` continuation", "# escape=`\nFROM alpine\nADD `\n  http://127.0.0.1/ /x\n", 3, "RUN curl"],
  [
    "backslash is no continuation under escape=`",
    "# escape=`\nFROM alpine\nRUN echo \\\nADD http://127.0.0.1/ /x\n",
    4,
    "RUN curl",
  ],
  ["ADD URL from a global ARG", "ARG U=http://127.0.0.1:2019/\nFROM alpine\nADD $U /x\n", 3, "variable"],
  ["ADD URL from ENV", "FROM alpine\nENV U=http://169.254.169.254/\nADD ${U}latest /x\n", 3, "169.254.169.254"],
  ["ADD URL from ENV default form", "FROM alpine\nADD ${NOPE:-http://127.0.0.1/} /x\n", 2, "variable"],
  ["ADD source only the base image knows", "FROM alpine\nADD $SOURCE /x\n", 2, "variable"],
  ["ADD source a stage ARG may carry", "FROM alpine\nARG S=/local\nADD ${S} /x\n", 3, "variable"],
  [
    "ADD ENV inherited from an earlier stage",
    "FROM alpine AS a\nENV U=https://x.example/\nFROM a\nADD $U /x\n",
    4,
    "https://x.example",
  ],
  ["ADD scheme split by a variable", "FROM alpine\nENV S=http\nADD ${S}://127.0.0.1/ /x\n", 3, "RUN curl"],
  ["ONBUILD ADD URL", "FROM alpine\nONBUILD ADD http://169.254.169.254/ /x\n", 2, "ONBUILD ADD"],
  ["syntax directive", "# syntax=docker/dockerfile:1\nFROM alpine\n", 1, "syntax"],
  ["syntax directive, spaced and upper-case", "#  SYNTAX = evil.example/frontend\nFROM alpine\n", 1, "syntax"],
  ["syntax after another comment", "# hello\n# syntax=evil.example/frontend\nFROM alpine\n", 2, "syntax"],
  ["invalid escape directive", "# escape=x\nFROM alpine\n", 1, "escape"],
  ["FROM full image id", `FROM ${ID}\n`, 1, "by id"],
  ["FROM sha256 id", `FROM sha256:${ID}\n`, 1, "by id"],
  ["FROM short id", `FROM ${ID.slice(0, 12)}\n`, 1, "by id"],
  ["FROM 5-character id prefix", `FROM ${ID.slice(0, 5)}\n`, 1, "by id"],
  ["FROM sha256 prefix", "FROM sha256:e72d\n", 1, "by id"],
  ["FROM upper-case id", `FROM ${ID.slice(0, 12).toUpperCase()}\n`, 1, "by id"],
  ["FROM with --platform and id", `FROM --platform=linux/amd64 ${ID.slice(0, 12)} AS b\n`, 1, "by id"],
  ["FROM id through a global ARG", `ARG B=${ID.slice(0, 12)}\nFROM $B\n`, 2, "by id"],
  ["FROM staxa build", "FROM staxa/other-web:abc123\n", 1, "staxa/"],
  ["FROM docker.io/staxa build", "FROM docker.io/staxa/other-web:abc123\n", 1, "staxa/"],
  ["FROM staxa through ARG default", "ARG B=staxa/x:1\nFROM ${B}\n", 2, "staxa/"],
  ["FROM lower-case instruction staxa", "from staxa/x:1 as build\n", 1, "staxa/"],
  ["FROM numeric (no stage index in FROM)", "FROM alpine\nFROM 0\n", 2, "by id"],
  ["COPY --from image id", `FROM alpine\nCOPY --from=${ID.slice(0, 12)} /app /app\n`, 2, "by id"],
  ["COPY --from staxa build", "FROM alpine\nCOPY --from=staxa/a-web:1 /app /app\n", 2, "staxa/"],
  [
    "COPY --from the current stage (the daemon looks it up as an image)",
    "FROM alpine AS e72d\nCOPY --from=e72d / /x\n",
    2,
    "by id",
  ],
  ["COPY --from a stage index not yet built", "FROM alpine\nCOPY --from=1 / /x\n", 2, "by id"],
  ["COPY --from through a variable", "FROM alpine\nCOPY --from=$X / /x\n", 2, "variable"],
  ["RUN --mount from image id", `FROM alpine\nRUN --mount=type=bind,from=${ID.slice(0, 12)},target=/m ls /m\n`, 2, "by id"],
  ["RUN --mount from staxa", "FROM alpine\nRUN --mount=type=cache,target=/c,from=staxa/x:1 true\n", 2, "staxa/"],
  ["ONBUILD COPY --from id", `FROM alpine\nONBUILD COPY --from=${ID.slice(0, 12)} / /\n`, 2, "by id"],
  ["after a heredoc body line", "FROM alpine\nRUN <<EOF\nADD http://127.0.0.1/ /x\nEOF\n", 3, "RUN curl"],
  ["CRLF line endings", "FROM alpine\r\nADD http://127.0.0.1/ /x\r\n", 2, "RUN curl"],
];

const ALLOWED: Array<[string, string]> = [
  ["plain node app", 'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n'],
  ["local ADD and archive", "FROM alpine\nADD app.tar.gz /app/\nADD --chown=1000:1000 ./src /src\n"],
  ["ADD of a file named with a stage ARG after a literal start", "FROM alpine\nARG V=1.2\nADD app-${V}.tgz /app/\n"],
  ["ADD from a sure ENV path", "FROM alpine\nENV D=/opt/x\nADD ${D}/f /y\n"],
  [
    "multi-stage by name and index",
    "FROM node:20 AS Build\nRUN npm run build\nFROM caddy:2\nCOPY --from=build /app/dist /srv\nCOPY --from=0 /x /y\n",
  ],
  ["FROM earlier stage with a hex-looking name", "FROM alpine AS cafe\nRUN true\nFROM cafe\nCOPY --from=cafe / /x\n"],
  ["RUN --mount from an earlier stage", "FROM alpine AS deps\nFROM alpine\nRUN --mount=type=bind,from=deps,target=/d ls /d\n"],
  ["registry image with digest", `FROM registry.example.com/team/app@sha256:${ID}\n`],
  ["staxa-test namespace is not staxa/", "FROM staxa-test/busybox:latest\n"],
  ["escape directive then instructions", "# escape=`\nFROM alpine\nRUN echo a `\n  b\n"],
  ["RUN curl is the way", "FROM alpine\nRUN curl -fsSL -o /x https://example.com/x\n"],
  ["a URL in a comment or a RUN", "FROM alpine\n# ADD http://127.0.0.1/ /x\nRUN echo ADD http://127.0.0.1/\n"],
  ["syntax text after the first instruction is a comment", "FROM alpine\n# syntax=docker/dockerfile:1\n"],
  ["scratch", "FROM scratch\nCOPY app /app\n"],
];

describe("dockerfile policy: refused", () => {
  test.each(REFUSED)("%s", (_name, text, line, word) => {
    const v = dockerfileViolations(text);
    expect(v.length).toBeGreaterThan(0);
    expect(v[0]!.line).toBe(line);
    expect(v.map((x) => x.message).join(" | ")).toContain(word);
  });
});

describe("dockerfile policy: allowed", () => {
  test.each(ALLOWED)("%s", (_name, text) => {
    expect(dockerfileViolations(text)).toEqual([]);
  });
});

describe("dockerfile policy: the build error", () => {
  test("names the file, the line and what to use instead, without the URL's credentials", () => {
    const err = (() => {
      try {
        assertDockerfileAllowed("FROM alpine\n\nADD https://user:s3cret@10.0.0.1/x?token=t /x\n", "Dockerfile");
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(BuildPlanError);
    expect(err!.message).toContain("Dockerfile line 3: ADD of https://10.0.0.1");
    expect(err!.message).toContain("RUN curl");
    expect(err!.message).not.toContain("s3cret");
    expect(err!.message).not.toContain("token=t");
  });

  test("build args given to the daemon override ARG defaults in FROM", () => {
    expect(dockerfileViolations("ARG B=alpine\nFROM $B\n", { B: "staxa/x:1" })[0]!.message).toContain("staxa/");
  });
});

describe("dockerfile scan", () => {
  test("continuations, flags, JSON form and line numbers", () => {
    const s = scanDockerfile(
      '# escape=\\\nFROM --platform=linux/amd64 a AS b\n\nCOPY --chown=1 \\\n  --from=b ["x", "y"] \\\n  /z\n',
    );
    expect(s.escape).toBe("\\");
    expect(s.instructions.map((i) => [i.line, i.name, i.flags, i.args])).toEqual([
      [2, "from", [{ name: "platform", value: "linux/amd64" }], ["a", "AS", "b"]],
      [
        4,
        "copy",
        [
          { name: "chown", value: "1" },
          { name: "from", value: "b" },
        ],
        ['["x",', '"y"]', "/z"],
      ],
    ]);
  });
});
