import fs from "node:fs";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {projectRoot} from "../fixtures/botProcess.js";

/** The pages a newcomer reads: the README, docs/ and the folders' own READMEs. */
const pages = [
    "README.md",
    "bench/README.md",
    "models/README.md",
    ...fs.readdirSync(path.join(projectRoot, "docs")).filter((file) => file.endsWith(".md")).map((file) => `docs/${file}`)
];

/** Relative link targets of a Markdown page (images included), code spans and blocks left out. */
function relativeLinks(markdown: string): string[] {
    const prose = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
    return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
        .map((match) => match[1] ?? "")
        .filter((target) => !/^[a-z]+:/i.test(target));
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
function anchorsOf(markdown: string): Set<string> {
    const headings = markdown.replace(/```[\s\S]*?```/g, "").match(/^#+ .+$/gm) ?? [];
    return new Set(headings.map((heading) => heading.replace(/^#+ /, "").toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-")));
}

describe("links between the documentation pages", () => {
    for (const page of pages) {
        it(`given ${page}, then every relative link names a file (and a heading) that exists`, () => {
            const text = fs.readFileSync(path.join(projectRoot, page), "utf8");
            for (const link of relativeLinks(text)) {
                const [file = "", anchor] = link.split("#");
                const target = file === "" ? page : path.posix.join(path.posix.dirname(page), file);
                expect(fs.existsSync(path.join(projectRoot, target)), `${page} links to ${link}`).toBe(true);
                if (anchor !== undefined && target.endsWith(".md"))
                    expect(anchorsOf(fs.readFileSync(path.join(projectRoot, target), "utf8")), `${page} links to ${link}`).toContain(anchor);
            }
        });
    }
});
