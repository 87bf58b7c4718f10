import fs from "node:fs";
import path from "node:path";
import {fileURLToPath} from "node:url";

/** The bot's version, from the nearest package.json above this module (src/, dist/ or dist-bench/src/). */
export const botVersion: string = readVersion();

function readVersion(): string {
    let directory = path.dirname(fileURLToPath(import.meta.url));
    while (true) {
        const candidate = path.join(directory, "package.json");
        if (fs.existsSync(candidate)) {
            const parsed: unknown = JSON.parse(fs.readFileSync(candidate, "utf8"));
            return typeof parsed === "object" && parsed != null && "version" in parsed && typeof parsed.version === "string" ? parsed.version : "unknown";
        }
        const parent = path.dirname(directory);
        if (parent === directory)
            return "unknown";
        directory = parent;
    }
}
