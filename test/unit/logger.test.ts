import {describe, expect, it} from "vitest";
import {createLogger} from "../../src/logger.js";

function capture(format: "text" | "json") {
    const lines: string[] = [];
    const logger = createLogger({format, secrets: ["the-secret-token-123"], write: (line) => lines.push(line)});
    return {logger, lines};
}

describe("the logger", () => {
    it("given LOG_FORMAT=json, then each entry is one JSON object on one line, errors included, secrets redacted", () => {
        const {logger, lines} = capture("json");
        logger.info("Question in channel 1 from user 2: answered at once.");
        logger.warn("Discord refused an edit.", Object.assign(new Error("bad\nthings with the-secret-token-123"), {code: 50035}));
        logger.debug("not shown at info");

        expect(lines).toHaveLength(2);
        for (const line of lines)
            expect(line.endsWith("\n") && !line.slice(0, -1).includes("\n")).toBe(true);
        const [question, warning] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(question).toMatchObject({level: "info", message: "Question in channel 1 from user 2: answered at once."});
        expect(Number.isNaN(Date.parse(String(question!.time)))).toBe(false);
        expect(warning).toMatchObject({level: "warn", details: [{name: "Error", message: "bad\nthings with [redacted]", code: 50035}]});
    });

    it("given a URL with credentials anywhere in an entry, then its user and password are redacted, however short", () => {
        const {logger, lines} = capture("text");
        logger.warn("Cannot reach http://user:pass@127.0.0.1:8080/v1.", new Error("fetch https://bot:pw@gpu-box/v1/models failed"));
        expect(lines.join("")).toContain("Cannot reach http://[redacted]@127.0.0.1:8080/v1.");
        expect(lines.join("")).toContain("fetch https://[redacted]@gpu-box/v1/models failed");
        expect(lines.join("")).not.toMatch(/pass|pw@/);
    });

    it("given the text format, then entries are readable lines with time and level", () => {
        const {logger, lines} = capture("text");
        logger.error("Start-up failed: the-secret-token-123");
        expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z ERROR Start-up failed: \[redacted\]\n$/);
    });
});
